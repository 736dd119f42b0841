/**
 * npm run bench:ws — one ws-server (ops/ws-server.ts) on a fresh stack (core, Redis and RabbitMQ
 * publishers, persister; own namespace and database), C WebSocket connections all subscribed to
 * `trades.BTC-KRW` and `orderbook.BTC-KRW`, 1,000 of them authenticated (50 users × 20
 * connections) and on `executions`, while signed orders from those users arrive at a constant rate
 * (open loop, ops/bench/open-loop.ts). One JSON line per C.
 *
 * - execution: an order's ack → its `New` Execution frame at each of its owner's connections
 *   (one sample per connection; a report that never came counts in `dropped`);
 * - trade: the trade's `timestamp` → its `Trades` frame at a verifying client (batching window included);
 * - `dropped`: connections the server closed + book frames missed (prev_symbol_seq ≠ seq held) +
 *   trade ids skipped + execution reports missing at an owner's connection;
 * - the clients run in BENCH_WS_CLIENT_PROCS child processes (ops/bench/ws-load-clients.ts);
 *   BENCH_WS_VERIFY (100) of them parse every frame and check every book checksum with zlib's
 *   CRC-32, the others count frames and check the seq chains from the bytes without parsing;
 * - ws_cpu_cores, rss_mb: the ws-server process, from /proc, over the measured window.
 *
 * Knobs: BENCH_WS_CONNECTIONS ("5000,10000"), BENCH_RATE (1000), BENCH_SECONDS (15),
 * BENCH_WARMUP_SECONDS (3), BENCH_WS_CLIENT_PROCS (2), BENCH_WS_VERIFY (100), BENCH_WS_ENV
 * (extra ws-server env, "K=V,K=V"), BENCH_WS_PROFILE=dir (the ws-server runs with --cpu-prof).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runThenExit } from '../process-kit.ts';
import { loadConfig } from '../config.ts';
import { RabbitCollector } from '../testing/broker-consumers.ts';
import { Stack, spawnTs, waitFor, type StackUser } from '../testing/stack.ts';
import { crossingOrderBody, processCpuSeconds, runOpenLoop } from './open-loop.ts';
import { percentiles, round } from './latency-stats.ts';
import type { ClientSpec, ClientsReport, ParentMessage } from './ws-load-clients.ts';

const CONNECTION_COUNTS = (process.env.BENCH_WS_CONNECTIONS ?? '5000,10000').split(',').map(Number);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CLIENT_PROCS = Number(process.env.BENCH_WS_CLIENT_PROCS ?? 2);
const VERIFY = Number(process.env.BENCH_WS_VERIFY ?? 100);
const USERS = 50;
const CONNECTIONS_PER_USER = 20;
const SYMBOL = 'BTC-KRW';
const TARGETS = { executionP99Ms: 50, tradeP99Ms: 150 };

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function openFileLimit(): number {
  const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

/** one child process holding a share of the clients */
class ClientProcess {
  readonly child: ChildProcess;
  readonly #waiting = new Map<string, (message: Record<string, unknown>) => void>();

  constructor() {
    this.child = fork(fileURLToPath(new URL('./ws-load-clients.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: Record<string, unknown>) => {
      const type = String(message.type);
      const resolve = this.#waiting.get(type);
      this.#waiting.delete(type);
      resolve?.(message);
    });
  }

  ask<T>(message: ParentMessage, answer: string): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(answer, resolve as (message: Record<string, unknown>) => void);
      this.child.once('exit', (code) => reject(new Error(`client process exited ${code}`)));
      this.child.send(message);
    });
  }
}

