import { mkdir } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { probeServices, type ServicesHealth } from '../service-health.ts';
import { dataPath, type EnsureResult, type ServiceContext } from './context.ts';
import { composeDown, composeUp, dockerComposeAvailable } from './docker.ts';
import { ensureKafka, stopKafka } from './kafka.ts';
import { ensurePostgres, stopPostgres } from './postgres.ts';
import { ensureRabbitmq, stopRabbitmq } from './rabbitmq.ts';
import { ensureRedis, stopRedis } from './redis.ts';
import { withStartLock } from './start-lock.ts';
import { ServiceStartError } from './wait.ts';

const SERVICES: ReadonlyArray<readonly [keyof ServicesHealth, (context: ServiceContext) => Promise<EnsureResult>]> = [
  ['postgres', ensurePostgres],
  ['redis', ensureRedis],
  ['rabbitmq', ensureRabbitmq],
  ['kafka', ensureKafka],
];
const PROGRESS_EVERY_MS = 3_000;

/**
 * Brings all four services up, side by side (cold start time is dominated by the slowest one).
 * Idempotent: a service that already answers is left as it is. Throws one error naming every
 * service that could not start, its reason and the log to read.
 */
export async function servicesUp(config: Config, say: (line: string) => void = console.log): Promise<void> {
  await mkdir(config.DATA_DIR, { recursive: true });
  await withStartLock(
    dataPath(config, 'services-up.lock'),
    () => say('services: another services:up is running — waiting for it'),
    () => bringUp({ config, say }),
  );
}

async function bringUp(context: ServiceContext): Promise<void> {
  const { config, say } = context;
  const started = Date.now();

  // With Docker, compose starts what is missing; the native checks below then find all four answering
  // (and still create the database if DATABASE_URL names another one).
  if (await dockerComposeAvailable()) {
    const health = await probeServices(config);
    const missing = SERVICES.map(([name]) => name).filter((name) => health[name] === 'down');
    if (missing.length > 0) await composeUp(context, missing);
  }

  const pending = new Map(SERVICES.map(([name]) => [name, Date.now()]));
  const progress = setInterval(() => {
    const waiting = [...pending].map(([name, since]) => `${name} ${seconds(Date.now() - since)}`);
    if (waiting.length > 0) say(`services: waiting for ${waiting.join(', ')}`);
  }, PROGRESS_EVERY_MS);

  const results = await Promise.allSettled(
    SERVICES.map(async ([name, ensure]) => {
      const since = Date.now();
      try {
        const result = await ensure(context);
        say(`${name}: ${result.outcome} (${seconds(Date.now() - since)}) — ${result.detail}`);
        return result;
      } finally {
        pending.delete(name);
      }
    }),
  );
  clearInterval(progress);

  const failures = results.flatMap((result, index) => {
    if (result.status === 'fulfilled') return [];
    const reason: unknown = result.reason;
    const name = SERVICES[index]?.[0] ?? '?';
    return [reason instanceof ServiceStartError ? reason.message : `${name}: ${reason instanceof Error ? reason.message : String(reason)}`];
  });
  if (failures.length > 0) throw new Error(`services:up failed after ${seconds(Date.now() - started)}\n  ${failures.join('\n  ')}`);
  say(`services: all four up in ${seconds(Date.now() - started)}`);
}

/**
 * Stops only what the project started: redis and kafka by their PID files, and postgres / rabbitmq /
 * compose only when a marker file says services:up started them. Never by process name.
 */
export async function servicesDown(config: Config, say: (line: string) => void = console.log): Promise<void> {
  const context: ServiceContext = { config, say };
  await Promise.all([stopKafka(context), stopRedis(context), stopPostgres(context), stopRabbitmq(context), composeDown(context)]);
  say('services: everything the project started is stopped');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
