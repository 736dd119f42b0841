/**
 * A child process of `npm run bench:ws` holding a share of its WebSocket clients (the load
 * generator's sockets cost CPU too: spread over processes, the parent's order timetable stays on
 * time). Driven over IPC: `connect` → `ready`, `measure` / `stop` bound the measured window,
 * `report` → counts and arrival times, `close`.
 *
 * Three kinds of client, all subscribed to `trades.{SYMBOL}` and `orderbook.{SYMBOL}`:
 * - verifying (a sample): every frame parsed, the book rebuilt from snapshot + deltas and each
 *   checksum checked with zlib's CRC-32 (ops/testing/ws-client.ts), every trade timed
 *   (now − its `timestamp`);
 * - counting (the rest): no JSON parse — book frames checked for `prev_symbol_seq` = the seq held,
 *   trade frames for gap-free `trade_id`s (first id = last one seen + 1), read from the bytes;
 * - authenticated ones also on `executions`: each `New` report's arrival time, by order id.
 */
import WebSocket from 'ws';
import { applyLevelChanges, checksumOf, signWsAuth } from '../testing/ws-client.ts';

export interface ClientSpec {
  readonly index: number;
  readonly verify: boolean;
  /** set for a client that authenticates and subscribes to `executions` */
  readonly credentials?: { readonly apiKey: string; readonly apiSecret: string; readonly userId: string };
}

export type ParentMessage =
  | {
      readonly type: 'connect';
      readonly url: string;
      readonly symbol: string;
      readonly clients: readonly ClientSpec[];
      readonly concurrency: number;
    }
  | { readonly type: 'measure' }
  | { readonly type: 'stop' }
  | { readonly type: 'report' }
  | { readonly type: 'close' };

export interface ClientsReport {
  readonly type: 'report';
  /** frames received inside the measured window */
  readonly framesInWindow: number;
  readonly framesTotal: number;
  readonly bytesInWindow: number;
  readonly checksumFailures: number;
  readonly verifiedBookUpdates: number;
  /** book deltas whose prev_symbol_seq was not the seq held (frames missed) */
  readonly bookGaps: number;
  /** trade ids skipped between consecutive Trades frames, summed over clients */
  readonly tradesMissed: number;
  /** close codes the server sent (or socket ends we did not ask for), by code */
  readonly serverCloses: Record<string, number>;
  /** ms from a trade's timestamp to its frame at a verifying client, measured window only */
  readonly tradeLatencies: number[];
  /** per authenticated client: user id and [order id, arrival ms] of each `New` report */
  readonly executions: Array<{ readonly userId: string; readonly arrivals: Array<[string, number]> }>;
}

const OPEN_TIMEOUT_MS = 30_000;

interface BookState {
  symbolSeq: number | undefined;
  bids: Map<string, string>;
  asks: Map<string, string>;
}

class LoadClient {
  readonly socket: WebSocket;
  readonly book: BookState = { symbolSeq: undefined, bids: new Map(), asks: new Map() };
  lastTradeId: number | undefined;
  readonly arrivals: Array<[string, number]> = [];
  #answers = new Map<number, (frame: Record<string, unknown>) => void>();
  #nextId = 1;
  closingByUs = false;

