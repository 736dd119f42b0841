import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withStartLock } from './start-lock.ts';

describe('withStartLock', () => {
  it('runs overlapping callers one after the other', async () => {
    const lockFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'lock-test-')), 'up.lock');
    const log: string[] = [];
    const caller = (name: string) =>
      withStartLock(
        lockFile,
        () => log.push(`${name} waits`),
        async () => {
          log.push(`${name} in`);
          await sleep(100);
          log.push(`${name} out`);
        },
      );
    await Promise.all([caller('a'), caller('b')]);
    // Either may win the race for the lock file; the loser sees a live owner (same process, same
    // PID), waits, and enters only after the winner is out — never both inside at once.
    const [first, second] = log[0] === 'a in' ? ['a', 'b'] : ['b', 'a'];
    expect(log).toEqual([`${first} in`, `${second} waits`, `${first} out`, `${second} in`, `${second} out`]);
  });

  it('takes over a lock left by a process that has died', async () => {
    const lockFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'lock-test-')), 'up.lock');
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(lockFile, `${dead.pid}\n`);

    let waited = false;
    const result = await withStartLock(
      lockFile,
      () => (waited = true),
      async () => 'ran',
    );
    expect(result).toBe('ran');
    expect(waited).toBe(false);
  });
});
