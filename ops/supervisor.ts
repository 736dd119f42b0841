import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { backoffDelay } from '../lib/backoff.ts';

/** One long-running xtrader process (core, a ws-server, the persister…). */
export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export type SupervisorEvent =
  | { type: 'started'; name: string; pid: number; run: number }
  | { type: 'exited'; name: string; code: number | null; signal: NodeJS.Signals | null; uptimeMs: number }
  | { type: 'restart-scheduled'; name: string; delayMs: number; consecutiveFailures: number }
  | { type: 'stopped'; name: string; how: 'SIGTERM' | 'SIGKILL' };

export interface SupervisorOptions {
  logger: Logger;
  /** First restart delay; doubles with each consecutive quick death, up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run at least this long counts as healthy: the next death restarts after initialBackoffMs again. */
  stableAfterMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  stdio?: 'inherit' | 'ignore';
  onEvent?: (event: SupervisorEvent) => void;
}

interface Supervised {
  spec: ProcessSpec;
  child?: ChildProcess;
  startedAt: number;
  runs: number;
  consecutiveFailures: number;
  restartTimer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

/**
 * Keeps a list of processes running: a process that dies is restarted with exponential back-off
 * (and the log says so); stop() sends SIGTERM to all, waits, then SIGKILLs what is left.
 * Each child gets its own process group, so Ctrl-C reaches only the supervisor, which then decides.
 */
export class Supervisor {
  private readonly processes: Supervised[];
  private readonly options: Required<Omit<SupervisorOptions, 'onEvent'>> & Pick<SupervisorOptions, 'onEvent'>;
  private stopping = false;

  constructor(specs: readonly ProcessSpec[], options: SupervisorOptions) {
    const names = new Set(specs.map((spec) => spec.name));
    if (names.size !== specs.length) throw new Error('supervised process names must be unique');
    this.processes = specs.map((spec) => ({ spec, startedAt: 0, runs: 0, consecutiveFailures: 0 }));
    this.options = {
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      stableAfterMs: 30_000,
      stopTimeoutMs: 10_000,
      stdio: 'inherit',
      ...options,
    };
  }

  start(): void {
    for (const supervised of this.processes) this.spawn(supervised);
  }

  /** Resolves once every child has exited. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.processes.map((supervised) => this.stopOne(supervised)));
  }

  /**
   * SIGKILL to every child's process group, at once, without waiting (a second Ctrl-C: the user
   * will not wait for a clean stop, but no child may be left running on its own). Nothing restarts.
   */
  killAll(): void {
    this.stopping = true;
    for (const supervised of this.processes) {
      if (supervised.restartTimer) clearTimeout(supervised.restartTimer);
      if (supervised.child?.pid !== undefined) signalGroup(supervised.child.pid, 'SIGKILL');
    }
  }

  private spawn(supervised: Supervised): void {
    const { spec } = supervised;
    const child = spawn(spec.command, spec.args, { env: spec.env ?? process.env, stdio: this.options.stdio, detached: true });
    supervised.child = child;
    supervised.startedAt = Date.now();
    supervised.runs += 1;
    supervised.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.options.logger.error({ child: spec.name, err: error }, `${spec.name}: ${error.message}`);
        // No pid: spawning itself failed (e.g. command not found) and 'exit' will not come.
        if (child.pid === undefined) {
          this.onExit(supervised, child, null, null);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        this.onExit(supervised, child, code, signal);
        resolve();
      });
    });
    if (child.pid !== undefined) {
      this.options.logger.info({ child: spec.name, pid: child.pid, run: supervised.runs }, `${spec.name} started (pid ${child.pid})`);
      this.emit({ type: 'started', name: spec.name, pid: child.pid, run: supervised.runs });
    }
  }

  private onExit(supervised: Supervised, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (supervised.child !== child) return;
    supervised.child = undefined;
    const { name } = supervised.spec;
    const uptimeMs = Date.now() - supervised.startedAt;
    this.emit({ type: 'exited', name, code, signal, uptimeMs });
    if (this.stopping) return;

    supervised.consecutiveFailures = uptimeMs >= this.options.stableAfterMs ? 1 : supervised.consecutiveFailures + 1;
    const delayMs = backoffDelay(supervised.consecutiveFailures - 1, {
      initialMs: this.options.initialBackoffMs,
      maxMs: this.options.maxBackoffMs,
      jitter: 'none',
      maxExponent: Infinity,
    });
    this.options.logger.warn(
      { child: name, code, signal, uptimeMs, delayMs, consecutiveFailures: supervised.consecutiveFailures },
      `${name} exited (${signal ?? `code ${code}`}) after ${uptimeMs} ms; restarting in ${delayMs} ms`,
    );
    this.emit({ type: 'restart-scheduled', name, delayMs, consecutiveFailures: supervised.consecutiveFailures });
    supervised.restartTimer = setTimeout(() => {
      supervised.restartTimer = undefined;
      if (!this.stopping) this.spawn(supervised);
    }, delayMs);
  }

  private async stopOne(supervised: Supervised): Promise<void> {
    clearTimeout(supervised.restartTimer);
    supervised.restartTimer = undefined;
    const { child, exited } = supervised;
    if (child?.pid === undefined || exited === undefined) return;
    const { name } = supervised.spec;
    signalGroup(child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.options.logger.warn({ child: name }, `${name} ignored SIGTERM for ${this.options.stopTimeoutMs} ms; sending SIGKILL`);
      signalGroup(child.pid, 'SIGKILL');
      await exited;
    }
    const how = timedOut ? 'SIGKILL' : 'SIGTERM';
    this.options.logger.info({ child: name, how }, `${name} stopped`);
    this.emit({ type: 'stopped', name, how });
  }

  private emit(event: SupervisorEvent): void {
    this.options.onEvent?.(event);
  }
}

/** The child leads its own process group (detached), so this reaches anything it spawned too. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
