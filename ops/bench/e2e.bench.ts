/**
 * npm run bench:e2e [-- --sweep | --chaos] — the whole path as `npm start` runs it: a core, one
 * publisher per broker, the persister, the market-data service and two ws-servers, started here on a
 * temp DATA_DIR with a broker namespace and a PostgreSQL database of their own (a running `npm start`
 * is not reused: its users, books and rows would mix with the bench's). Users are created and funded
 * through the admin API; signed orders go over HTTP at a constant arrival rate (open loop), a mix that
 * crosses, rests and cancels. Listeners in a process of their own (ops/bench/e2e-observers.ts): each
 * user's WebSocket executions, a Kafka consumer on `executions`, a PostgreSQL poller.
 *
 * Latencies: ack = scheduled send → HTTP answer; push / kafka / persist = ack → the request's first
 * report (`New` for an order, `Cancelled` for a cancel) on the WebSocket / in Kafka / as a row in
 * PostgreSQL. HDR histograms; one clock, CLOCK_MONOTONIC (monotonicMs), for the generator and the
 * listeners. CPU per order per process from /proc over the measured window.
 *
 * --sweep: rate steps (BENCH_SWEEP_RATES) until ack p99 > 10 ms or errors; then the fan-out off
 * (publishers, persister, market-data, ws-servers stopped) and the same steps on the core alone.
 * --chaos: a baseline, then each broker stopped in turn for BENCH_CHAOS_OUTAGE_SECONDS and started
 * again, under load; every broker this process stopped is started again whatever happens (finally,
 * SIGINT, SIGTERM). Writes a PNG of latency over time (BENCH_PLOT).
 *
 * Knobs: BENCH_RATE (2000), BENCH_SECONDS (20), BENCH_WARMUP_SECONDS (3), BENCH_USERS (32),
 * BENCH_CONNECTIONS (64), BENCH_SWEEP_RATES ("250,500,750,1000,1500,2000,3000"),
 * BENCH_SWEEP_SECONDS (10), BENCH_SWEEP_PREWARM_SECONDS (10, unmeasured, at the first rate), BENCH_CHAOS_BROKERS ("redis,kafka,rabbitmq"),
 * BENCH_CHAOS_OUTAGE_SECONDS (10), BENCH_CHAOS_BASELINE_SECONDS (15), BENCH_CHAOS_RECOVERY_SECONDS
 * (20), BENCH_PLOT (docs/bench-e2e-chaos.png), BENCH_CPU_PROF (a directory: --cpu-prof for the core),
 * BENCH_FANOUT_NICE (an experiment: nice value for publishers, persister, market-data, ws-servers),
 * BENCH_SERVICES_DATA_DIR (--chaos: the DATA_DIR holding the brokers' pid files), BENCH_VERBOSE=1.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import hdr from 'hdr-histogram-js';
import { runThenExit } from '../process-kit.ts';
import { loadConfig, PROJECT_ROOT, type Config } from '../config.ts';
import { probeKafka, probeRabbitmq, probeRedis } from '../service-health.ts';
import { runCommand } from '../services/command.ts';
import { ensureKafka } from '../services/kafka.ts';
import { ensureRabbitmq } from '../services/rabbitmq.ts';
import { ensureRedis } from '../services/redis.ts';
import { freePort } from '../core-child.ts';
import { brokerPid, restoreAll, startBroker, stopBroker, type Broker } from '../testing/broker-control.ts';
import { spawnTs, Stack, type ChildHandle, type StackUser } from '../testing/stack.ts';
import { EXEC_TYPES, FEEDS, type Feed, type ObserverReply, type ObserverRequest } from './e2e-observers.ts';
import { monotonicMs, runOpenLoop, type Ack, type LoadRequest, type OpenLoopResult } from './open-loop.ts';
import { plotLatency, type Series } from './png-plot.ts';
import { allProcesses, commandLine, cpuDelta, cpuSample, pidsOf, type CpuGroups, type CpuSample, type ProcEntry } from './proc-cpu.ts';

const env = process.env;
const RATE = Number(env.BENCH_RATE ?? 2000);
const SECONDS = Number(env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const USERS = Number(env.BENCH_USERS ?? 32);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 64);
const SWEEP_RATES = (env.BENCH_SWEEP_RATES ?? '250,500,750,1000,1500,2000,3000').split(',').map(Number);
const SWEEP_SECONDS = Number(env.BENCH_SWEEP_SECONDS ?? 10);
const SWEEP_PREWARM_SECONDS = Number(env.BENCH_SWEEP_PREWARM_SECONDS ?? 10);
const CHAOS_BROKERS = (env.BENCH_CHAOS_BROKERS ?? 'redis,kafka,rabbitmq').split(',') as Broker[];
const OUTAGE_SECONDS = Number(env.BENCH_CHAOS_OUTAGE_SECONDS ?? 10);
const BASELINE_SECONDS = Number(env.BENCH_CHAOS_BASELINE_SECONDS ?? 15);
const RECOVERY_SECONDS = Number(env.BENCH_CHAOS_RECOVERY_SECONDS ?? 20);
const PLOT = path.resolve(PROJECT_ROOT, env.BENCH_PLOT ?? 'docs/bench-e2e-chaos.png');
const ACK_P99_LIMIT_MS = 10;
/**
 * The brokers' pid files live under the DATA_DIR of whoever started them (services:up, npm start,
 * npm test — possibly another clone): BENCH_SERVICES_DATA_DIR, else the directory above the running
 * Redis's working directory (services:up starts it in $DATA_DIR/redis), else this project's.
 */
