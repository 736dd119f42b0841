/**
 * An open-loop load generator for signed `POST /v1/order`: requests leave on a fixed timetable
 * (a late answer never delays the next send) over keep-alive HTTP/1.1 connections on raw sockets,
 * each signed before the clock starts. Latency counts from the scheduled send time (no coordinated
 * omission). It keeps each acknowledged order's id and ack time, for delivery latencies downstream.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

export interface LoadUser {
  readonly apiKey: string;
  readonly apiSecret: string;
}

export interface OpenLoopOptions {
  readonly url: string;
  readonly users: readonly LoadUser[];
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  /** the order body of request `sequence` (a JSON string) */
  readonly body: (sequence: number) => string;
}

export interface Ack {
  readonly orderId: string;
  /** Date.now() when the ack arrived (the clock the broker consumers stamp with) */
  readonly ackAt: number;
  readonly measured: boolean;
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
}

interface Pending {
  readonly scheduledAt: number;
  readonly measured: boolean;
}

class Connection {
  readonly #socket: net.Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #inFlight: Pending | undefined;
  constructor(
    host: string,
    port: number,
    private readonly onResponse: (pending: Pending, status: number, body: string, connection: Connection) => void,
    private readonly onClose: (pending: Pending | undefined) => void,
  ) {
    this.#socket = net.connect({ host, port, noDelay: true });
    this.#socket.on('data', (chunk) => this.#read(chunk));
    this.#socket.on('error', () => {});
    this.#socket.on('close', () => this.onClose(this.#inFlight));
  }

  send(request: Buffer, pending: Pending): void {
    this.#inFlight = pending;
    this.#socket.write(request);
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const headerEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = this.#buffer.toString('latin1', 0, headerEnd);
      const status = Number(head.slice(9, 12));
      const lengthMatch = /\r\ncontent-length: *(\d+)/i.exec(head);
      const total = headerEnd + 4 + (lengthMatch ? Number(lengthMatch[1]) : 0);
      if (this.#buffer.length < total) return;
      const body = this.#buffer.toString('utf8', headerEnd + 4, total);
      this.#buffer = this.#buffer.subarray(total);
      const pending = this.#inFlight;
      this.#inFlight = undefined;
      if (pending) this.onResponse(pending, status, body, this);
    }
  }
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { hostname, port } = new URL(options.url);
  const host = hostname === 'localhost' ? '127.0.0.1' : hostname;
  if (options.warmupSeconds + options.seconds > 50) throw new Error('warm-up + run must be ≤ 50 s (requests are signed before the run, inside the 60 s window)');
  const total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warmupCount = Math.round(options.rate * options.warmupSeconds);

  const timestamp = String(Date.now());
  const requests: Buffer[] = new Array(total);
  for (let sequence = 0; sequence < total; sequence++) {
    const user = options.users[sequence % options.users.length]!;
    const body = options.body(sequence);
    const signature = createHmac('sha256', user.apiSecret).update(`${timestamp}POST/v1/order${body}`).digest('hex');
    requests[sequence] = Buffer.from(
      `POST /v1/order HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-API-KEY: ${user.apiKey}\r\nX-TIMESTAMP: ${timestamp}\r\nX-SIGNATURE: ${signature}\r\n\r\n${body}`,
      'latin1',
    );
  }

  const latencies = new Float64Array(total - warmupCount);
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
  const dispatch = (connection: Connection) => {
    if (backlogHead < backlog.length) connection.send(requests[next++]!, backlog[backlogHead++]!);
    else idle.push(connection);
  };
  const onResponse = (pending: Pending, status: number, body: string, connection: Connection) => {
    const now = performance.now();
    completed++;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 200) {
      const orderId = /"order_id":"(\d+)"/.exec(body)?.[1];
      if (orderId) acks.push({ orderId, ackAt: Date.now(), measured: pending.measured });
    }
    if (pending.measured) {
      latencies[measuredCount++] = now - pending.scheduledAt;
      if (status === 200) ok++;
      else errors++;
    }
    if (completed === total) finish();
    dispatch(connection);
  };
  const onClose = (pending: Pending | undefined) => {
    if (!pending) return;
    completed++;
    if (pending.measured) errors++;
    if (completed === total) finish();
  };
  const connections = Array.from({ length: options.connections }, () => new Connection(host, Number(port), onResponse, onClose));
  await new Promise((resolve) => setTimeout(resolve, 200));
  idle.push(...connections);

  const startedAt = performance.now();
  const intervalMs = 1000 / options.rate;
  let scheduled = 0;
  let measuredFrom = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (scheduled < total && startedAt + scheduled * intervalMs <= now) {
        if (scheduled === warmupCount) measuredFrom = Date.now();
        const pending = { scheduledAt: startedAt + scheduled * intervalMs, measured: scheduled >= warmupCount };
        scheduled++;
        const connection = idle.pop();
        if (connection) connection.send(requests[next++]!, pending);
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
  for (const connection of connections) connection.close();
  return { latencies: latencies.subarray(0, measuredCount), acks, ok, errors: errors + (total - warmupCount - measuredCount), statuses, measuredFrom, measuredTo };
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
