/**
 * bench:e2e's listeners, in a process of their own (forked by ops/bench/e2e.bench.ts) so their CPU is
 * not the load generator's and their event loop does not delay its sends: one WebSocket client per
 * bench user (its own executions, users spread over the ws-servers; a dropped connection comes
 * back with `resume_from_seq`, as a real client would), a Kafka consumer on `executions` and a
 * PostgreSQL poller on `executions`. Every arrival is stamped with monotonicMs() — CLOCK_MONOTONIC,
 * the same clock the generator stamps its acks with.
 *
 * Per feed it keeps the first arrival of each seq, counts redeliveries (a seq again: dropped, as
 * consumers must) and duplicates after that dedupe (one execution — order, exec type, trade — under
 * two seqs). IPC: `start` → `ready`; `await` (expected reports) → `awaited`; `dump` → `dumped`
 * (the arrivals since the last dump, written to a file as float64 quads).
 */
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { KafkaCollector } from '../testing/broker-consumers.ts';
import { WsTestClient, type Frame } from '../testing/ws-client.ts';
import { monotonicMs } from './open-loop.ts';
import { PostgresPoller } from './postgres-poller.ts';

export const FEEDS = ['push', 'kafka', 'persist'] as const;
export type Feed = (typeof FEEDS)[number];
/** exec types as numbers in the dump */
export const EXEC_TYPES = ['New', 'Trade', 'Cancelled', 'Expired', 'Rejected', 'Triggered', 'Amended'] as const;

export interface ObserverUser {
  readonly userId: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

export type ObserverRequest =
  | {
      type: 'start';
      users: ObserverUser[];
      wsPorts: number[];
      kafkaBrokers: string[];
      executionsTopic: string;
      kafkaGroup: string;
      databaseUrl: string;
    }
  /** wait until every feed has the `New` of each `news` order and the `Cancelled` of each `cancels` order, and agrees on the seqs */
  | { type: 'await'; news: string[]; cancels: string[]; timeoutMs: number }
  | { type: 'dump'; file: string }
  | { type: 'stop' };

export interface FeedCounters {
  readonly redelivered: number;
  readonly duplicatesAfterDedupe: number;
  /** seqs some other feed has and this one does not (after the wait) */
  readonly missingSeqs: number;
  /** orders of those missing seqs */
  readonly missingOrders: string[];
  /** expected New / Cancelled reports not there */
  readonly missingExpected: string[];
}

export type ObserverReply =
  | { type: 'ready' }
  | {
      type: 'awaited';
      waitedMs: number;
      feeds: Record<Feed, FeedCounters>;
      wsReconnects: number;
      wsEvents: string[];
      kafkaLifecycle: string[];
    }
  | { type: 'dumped'; counts: Record<Feed, number> }
  | { type: 'error'; message: string };

interface Arrival {
  readonly seq: number;
  readonly orderId: number;
  readonly execType: number;
  readonly at: number;
}

class FeedState {
  /** first arrival per seq */
  readonly bySeq = new Map<number, Arrival>();
  /** execution key → seq */
  readonly byKey = new Map<string, number>();
  /** order id → first New / Cancelled arrival */
  readonly news = new Set<string>();
  readonly cancels = new Set<string>();
  redelivered = 0;
  duplicatesAfterDedupe = 0;
  pending: Arrival[] = [];

