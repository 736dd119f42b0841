/**
 * A plain WebSocket client for tests and benches, written from ARCHITECTURE.md "WebSocket" alone:
 * signs `auth` (hex HMAC-SHA256(secret, timestamp + "GET" + "/ws")), keeps every frame it gets,
 * rebuilds order books from snapshot + deltas and verifies each checksum with zlib's CRC-32
 * (not the server's code), and tells a gap (`prev_symbol_seq` ≠ the seq it holds).
 */
import { createHmac } from 'node:crypto';
import zlib from 'node:zlib';
import WebSocket from 'ws';

export interface ClientCredentials {
  readonly apiKey: string;
  readonly apiSecret: string;
}

export type Frame = Record<string, unknown> & { type: string };

interface ClientBook {
  symbolSeq: number;
  bids: Map<string, string>;
  asks: Map<string, string>;
}

const crc32 = (text: string): number => (zlib as unknown as { crc32(data: string): number }).crc32(text);

export function signWsAuth(credentials: ClientCredentials, timestamp: number): string {
  return createHmac('sha256', credentials.apiSecret).update(`${timestamp}GET/ws`).digest('hex');
}

/** numeric order of canonical decimal strings without floats */
function decimalKey(value: string): [number, string, string] {
  const [int = '', frac = ''] = value.split('.');
  return [int.length, int, frac];
}
function compare(a: string, b: string): number {
  const [la, ia, fa] = decimalKey(a);
  const [lb, ib, fb] = decimalKey(b);
  if (la !== lb) return la - lb;
  if (ia !== ib) return ia < ib ? -1 : 1;
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

export function sortedLevels(levels: Map<string, string>, side: 'bids' | 'asks'): [string, string][] {
  return [...levels.entries()].sort(([a], [b]) => (side === 'bids' ? compare(b, a) : compare(a, b)));
}

export function checksumOf(bids: Map<string, string>, asks: Map<string, string>): number {
  const text = (levels: [string, string][]) =>
    levels
      .slice(0, 10)
      .map(([price, quantity]) => `${price}:${quantity}`)
      .join('|');
  return crc32(`${text(sortedLevels(asks, 'asks'))}#${text(sortedLevels(bids, 'bids'))}`);
}

/** A book delta frame's level changes applied to `book` (quantity "0" removes the level). */
export function applyLevelChanges(book: { bids: Map<string, string>; asks: Map<string, string> }, frame: Record<string, unknown>): void {
  for (const side of ['bids', 'asks'] as const) {
    for (const [price, quantity] of frame[side] as [string, string][]) {
      if (quantity === '0') book[side].delete(price);
      else book[side].set(price, quantity);
    }
  }
}

export class WsTestClient {
  readonly frames: Frame[] = [];
  readonly books = new Map<string, ClientBook>();
  checksumFailures = 0;
  gaps = 0;
  bookUpdates = 0;
  closeCode: number | undefined;
  readonly socket: WebSocket;
  readonly #opened: Promise<void>;
  readonly #closed: Promise<number>;
  #nextId = 1;
  /** called with every frame after it is recorded */
  onFrame: ((frame: Frame) => void) | undefined;

  constructor(url: string, options: { readonly keep?: boolean } = {}) {
    this.socket = new WebSocket(url);
    const keep = options.keep ?? true;
    this.#opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.#closed = new Promise((resolve) => this.socket.once('close', (code) => resolve((this.closeCode = code))));
    this.socket.on('error', () => {});
    this.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (keep || frame.type !== 'OrderBook') this.frames.push(frame);
      if (frame.type === 'OrderBook') this.#book(frame);
      this.onFrame?.(frame);
    });
  }

  opened(): Promise<void> {
    return this.#opened;
  }

  closed(): Promise<number> {
    return this.#closed;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** sends a request with a fresh id and resolves with the answer carrying it */
  async request(frame: Record<string, unknown>, timeoutMs = 15_000): Promise<Frame> {
    const id = this.#nextId++;
    const from = this.frames.length;
    this.send({ ...frame, id });
    return this.waitFor((candidate) => candidate.id === id, timeoutMs, `answer to ${JSON.stringify(frame).slice(0, 80)}`, from);
  }

  async auth(credentials: ClientCredentials, timestamp = Date.now()): Promise<Frame> {
    return this.request({ op: 'auth', api_key: credentials.apiKey, timestamp, signature: signWsAuth(credentials, timestamp) });
  }

  /** resolves with the first frame (from index `from`) that matches */
  async waitFor(match: (frame: Frame) => boolean, timeoutMs = 15_000, what = 'a frame', from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    let index = from;
    for (;;) {
      for (; index < this.frames.length; index++) if (match(this.frames[index]!)) return this.frames[index]!;
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-3)).slice(0, 600)}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  executions(): Frame[] {
    return this.frames.filter((frame) => frame.type === 'Execution');
  }

  close(): void {
    this.socket.close();
  }

  #book(frame: Frame): void {
    const symbol = frame.symbol as string;
    const levels = (side: unknown) => side as [string, string][];
    if (frame.snapshot === true) {
      const book: ClientBook = {
        symbolSeq: frame.symbol_seq as number,
        bids: new Map(levels(frame.bids)),
        asks: new Map(levels(frame.asks)),
      };
      this.books.set(symbol, book);
    } else {
      const book = this.books.get(symbol);
      if (!book || frame.prev_symbol_seq !== book.symbolSeq) {
        this.gaps++;
        this.books.delete(symbol);
        return;
      }
      applyLevelChanges(book, frame);
      book.symbolSeq = frame.symbol_seq as number;
    }
    this.bookUpdates++;
    const book = this.books.get(symbol)!;
    if (checksumOf(book.bids, book.asks) !== frame.checksum) this.checksumFailures++;
  }
}
