import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, runningPid, stopByPidFile } from './process-files.ts';

async function sleeper(): Promise<{ pid: number; pidFile: string }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pidFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'pid-test-')), 'sleeper.pid');
  await writeFile(pidFile, `${child.pid}\n`);
  return { pid: child.pid as number, pidFile };
}

describe('PID files', () => {
  it('leave alone a live process whose command line is not the expected one (a reused PID)', async () => {
    const { pid, pidFile } = await sleeper();
    try {
      expect(await runningPid(pidFile, 'kafka.Kafka')).toBeUndefined();
      expect(await stopByPidFile(pidFile, 'kafka.Kafka', 1_000)).toBe('not-running');
      expect(isAlive(pid)).toBe(true);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('stop the process they name with SIGTERM when its command line matches', async () => {
    const { pid, pidFile } = await sleeper();
    expect(await runningPid(pidFile, 'sleep')).toBe(pid);
    expect(await stopByPidFile(pidFile, 'sleep', 5_000)).toBe('stopped');
    expect(await runningPid(pidFile, 'sleep')).toBeUndefined();
  });
});
