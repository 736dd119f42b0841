import { setTimeout as sleep } from 'node:timers/promises';

/** A service that could not be brought up: what went wrong and which log explains it. */
export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
  constructor(
    readonly service: string,
    readonly reason: string,
    readonly logFile?: string,
  ) {
    super(`${service}: ${reason}${logFile ? ` (read ${logFile})` : ''}`);
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  logFile?: string;
  /** Checked between attempts: a reason to give up early (e.g. the process died). */
  failFast?: () => Promise<string | undefined>;
}

/** Polls `ready` until it answers true; the last error becomes the reason when time runs out. */
export async function waitUntil(service: string, ready: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastProblem = 'not ready';
  while (true) {
    try {
      if (await ready()) return;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    const fatal = await options.failFast?.();
    if (fatal) throw new ServiceStartError(service, fatal, options.logFile);
    if (Date.now() >= deadline) {
      throw new ServiceStartError(service, `not ready after ${Math.round(options.timeoutMs / 1000)} s: ${lastProblem}`, options.logFile);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
