/**
 * One writer per data directory: `${dataDir}/LOCK` holds the owner's pid, and on Linux the identity
 * of that process (boot id and start time, from /proc). A lock left by a process that no longer
 * exists (kill -9) is taken over; a live owner — another process, or another sequencer in this
 * one — makes open() fail instead of two writers interleaving one journal.
 *
 * The identity matters after a reboot or a container restart: pids start again from low numbers,
 * so a stale lock's pid often belongs to some unrelated live process, and a pid-only check would
 * refuse to start until an operator deleted the file. A pid whose boot id or start time differs
 * from the lock's is not the owner. Locks without an identity (other systems, older files) fall
 * back to the pid alone.
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

/** `bootId startTime` of a live process (Linux /proc), or undefined where that cannot be read. */
export function processIdentity(pid: number): string | undefined {
  try {
    const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count from the last ')';
    // field 22, starttime (clock ticks since boot), is the 20th after it.
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return bootId && startTime && /^\d+$/.test(startTime) ? `${bootId} ${startTime}` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote this lock content still runs. */
function ownerAlive(content: string): { pid: number; alive: boolean } {
  const [pidText, ...identity] = content.trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid === process.pid || !alive(pid)) return { pid, alive: false };
  if (identity.length === 2) {
    const now = processIdentity(pid);
    if (now !== undefined && now !== identity.join(' ')) return { pid, alive: false }; // pid reused
  }
  return { pid, alive: true };
}

export function acquireLock(dataDir: string): () => void {
  const file = path.join(path.resolve(dataDir), 'LOCK');
  if (heldHere.has(file)) throw new DataDirLockedError(dataDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      const identity = processIdentity(process.pid);
      fs.writeSync(fd, identity === undefined ? `${process.pid}\n` : `${process.pid} ${identity}\n`);
      fs.closeSync(fd);
      heldHere.add(file);
      return () => {
        heldHere.delete(file);
        fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerAlive(fs.readFileSync(file, 'utf8'));
    if (owner.alive) throw new DataDirLockedError(dataDir, owner.pid);
    fs.rmSync(file, { force: true }); // stale: its owner is gone
  }
  throw new DataDirLockedError(dataDir, Number.NaN);
}
