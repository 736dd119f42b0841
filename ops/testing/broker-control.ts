/**
 * Stops, crashes, freezes (SIGSTOP) and restores the brokers `services:up` runs, for failure tests.
 * Every test that breaks something calls `restoreAll()` in a finally/afterAll: a frozen broker is
 * thawed, a stopped one started again, whatever happened in between.
 *
 * It acts on the broker that actually answers on the configured port, whichever checkout started
 * it (CI runs in a fresh clone while the brokers may have been started by another one; its
 * $DATA_DIR has no PID file for them): Redis is found by its own INFO (process_id) and restarted
 * with its own settings (CONFIG GET dir, pidfile, logfile: the same AOF), Kafka by its command line
 * and restarted with the same command line, working directory and environment.
 */
import { spawn } from 'node:child_process';
import { open, readFile, readlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { runCommand } from '../services/command.ts';
import { ensureKafka } from '../services/kafka.ts';
import { ensureRedis } from '../services/redis.ts';
import { waitUntil } from '../services/wait.ts';
import { probeKafka, probeRabbitmq, probeRedis } from '../service-health.ts';
import { loadConfig, type Config } from '../config.ts';

export type Broker = 'redis' | 'kafka' | 'rabbitmq';

/** broker → the pid freeze() sent SIGSTOP */
const frozen = new Map<Broker, number>();
const stopped = new Set<Broker>();
/** how to start again a broker this process stopped or crashed */
const relaunch = new Map<Broker, () => Promise<void>>();

function context(config: Config) {
  return { config, say: () => {} };
}

async function redisClient(config: Config): Promise<Redis> {
  const client = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3_000,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function redisFacts(config: Config): Promise<{ pid: number; settings: Record<string, string> }> {
  const client = await redisClient(config);
  try {
    const info = String(await client.info('server'));
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    const settings: Record<string, string> = {};
    for (const name of ['port', 'bind', 'dir', 'appendonly', 'appendfsync', 'pidfile', 'logfile']) {
      const [, value] = (await client.config('GET', name)) as string[];
      settings[name] = value ?? '';
    }
    return { pid, settings };
  } finally {
    client.disconnect();
  }
}

async function kafkaPid(): Promise<number> {
  const found = await runCommand('sh', ['-c', "pgrep -f 'kafka[.]Kafka' | head -1"]);
  const pid = Number(found.output.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error('no Kafka broker process (kafka.Kafka) found');
  return pid;
}

export async function brokerPid(broker: Broker, config: Config = loadConfig()): Promise<number> {
  if (broker === 'rabbitmq') {
    // `[.]` so the pattern does not match the `sh -c` running it (pgrep skips itself, not its
    // parent): once pids wrap (pid_max 32768 here) that shell can have the lower pid and be frozen
    const found = await runCommand('sh', ['-c', "pgrep -f 'beam[.]smp.*rabbit' | head -1"]);
    const pid = Number(found.output.trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error('RabbitMQ beam.smp not found');
    return pid;
  }
  if (broker === 'redis') return (await redisFacts(config)).pid;
  return kafkaPid();
}

/** SIGSTOP: the process keeps its sockets open and answers nothing (a hung broker). */
export async function freeze(broker: Broker, config: Config = loadConfig()): Promise<void> {
  const pid = await brokerPid(broker, config);
  frozen.set(broker, pid);
  process.kill(pid, 'SIGSTOP');
}

/** SIGCONT to the process freeze() stopped (a frozen Redis cannot be asked for its pid). */
export async function thaw(broker: Broker, config: Config = loadConfig()): Promise<void> {
  const pid = frozen.get(broker) ?? (await brokerPid(broker, config));
  process.kill(pid, 'SIGCONT');
  frozen.delete(broker);
}

/** Reads how the running Redis / Kafka was started, so that startBroker brings back the same one. */
async function rememberLaunch(broker: 'redis' | 'kafka', config: Config): Promise<number> {
  if (broker === 'redis') {
    const { pid, settings } = await redisFacts(config);
    // a Redis whose directory was deleted under it answers dir "" (getcwd fails): start the project's own then
    if (!settings.dir) return pid;
    relaunch.set('redis', async () => {
      await mkdir(settings.dir!, { recursive: true });
      const args = [
        '--port',
        settings.port!,
        '--bind',
        settings.bind!.split(' ')[0]!,
        '--dir',
        settings.dir!,
        '--appendonly',
        settings.appendonly!,
        '--appendfsync',
        settings.appendfsync!,
        '--save',
        '',
        '--daemonize',
        'yes',
      ];
      if (settings.pidfile) args.push('--pidfile', settings.pidfile);
      if (settings.logfile) args.push('--logfile', settings.logfile);
      const start = await runCommand('redis-server', args);
      if (start.code !== 0) throw new Error(`redis-server exited ${start.code}: ${start.output.trim()}`);
    });
    return pid;
  }
  const pid = await kafkaPid();
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((part) => part !== '');
  const cwd = await readlink(`/proc/${pid}/cwd`);
  const env = Object.fromEntries(
    (await readFile(`/proc/${pid}/environ`, 'utf8'))
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  // the owner's $DATA_DIR: …/<DATA_DIR>/kafka/server.properties is the broker's last argument
  const properties = argv.at(-1)!;
  const dataDir = path.dirname(path.dirname(properties));
  relaunch.set('kafka', async () => {
    const log = await open(path.join(dataDir, 'kafka.log'), 'a');
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    if (child.pid === undefined) throw new Error('could not spawn the Kafka broker again');
    await writeFile(path.join(dataDir, 'kafka.pid'), `${child.pid}\n`);
    child.unref();
  });
  return pid;
}

async function waitGone(pid: number, timeoutMs: number, what: string): Promise<void> {
  await waitUntil(what, async () => !isAlive(pid), { timeoutMs, intervalMs: 50 });
}

/** A clean stop (Redis flushes its AOF, Kafka shuts down controlled, RabbitMQ stops its app). */
export async function stopBroker(broker: Broker, config: Config = loadConfig()): Promise<void> {
  stopped.add(broker);
  if (broker === 'rabbitmq') {
    const result = await runCommand('rabbitmqctl', ['stop_app'], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`rabbitmqctl stop_app: ${result.output}`);
    return;
  }
  const pid = await rememberLaunch(broker, config);
  process.kill(pid, 'SIGTERM'); // redis-server flushes its AOF; Kafka runs its controlled shutdown
  try {
    await waitGone(pid, broker === 'kafka' ? 60_000 : 15_000, `${broker} to stop`);
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, 10_000, `${broker} to die`);
  }
}

/** kill -9 of the broker process (Redis: loses what its AOF had not fsynced, up to about a second). */
export async function crashBroker(broker: Exclude<Broker, 'rabbitmq'>, config: Config = loadConfig()): Promise<void> {
  const pid = await rememberLaunch(broker, config);
  stopped.add(broker);
  process.kill(pid, 'SIGKILL');
  await waitGone(pid, 10_000, `${broker} to die`);
}

export async function startBroker(broker: Broker, config: Config = loadConfig()): Promise<void> {
  if (broker === 'rabbitmq') {
    const result = await runCommand('rabbitmqctl', ['start_app'], { timeoutMs: 90_000 });
    if (result.code !== 0) throw new Error(`rabbitmqctl start_app: ${result.output}`);
    await waitUntil(
      'rabbitmq',
      () =>
        probeRabbitmq(config.AMQP_URL).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } else {
    const again = relaunch.get(broker);
    if (again) {
      await again();
      relaunch.delete(broker);
      const probe = broker === 'redis' ? () => probeRedis(config.REDIS_URL) : () => probeKafka(config.KAFKA_BROKERS);
      await waitUntil(
        broker,
        () =>
          probe().then(
            () => true,
            () => false,
          ),
        { timeoutMs: 90_000, intervalMs: 200 },
      );
    } else if (broker === 'redis') await ensureRedis(context(config));
    else await ensureKafka(context(config));
  }
  stopped.delete(broker);
}

/** Thaws everything frozen and starts everything stopped by this process. */
export async function restoreAll(config: Config = loadConfig()): Promise<void> {
  for (const pid of frozen.values()) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  frozen.clear();
  for (const broker of [...stopped]) await startBroker(broker, config);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
