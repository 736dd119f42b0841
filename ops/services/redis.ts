import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { probeRedis } from '../service-health.ts';
import { commandExists, runCommand } from './command.ts';
import { dataPath, type EnsureResult, LOCAL_HOSTS, type ServiceContext } from './context.ts';
import { runningPid, stopByPidFile, type StopResult } from './process-files.ts';
import { ServiceStartError, waitUntil } from './wait.ts';

const SERVICE = 'redis';

/**
 * A project-owned redis-server with AOF (appendfsync everysec): Redis carries executions not yet in
 * PostgreSQL, and the machine's own Redis on 6379 keeps nothing on disk. Daemonized, PID file and
 * log under $DATA_DIR, data in $DATA_DIR/redis.
 */
export async function ensureRedis({ config, say }: ServiceContext): Promise<EnsureResult> {
  const url = new URL(config.REDIS_URL);
  const port = url.port === '' ? 6379 : Number(url.port);
  const pidFile = dataPath(config, 'redis.pid');
  const logFile = dataPath(config, 'redis.log');

  if (await answers(config.REDIS_URL)) {
    const aof = await appendOnlySettings(config.REDIS_URL);
    const note = aof === 'yes/everysec' ? 'AOF everysec' : `WARNING: AOF is ${aof}, expected appendonly yes + appendfsync everysec`;
    if (aof !== 'yes/everysec') say(`redis: ${config.REDIS_URL} answers but ${note}`);
    return { service: SERVICE, outcome: 'already running', detail: note };
  }
  if (!LOCAL_HOSTS.has(url.hostname))
    throw new ServiceStartError(SERVICE, `REDIS_URL host ${url.hostname} does not answer and is not local`);
  if (!(await commandExists('redis-server')))
    throw new ServiceStartError(SERVICE, 'redis-server is not installed (Debian: apt-get install redis-server)');

  // A PID file with a live redis-server behind it: one still starting (or not yet accepting) — just wait.
  if ((await runningPid(pidFile, 'redis-server')) === undefined) {
    await mkdir(dataPath(config, 'redis'), { recursive: true });
    say(`redis: starting project redis-server on ${url.hostname}:${port} with AOF`);
    const start = await runCommand('redis-server', [
      '--port',
      String(port),
      '--bind',
      url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, ''),
      '--dir',
      dataPath(config, 'redis'),
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'yes',
      '--pidfile',
      pidFile,
      '--logfile',
      logFile,
    ]);
    if (start.code !== 0) throw new ServiceStartError(SERVICE, `redis-server exited ${start.code}: ${start.output.trim()}`, logFile);
  }
  const waitingSince = Date.now();
  await waitUntil(SERVICE, () => answers(config.REDIS_URL), {
    timeoutMs: 30_000,
    logFile,
    // The daemonized child writes its PID file a moment after the parent returns: allow it 2 s.
    failFast: async () =>
      Date.now() - waitingSince > 2_000 && (await runningPid(pidFile, 'redis-server')) === undefined
        ? 'redis-server exited during start-up'
        : undefined,
  });
  return { service: SERVICE, outcome: 'started', detail: `AOF everysec, data in ${dataPath(config, 'redis')}` };
}

function answers(redisUrl: string): Promise<boolean> {
  return probeRedis(redisUrl).then(
    () => true,
    () => false,
  );
}

async function appendOnlySettings(redisUrl: string): Promise<string> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const [, appendonly] = (await client.config('GET', 'appendonly')) as string[];
    const [, appendfsync] = (await client.config('GET', 'appendfsync')) as string[];
    return `${appendonly}/${appendfsync}`;
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

export async function stopRedis({ config, say }: ServiceContext): Promise<StopResult> {
  // redis-server flushes the AOF on SIGTERM.
  const result = await stopByPidFile(dataPath(config, 'redis.pid'), 'redis-server', 15_000);
  if (result !== 'not-running') say(`redis: ${result}`);
  return result;
}
