/**
 * An open-loop load generator for signed `POST /v1/order`: requests leave on a fixed timetable
 * (a late answer never delays the next send) over keep-alive HTTP/1.1 connections on raw sockets,
 * each signed before the clock starts — or, with `build`, built and signed when it leaves (a cancel of
 * an order acknowledged meanwhile; no 60 s signature window to fit). Latency counts from the
 * scheduled send time (no coordinated omission). It keeps each acknowledged order's id and ack time,
 * for delivery latencies downstream.
 */
import fs from 'node:fs';
import { encodeSignedRequest, RawHttpConnection } from './raw-http.ts';

export interface LoadUser {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** A request built at send time (signed then, with a fresh timestamp). */
export interface LoadRequest {
  readonly user: LoadUser;
  readonly method: 'POST' | 'DELETE';
  /** path with query, e.g. `/v1/order` or `/v1/order/42` */
  readonly path: string;
  /** JSON body, '' for none */
  readonly body: string;
}

/**
 * ms on CLOCK_MONOTONIC (process.hrtime): one clock for every process on this machine, so a
 * consumer in another process can stamp arrivals against the generator's acks (Date.now() is
 * whole ms; performance.timeOrigin differs between processes by up to ~1 ms).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * A signed-order body for the fan-out benches: buys slightly above sells around a fixed mid, so
 * about half the orders trade and the rest rest. `client_order_id` is `<prefix><sequence>x<pid>`.
 */
export function crossingOrderBody(sequence: number, symbol: string, clientOrderIdPrefix: string): string {
  const side = sequence % 2 === 0 ? 'Buy' : 'Sell';
  const ticks = 50_000 + (side === 'Buy' ? 1 : -1) * ((sequence * 7) % 11) - (side === 'Buy' ? 3 : -3);
  return `{"symbol":"${symbol}","side":"${side}","order_type":"Limit","price":"${ticks}000","quantity":"0.001","client_order_id":"${clientOrderIdPrefix}${sequence}x${process.pid}"}`;
}

export interface OpenLoopOptions {
  readonly url: string;
  readonly users: readonly LoadUser[];
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  /** the order body of request `sequence` (a JSON string), signed before the clock starts */
  readonly body?: (sequence: number) => string;
  /** instead of `body`: request `sequence`, built when a connection takes it */
  readonly build?: (sequence: number) => LoadRequest;
  /** ends the run early (no more sends; answers still awaited) */
  readonly signal?: AbortSignal;
  /** called with each ack as it arrives (e.g. to cancel that order later through `build`) */
  readonly onAck?: (ack: Ack) => void;
}

export interface Ack {
  readonly orderId: string;
  /** Date.now() when the ack arrived (the clock the broker consumers stamp with) */
  readonly ackAt: number;
  readonly measured: boolean;
  /** the request's index in the timetable */
  readonly sequence: number;
  /** monotonicMs() of the scheduled send and of the ack */
  readonly scheduledAtMonotonic: number;
  readonly ackAtMonotonic: number;
}

export interface OpenLoopResult {
  /** ms from scheduled send to answer, measured window only */
  readonly latencies: Float64Array;
  readonly acks: Ack[];
  readonly ok: number;
  readonly errors: number;
  readonly statuses: Record<number, number>;
  /** Date.now() at the start and end of the measured window */
  readonly measuredFrom: number;
  readonly measuredTo: number;
  /** every answer other than 200 and every dropped connection: [monotonicMs() of the scheduled send, status (0 = no answer)] */
  readonly failures: Array<[number, number]>;
  /** requests scheduled (fewer than rate × time when `signal` ended the run) */
  readonly scheduled: number;
  /** connections the server closed, replaced by new ones */
  readonly reconnects: number;
}

interface Pending {
  readonly scheduledAt: number;
  readonly measured: boolean;
  sequence: number;
}

type Connection = RawHttpConnection<Pending>;

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { hostname, port } = new URL(options.url);
  const host = hostname === 'localhost' ? '127.0.0.1' : hostname;
  if (!options.build && options.warmupSeconds + options.seconds > 50)
    throw new Error('warm-up + run must be ≤ 50 s (requests are signed before the run, inside the 60 s window)');
  let total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warmupCount = Math.round(options.rate * options.warmupSeconds);
  const { build, body } = options;
  if (!build && !body) throw new Error('runOpenLoop needs body or build');