  record(seq: number, orderId: string, execType: string, tradeId: string | null, at: number): void {
    if (this.bySeq.has(seq)) {
      this.redelivered++;
      return;
    }
    const arrival = { seq, orderId: Number(orderId), execType: EXEC_TYPES.indexOf(execType as (typeof EXEC_TYPES)[number]), at };
    this.bySeq.set(seq, arrival);
    this.pending.push(arrival);
    const key = `${orderId}:${execType}:${tradeId ?? ''}`;
    if (this.byKey.has(key)) this.duplicatesAfterDedupe++;
    else this.byKey.set(key, seq);
    if (execType === 'New') this.news.add(orderId);
    else if (execType === 'Cancelled') this.cancels.add(orderId);
  }
}

const feeds: Record<Feed, FeedState> = { push: new FeedState(), kafka: new FeedState(), persist: new FeedState() };
const sockets: WsTestClient[] = [];
let kafka: KafkaCollector | undefined;
let kafkaTaken = 0;
let poller: PostgresPoller | undefined;
let pool: pg.Pool | undefined;
let wsReconnects = 0;
/** WebSocket closes and failed (re)connects, for the report */
const wsEvents: string[] = [];
let stopping = false;

function reply(message: ObserverReply): void {
  process.send!(message);
}

function takeExecution(feed: FeedState, frame: Frame | Record<string, unknown>, at: number): void {
  if (frame.type !== 'Execution') return;
  const report = frame.execution_report as { order_id: string; exec_type: string; trade_id: string | null };
  feed.record(frame.seq as number, report.order_id, report.exec_type, report.trade_id, at);
}

/** each user's last execution seq seen (a reconnect resumes after it) */
const lastSeqOf = new Map<string, number>();

async function connectUser(user: ObserverUser, port: number): Promise<void> {
  const client = new WsTestClient(`ws://127.0.0.1:${port}/ws`, { keep: false });
  client.onFrame = (frame) => {
    if (frame.type !== 'Execution') return;
    takeExecution(feeds.push, frame, monotonicMs());
    lastSeqOf.set(user.userId, Math.max(lastSeqOf.get(user.userId) ?? 0, frame.seq as number));
    client.frames.length = 0; // the arrivals are kept in the feed; the frame list would only grow
  };
  try {
    await client.opened();
    const auth = await client.auth(user);
    if (auth.ok !== true) throw new Error(`ws auth: ${JSON.stringify(auth)}`);
    const from = lastSeqOf.get(user.userId);
    const subscribed = await client.request({
      op: 'subscribe',
      channels: ['executions'],
      ...(from !== undefined ? { resume_from_seq: from } : {}),
    });
    if (subscribed.type !== 'subscribed') throw new Error(`ws subscribe: ${JSON.stringify(subscribed)}`);
  } catch (error) {
    client.close();
    wsEvents.push(`${new Date().toISOString().slice(11, 23)} user ${user.userId}: ${String(error).slice(0, 200)}`);
    throw error;
  }
  sockets.push(client);
  void client.closed().then(async (code) => {
    wsEvents.push(`${new Date().toISOString().slice(11, 23)} user ${user.userId}: closed ${code}`);
    sockets.splice(sockets.indexOf(client), 1);
    // a real client comes back and asks for what it missed
    while (!stopping) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      try {
        await connectUser(user, port);
        wsReconnects++;
        return;
      } catch {
        // the server is not answering yet
      }
    }
  });
}

async function start(request: Extract<ObserverRequest, { type: 'start' }>): Promise<void> {
  await Promise.all(request.users.map((user, index) => connectUser(user, request.wsPorts[index % request.wsPorts.length]!)));
  kafka = new KafkaCollector(request.kafkaBrokers, request.kafkaGroup, {
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 10_000,
  });
  kafka.clock = monotonicMs;
  await kafka.start([request.executionsTopic]);
  pool = new pg.Pool({ connectionString: request.databaseUrl, max: 2 });
  poller = new PostgresPoller(pool, { execTypes: EXEC_TYPES, clock: monotonicMs, keepRows: true });
  drain();
}

