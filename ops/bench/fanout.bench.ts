/**
 * npm run bench:fanout — the fan-out as `npm start` runs it (core, one publisher per broker, the
 * persister), fed signed orders over HTTP at a constant arrival rate, watched by a consumer on each
 * broker and a poller on PostgreSQL. Delivery latency = the order's ack → its first execution
 * report (`New`) visible to that consumer. Then the same load with the publishers and the persister
 * stopped: the core's CPU per order without fan-out, from the same run.
 *
 * Knobs: BENCH_RATE (2000), BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (3), BENCH_USERS (16),
 * BENCH_CONNECTIONS (64), BENCH_RATES="1000,2000,3000" (a sweep: one line per rate, then the
 * highest rate whose targets held), BENCH_SKIP_BASELINE=1 (no publishers-off phase).
 */
import { runThenExit } from '../process-kit.ts';
import { loadConfig } from '../config.ts';
import { KafkaCollector, RabbitCollector, RedisStreamCollector, type Received } from '../testing/broker-consumers.ts';
import { Stack, waitFor, type StackUser } from '../testing/stack.ts';
import { crossingOrderBody, processCpuSeconds, runOpenLoop, type Ack } from './open-loop.ts';
import { percentiles, round } from './latency-stats.ts';
import { PostgresPoller } from './postgres-poller.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const USERS = Number(process.env.BENCH_USERS ?? 16);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const RATES = (process.env.BENCH_RATES ?? process.env.BENCH_RATE ?? '2000').split(',').map(Number);
const TARGETS = { brokerP99Ms: 50, postgresP99Ms: 500, cpuRatio: 1.15 };

/** order id → first arrival of its `New` report at one consumer */
function newReportArrivals(items: readonly Received[]): Map<string, number> {
  const arrivals = new Map<string, number>();
  for (const { envelope, at } of items) {
    if (envelope.type !== 'Execution' || envelope.execution_report.exec_type !== 'New') continue;
    const id = envelope.execution_report.order_id;
    if (!arrivals.has(id)) arrivals.set(id, at);
  }
  return arrivals;
}

function cpuOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

async function runRate(stack: Stack, users: readonly StackUser[], rate: number): Promise<Record<string, number>> {
  const config = loadConfig();
  const redis = new RedisStreamCollector(config.REDIS_URL, stack.names.stream).start(1);
  const kafka = await new KafkaCollector(config.KAFKA_BROKERS.split(','), `${stack.namespace}-bench-${rate}-${Date.now()}`).start([
    stack.names.marketData,
    stack.names.executions,
  ]);
  const rabbit = await new RabbitCollector().start(config.AMQP_URL, stack.names.exchange, ['execution.#']);
  const postgres = new PostgresPoller(stack.pool);
  const corePid = stack.core.child.pid!;
  const publisherPids = [...stack.publishers.values()].map((handle) => handle.child.pid!);
  const perPublisher = [...stack.publishers.entries()].map(([name, handle]) => ({ name, pid: handle.child.pid!, before: 0 }));
  const persisterPid = stack.persister!.child.pid!;
  const stateBefore = await stack.adminState();

  const cpu = { core: 0, publishers: 0, persister: 0 };
  const sample = () => ({ core: cpuOf([corePid]), publishers: cpuOf(publisherPids), persister: cpuOf([persisterPid]) });
  let startSample = sample();
  const markPublishers = () => {
    for (const publisher of perPublisher) publisher.before = processCpuSeconds(publisher.pid);
  };
  markPublishers();
  const timer = setTimeout(() => {
    startSample = sample();
    markPublishers();
  }, WARMUP_SECONDS * 1000);
  const load = await runOpenLoop({
    url: stack.url,
    users,
    rate,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
    body: (sequence) => crossingOrderBody(sequence + rate * 1_000_000, 'BTC-KRW', 'f'),
  });
  clearTimeout(timer);
  const endSample = sample();
  const publisherSplit = Object.fromEntries(
    perPublisher.map((publisher) => [`publisher_${publisher.name}_cpu_us_per_order`, processCpuSeconds(publisher.pid) - publisher.before]),
  );
  cpu.core = endSample.core - startSample.core;
  cpu.publishers = endSample.publishers - startSample.publishers;
  cpu.persister = endSample.persister - startSample.persister;
  const stateAfter = await stack.adminState();

  const measured = load.acks.filter((ack) => ack.measured);
  const delivered = (arrivals: Map<string, number>) => measured.every((ack) => arrivals.has(ack.orderId));
  await waitFor(
    () =>
      delivered(newReportArrivals(redis.received)) &&
      delivered(newReportArrivals(kafka.received)) &&
      delivered(newReportArrivals(rabbit.received)) &&
      delivered(postgres.arrivals),
    30_000,
    'every acknowledged order at every consumer',
  ).catch(() => {});
  const latency = (arrivals: Map<string, number>) =>
    percentiles(measured.filter((ack) => arrivals.has(ack.orderId)).map((ack: Ack) => arrivals.get(ack.orderId)! - ack.ackAt));
  const sets = {
    redis: newReportArrivals(redis.received),
    kafka: newReportArrivals(kafka.received),
    rabbitmq: newReportArrivals(rabbit.received),
    postgres: postgres.arrivals,
  };
  await postgres.sweep(measured.filter((ack) => !postgres.arrivals.has(ack.orderId)).map((ack) => ack.orderId));
  const lostAt = Object.fromEntries(
    Object.entries(sets).map(([name, arrivals]) => [name, measured.filter((ack) => !arrivals.has(ack.orderId)).length]),
  );
  const lost = Object.values(lostAt).reduce((sum, count) => sum + count, 0);
  const [r, k, q, p] = [latency(sets.redis), latency(sets.kafka), latency(sets.rabbitmq), latency(sets.postgres)];
  await Promise.all([redis.close(), kafka.close(), rabbit.close(), postgres.stop()]);
  const orders = load.ok;
  const ack = percentiles(load.latencies);
  return {
    offered_per_sec: rate,
    orders_per_sec: round(orders / SECONDS, 1),
    events_per_sec: round((stateAfter.last_event_seq - stateBefore.last_event_seq) / (SECONDS + WARMUP_SECONDS), 0),
    ack_p50_ms: round(ack.p50, 3),
    ack_p99_ms: round(ack.p99, 3),
    errors: load.errors,
    redis_p50_ms: round(r.p50),
    redis_p99_ms: round(r.p99),
    kafka_p50_ms: round(k.p50),
    kafka_p99_ms: round(k.p99),
    rabbitmq_p50_ms: round(q.p50),
    rabbitmq_p99_ms: round(q.p99),
    postgres_p50_ms: round(p.p50),
    postgres_p99_ms: round(p.p99),
    lost,
    ...(lost > 0 ? Object.fromEntries(Object.entries(lostAt).map(([name, count]) => [`lost_${name}`, count])) : {}),
    core_cpu_us_per_order: round((cpu.core / orders) * 1e6, 1),
    publisher_cpu_us_per_order: round((cpu.publishers / orders) * 1e6, 1),
    persister_cpu_us_per_order: round((cpu.persister / orders) * 1e6, 1),
    ...Object.fromEntries(Object.entries(publisherSplit).map(([key, seconds]) => [key, round((seconds / orders) * 1e6, 1)])),
  };
}

