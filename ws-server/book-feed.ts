/**
 * One symbol's book as the ws-server serves it: bootstrapped from the core's REST depth and kept
 * from the BookDelta stream, with the join made exact by `symbol_seq`.
 *
 * Joining snapshot and deltas without a gap or an overlap: the instance's RabbitMQ queue is bound
 * (and consuming) before the REST depth is asked for, so every delta the engine emits after the
 * depth's `symbol_seq` S reaches the queue. While bootstrapping, deltas are buffered; when the depth
 * arrives, deltas ≤ S are dropped (already in it), the rest must start at S + 1 and run on without
 * a hole. A delta whose `symbol_seq` is not the next one (a lost message, a re-created queue) starts
 * a new bootstrap; clients see nothing from the book until it is whole again, and then a fresh
 * snapshot. Deltas are merged per short window into one client frame (the level's final total).
 */
import { backoffDelay } from '../lib/backoff.ts';
import { bookChecksum, CHECKSUM_LEVELS } from '../contract/book-checksum.ts';
import { OrderBook, type BookSide } from './order-book.ts';

/** a failed bootstrap asks for the depth again after 100 ms, doubling up to 2 s */
const BOOTSTRAP_RETRY = { initialMs: 50, maxMs: 2_000, jitter: 'none', maxExponent: 6 } as const;

export interface DepthSnapshot {
  readonly symbol_seq: number;
  readonly bids: readonly (readonly [string, string])[];
  readonly asks: readonly (readonly [string, string])[];
}

export interface BookDelta {
  readonly symbol_seq: number;
  readonly side: BookSide;
  readonly price: string;
  readonly quantity: string;
}

/** The levels per side a snapshot frame carries (ARCHITECTURE.md: up to 500). */
export const SNAPSHOT_LEVELS = 500;
/** Deltas kept while bootstrapping; past it the buffer is dropped and the bootstrap starts again. */
export const MAX_BUFFERED_DELTAS = 200_000;

export type BookFeedState = 'bootstrapping' | 'live';

export interface BookFeedOutput {
  /** the book is whole again (first time, or after a gap): every subscriber gets a fresh snapshot */
  resynced(): void;
  /** a merged delta frame, serialized once */
  delta(frame: string): void;
  /** ask for the depth again after `delayMs` (the owner does the I/O) */
  requestDepth(delayMs: number): void;
}

export class BookFeed {
  readonly symbol: string;
  readonly book: OrderBook;
  state: BookFeedState = 'bootstrapping';
  gaps = 0;
  #buffer: BookDelta[] = [];
  #failedBootstraps = 0;
  /** changes since the last delta frame: `${side}|${price}` → quantity */
  #pending = new Map<string, BookDelta>();
  #pendingFrom = 0;
  #snapshotCache: { symbolSeq: number; frame: string } | undefined;
  readonly #output: BookFeedOutput;

  constructor(symbol: string, output: BookFeedOutput) {
    this.symbol = symbol;
    this.book = new OrderBook(symbol);
    this.#output = output;
  }

  /** Deltas from one RabbitMQ message (seq order). */
  onDeltas(deltas: readonly BookDelta[]): void {
    for (const delta of deltas) {
      if (this.state === 'bootstrapping') {
        if (this.#buffer.length >= MAX_BUFFERED_DELTAS) this.#buffer = [];
        this.#buffer.push(delta);
        continue;
      }
      const held = this.book.symbolSeq;
      if (delta.symbol_seq <= held) continue; // already applied (a resend)
      if (delta.symbol_seq !== held + 1) {
        // not kept: the depth asked for now is taken after the core applied this delta (REST is
        // ahead of the feed), so it holds it — and a bogus delta never reaches the book
        this.#gap();
        continue;
      }
      this.#apply(delta);
    }
  }

  /** The depth answer of a bootstrap. */
  onDepth(depth: DepthSnapshot): void {
    if (this.state !== 'bootstrapping') return;
    const pending = this.#buffer.filter((delta) => delta.symbol_seq > depth.symbol_seq).sort((a, b) => a.symbol_seq - b.symbol_seq);
    let expected = depth.symbol_seq + 1;
    for (const delta of pending) {
      if (delta.symbol_seq < expected) continue; // the same delta twice in the buffer
      if (delta.symbol_seq !== expected) {
        // a hole between the depth and the buffered deltas: ask again (the stream cannot fill it)
        this.#failedBootstraps++;
        this.#buffer = pending.filter((later) => later.symbol_seq > expected);
        this.#output.requestDepth(backoffDelay(this.#failedBootstraps, BOOTSTRAP_RETRY));
        return;
      }
      expected++;
    }
    this.book.load(depth.symbol_seq, depth.bids, depth.asks);
    this.#buffer = [];
    this.#pending.clear();
    for (const delta of pending)
      if (delta.symbol_seq > this.book.symbolSeq) this.book.apply(delta.symbol_seq, delta.side, delta.price, delta.quantity);
    this.#pendingFrom = this.book.symbolSeq;
    this.#failedBootstraps = 0;
    this.state = 'live';
    this.#output.resynced();
  }

  /** The depth request failed (core down): try again with back-off. */
  onDepthFailed(): void {
    this.#failedBootstraps++;
    this.#output.requestDepth(backoffDelay(this.#failedBootstraps, BOOTSTRAP_RETRY));
  }

  /** Start over (the feed reconnected to a queue that may have lost messages). */
  restart(): void {
    if (this.state === 'bootstrapping') return;
    this.state = 'bootstrapping';
    this.#buffer = [];
    this.#pending.clear();
    this.#output.requestDepth(0);
  }

  /** Sends the merged frame of the changes since the last one, if any. */
  flush(): void {
    if (this.#pending.size === 0 || this.state !== 'live') return;
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    for (const delta of this.#pending.values()) (delta.side === 'Buy' ? bids : asks).push([delta.price, delta.quantity]);
    const frame = JSON.stringify({
      type: 'OrderBook',
      symbol: this.symbol,
      prev_symbol_seq: this.#pendingFrom,
      symbol_seq: this.book.symbolSeq,
      snapshot: false,
      bids,
      asks,
      checksum: this.book.checksum(),
    });
    this.#pending.clear();
    this.#pendingFrom = this.book.symbolSeq;
    this.#output.delta(frame);
  }

  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /** The snapshot frame of the book as it stands (call flush() first so deltas continue from it). */
  snapshotFrame(): string {
    if (this.#snapshotCache?.symbolSeq === this.book.symbolSeq) return this.#snapshotCache.frame;
    const bids = this.book.bids(SNAPSHOT_LEVELS);
    const asks = this.book.asks(SNAPSHOT_LEVELS);
    const frame = JSON.stringify({
      type: 'OrderBook',
      symbol: this.symbol,
      symbol_seq: this.book.symbolSeq,
      snapshot: true,
      bids,
      asks,
      checksum: bookChecksum(asks.slice(0, CHECKSUM_LEVELS), bids.slice(0, CHECKSUM_LEVELS)),
    });
    this.#snapshotCache = { symbolSeq: this.book.symbolSeq, frame };
    return frame;
  }

  #apply(delta: BookDelta): void {
    this.book.apply(delta.symbol_seq, delta.side, delta.price, delta.quantity);
    this.#pending.set(`${delta.side}|${delta.price}`, delta);
  }

  #gap(): void {
    this.gaps++;
    this.state = 'bootstrapping';
    this.#buffer = [];
    this.#pending.clear();
    this.#output.requestDepth(0);
  }
}