let SERVICES_CONFIG: Config = loadConfig();

async function findServicesConfig(): Promise<Config> {
  const config = loadConfig();
  if (env.BENCH_SERVICES_DATA_DIR) return { ...config, DATA_DIR: path.resolve(env.BENCH_SERVICES_DATA_DIR) };
  const [redis] = (await brokerProcesses(await allProcesses(), config)).redis;
  const cwd = redis === undefined ? undefined : await readlink(`/proc/${redis}/cwd`).catch(() => undefined);
  return cwd !== undefined && path.basename(cwd) === 'redis' ? { ...config, DATA_DIR: path.dirname(cwd) } : config;
}
const MID_TICKS = 50_000;

const round = (value: number, digits = 2) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null);

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly count: number;
}

/** HDR histogram (µs, 3 significant digits) of ms values */
function percentiles(values: Iterable<number>): Percentiles {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  let count = 0;
  for (const value of values) {
    histogram.recordValue(Math.max(1, Math.round(value * 1000)));
    count++;
  }
  const at = (percentile: number) => (count === 0 ? Number.NaN : histogram.getValueAtPercentile(percentile) / 1000);
  const result = { p50: at(50), p99: at(99), p999: at(99.9), max: count === 0 ? Number.NaN : histogram.maxValue / 1000, count };
  histogram.destroy();
  return result;
}

// ---------------------------------------------------------------------------------------------
// The order mix: of every 8 requests, 4 limit orders around a fixed mid (buys a little above sells:
// about half trade at once, the rest rest briefly and trade with later ones), 2 limit orders far
// from the mid that rest, 2 cancels of the oldest of those (a resting order in its place while
// none is acknowledged yet). The book stays bounded: deep orders are cancelled as fast as they come.

type Kind = 'cross' | 'rest' | 'cancel';

interface Plan {
  readonly kind: Kind;
  /** for a cancel: the order cancelled */
  readonly orderId?: string;
}

class OrderMix {
  /** sequence → what was sent */
  readonly plans: Plan[] = [];
  /** resting orders acknowledged and not yet cancelled: [orderId, user index] */
  readonly #resting: Array<[string, number]> = [];
  #restingHead = 0;
  readonly counts = { cross: 0, rest: 0, cancel: 0 };

  constructor(
    private readonly users: readonly StackUser[],
    private readonly salt: string,
  ) {}

  request = (sequence: number): LoadRequest => {
    const slot = sequence % 8;
    if (slot >= 6 && this.#restingHead < this.#resting.length) {
      const [orderId, userIndex] = this.#resting[this.#restingHead++]!;
      this.plans[sequence] = { kind: 'cancel', orderId };
      this.counts.cancel++;
      return { user: this.users[userIndex]!, method: 'DELETE', path: `/v1/order/${orderId}`, body: '' };
    }
    const userIndex = sequence % this.users.length;
    const side = sequence % 2 === 0 ? 'Buy' : 'Sell';
    const sign = side === 'Buy' ? 1 : -1;
    let ticks: number;
    let kind: Kind;
    if (slot < 4) {
      kind = 'cross';
      ticks = MID_TICKS + sign * ((sequence * 7) % 11) - sign * 3;
    } else {
      kind = 'rest';
      ticks = MID_TICKS - sign * (200 + ((sequence * 13) % 100));
    }
    this.plans[sequence] = { kind };
    this.counts[kind]++;
    const body = `{"symbol":"BTC-KRW","side":"${side}","order_type":"Limit","price":"${ticks}000","quantity":"0.001","client_order_id":"e${this.salt}x${sequence}"}`;
    return { user: this.users[userIndex]!, method: 'POST', path: '/v1/order', body };
  };

  onAck = (ack: Ack): void => {
    const plan = this.plans[ack.sequence];
    if (plan?.kind === 'rest') this.#resting.push([ack.orderId, ack.sequence % this.users.length]);
  };
}

// ---------------------------------------------------------------------------------------------
// The listeners' process

class Observers {
  readonly #child: ChildProcess;
  #waiting: ((reply: ObserverReply) => void) | undefined;
  readonly #dir: Promise<string>;