  const encode = (request: LoadRequest, timestamp: string) =>
    encodeSignedRequest(
      host,
      port,
      { apiKey: request.user.apiKey, apiSecret: request.user.apiSecret, method: request.method, path: request.path, body: request.body },
      timestamp,
    );
  const timestamp = String(Date.now());
  const requests: Buffer[] = build ? [] : new Array(total);
  if (!build)
    for (let sequence = 0; sequence < total; sequence++)
      requests[sequence] = encode(
        { user: options.users[sequence % options.users.length]!, method: 'POST', path: '/v1/order', body: body!(sequence) },
        timestamp,
      );
  const requestOf = (sequence: number) => (build ? encode(build(sequence), String(Date.now())) : requests[sequence]!);
  const toMonotonic = monotonicMs() - performance.now();
  const failures: Array<[number, number]> = [];

  const latencies = new Float64Array(Math.max(0, total - warmupCount));
  let measuredCount = 0;
  const acks: Ack[] = [];
  const statuses: Record<number, number> = {};
  let ok = 0;
  let errors = 0;
  let completed = 0;
  let next = 0;
  const backlog: Pending[] = [];
  let backlogHead = 0;
  const idle: Connection[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const send = (connection: Connection, pending: Pending) => {
    pending.sequence = next;
    connection.send(requestOf(next++), pending);
  };
  const dispatch = (connection: Connection) => {
    if (backlogHead < backlog.length) send(connection, backlog[backlogHead++]!);
    else idle.push(connection);
  };
  const onResponse = (pending: Pending, status: number, body: Buffer, connection: Connection) => {
    const now = performance.now();
    completed++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 200) {
      const orderId = /"order_id":"(\d+)"/.exec(body.toString('utf8'))?.[1];
      if (orderId) {
        const ack = {
          orderId,
          ackAt: Date.now(),
          measured: pending.measured,
          sequence: pending.sequence,
          scheduledAtMonotonic: pending.scheduledAt + toMonotonic,
          ackAtMonotonic: now + toMonotonic,
        };
        acks.push(ack);
        options.onAck?.(ack);
      }
    } else failures.push([pending.scheduledAt + toMonotonic, status]);
    if (pending.measured) {
      latencies[measuredCount++] = now - pending.scheduledAt;
      if (status === 200) ok++;
      else errors++;
    }
    if (completed === total) finish();
    dispatch(connection);
  };
  let ended = false;
  let reconnects = 0;
  const onClose = (pending: Pending | undefined, connection: Connection) => {
    // a connection the server closed (its keep-alive timeout ends one left idle — the idle list is
    // LIFO — or a restart) must not be handed a request again: a fresh one takes its place
    const index = idle.indexOf(connection);
    if (index >= 0) idle.splice(index, 1);
    if (!ended) {
      reconnects++;
      const replacement = new RawHttpConnection(host, Number(port), onResponse, onClose);
      connections.push(replacement);
      dispatch(replacement);
    }
    if (!pending) return;
    completed++;
    failures.push([pending.scheduledAt + toMonotonic, 0]);
    if (pending.measured) errors++;
    if (completed === total) finish();
  };
  const connections: Connection[] = Array.from(
    { length: options.connections },
    () => new RawHttpConnection(host, Number(port), onResponse, onClose),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  idle.push(...connections);

  const startedAt = performance.now();
  const intervalMs = 1000 / options.rate;
  let scheduled = 0;
  let measuredFrom = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (options.signal?.aborted && scheduled < total) {
        total = scheduled;
        if (completed === total) finish();
      }
      while (scheduled < total && startedAt + scheduled * intervalMs <= now) {
        if (scheduled === warmupCount) measuredFrom = Date.now();
        const pending = { scheduledAt: startedAt + scheduled * intervalMs, measured: scheduled >= warmupCount, sequence: -1 };
        scheduled++;
        const connection = idle.pop();
        if (connection) send(connection, pending);
        else backlog.push(pending);
      }
      // sleep between ticks (~1 ms) instead of spinning: the server needs the other core
      if (scheduled >= total) resolve();
      else setTimeout(tick, 0);
    };
    tick();
  });
  const measuredTo = Date.now();
  const deadline = setTimeout(finish, 30_000);
  await finished;
  clearTimeout(deadline);
  ended = true;
  for (const connection of connections) connection.close();
  return {
    latencies: latencies.subarray(0, measuredCount),
    acks,
    ok,
    errors: errors + Math.max(0, total - warmupCount - measuredCount),
    statuses,
    measuredFrom,
    measuredTo,
    failures,
    scheduled,
    reconnects,
  };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const fields = readStat(pid);
  if (!fields) return Number.NaN;
  // fields after the ")" of comm: utime is field 14, stime 15 (1-based) → indexes 11, 12 here
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const CLOCK_TICKS = 100;

function readStat(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