async function coreAlone(stack: Stack, users: readonly StackUser[], rate: number): Promise<number> {
  const corePid = stack.core.child.pid!;
  let before = processCpuSeconds(corePid);
  const timer = setTimeout(() => {
    before = processCpuSeconds(corePid);
  }, WARMUP_SECONDS * 1000);
  const load = await runOpenLoop({
    url: stack.url,
    users,
    rate,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
    body: (sequence) => crossingOrderBody(sequence + rate * 1_000_000 + 500_000, 'BTC-KRW', 'f'),
  });
  clearTimeout(timer);
  return round(((processCpuSeconds(corePid) - before) / load.ok) * 1e6, 1);
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const stack = await Stack.start({ env: { SNAPSHOT_EVERY: '0', LOG_LEVEL: 'warn' } });
  stack.startPersister();
  try {
    const users: StackUser[] = [];
    for (let index = 0; index < USERS; index++)
      users.push(await stack.createUser(`bench-${index}`, { KRW: '100000000000000', BTC: '100000' }));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const lines: Array<Record<string, number>> = [];
    for (const rate of RATES) {
      const line = await runRate(stack, users, rate);
      lines.push(line);
      console.log(JSON.stringify(line));
    }
    if (process.env.BENCH_SKIP_BASELINE !== '1') {
      // the same load with fan-out off: publishers and persister stopped, the core alone
      await Promise.all([...stack.publishers.values(), stack.persister!].map((handle) => handle.stop()));
      for (const line of lines) {
        const without = await coreAlone(stack, users, line.offered_per_sec!);
        line.core_cpu_us_per_order_without_fanout = without;
        line.core_cpu_ratio = round(line.core_cpu_us_per_order! / without, 3);
      }
      stack.publishers.clear();
      stack.persister = undefined;
    }
    const held = lines.filter(
      (line) =>
        line.lost === 0 &&
        line.errors === 0 &&
        line.redis_p99_ms! <= TARGETS.brokerP99Ms &&
        line.kafka_p99_ms! <= TARGETS.brokerP99Ms &&
        line.rabbitmq_p99_ms! <= TARGETS.brokerP99Ms &&
        line.postgres_p99_ms! <= TARGETS.postgresP99Ms &&
        (line.core_cpu_ratio === undefined || line.core_cpu_ratio <= TARGETS.cpuRatio),
    );
    for (const line of lines) console.log(JSON.stringify(line));
    if (lines.length > 1)
      console.log(JSON.stringify({ highest_rate_targets_held: held.length ? Math.max(...held.map((line) => line.offered_per_sec!)) : 0 }));
  } finally {
    await stack.stop();
  }
}

runThenExit(main);