/** moves new Kafka envelopes and PostgreSQL rows into their feeds (every 20 ms) */
function drain(): void {
  if (kafka) {
    const received = kafka.received;
    for (; kafkaTaken < received.length; kafkaTaken++) {
      const { envelope, at } = received[kafkaTaken]!;
      takeExecution(feeds.kafka, envelope as unknown as Record<string, unknown>, at);
    }
    if (kafkaTaken > 100_000) {
      received.splice(0, kafkaTaken);
      kafkaTaken = 0;
    }
  }
  if (poller) {
    for (const row of poller.takeRows()) feeds.persist.record(row.seq, row.orderId, row.execType, row.tradeId, row.at);
  }
  if (!stopping) setTimeout(drain, 20);
}

function counters(expect: { news: string[]; cancels: string[] }): { complete: boolean; feeds: Record<Feed, FeedCounters> } {
  const union = new Map<number, number>();
  for (const feed of FEEDS) for (const [seq, arrival] of feeds[feed].bySeq) union.set(seq, arrival.orderId);
  let complete = true;
  const result = {} as Record<Feed, FeedCounters>;
  for (const name of FEEDS) {
    const feed = feeds[name];
    const missingOrders = new Set<string>();
    let missingSeqs = 0;
    for (const [seq, orderId] of union) {
      if (!feed.bySeq.has(seq)) {
        missingSeqs++;
        missingOrders.add(String(orderId));
      }
    }
    const missingExpected = [...expect.news.filter((id) => !feed.news.has(id)), ...expect.cancels.filter((id) => !feed.cancels.has(id))];
    if (missingSeqs > 0 || missingExpected.length > 0) complete = false;
    result[name] = {
      redelivered: feed.redelivered,
      duplicatesAfterDedupe: feed.duplicatesAfterDedupe,
      missingSeqs,
      missingOrders: [...missingOrders].slice(0, 1_000),
      missingExpected: missingExpected.slice(0, 1_000),
    };
  }
  return { complete, feeds: result };
}

async function awaitExpected(request: Extract<ObserverRequest, { type: 'await' }>): Promise<ObserverReply> {
  const started = Date.now();
  for (;;) {
    const state = counters(request);
    if (state.complete || Date.now() - started > request.timeoutMs) {
      if (!state.complete && poller) {
        // look the stragglers up by id before calling them lost
        await poller.sweep([...new Set([...state.feeds.persist.missingExpected, ...state.feeds.persist.missingOrders])]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const final = state.complete ? state : counters(request);
      return {
        type: 'awaited',
        waitedMs: Date.now() - started,
        feeds: final.feeds,
        wsReconnects,
        wsEvents: wsEvents.slice(-20),
        kafkaLifecycle: (kafka?.lifecycle ?? []).map((entry) => entry.event),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function dump(file: string): Promise<ObserverReply> {
  // one file: per feed a count, then its arrivals as [seq, orderId, execType, at] float64 quads
  const parts: Buffer[] = [];
  const counts = {} as Record<Feed, number>;
  for (const name of FEEDS) {
    const arrivals = feeds[name].pending;
    feeds[name].pending = [];
    counts[name] = arrivals.length;
    const values = new Float64Array(arrivals.length * 4);
    arrivals.forEach((arrival, index) => values.set([arrival.seq, arrival.orderId, arrival.execType, arrival.at], index * 4));
    parts.push(Buffer.from(values.buffer));
  }
  await writeFile(file, Buffer.concat(parts));
  return { type: 'dumped', counts };
}

async function stop(): Promise<void> {
  stopping = true;
  for (const client of [...sockets]) client.close();
  await kafka?.close();
  await poller?.stop();
  await pool?.end();
}

process.on('message', (message: ObserverRequest) => {
  const handle = async (): Promise<ObserverReply | undefined> => {
    if (message.type === 'start') {
      await start(message);
      return { type: 'ready' };
    }
    if (message.type === 'await') return awaitExpected(message);
    if (message.type === 'dump') return dump(message.file);
    await stop();
    process.exit(0);
  };
  handle().then(
    (answer) => answer && reply(answer),
    (error: unknown) => reply({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
// the parent went away (Ctrl-C, a crash): leave nothing behind
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
process.on('SIGINT', () => {});
