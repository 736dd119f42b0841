import { randomUUID } from 'node:crypto';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process-files.ts';

/**
 * One services:up at a time per DATA_DIR: two at once (npm test next to npm start) would both find
 * Kafka down and both start a broker, and the loser would overwrite the winner's PID file.
 * The lock file holds its owner's PID and appears atomically with that content (written aside, then
 * hard-linked into place); a lock whose owner has died is taken over.
 */
export async function withStartLock<T>(lockFile: string, onWait: () => void, work: () => Promise<T>): Promise<T> {
  const mine = `${lockFile}.${process.pid}.${randomUUID()}`;
  await writeFile(mine, `${process.pid}\n`);
  let announced = false;
  try {
    while (true) {
      try {
        await link(mine, lockFile);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && isAlive(owner)) {
        if (!announced) onWait();
        announced = true;
        await sleep(200);
      } else {
        // Rename first: of several waiters only one wins, and it deletes the stale lock it moved.
        const stale = `${lockFile}.stale.${randomUUID()}`;
        if (
          await rename(lockFile, stale).then(
            () => true,
            () => false,
          )
        )
          await rm(stale, { force: true });
      }
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}
