import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * PID files for the processes services:up starts itself. Stopping goes by PID file only, never by
 * process name; the command line is checked first so a PID reused by an unrelated process is left alone.
 */

export async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function writePid(pidFile: string, pid: number): Promise<void> {
  await writeFile(pidFile, `${pid}\n`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function commandLine(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The PID in the file, if that process is alive and its command line contains `marker`. */
export async function runningPid(pidFile: string, marker: string): Promise<number | undefined> {
  const pid = await readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  return (await commandLine(pid)).includes(marker) ? pid : undefined;
}

export type StopResult = 'not-running' | 'stopped' | 'killed';

/** SIGTERM, wait up to `timeoutMs` for the exit, then SIGKILL. Removes the PID file. */
export async function stopByPidFile(pidFile: string, marker: string, timeoutMs: number): Promise<StopResult> {
  const pid = await runningPid(pidFile, marker);
  if (pid === undefined) {
    await rm(pidFile, { force: true });
    return 'not-running';
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      await rm(pidFile, { force: true });
      return 'stopped';
    }
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  await rm(pidFile, { force: true });
  return 'killed';
}