async function runConnections(
  stack: Stack,
  wsUrl: string,
  wsPid: number,
  users: readonly StackUser[],
  connections: number,
  wsEnv: Record<string, string>,
): Promise<Record<string, number | string>> {
  const specs: ClientSpec[] = Array.from({ length: connections }, (_, index) => {
    const authenticated = index < USERS * CONNECTIONS_PER_USER;
    const user = users[index % USERS]!;
    return {
      index,
      verify: index < VERIFY,
      ...(authenticated ? { credentials: { apiKey: user.apiKey, apiSecret: user.apiSecret, userId: user.userId } } : {}),
    };
  });
  const processes = Array.from({ length: CLIENT_PROCS }, () => new ClientProcess());
  // by user: all connections of one API key in one process (it hands out their auth timestamps)
  const shares = processes.map((_, which) => specs.filter((spec) => (spec.index % USERS) % CLIENT_PROCS === which));
  const connectStarted = Date.now();
  const ready = await Promise.all(
    processes.map((process, which) =>
      process.ask<{ failed: number; failures: string[] }>(
        { type: 'connect', url: wsUrl, symbol: SYMBOL, clients: shares[which]!, concurrency: 100 },
        'ready',
      ),
    ),
  );
  const failed = ready.reduce((sum, answer) => sum + answer.failed, 0);
  if (failed > 0)
    throw new Error(
      `${failed} of ${connections} clients did not connect: ${ready
        .flatMap((answer) => answer.failures)
        .slice(0, 5)
        .join('; ')}`,
    );
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  const load = uptimeLoad();
  // yardstick: the same reports at a plain RabbitMQ consumer, ahead of the ws-server
  const rabbit = await new RabbitCollector().start(loadConfig().AMQP_URL, stack.names.exchange, ['execution.#']);
  const upstreamPids = [stack.core.child.pid!, ...[...stack.publishers.values()].map((handle) => handle.child.pid!)];
  let upstreamCpu = 0;
  const clientPids = processes.map((process) => process.child.pid!);
  let window: { from: number; cpu: number; clientsCpu: number; metrics: Record<string, number> } | undefined;
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    if (window) peakRss = Math.max(peakRss, rssMb(wsPid));
  }, 500);
  const warmup = setTimeout(() => {
    void Promise.all(processes.map((process) => process.ask({ type: 'measure' }, 'measuring'))).then(async () => {
      window = {
        from: Date.now(),
        cpu: processCpuSeconds(wsPid),
        clientsCpu: clientPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
        metrics: await wsMetrics(wsUrl),
      };
      upstreamCpu = upstreamPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
    });
  }, WARMUP_SECONDS * 1000);
  const result = await runOpenLoop({
    url: stack.url,
    users,
    rate: RATE,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    connections: 32,
    body: (sequence) => crossingOrderBody(sequence + connections * 1_000, SYMBOL, 'w'),
  });
  clearTimeout(warmup);
  await Promise.all(processes.map((process) => process.ask({ type: 'stop' }, 'stopped')));
  if (!window) throw new Error('the measured window never started');
  const seconds = (Date.now() - window.from) / 1000;
  const wsCpu = processCpuSeconds(wsPid) - window.cpu;
  const clientsCpu = clientPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0) - window.clientsCpu;
  upstreamCpu = upstreamPids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0) - upstreamCpu;
  const metricsAfter = await wsMetrics(wsUrl);
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, rssMb(wsPid));

  // what is still in flight arrives; then every client reports
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const reports = await Promise.all(processes.map((process) => process.ask<ClientsReport>({ type: 'report' }, 'report')));
  for (const process of processes) process.child.send({ type: 'close' } satisfies ParentMessage);
  await Promise.all(
    processes.map(
      (process) => new Promise((resolve) => (process.child.exitCode !== null ? resolve(undefined) : process.child.once('exit', resolve))),
    ),
  );

  const sum = (pick: (report: ClientsReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const serverCloses: Record<string, number> = {};
  for (const report of reports)
    for (const [code, count] of Object.entries(report.serverCloses)) serverCloses[code] = (serverCloses[code] ?? 0) + count;
  const closedByServer = Object.values(serverCloses).reduce((total, count) => total + count, 0);

  // executions: every measured ack, at each connection of its owner that was subscribed
  const ordersOfUser = new Map<string, string[]>();
  const executionLatencies: number[] = [];
  let executionsMissing = 0;
  const arrivalsByConnection = reports.flatMap((report) => report.executions);
  const measuredAcks = result.acks.filter((ack) => ack.measured);
  const ackById = new Map(measuredAcks.map((ack) => [ack.orderId, ack.ackAt]));
  // an order's owner is the user whose connections got its New report (the server sends it to no one else)
  const seenByUser = new Map<string, Set<string>>();
  for (const connection of arrivalsByConnection) {
    let seen = seenByUser.get(connection.userId);
    if (!seen) seenByUser.set(connection.userId, (seen = new Set()));
    for (const [orderId] of connection.arrivals) if (ackById.has(orderId)) seen.add(orderId);
  }
  for (const [userId, seen] of seenByUser) ordersOfUser.set(userId, [...seen]);
  for (const connection of arrivalsByConnection) {
    const arrivals = new Map(connection.arrivals);
    for (const orderId of ordersOfUser.get(connection.userId) ?? []) {
      const arrived = arrivals.get(orderId);
      if (arrived === undefined) executionsMissing++;
      else executionLatencies.push(arrived - ackById.get(orderId)!);
    }
  }
  // an acknowledged order whose New report reached none of its owner's connections
  const reachedAnyone = new Set([...seenByUser.values()].flatMap((seen) => [...seen]));
  const neverDelivered = measuredAcks.filter((ack) => !reachedAnyone.has(ack.orderId)).length;
  executionsMissing += neverDelivered * CONNECTIONS_PER_USER;

  const rabbitArrivals = new Map<string, number>();
  for (const { envelope, at } of rabbit.received) {
    if (
      envelope.type === 'Execution' &&
      envelope.execution_report.exec_type === 'New' &&
      !rabbitArrivals.has(envelope.execution_report.order_id)
    )
      rabbitArrivals.set(envelope.execution_report.order_id, at);
  }
  await rabbit.close();
  const upstream = percentiles(
    measuredAcks.filter((ack) => rabbitArrivals.has(ack.orderId)).map((ack) => rabbitArrivals.get(ack.orderId)! - ack.ackAt),
  );
  const execution = percentiles(executionLatencies);
  const trade = percentiles(reports.flatMap((report) => report.tradeLatencies));
  const bookGaps = sum((report) => report.bookGaps);
  const tradesMissed = sum((report) => report.tradesMissed);
  const ack = percentiles(result.latencies);
  return {
    connections,
    orders_per_sec: round(result.ok / SECONDS, 1),
    frames_per_sec: Math.round(sum((report) => report.framesInWindow) / seconds),
    execution_p50_ms: round(execution.p50),
    execution_p99_ms: round(execution.p99),
    trade_p50_ms: round(trade.p50),
    trade_p99_ms: round(trade.p99),
    book_checksum_failures: sum((report) => report.checksumFailures),
    dropped: closedByServer + bookGaps + tradesMissed + executionsMissing,
    rss_mb: round(peakRss, 0),
    ws_cpu_cores: round(wsCpu / seconds, 2),
    // the detail behind the figures above
    clients_cpu_cores: round(clientsCpu / seconds, 2),
    server_frames_per_sec: Math.round(
      ((metricsAfter.xtrader_ws_frames_sent_total ?? 0) - (window.metrics.xtrader_ws_frames_sent_total ?? 0)) / seconds,
    ),
    client_mb_per_sec: round(sum((report) => report.bytesInWindow) / seconds / 1024 ** 2, 1),
    execution_samples: execution.count,
    trade_samples: trade.count,
    verified_clients: Math.min(VERIFY, connections),
    verified_book_updates: sum((report) => report.verifiedBookUpdates),
    closed_by_server: closedByServer,
    ...(closedByServer > 0 ? { close_codes: JSON.stringify(serverCloses) } : {}),
    book_gaps: bookGaps,
    trades_missed: tradesMissed,
    executions_missing: executionsMissing,
    rabbitmq_execution_p50_ms: round(upstream.p50),
    rabbitmq_execution_p99_ms: round(upstream.p99),
    core_and_publishers_cpu_cores: round(upstreamCpu / seconds, 2),
    ack_p99_ms: round(ack.p99, 2),
    order_errors: result.errors,
    connect_seconds: round(connectSeconds, 1),
    trades_window_ms: Number(wsEnv.WS_TRADES_WINDOW_MS ?? 50),
    book_window_ms: Number(wsEnv.WS_BOOK_WINDOW_MS ?? 20),
    load_avg_1m_before: load,
  };
}

async function wsMetrics(wsUrl: string): Promise<Record<string, number>> {
  const url = wsUrl.replace('ws://', 'http://').replace(/\/ws$/, '/metrics');
  const text = await (await fetch(url)).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(xtrader_ws_\w+) ([\d.e+-]+)$/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}

function uptimeLoad(): number {
  return round(os.loadavg()[0]!, 2);
}

async function main(): Promise<void> {
  const needed = Math.max(...CONNECTION_COUNTS) + 1_000;
  const limit = openFileLimit();
  if (limit < needed)
    throw new Error(
      `ulimit -n is ${limit}: the ws-server holds one descriptor per connection; raise it to ≥ ${needed} (ulimit -n ${needed})`,
    );
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const stack = await Stack.start({ publishers: ['redis', 'rabbitmq'], env: { SNAPSHOT_EVERY: '0', LOG_LEVEL: 'warn' } });
  stack.startPersister();
  try {
    const users: StackUser[] = [];
    for (let index = 0; index < USERS; index++)
      users.push(await stack.createUser(`ws-bench-${index}`, { KRW: '100000000000000', BTC: '100000' }));
    const extraEnv = Object.fromEntries(
      (process.env.BENCH_WS_ENV ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    );
    const wsEnv = {
      WS_MAX_CONNECTIONS: String(Math.max(20_000, needed)),
      WS_MAX_CONNECTIONS_PER_KEY: String(CONNECTIONS_PER_USER),
      WS_MAX_FRAMES_PER_SEC: '50',
      ...extraEnv,
    };
    const profileDir = process.env.BENCH_WS_PROFILE;
    let wsPort: number;
    if (profileDir) {
      // the same as stack.startWsServer, with --cpu-prof (written when the process exits)
      const { freePort } = await import('../core-child.ts');
      wsPort = await freePort();
      const handle = spawnTs(
        'ops/ws-server.ts',
        [],
        { ...stack.env, API_PORT: String(stack.port), WS_PORT: String(wsPort), WS_INSTANCE: `ws-${wsPort}`, ...wsEnv },
        ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`],
      );
      stack.wsServers.set(wsPort, handle);
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${wsPort}/health`).then(
            (response) => response.status === 200,
            () => false,
          ),
        30_000,
        'ws-server healthy',
      );
    } else {
      wsPort = await stack.startWsServer(undefined, wsEnv);
    }
    const wsPid = stack.wsServers.get(wsPort)!.child.pid!;
    const wsUrl = `ws://127.0.0.1:${wsPort}/ws`;
    for (const connections of CONNECTION_COUNTS) {
      const line = await runConnections(stack, wsUrl, wsPid, users, connections, wsEnv);
      console.log(JSON.stringify(line));
      const held =
        (line.execution_p99_ms as number) <= TARGETS.executionP99Ms &&
        (line.trade_p99_ms as number) <= TARGETS.tradeP99Ms &&
        line.book_checksum_failures === 0 &&
        line.dropped === 0;
      if (connections === Math.max(...CONNECTION_COUNTS))
        console.error(
          `targets at ${connections} connections (execution p99 ≤ ${TARGETS.executionP99Ms} ms, trade p99 ≤ ${TARGETS.tradeP99Ms} ms, 0 checksum failures, 0 dropped): ${held ? 'held' : 'NOT held'}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  } finally {
    await stack.stop();
  }
}

runThenExit(main);
