/**
 * Stops, crashes, freezes (SIGSTOP) and restores the brokers `services:up` runs, for failure tests.
 * Every test that breaks something calls `restoreAll()` in a finally/afterAll: a frozen broker is
 * thawed, a stopped one started again, whatever happened in between.
 */
import { runCommand } from '../services/command.ts';
import { dataPath } from '../services/context.ts';
import { ensureKafka, stopKafka } from '../services/kafka.ts';
import { readPid } from '../services/process-files.ts';
import { ensureRedis, stopRedis } from '../services/redis.ts';
import { waitUntil } from '../services/wait.ts';
import { probeRabbitmq } from '../service-health.ts';
import { loadConfig, type Config } from '../config.ts';

export type Broker = 'redis' | 'kafka' | 'rabbitmq';

const frozen = new Set<number>();
const stopped = new Set<Broker>();

function context(config: Config) {
  return { config, say: () => {} };
}

export async function brokerPid(broker: Broker, config: Config = loadConfig()): Promise<number> {
  if (broker === 'rabbitmq') {
    const found = await runCommand('sh', ['-c', "pgrep -f 'beam.smp.*rabbit' | head -1"]);
    const pid = Number(found.output.trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error('RabbitMQ beam.smp not found');
    return pid;
  }
  const pid = await readPid(dataPath(config, `${broker}.pid`));
  if (pid === undefined) throw new Error(`${broker}: no pid file under ${config.DATA_DIR}`);
  return pid;
}

/** SIGSTOP: the process keeps its sockets open and answers nothing (a hung broker). */
export async function freeze(broker: Broker, config: Config = loadConfig()): Promise<void> {
  const pid = await brokerPid(broker, config);
  frozen.add(pid);
  process.kill(pid, 'SIGSTOP');
}

export async function thaw(broker: Broker, config: Config = loadConfig()): Promise<void> {
  const pid = await brokerPid(broker, config);
  process.kill(pid, 'SIGCONT');
  frozen.delete(pid);
}

/** A clean stop (Redis flushes its AOF, Kafka shuts down controlled, RabbitMQ stops its app). */
export async function stopBroker(broker: Broker, config: Config = loadConfig()): Promise<void> {
  stopped.add(broker);
  if (broker === 'redis') await stopRedis(context(config));
  else if (broker === 'kafka') await stopKafka(context(config));
  else {
    const result = await runCommand('rabbitmqctl', ['stop_app'], { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`rabbitmqctl stop_app: ${result.output}`);
  }
}

/** kill -9 of the broker process (Redis: loses what its AOF had not fsynced, up to about a second). */
export async function crashBroker(broker: Exclude<Broker, 'rabbitmq'>, config: Config = loadConfig()): Promise<void> {
  const pid = await brokerPid(broker, config);
  stopped.add(broker);
  process.kill(pid, 'SIGKILL');
  await waitUntil(broker, async () => !isAlive(pid), { timeoutMs: 10_000, intervalMs: 50 });
}

export async function startBroker(broker: Broker, config: Config = loadConfig()): Promise<void> {
  if (broker === 'redis') await ensureRedis(context(config));
  else if (broker === 'kafka') await ensureKafka(context(config));
  else {
    const result = await runCommand('rabbitmqctl', ['start_app'], { timeoutMs: 90_000 });
    if (result.code !== 0) throw new Error(`rabbitmqctl start_app: ${result.output}`);
    await waitUntil('rabbitmq', () => probeRabbitmq(config.AMQP_URL).then(() => true, () => false), { timeoutMs: 60_000, intervalMs: 200 });
  }
  stopped.delete(broker);
}

/** Thaws everything frozen and starts everything stopped by this process. */
export async function restoreAll(config: Config = loadConfig()): Promise<void> {
  for (const pid of frozen) {
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
