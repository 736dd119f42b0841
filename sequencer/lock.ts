/**
 * One writer per data directory: `${dataDir}/LOCK` holds the owner's pid. A lock left by a process
 * that no longer exists (kill -9) is taken over; a live owner — another process, or another
 * sequencer in this one — makes open() fail instead of two writers interleaving one journal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataDirLockedError } from './errors.ts';

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export function acquireLock(dataDir: string): () => void {
  const file = path.join(path.resolve(dataDir), 'LOCK');
  if (heldHere.has(file)) throw new DataDirLockedError(dataDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      heldHere.add(file);
      return () => {
        heldHere.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw new DataDirLockedError(dataDir, owner);
    fs.rmSync(file, { force: true }); // stale: its owner is gone
  }
  throw new DataDirLockedError(dataDir, Number.NaN);
}
