import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorEvent } from './supervisor.ts';

const silentLogger = pino({ level: 'silent' });
const node = (script: string) => ({ command: process.execPath, args: ['-e', script] });
const scratch = mkdtempSync(path.join(os.tmpdir(), 'supervisor-test-'));

/** A child that installs its SIGTERM handler, then says so by creating `readyFile` (node start-up is slow under load). */
function longRunning(onSigterm: string, readyFile: string) {
  return node(
    `process.on("SIGTERM", () => { ${onSigterm} }); require("fs").writeFileSync(${JSON.stringify(readyFile)}, ""); setInterval(() => {}, 1000)`,
  );
}

async function filesExist(files: string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!files.every((file) => existsSync(file))) {
    if (Date.now() > deadline) throw new Error(`children not ready: ${files.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function until(events: SupervisorEvent[], done: (events: SupervisorEvent[]) => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (done(events)) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`timed out; events: ${JSON.stringify(events)}`));
      }
    }, 10);
  });
}

describe('Supervisor', () => {
  it('restarts a process that keeps dying, doubling the delay each time up to the cap', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor([{ name: 'crasher', ...node('process.exit(3)') }], {
      logger: silentLogger,
      initialBackoffMs: 20,
      maxBackoffMs: 80,
      onEvent: (event) => events.push(event),
    });
    supervisor.start();
    await until(events, (seen) => seen.filter((event) => event.type === 'started').length >= 5);
    await supervisor.stop();

    const delays = events.flatMap((event) => (event.type === 'restart-scheduled' ? [event.delayMs] : []));
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(events.find((event) => event.type === 'exited')).toMatchObject({ name: 'crasher', code: 3, signal: null });
  });

  it('treats a command that cannot be spawned like a crash: logged and retried with back-off', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor([{ name: 'missing', command: path.join(scratch, 'no-such-program'), args: [] }], {
      logger: silentLogger,
      initialBackoffMs: 10,
      onEvent: (event) => events.push(event),
    });
    supervisor.start();
    await until(events, (seen) => seen.filter((event) => event.type === 'restart-scheduled').length >= 3);
    await supervisor.stop();

    const delays = events.flatMap((event) => (event.type === 'restart-scheduled' ? [event.delayMs] : []));
    expect(delays.slice(0, 3)).toEqual([10, 20, 40]);
  });

  it('resets the back-off after a run that lasted long enough to count as healthy', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = new Supervisor([{ name: 'slow-crasher', ...node('setTimeout(() => process.exit(1), 150)') }], {
      logger: silentLogger,
      initialBackoffMs: 10,
      stableAfterMs: 100,
      onEvent: (event) => events.push(event),
    });
    supervisor.start();
    await until(events, (seen) => seen.filter((event) => event.type === 'restart-scheduled').length >= 3);
    await supervisor.stop();

    const delays = events.flatMap((event) => (event.type === 'restart-scheduled' ? [event.delayMs] : []));
    expect(delays.slice(0, 3)).toEqual([10, 10, 10]);
  });

  it('stops every child with SIGTERM and does not restart them', async () => {
    const events: SupervisorEvent[] = [];
    const ready = [path.join(scratch, 'a'), path.join(scratch, 'b')] as const;
    const supervisor = new Supervisor(
      [
        { name: 'a', ...longRunning('process.exit(0)', ready[0]) },
        { name: 'b', ...longRunning('process.exit(0)', ready[1]) },
      ],
      { logger: silentLogger, onEvent: (event) => events.push(event) },
    );
    supervisor.start();
    await filesExist([...ready]);
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = events.filter((event) => event.type === 'stopped');
    expect(stopped).toHaveLength(2);
    expect(stopped).toEqual(
      expect.arrayContaining([
        { type: 'stopped', name: 'a', how: 'SIGTERM' },
        { type: 'stopped', name: 'b', how: 'SIGTERM' },
      ]),
    );
    expect(events.filter((event) => event.type === 'exited').map((event) => event.type === 'exited' && event.code)).toEqual([0, 0]);
    expect(events.filter((event) => event.type === 'restart-scheduled')).toEqual([]);
  });

  it('SIGKILLs a child that ignores SIGTERM once the stop timeout passes', async () => {
    const events: SupervisorEvent[] = [];
    const ready = path.join(scratch, 'stubborn');
    const supervisor = new Supervisor([{ name: 'stubborn', ...longRunning('', ready) }], {
      logger: silentLogger,
      stopTimeoutMs: 300,
      onEvent: (event) => events.push(event),
    });
    supervisor.start();
    await filesExist([ready]);
    const started = Date.now();
    await supervisor.stop();

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(events).toContainEqual({ type: 'stopped', name: 'stubborn', how: 'SIGKILL' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'exited', name: 'stubborn', signal: 'SIGKILL' }));
  });
});