  constructor() {
    this.#child = fork(path.join(PROJECT_ROOT, 'ops/bench/e2e-observers.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    });
    this.#child.on('message', (reply: ObserverReply) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.(reply);
    });
    this.#dir = mkdtemp(path.join(os.tmpdir(), 'xtrader-e2e-'));
  }

  get pid(): number {
    return this.#child.pid!;
  }

  async ask<T extends ObserverReply['type']>(request: ObserverRequest, expect: T): Promise<Extract<ObserverReply, { type: T }>> {
    const reply = await new Promise<ObserverReply>((resolve, reject) => {
      this.#waiting = resolve;
      this.#child.once('exit', (code) => reject(new Error(`observers exited (${code})`)));
      this.#child.send(request);
    });
    if (reply.type === 'error') throw new Error(`observers: ${reply.message}`);
    if (reply.type !== expect) throw new Error(`observers answered ${reply.type}, expected ${expect}`);
    return reply as Extract<ObserverReply, { type: T }>;
  }

  /** the arrivals since the last dump: per feed, seq → [orderId, execType, at] */
  async dump(): Promise<Record<Feed, Float64Array>> {
    const file = path.join(await this.#dir, `dump-${Date.now()}.bin`);
    const { counts } = await this.ask({ type: 'dump', file }, 'dumped');
    const bytes = await readFile(file);
    await rm(file, { force: true });
    const values = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    const result = {} as Record<Feed, Float64Array>;
    let offset = 0;
    for (const feed of FEEDS) {
      result[feed] = values.subarray(offset, offset + counts[feed] * 4);
      offset += counts[feed] * 4;
    }
    return result;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    try {
      this.#child.send({ type: 'stop' } satisfies ObserverRequest);
    } catch {
      // the channel is gone already
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
    await rm(await this.#dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// One phase: load at `rate`, then the wait for every feed, then the figures

/** min or max of a long list (a spread of 100,000s of arguments overflows the stack) */
function extreme(values: readonly number[], pick: (a: number, b: number) => number): number {
  return values.reduce((best, value) => pick(best, value), values[0] ?? Number.NaN);
}

interface Delivery {
  /** order id (+ ":c" for a cancel) → first arrival per feed (monotonic ms) */
  readonly arrivals: Record<Feed, Map<string, number>>;
}

interface PhaseResult {
  readonly line: Record<string, unknown>;
  readonly load: OpenLoopResult;
  readonly mix: OrderMix;
  readonly delivery: Delivery;
  readonly startedAt: number;
}

/** order id → first New / Cancelled arrival, from a dump */
function arrivalsOf(values: Float64Array, into: { news: Map<string, number>; cancels: Map<string, number>; execTypes: number[] }): void {
  const newCode = EXEC_TYPES.indexOf('New');
  const cancelCode = EXEC_TYPES.indexOf('Cancelled');
  for (let index = 0; index < values.length; index += 4) {
    const orderId = String(values[index + 1]);
    const code = values[index + 2]!;
    const at = values[index + 3]!;
    into.execTypes[code] = (into.execTypes[code] ?? 0) + 1;
    const map = code === newCode ? into.news : code === cancelCode ? into.cancels : undefined;
    if (map && !(map.get(orderId)! <= at)) map.set(orderId, at);
  }
}

interface Context {
  readonly stack: Stack;
  readonly users: StackUser[];
  readonly observers: Observers | undefined;
  readonly groups: () => Promise<CpuGroups>;
  /** the stack's processes, for their output when something went missing */
  readonly logs: () => Record<string, ChildHandle | undefined>;
}

async function runPhase(
  context: Context,
  rate: number,
  seconds: number,
  options: { chaos?: (signal: AbortController, startedAt: number) => Promise<void>; label?: string } = {},
): Promise<PhaseResult> {
  const { stack, users, observers } = context;
  const mix = new OrderMix(users, `${rate}x${Date.now().toString(36)}`);
  const stateBefore = await stack.adminState();
  // CPU from the first send until every feed holds every report: all the work these requests caused,
  // also when a saturated stack finishes it long after the last send
  const startSample = await cpuSample(await context.groups());
  const controller = new AbortController();
  const startedAt = monotonicMs();
  const chaos = options.chaos?.(controller, startedAt);
  const loadPromise = runOpenLoop({
    url: stack.url,
    users,
    rate,
    seconds: options.chaos ? 3_600 : seconds,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
    build: mix.request,
    onAck: mix.onAck,
    signal: controller.signal,
  });
  const [load] = await Promise.all([loadPromise, chaos]);
  const measuredSeconds = (load.measuredTo - load.measuredFrom) / 1000;

  // every acknowledged request's report, at every listener
  const news = load.acks.filter((ack) => mix.plans[ack.sequence]?.kind !== 'cancel').map((ack) => ack.orderId);
  const cancels = load.acks.filter((ack) => mix.plans[ack.sequence]?.kind === 'cancel').map((ack) => ack.orderId);
  const arrivals = Object.fromEntries(
    FEEDS.map((feed) => [feed, { news: new Map<string, number>(), cancels: new Map<string, number>(), execTypes: [] as number[] }]),
  ) as Record<Feed, { news: Map<string, number>; cancels: Map<string, number>; execTypes: number[] }>;
  let awaited: Extract<ObserverReply, { type: 'awaited' }> | undefined;
  if (observers) {
    awaited = await observers.ask({ type: 'await', news, cancels, timeoutMs: options.chaos ? 180_000 : 60_000 }, 'awaited');
    const dumped = await observers.dump();
    for (const feed of FEEDS) arrivalsOf(dumped[feed], arrivals[feed]);
  }
  const endSample = await cpuSample(await context.groups());
  const stateAfter = await stack.adminState();
  // BENCH_VERBOSE=1: what the ws-servers say about their feed (holes repaired, sweeps, slow clients)
  const wsHealth =
    env.BENCH_VERBOSE === '1'
      ? await Promise.all(
          [...stack.wsServers.keys()].map((port) =>
            fetch(`http://127.0.0.1:${port}/metrics`).then(
              async (response) =>
                (await response.text())
                  .split('\n')
                  .filter((metric) =>
                    /^xtrader_ws_(feed_gaps|execution_sweeps|slow_clients_closed|feed_duplicates|dead_peers_cut|feed_up|resume_failures)/.test(
                      metric,
                    ),
                  ),
              (error: unknown) => String(error),
            ),
          ),
        )
      : [];
  const measured = load.acks.filter((ack) => ack.measured);
  // requests answered 200 per second, from the first measured send to the last measured ack
  const firstSend = extreme(
    measured.map((ack) => ack.scheduledAtMonotonic),
    Math.min,
  );
  const lastAck = extreme(
    measured.map((ack) => ack.ackAtMonotonic),
    Math.max,
  );
  const deliveryLatency = (feed: Feed) =>
    percentiles(
      (function* () {
        for (const ack of measured) {
          const at = (mix.plans[ack.sequence]?.kind === 'cancel' ? arrivals[feed].cancels : arrivals[feed].news).get(ack.orderId);
          if (at !== undefined) yield at - ack.ackAtMonotonic;
        }
      })(),
    );
  const ack = percentiles(load.latencies);
  const lostOrders = new Set<string>();
  const lostByFeed: Record<string, number> = {};
  let duplicates = 0;
  let redelivered = 0;
  const lostWhen: Record<string, [number | null, number | null]> = {};
  if (awaited) {
    const ackOf = new Map(load.acks.map((ack) => [ack.orderId, ack]));
    for (const feed of FEEDS) {
      const counters = awaited.feeds[feed];
      const missing = new Set([...counters.missingExpected, ...counters.missingOrders]);
      lostByFeed[feed] = missing.size;
      // when the lost ones were acknowledged (s into the run), to line them up with outages
      const times = [...missing]
        .map((id) => ackOf.get(id)?.ackAtMonotonic)
        .filter((at): at is number => at !== undefined)
        .map((at) => (at - startedAt) / 1000);
      if (times.length > 0) lostWhen[feed] = [round(extreme(times, Math.min), 1), round(extreme(times, Math.max), 1)];
      for (const id of missing) lostOrders.add(id);
      duplicates += counters.duplicatesAfterDedupe;
      redelivered += counters.redelivered;
    }
  }
  if (lostOrders.size > 0 || (awaited && awaited.wsReconnects > 0)) {
    // what the processes on the lost path said (stderr of the bench)
    for (const [name, handle] of Object.entries(context.logs()))
      if (handle) console.error(`--- ${name}, last output:\n${handle.output().slice(-3_000)}`);
    if (awaited)
      console.error(`--- kafka consumer: ${awaited.kafkaLifecycle.join('; ')}\n--- websocket clients: ${awaited.wsEvents.join('; ')}`);
  }
  const orders = load.ok;
  const cpu = cpuPerOrder(startSample, endSample, load.acks.length, rate);
  const latencyFields = observers
    ? Object.fromEntries(
        FEEDS.flatMap((feed) => {
          const figures = deliveryLatency(feed);
          return [
            [`${feed}_p50_ms`, round(figures.p50)],
            [`${feed}_p99_ms`, round(figures.p99)],
            [`${feed}_max_ms`, round(figures.max)],
          ];
        }),
      )
    : {};
  const execTypes = arrivals.kafka.execTypes;
  const line: Record<string, unknown> = {
    ...(options.label ? { phase: options.label } : {}),
    offered_per_sec: rate,
    achieved_per_sec: round(orders / ((lastAck - firstSend) / 1000), 1),
    measured_seconds: round(measuredSeconds, 1),
    ack_p50_ms: round(ack.p50, 3),
    ack_p99_ms: round(ack.p99, 3),
    ack_p999_ms: round(ack.p999, 3),
    ack_max_ms: round(ack.max, 3),
    ...latencyFields,
    errors: load.errors,
    ...(load.errors > 0
      ? {
          error_statuses: Object.fromEntries(Object.entries(load.statuses).filter(([status]) => status !== '200')),
          // [s into the run, status (0 = the connection closed with the request in flight)]
          first_failures: load.failures.slice(0, 10).map(([at, status]) => [round((at - startedAt) / 1000, 1), status]),
        }
      : {}),
    ...(load.reconnects > 0 ? { http_reconnects: load.reconnects } : {}),
    ...(observers
      ? {
          lost: lostOrders.size,
          ...(lostOrders.size > 0 ? { lost_by_feed: lostByFeed, lost_acked_between_s: lostWhen } : {}),
          duplicates_after_dedupe: duplicates,
          redelivered_dropped: redelivered,
        }
      : {}),
    mix: {
      ...mix.counts,
      ...(observers
        ? { reports: Object.fromEntries(EXEC_TYPES.map((type, code) => [type, execTypes[code] ?? 0]).filter(([, count]) => count !== 0)) }
        : {}),
    },
    events_per_order: round((stateAfter.last_event_seq - stateBefore.last_event_seq) / Math.max(1, load.acks.length), 2),
    ...cpu,
    ...(awaited && awaited.wsReconnects > 0 ? { ws_reconnects: awaited.wsReconnects } : {}),
    load_average: os.loadavg().map((value) => round(value, 2)),
    ...(env.BENCH_VERBOSE === '1' ? { ws_health: wsHealth } : {}),
  };
  return {
    line,
    load,
    mix,
    delivery: {
      arrivals: Object.fromEntries(FEEDS.map((feed) => [feed, mergeArrivals(arrivals[feed], load, mix)])) as Record<
        Feed,
        Map<string, number>
      >,
    },
    startedAt,
  };
}

/** ack order id (+ ":c" for a cancel) → arrival, for the timeline */
function mergeArrivals(
  feed: { news: Map<string, number>; cancels: Map<string, number> },
  load: OpenLoopResult,
  mix: OrderMix,
): Map<string, number> {
  const merged = new Map<string, number>();
  for (const ack of load.acks) {
    const cancel = mix.plans[ack.sequence]?.kind === 'cancel';
    const at = (cancel ? feed.cancels : feed.news).get(ack.orderId);
    if (at !== undefined) merged.set(cancel ? `${ack.orderId}:c` : ack.orderId, at);
  }
  return merged;
}

function arrivalOf(delivery: Delivery, feed: Feed, ack: Ack, mix: OrderMix): number | undefined {
  return delivery.arrivals[feed].get(mix.plans[ack.sequence]?.kind === 'cancel' ? `${ack.orderId}:c` : ack.orderId);
}

/** CPU per acknowledged request (orders and cancels), per process, over the phase */
function cpuPerOrder(start: CpuSample, end: CpuSample, orders: number, rate: number): Record<string, unknown> {
  if (orders === 0) return {};
  const seconds = (end.at - start.at) / 1000;
  const used = cpuDelta(start, end);
  const perOrder: Record<string, number | null> = {};
  const cores: Record<string, number | null> = {};
  let accounted = 0;
  for (const [name, value] of Object.entries(used)) {
    if (name !== 'machine') accounted += value;
    perOrder[name] = round((value / orders) * 1e6, 1);
    cores[name] = round(value / seconds, 3);
  }
  // everything else on the machine (other engineers' tests, the kernel's own threads)
  const other = Math.max(0, used.machine! - accounted);
  perOrder.other_processes = round((other / orders) * 1e6, 1);
  cores.other_processes = round(other / seconds, 3);
  // the exchange itself: every process above but the bench's own (load generator, listeners)
  const exchange = accounted - (used.load_generator ?? 0) - (used.listeners ?? 0);
  perOrder.exchange_total = round((exchange / orders) * 1e6, 1);
  cores.exchange_total = round(exchange / seconds, 3);
  // the capacity model: cores each process would need at 10× the offered rate, if its cost per order held
  const atTenfold = Object.fromEntries(
    Object.entries(perOrder).map(([name, us]) => [name, us === null ? null : round((us * rate * 10) / 1e6, 2)]),
  );
  const [busiest] = Object.entries(cores)
    .filter(([name]) => !['machine', 'other_processes', 'exchange_total'].includes(name))
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  return { cpu_us_per_order: perOrder, cpu_cores: cores, cores_at_10x: atTenfold, busiest_process: busiest?.[0] };
}

// ---------------------------------------------------------------------------------------------
// Chaos

interface Outage {
  readonly broker: Broker;
  /** monotonic ms: stop issued, stop done, start issued, start done */
  readonly stopIssued: number;
  stopped?: number;
  startIssued?: number;
  back?: number;
  verifiedDown?: boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** what the chaos driver is doing right now (a shutdown waits for it before restoring) */
let chaosStep: Promise<unknown> = Promise.resolve();
const interrupted = new AbortController();

async function chaosDriver(outages: Outage[], controller: AbortController, startedAt: number): Promise<void> {
  try {
    await sleep(Math.max(0, startedAt + (WARMUP_SECONDS + BASELINE_SECONDS) * 1000 - monotonicMs()), interrupted.signal);
    for (const broker of CHAOS_BROKERS) {
      if (interrupted.signal.aborted) return;
      const outage: Outage = { broker, stopIssued: monotonicMs() };
      outages.push(outage);
      touched.add(broker);
      console.error(`chaos: stopping ${broker}`);
      await (chaosStep = stopBroker(broker, SERVICES_CONFIG));
      outage.stopped = monotonicMs();
      outage.verifiedDown = await brokerIsDown(broker);
      await sleep(OUTAGE_SECONDS * 1000, interrupted.signal);
      if (interrupted.signal.aborted) return; // the shutdown's restoreAll starts it
      outage.startIssued = monotonicMs();
      console.error(`chaos: starting ${broker}`);
      await (chaosStep = startBroker(broker, SERVICES_CONFIG));
      outage.back = monotonicMs();
      console.error(`chaos: ${broker} back after ${round((outage.back - outage.stopIssued) / 1000, 1)} s`);
      await sleep(RECOVERY_SECONDS * 1000, interrupted.signal);
    }
  } finally {
    controller.abort();
  }
}

function chaosFigures(result: PhaseResult, outages: readonly Outage[]): Record<string, unknown> {
  const { load, mix, delivery, startedAt } = result;
  const firstStop = outages[0]?.stopIssued ?? Number.POSITIVE_INFINITY;
  const warmupEnd = startedAt + WARMUP_SECONDS * 1000;
  const ackLatency = (ack: Ack) => ack.ackAtMonotonic - ack.scheduledAtMonotonic;
  const normal = percentiles(
    load.acks.filter((ack) => ack.scheduledAtMonotonic >= warmupEnd && ack.scheduledAtMonotonic < firstStop).map(ackLatency),
  );
  const perOutage = outages.map((outage) => {
    const back = outage.back ?? Number.NaN;
    const during = load.acks.filter((ack) => ack.scheduledAtMonotonic >= outage.stopIssued && ack.scheduledAtMonotonic < back);
    const duringAck = percentiles(during.map(ackLatency));
    const errors = load.failures.filter(([at]) => at >= outage.stopIssued && at < back).length;
    // catch-up: from the broker back to the moment this feed held every request acknowledged before that
    const catchUp = Object.fromEntries(
      FEEDS.map((feed) => {
        let last = Number.NEGATIVE_INFINITY;
        let missing = 0;
        for (const ack of load.acks) {
          if (ack.ackAtMonotonic >= back || ack.ackAtMonotonic < outage.stopIssued) continue;
          const at = arrivalOf(delivery, feed, ack, mix);
          if (at === undefined) missing++;
          else last = Math.max(last, at);
        }
        return [`${feed}_catch_up_ms`, missing > 0 ? null : round(last - back, 0)];
      }),
    );
    return {
      broker: outage.broker,
      verified_down: outage.verifiedDown ?? false,
      stop_ms: round((outage.stopped ?? Number.NaN) - outage.stopIssued, 0),
      down_ms: round((outage.startIssued ?? Number.NaN) - (outage.stopped ?? Number.NaN), 0),
      start_ms: round(back - (outage.startIssued ?? Number.NaN), 0),
      ack_p99_ms: round(duringAck.p99, 3),
      ack_p99_vs_normal: round(duringAck.p99 / normal.p99, 2),
      ack_max_ms: round(duringAck.max, 3),
      errors,
      ...catchUp,
    };
  });
  return { normal_ack_p99_ms: round(normal.p99, 3), normal_ack_p50_ms: round(normal.p50, 3), outages: perOutage };
}

/** p99 per 0.5 s window of each series over the run, outages shaded */
function chaosPlot(result: PhaseResult, outages: readonly Outage[], rate: number): Buffer {
  const { load, mix, delivery, startedAt } = result;
  const window = 500;
  const buckets = new Map<string, number[][]>();
  const put = (series: string, at: number, value: number) => {
    const index = Math.floor((at - startedAt) / window);
    let list = buckets.get(series);
    if (!list) buckets.set(series, (list = []));
    (list[index] ??= []).push(value);
  };
  for (const ack of load.acks) {
    put('ack', ack.scheduledAtMonotonic, ack.ackAtMonotonic - ack.scheduledAtMonotonic);
    for (const feed of FEEDS) {
      const at = arrivalOf(delivery, feed, ack, mix);
      if (at !== undefined) put(feed, ack.scheduledAtMonotonic, at - ack.ackAtMonotonic);
    }
  }
  const colors: Record<string, [number, number, number]> = {
    ack: [30, 90, 200],
    push: [200, 60, 40],
    kafka: [40, 150, 60],
    persist: [140, 70, 170],
  };
  const series: Series[] = ['ack', ...FEEDS].map((name) => ({
    name: `${name} p99`,
    color: colors[name]!,
    points: (buckets.get(name) ?? []).flatMap((values, index) =>
      values?.length ? [[((index + 0.5) * window) / 1000, percentiles(values).p99] as const] : [],
    ),
  }));
  const end = extreme([startedAt, ...load.acks.map((ack) => ack.scheduledAtMonotonic)], Math.max) - startedAt;
  return plotLatency({
    title: `BENCH:E2E --CHAOS  ${rate} ORDERS/S`,
    subtitle: `P99 PER 0.5 S OF ACK (SEND -> ANSWER) AND ACK -> REPORT ON THE WEBSOCKET, IN KAFKA, IN POSTGRESQL. ${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} CORES`,
    series,
    bands: outages.map((outage) => ({
      from: (outage.stopIssued - startedAt) / 1000,
      to: ((outage.back ?? outage.stopIssued) - startedAt) / 1000,
      label: `${outage.broker} down`,
    })),
    xMax: Math.ceil(end / 10_000) * 10,
  });
}

// ---------------------------------------------------------------------------------------------

/** the broker processes, found by name and command line (whoever started them) */
async function brokerProcesses(table: Map<number, ProcEntry>, config: Config = SERVICES_CONFIG): Promise<Record<Broker, number[]>> {
  const redisPort = new URL(config.REDIS_URL).port || '6379';
  return {
    redis: await pidsOf(table, 'redis-server', `:${redisPort}`),
    kafka: await pidsOf(table, 'java', 'kafka.Kafka'),
    rabbitmq: await pidsOf(table, 'beam.smp', 'rabbit'),
  };
}

/** a backend or autovacuum worker names its database in its title; the server's own processes do not */
function isOurPostgres(title: string, database: string): boolean {
  const perDatabase = /\(\d+\)|autovacuum worker/.test(title);
  return !perDatabase || title.split(' ').includes(database);
}

/** --chaos stops brokers through their pid files: refuse to start when they are not the running brokers */
async function chaosPreflight(): Promise<void> {
  const running = await brokerProcesses(await allProcesses());
  for (const broker of CHAOS_BROKERS) {
    if (broker === 'rabbitmq') continue; // rabbitmqctl finds its node itself
    const pid = await brokerPid(broker, SERVICES_CONFIG).catch(() => undefined);
    if (pid === undefined || !running[broker].includes(pid)) {
      const [first] = running[broker];
      const cwd = first === undefined ? undefined : await readlink(`/proc/${first}/cwd`).catch(() => undefined);
      throw new Error(
        `--chaos: ${broker}'s pid file under ${SERVICES_CONFIG.DATA_DIR} does not name the running ${broker} (pids ${running[broker].join(',') || 'none'}${cwd ? `, cwd ${cwd}` : ''}); ` +
          'set BENCH_SERVICES_DATA_DIR to the DATA_DIR of whoever started the brokers',
      );
    }
  }
}

function brokerAnswers(broker: Broker): Promise<boolean> {
  const probe =
    broker === 'redis'
      ? probeRedis(SERVICES_CONFIG.REDIS_URL, 2_000)
      : broker === 'kafka'
        ? probeKafka(SERVICES_CONFIG.KAFKA_BROKERS, 5_000)
        : probeRabbitmq(SERVICES_CONFIG.AMQP_URL, 2_000);
  return probe.then(
    () => true,
    () => false,
  );
}

/** the brokers the chaos driver has stopped at least once */
const touched = new Set<Broker>();

/**
 * After restoreAll: any broker this run stopped that still does not answer is started by the
 * services' own start-up (services:up's code, on the services' DATA_DIR) — the bench never leaves a
 * shared broker down, even when broker-control's restart failed.
 */
async function ensureRestored(): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (const broker of touched) {
    for (let attempt = 0; Date.now() < deadline && !(await brokerAnswers(broker)); attempt++) {
      const pids = (await brokerProcesses(await allProcesses()))[broker];
      if (await anyFrozen(pids)) {
        // SIGSTOPped by someone else (a failure test beside this bench): theirs to thaw
        if (attempt === 0)
          console.error(`bench:e2e: ${broker} (pid ${pids.join(',')}) is frozen by another process; waiting for it to be thawed`);
        if (interrupted.signal.aborted) break; // not ours to thaw: do not hold a Ctrl-C for it
        await sleep(2_000);
        continue;
      }
      if (attempt === 0) console.error(`bench:e2e: ${broker} does not answer after restoreAll; starting it with the services' start-up`);
      const services = { config: SERVICES_CONFIG, say: (line: string) => console.error(line) };
      try {
        if (broker === 'redis') await ensureRedis(services);
        else if (broker === 'kafka') await ensureKafka(services);
        else await ensureRabbitmq(services).then(() => runCommand('rabbitmqctl', ['start_app'], { timeoutMs: 90_000 }));
      } catch (error) {
        console.error(`bench:e2e: starting ${broker} failed: ${String(error).slice(0, 300)}`);
        await sleep(2_000);
      }
    }
    if (!(await brokerAnswers(broker)))
      console.error(`bench:e2e: ${broker} STILL DOES NOT ANSWER — start it by hand (npm run services:up)`);
  }
}

/** state T: stopped by a signal */
async function anyFrozen(pids: readonly number[]): Promise<boolean> {
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return true;
  }
  return false;
}

/** after a stop: is the broker really away? */
async function brokerIsDown(broker: Broker): Promise<boolean> {
  if (broker === 'rabbitmq') return !(await brokerAnswers('rabbitmq'));
  return (await brokerProcesses(await allProcesses()))[broker].length === 0;
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu_model: cpus[0]?.model.trim(),
    memory_gib: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: os.release(),
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const mode = process.argv.includes('--chaos') ? 'chaos' : process.argv.includes('--sweep') ? 'sweep' : 'run';
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const loadBefore = os.loadavg().map((value) => round(value, 2));
  const cpuProf = env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(env.BENCH_CPU_PROF)] : undefined;
  let stack: Stack | undefined;
  let observers: Observers | undefined;
  let marketData: ChildHandle | undefined;
  let stopping: Promise<void> | undefined;
  // once: a signal arriving while the finally is already cleaning up waits for that same cleanup
  const shutdown = () =>
    (stopping ??= (async () => {
      // a broker stop or start in flight finishes first, so the restore sees its outcome
      await chaosStep.catch(() => {});
      await restoreAll(SERVICES_CONFIG).catch((error: unknown) => console.error('restoring the brokers failed:', error));
      await ensureRestored();
      await observers?.stop().catch(() => {});
      await marketData?.stop().catch(() => {});
      await stack?.stop().catch((error: unknown) => console.error('stopping the stack failed:', error));
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench:e2e: ${signal} — restoring the brokers and stopping the stack`);
      interrupted.abort();
      void shutdown().finally(() => process.exit(130));
    });
  }
  try {
    SERVICES_CONFIG = await findServicesConfig();
    if (mode === 'chaos') await chaosPreflight();
    stack = await Stack.start({ env: { LOG_LEVEL: 'warn' }, ...(cpuProf ? { coreNodeArgs: cpuProf } : {}) });
    const theStack = stack;
    stack.startPersister();
    marketData = spawnTs('ops/market-data.ts', [], { ...stack.env, MARKET_DATA_PORT: String(await freePort()) });
    const wsPorts = [await stack.startWsServer(), await stack.startWsServer()];
    const users: StackUser[] = [];
    for (let index = 0; index < USERS; index++)
      users.push(await stack.createUser(`e2e-${index}`, { KRW: '100000000000000', BTC: '100000' }));
    observers = new Observers();
    const config = loadConfig();
    await observers.ask(
      {
        type: 'start',
        users,
        wsPorts,
        kafkaBrokers: config.KAFKA_BROKERS.split(','),
        executionsTopic: stack.names.executions,
        kafkaGroup: `${stack.namespace}-e2e`,
        databaseUrl: stack.databaseUrl,
      },
      'ready',
    );
    const theObservers = observers;
    const theMarketData = marketData;
    let fanoutOn = true;
    const processes = (): Record<string, ChildHandle | undefined> => ({
      ...Object.fromEntries([...theStack.publishers.entries()].map(([name, handle]) => [`publisher_${name}`, handle])),
      persister: theStack.persister,
      market_data: theMarketData,
      ...Object.fromEntries([...theStack.wsServers.entries()].map(([port, handle]) => [`ws_server_${port}`, handle])),
    });
    const database = new URL(stack.databaseUrl).pathname.slice(1);
    const groups = async (): Promise<CpuGroups> => {
      const table = await allProcesses();
      const named: CpuGroups = { core: { pids: [theStack.core.child.pid!], withChildren: true } };
      if (fanoutOn) for (const [name, handle] of Object.entries(processes())) if (handle) named[name] = { pids: [handle.child.pid!] };
      const brokers = await brokerProcesses(table);
      named.redis_server = { pids: brokers.redis };
      named.rabbitmq_beam = { pids: brokers.rabbitmq };
      named.kafka_java = { pids: brokers.kafka };
      // this stack's backends (their title names its database) and the shared server processes
      // (postmaster, WAL writer, checkpointer…); other sessions' backends count as other_processes
      const postgres = [...table.values()].filter((entry) => entry.comm === 'postgres');
      const titles = await Promise.all(postgres.map((entry) => commandLine(entry.pid)));
      named.postgres = { pids: postgres.filter((_, index) => isOurPostgres(titles[index]!, database)).map((entry) => entry.pid) };
      named.load_generator = { pids: [process.pid] };
      if (fanoutOn) named.listeners = { pids: [theObservers.pid] };
      return named;
    };
    const context: Context = { stack, users, observers, groups, logs: processes };
    if (env.BENCH_FANOUT_NICE) {
      // an experiment, not the default: the downstream processes below the core's CPU priority
      for (const handle of Object.values(processes())) if (handle) os.setPriority(handle.child.pid!, Number(env.BENCH_FANOUT_NICE));
    }
    await sleep(1_000);

    if (mode === 'run') {
      const { line } = await runPhase(context, RATE, SECONDS);
      console.log(JSON.stringify({ ...line, load_average_before: loadBefore, machine: machine() }));
    } else if (mode === 'sweep') {
      const steps = async (label: string, withObservers: boolean) => {
        const lines: Array<Record<string, unknown>> = [];
        let held = 0;
        for (const rate of SWEEP_RATES) {
          const { line } = await runPhase(withObservers ? context : { ...context, observers: undefined }, rate, SWEEP_SECONDS, { label });
          lines.push(line);
          console.error(JSON.stringify(line));
          const ok = (line.errors as number) === 0 && (line.ack_p99_ms as number) <= ACK_P99_LIMIT_MS;
          if (!ok) break;
          held = rate;
        }
        return { lines, held };
      };
      // a fresh stack's first seconds run cold (JIT, connection pools): an unmeasured warm-up, so the
      // first step is not penalised against the core-alone steps, which run on warm processes
      await runPhase(context, SWEEP_RATES[0]!, SWEEP_PREWARM_SECONDS, { label: 'prewarm' });
      const full = await steps('full', true);
      // the fan-out off: the core alone takes the same steps
      fanoutOn = false;
      await theObservers.stop();
      await theMarketData.stop();
      await Promise.all(
        [...stack.publishers.values(), ...stack.wsServers.values(), ...(stack.persister ? [stack.persister] : [])].map((handle) =>
          handle.stop(),
        ),
      );
      stack.publishers.clear();
      stack.wsServers.clear();
      stack.persister = undefined;
      const alone = await steps('core_alone', false);
      const compact = (line: Record<string, unknown>) => {
        const cpu = line.cpu_us_per_order as Record<string, number> | undefined;
        return {
          rate: line.offered_per_sec,
          achieved: line.achieved_per_sec,
          ack_p99_ms: line.ack_p99_ms,
          errors: line.errors,
          ...(line.push_p99_ms !== undefined
            ? { push_p99_ms: line.push_p99_ms, kafka_p99_ms: line.kafka_p99_ms, persist_p99_ms: line.persist_p99_ms, lost: line.lost }
            : {}),
          core_cpu_us: cpu?.core,
          machine_cpu_us: cpu?.machine,
          load_average: line.load_average,
        };
      };
      console.log(
        JSON.stringify({
          mode: 'sweep',
          ack_p99_limit_ms: ACK_P99_LIMIT_MS,
          highest_rate_held: full.held,
          core_alone_highest_rate_held: alone.held,
          ratio_vs_core_alone: alone.held ? round(full.held / alone.held, 2) : null,
          steps: full.lines.map(compact),
          core_alone_steps: alone.lines.map(compact),
          step_seconds: SWEEP_SECONDS,
          load_average_before: loadBefore,
          machine: machine(),
        }),
      );
    } else {
      const outages: Outage[] = [];
      const result = await runPhase(context, RATE, 0, { chaos: (controller, startedAt) => chaosDriver(outages, controller, startedAt) });
      await restoreAll(SERVICES_CONFIG).catch((error: unknown) => console.error('restoring the brokers failed:', error));
      await ensureRestored();
      let plot: string;
      try {
        await mkdir(path.dirname(PLOT), { recursive: true });
        await writeFile(PLOT, chaosPlot(result, outages, RATE));
        plot = path.relative(PROJECT_ROOT, PLOT);
      } catch (error) {
        plot = `not written: ${String(error)}`;
      }
      console.log(
        JSON.stringify({
          mode: 'chaos',
          ...result.line,
          ...chaosFigures(result, outages),
          plot,
          load_average_before: loadBefore,
          machine: machine(),
        }),
      );
    }
  } finally {
    await shutdown();
  }
}

runThenExit(main);