  constructor(
    url: string,
    readonly spec: ClientSpec,
    readonly stats: Stats,
  ) {
    this.socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket.on('error', () => {});
    this.socket.on('close', (code) => {
      if (!this.closingByUs) stats.serverCloses[String(code)] = (stats.serverCloses[String(code)] ?? 0) + 1;
    });
    this.socket.on('message', (data: Buffer) => this.#onFrame(data));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('open timed out')), OPEN_TIMEOUT_MS);
      this.socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${String(frame.op)}`)), OPEN_TIMEOUT_MS);
      this.#answers.set(id, (answer) => {
        clearTimeout(timer);
        if (answer.type === 'error') reject(new Error(`${String(frame.op)}: ${String(answer.code)} ${String(answer.message)}`));
        else resolve(answer);
      });
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  #onFrame(data: Buffer): void {
    const stats = this.stats;
    const now = Date.now();
    stats.framesTotal++;
    if (stats.measuring) {
      stats.framesInWindow++;
      stats.bytesInWindow += data.length;
    }
    // every frame's `type` is within its first bytes ({"type":… or {"v":1,"type":…)
    const head = data.toString('latin1', 0, Math.min(data.length, 120));
    if (head.startsWith('{"type":"OrderBook"')) {
      if (this.spec.verify) this.#verifyBook(JSON.parse(data.toString()) as Record<string, unknown>);
      else this.#countBook(head);
    } else if (head.startsWith('{"type":"Trades"')) {
      if (this.spec.verify)
        this.#verifyTrades(JSON.parse(data.toString()) as { trades: Array<{ trade_id: string; timestamp: number }> }, now);
      else this.#countTrades(data);
    } else if (head.includes('"type":"Execution"')) {
      const frame = JSON.parse(data.toString()) as { execution_report: { exec_type: string; order_id: string } };
      if (frame.execution_report.exec_type === 'New') this.arrivals.push([frame.execution_report.order_id, now]);
    } else {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      const answer = typeof frame.id === 'number' ? this.#answers.get(frame.id) : undefined;
      if (answer) {
        this.#answers.delete(frame.id as number);
        answer(frame);
      }
    }
  }

  #countBook(head: string): void {
    const seq = Number(/"symbol_seq":(\d+)/.exec(head)?.[1]);
    if (head.includes('"snapshot":true')) {
      this.book.symbolSeq = seq;
      return;
    }
    const previous = Number(/"prev_symbol_seq":(\d+)/.exec(head)?.[1]);
    if (this.book.symbolSeq !== undefined && previous !== this.book.symbolSeq) this.stats.bookGaps++;
    this.book.symbolSeq = seq;
  }

  #verifyBook(frame: Record<string, unknown>): void {
    const book = this.book;
    const levels = (side: unknown) => side as [string, string][];
    if (frame.snapshot === true) {
      book.bids = new Map(levels(frame.bids));
      book.asks = new Map(levels(frame.asks));
    } else {
      if (book.symbolSeq !== undefined && frame.prev_symbol_seq !== book.symbolSeq) this.stats.bookGaps++;
      applyLevelChanges(book, frame);
    }
    book.symbolSeq = frame.symbol_seq as number;
    this.stats.verifiedBookUpdates++;
    if (checksumOf(book.bids, book.asks) !== frame.checksum) this.stats.checksumFailures++;
  }

  #verifyTrades(frame: { trades: Array<{ trade_id: string; timestamp: number }> }, now: number): void {
    for (const trade of frame.trades) {
      const id = Number(trade.trade_id);
      if (this.lastTradeId !== undefined && id !== this.lastTradeId + 1) this.stats.tradesMissed += Math.max(0, id - this.lastTradeId - 1);
      this.lastTradeId = id;
      if (this.stats.measuring) this.stats.tradeLatencies.push(now - trade.timestamp);
    }
  }

  /** the frame's trades are consecutive ids: only the first and the last are read */
  #countTrades(data: Buffer): void {
    const first = tradeIdAt(data, data.indexOf(TRADE_ID));
    const last = tradeIdAt(data, data.lastIndexOf(TRADE_ID));
    if (this.lastTradeId !== undefined && first !== this.lastTradeId + 1)
      this.stats.tradesMissed += Math.max(0, first - this.lastTradeId - 1);
    this.lastTradeId = last;
  }
}

const TRADE_ID = Buffer.from('"trade_id":"');

function tradeIdAt(data: Buffer, at: number): number {
  let value = 0;
  for (let index = at + TRADE_ID.length; index < data.length; index++) {
    const digit = data[index]! - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

interface Stats {
  measuring: boolean;
  framesInWindow: number;
  framesTotal: number;
  bytesInWindow: number;
  checksumFailures: number;
  verifiedBookUpdates: number;
  bookGaps: number;
  tradesMissed: number;
  serverCloses: Record<string, number>;
  tradeLatencies: number[];
}

const stats: Stats = {
  measuring: false,
  framesInWindow: 0,
  framesTotal: 0,
  bytesInWindow: 0,
  checksumFailures: 0,
  verifiedBookUpdates: 0,
  bookGaps: 0,
  tradesMissed: 0,
  serverCloses: {},
  tradeLatencies: [],
};
const clients: LoadClient[] = [];

async function connectAll(url: string, symbol: string, specs: readonly ClientSpec[], concurrency: number): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const one = async (spec: ClientSpec) => {
    const client = new LoadClient(url, spec, stats);
    clients.push(client);
    await client.opened();
    const channels = [`trades.${symbol}`, `orderbook.${symbol}`];
    if (spec.credentials) {
      // STORE_UNAVAILABLE says "retry shortly" (a cold credential cache under 100 concurrent auths): a client retries
      for (let attempt = 1; ; attempt++) {
        const timestamp = freshTimestamp(spec.credentials.apiKey);
        const signature = signWsAuth(spec.credentials, timestamp);
        try {
          await client.request({ op: 'auth', api_key: spec.credentials.apiKey, timestamp, signature });
          break;
        } catch (error) {
          if (attempt >= 5 || !String(error).includes('STORE_UNAVAILABLE')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
      channels.push('executions');
    }
    await client.request({ op: 'subscribe', channels });
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < specs.length) {
        const spec = specs[next++]!;
        await one(spec).catch((error: unknown) => failures.push(`client ${spec.index}: ${String(error)}`));
      }
    }),
  );
  return failures;
}

/** the server refuses a signature it has seen (replays): each auth of a key gets a timestamp of its own (a key's connections all live in one process) */
const usedTimestamps = new Map<string, Set<number>>();
function freshTimestamp(apiKey: string): number {
  let used = usedTimestamps.get(apiKey);
  if (!used) usedTimestamps.set(apiKey, (used = new Set()));
  let timestamp = Date.now();
  while (used.has(timestamp)) timestamp--;
  used.add(timestamp);
  return timestamp;
}

const reply = (message: unknown) => process.send!(message);

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'connect':
      void connectAll(message.url, message.symbol, message.clients, message.concurrency).then((failures) =>
        reply({ type: 'ready', failures: failures.slice(0, 20), failed: failures.length }),
      );
      return;
    case 'measure':
      stats.measuring = true;
      reply({ type: 'measuring' });
      return;
    case 'stop':
      stats.measuring = false;
      reply({ type: 'stopped' });
      return;
    case 'report': {
      const { measuring: _measuring, ...counts } = stats;
      const report: ClientsReport = {
        type: 'report',
        ...counts,
        executions: clients
          .filter((client) => client.spec.credentials)
          .map((client) => ({ userId: client.spec.credentials!.userId, arrivals: client.arrivals })),
      };
      reply(report);
      return;
    }
    case 'close':
      for (const client of clients) {
        client.closingByUs = true;
        client.socket.terminate();
      }
      setTimeout(() => process.exit(0), 100);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
