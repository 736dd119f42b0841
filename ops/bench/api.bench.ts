/**
 * `npm run bench:api`: open-loop load of signed orders against a real core (durable journal on).
 *
 * Starts ops/core.ts as a child process on a temp DATA_DIR (or uses BENCH_URL + BENCH_ADMIN_TOKEN),
 * creates users and deposits through the admin API, then sends signed POST /v1/order at a constant
 * arrival rate over many keep-alive connections. Each request has a scheduled send time; latency is
 * measured from that time, so a stalled server or a busy client shows up as latency instead of
 * silently lowering the offered rate (no coordinated omission). The load generator is a minimal
 * HTTP/1.1 client on raw sockets (one request in flight per connection, like wrk): it costs far
 * less CPU than fetch or node:http, which matters on a 2-core machine shared with the server.
 * After the core, the same load goes to a bare node:http server answering a canned ack
 * (`baseline_trivial_http`, skipped with BENCH_BASELINE=0): the most any node:http server carries on
 * this machine with this generator, measured in the same run — the VM's speed moves absolute
 * figures a lot between machines.
 * Prints ONE JSON line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnCore, type CoreChild } from '../core-child.ts';
import { encodeSignedRequest, RawHttpConnection } from './raw-http.ts';

const RATE = Number(process.env.BENCH_RATE ?? 30_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 512);
const USERS = Number(process.env.BENCH_USERS ?? 16);
const ADMIN_TOKEN = process.env.BENCH_ADMIN_TOKEN ?? 'bench-admin-token-0123456789abcdef';

interface User {
  readonly userId: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

interface Pending {
  readonly scheduledAt: number;
  readonly measured: boolean;
}

/** body of the first non-200 answer, for BENCH_VERBOSE */
let firstErrorBody: string | undefined;

type Connection = RawHttpConnection<Pending>;

async function adminPost(url: string, route: string, body: unknown): Promise<Record<string, string>> {
  const response = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${route}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, string>;
}

