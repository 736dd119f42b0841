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
      withStartLock(lockFile, () => log.push(`${name} waits`), async () => {
        log.push(`${name} in`);
        await sleep(100);
        log.push(`${name} out`);
      });
    await Promise.all([caller('a'), caller('b')]);
    // Same process, same PID: b sees a live owner and waits for a to finish.
    expect(log).toEqual(['a in', 'b waits', 'a out', 'b in', 'b out']);
  });

  it('takes over a lock left by a process that has died', async () => {
    const lockFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'lock-test-')), 'up.lock');
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(lockFile, `${dead.pid}\n`);

    let waited = false;
    const result = await withStartLock(lockFile, () => (waited = true), async () => 'ran');
    expect(result).toBe('ran');
    expect(waited).toBe(false);
  });
});