async function serverCpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Offered load against `url` with these users; returns the measured figures. */
async function runLoad(url: string, users: readonly User[]): Promise<Record<string, unknown>> {
  const { hostname, port } = new URL(url);
  const total = Math.round(RATE * (WARMUP_SECONDS + SECONDS));
  const warmupCount = Math.round(RATE * WARMUP_SECONDS);
  const latencies = new Float64Array(total - warmupCount);
  let measuredDone = 0;
  let ok = 0;
  let errors = 0;
  let completed = 0;
  let lastMeasuredAt = 0;
  const statuses = new Map<number, number>();
  let answered = 0;
  /** worst latency per second of the measured window, by scheduled time (BENCH_VERBOSE=1 prints it) */
  const worstPerSecond: number[] = [];
  // FIFO of requests whose send time has come but that found no idle connection.
  const backlog: Pending[] = [];
  let backlogHead = 0;
  const idle: Connection[] = [];
  let counter = 0;
  const host = hostname === 'localhost' ? '127.0.0.1' : hostname;

  /**
   * Every request of the run, signed before the clock starts, in one buffer (`offsets[i]` …
   * `offsets[i + 1]`): the timestamp and a unique client_order_id make every signature unique, and
   * signing ahead keeps HMAC and string building out of the timed loop, as wrk sends prepared
   * requests. The whole run (warm-up included) lasts well inside the server's 60-second window.
   */
  const prepareRequests = (count: number): { readonly bytes: Buffer; readonly offsets: Float64Array } => {
    const parts: Buffer[] = [];
    const offsets = new Float64Array(count + 1);
    let size = 0;
    const timestamp = String(Date.now());
    for (let sequence = 0; sequence < count; sequence++) {
      const user = users[sequence % users.length]!;
      const side = sequence % 2 === 0 ? 'Buy' : 'Sell';
      // Buys slightly above sells around a fixed mid: most orders trade, the book stays shallow.
      const ticks = 50_000 + (side === 'Buy' ? 1 : -1) * (sequence % 5);
      const body = `{"symbol":"BTC-KRW","side":"${side}","order_type":"Limit","price":"${ticks}000","quantity":"0.01","client_order_id":"b${sequence}"}`;
      const request = encodeSignedRequest(
        host,
        port,
        { apiKey: user.apiKey, apiSecret: user.apiSecret, method: 'POST', path: '/v1/order', body },
        timestamp,
      );
      parts.push(request);
      offsets[sequence] = size;
      size += request.length;
    }
    offsets[count] = size;
    return { bytes: Buffer.concat(parts, size), offsets };
  };
  // Signed once, so the whole run must fit the server's 60-second timestamp window (with margin).
  if (WARMUP_SECONDS + SECONDS > 50)
    throw new Error('BENCH_WARMUP_SECONDS + BENCH_SECONDS must be ≤ 50 (requests are signed before the run)');
  const prepared = prepareRequests(total);
  const buildRequest = (): Buffer => {
    const sequence = counter++;
    return prepared.bytes.subarray(prepared.offsets[sequence]!, prepared.offsets[sequence + 1]!);
  };

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const dispatch = (connection: Connection) => {
    if (backlogHead < backlog.length) {
      const next = backlog[backlogHead]!;
      backlog[backlogHead++] = undefined as unknown as Pending;
      if (backlogHead > 65_536 && backlogHead * 2 > backlog.length) {
        backlog.splice(0, backlogHead);
        backlogHead = 0;
      }
      connection.send(buildRequest(), next);
    } else {
      idle.push(connection);
    }
  };
  const onResponse = (pending: Pending, status: number, body: Buffer, connection: Connection) => {
    const now = performance.now();
    if (status !== 200 && firstErrorBody === undefined) firstErrorBody = body.toString('utf8');
    completed++;
    answered++;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (pending.measured) {
      const latency = now - pending.scheduledAt;
      latencies[measuredDone++] = latency;
      const second = Math.floor((pending.scheduledAt - firstMeasuredAt) / 1000);
      worstPerSecond[second] = Math.max(worstPerSecond[second] ?? 0, latency);
      if (status === 200) ok++;
      else errors++;
      lastMeasuredAt = now;
    }
    if (completed === total) finish();
    dispatch(connection);
  };
  const onClose = (pending: Pending | undefined) => {
    if (pending) {
      completed++;
      if (pending.measured) errors++;
      if (completed === total) finish();
    }
  };
  const cpuBefore = await serverCpuSeconds(url);
  const clientCpuBefore = process.cpuUsage();
  const connections = Array.from({ length: CONNECTIONS }, () => new RawHttpConnection(host, Number(port), onResponse, onClose));
  await new Promise((resolve) => setTimeout(resolve, 200));
  idle.push(...connections);

  const startedAt = performance.now();
  const intervalMs = 1000 / RATE;
  let scheduled = 0;
  const firstMeasuredAt = startedAt + WARMUP_SECONDS * 1000;
  // Open loop: every millisecond, issue every request whose scheduled time has come.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (scheduled < total && startedAt + scheduled * intervalMs <= now) {
        const pending = { scheduledAt: startedAt + scheduled * intervalMs, measured: scheduled >= warmupCount };
        scheduled++;
        const connection = idle.pop();
        if (connection) connection.send(buildRequest(), pending);
        else backlog.push(pending);
      }
      // Sleep between ticks (~1 ms timer granularity) rather than spin on setImmediate: a spinning
      // generator burns a whole core that the server on this 2-core machine needs. A request
      // waits at most one tick before it is written, and that wait counts in its latency.
      if (scheduled >= total) resolve();
      else setTimeout(tick, 0);
    };
    tick();
  });
  const deadline = setTimeout(finish, 30_000);
  await finished;
  clearTimeout(deadline);
  for (const connection of connections) connection.close();

  // One final scrape for every server figure: prom-client resets its event-loop lag histogram on each
  // scrape, so a second scrape right after the first would report a lag of ~0.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const serverCpu = Number(/^process_cpu_seconds_total (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const measuredSeconds = (Math.max(lastMeasuredAt, firstMeasuredAt + SECONDS * 1000) - firstMeasuredAt) / 1000;
  const sorted = latencies.subarray(0, measuredDone).sort();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
  const labelled = (name: string, label: string) =>
    Number(new RegExp(`^${name}\\{${label}\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
  const fsyncBatches = metric('xtrader_journal_batch_write_fsync_seconds_count');
  const round = (value: number, digits = 2) => Number(value.toFixed(digits));
  const result = {
    offered_per_sec: RATE,
    orders_per_sec: Math.round(ok / measuredSeconds),
    ack_p50_ms: round(percentile(sorted, 0.5)),
    ack_p99_ms: round(percentile(sorted, 0.99)),
    ack_p999_ms: round(percentile(sorted, 0.999)),
    errors: errors + (total - warmupCount - measuredDone - 0),
    fsync_ms_per_batch: round((metric('xtrader_journal_batch_write_fsync_seconds_sum') * 1000) / fsyncBatches, 3),
    commands_per_batch: round(metric('xtrader_journal_batch_commands_sum') / fsyncBatches, 1),
    // where the tail comes from: the core's garbage-collection time and event-loop delay (prom-client defaults)
    server_gc_major_ms: round(labelled('nodejs_gc_duration_seconds_sum', 'kind="major"') * 1000, 1),
    server_gc_minor_ms: round(labelled('nodejs_gc_duration_seconds_sum', 'kind="minor"') * 1000, 1),
    server_eventloop_lag_max_ms: round(metric('nodejs_eventloop_lag_max_seconds') * 1000, 1),
    // CPU per answered request (a request still unanswered at the end cost little so far)
    server_cpu_us_per_order: round((serverCpu * 1e6) / Math.max(1, answered), 1),
    client_cpu_us_per_order: round((clientCpu.user + clientCpu.system) / Math.max(1, answered), 1),
    server_cpu_cores: round(serverCpu / ((performance.now() - startedAt) / 1000), 2),
    seconds: SECONDS,
    connections: CONNECTIONS,
    statuses: Object.fromEntries(statuses),
  };
  if (process.env.BENCH_VERBOSE === '1') {
    console.error(`worst ack ms per second: ${worstPerSecond.map((value) => value.toFixed(1)).join(' ')}`);
    if (firstErrorBody !== undefined) console.error(`first error answer: ${firstErrorBody}`);
  }
  return result;
}

/** The denominator: a bare node:http server answering a canned ack, same load generator, same rate. */
const TRIVIAL_SERVER = `
const http = require('node:http');
const ack = '{"order_id":"1","status":"ACCEPTED","message":"order accepted","order_status":"Pending"}';
const server = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const body = request.url === '/metrics' ? 'process_cpu_seconds_total ' + (process.cpuUsage().user + process.cpuUsage().system) / 1e6 + '\\n' : ack;
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    response.end(body);
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function trivialBaseline(): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['-e', TRIVIAL_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    const fake = { userId: '1', apiKey: 'k', apiSecret: 's' };
    return await runLoad(`http://127.0.0.1:${port}`, [fake]);
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  let core: CoreChild | undefined;
  let dataDir: string | undefined;
  let url = process.env.BENCH_URL;
  if (!url) {
    dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_PARENT ?? os.tmpdir(), 'xtrader-bench-'));
    core = await spawnCore({
      dataDir,
      nodeArgs: process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [],
      env: {
        ADMIN_TOKEN,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_ORDERS_PER_SEC: '10000000',
        // every bench connection comes from one address
        HTTP_MAX_CONNECTIONS_PER_CLIENT: '0',
        RATE_LIMIT_REQUESTS_PER_MIN: '1000000000',
        ...(process.env.BENCH_CORE_ENV ? (JSON.parse(process.env.BENCH_CORE_ENV) as Record<string, string>) : {}),
      },
    });
    url = core.url;
  }
  try {
    const users: User[] = [];
    for (let index = 0; index < USERS; index++) {
      const created = await adminPost(url, '/admin/users', { name: `bench-${index}` });
      const user = { userId: created.user_id!, apiKey: created.api_key!, apiSecret: created.api_secret! };
      await adminPost(url, '/admin/deposits', { user_id: Number(user.userId), asset: 'KRW', amount: '1000000000000' });
      await adminPost(url, '/admin/deposits', { user_id: Number(user.userId), asset: 'BTC', amount: '100000' });
      users.push(user);
    }
    const result = await runLoad(url, users);
    await core?.stop();
    core = undefined;
    if (process.env.BENCH_BASELINE !== '0') {
      const baseline = await trivialBaseline();
      Object.assign(result, {
        baseline_trivial_http: {
          orders_per_sec: baseline.orders_per_sec,
          ack_p50_ms: baseline.ack_p50_ms,
          ack_p99_ms: baseline.ack_p99_ms,
          server_cpu_us_per_order: baseline.server_cpu_us_per_order,
          server_cpu_cores: baseline.server_cpu_cores,
        },
      });
    }
    console.log(JSON.stringify(result));
  } finally {
    await core?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
