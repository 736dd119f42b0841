/**
 * The public channels: `orderbook.{SYMBOL}`, `trades.{SYMBOL}`, `ticker.{SYMBOL}`, and for a
 * perpetual `markprice.{SYMBOL}` and `liquidations.{SYMBOL}`. Each symbol's
 * book (book-feed.ts) is bootstrapped from the REST depth and kept from the BookDelta envelopes;
 * trades and book changes are merged per short window. Every frame is serialized once and the same
 * Buffer is sent to every subscriber.
 */
import type { Envelope } from '../contract/envelopes.ts';
import type { Channel } from '../contract/ws-frames.ts';
import { BookFeed, type BookDelta } from './book-feed.ts';
import { clientJson, type HubContext } from './hub-context.ts';
import type { DepthSource } from './ports.ts';
import type { Session } from './session.ts';

export class PublicChannels {
  readonly books = new Map<string, BookFeed>();
  readonly #context: HubContext;
  readonly #depth: DepthSource;
  /** channel name → subscribed sessions */
  readonly #subscribers = new Map<string, Set<Session>>();
  readonly #trades = new Map<string, { envelopes: string[]; timer: unknown }>();
  readonly #bookTimers = new Map<string, unknown>();

  constructor(symbols: readonly string[], depth: DepthSource, context: HubContext) {
    this.#context = context;
    this.#depth = depth;
    for (const symbol of symbols) {
      const feed: BookFeed = new BookFeed(symbol, {
        resynced: () => this.#sendSnapshots(feed),
        delta: (frame) => this.#broadcast(`orderbook.${symbol}`, Buffer.from(frame)),
        requestDepth: (delayMs) => this.#requestDepth(feed, delayMs),
      });
      this.books.set(symbol, feed);
    }
  }

  /** Bootstraps every book; call once the feed's queue is bound and consuming (and again after it reconnects). */
  bootstrapBooks(): void {
    for (const feed of this.books.values()) {
      if (feed.state === 'live') feed.restart();
      else this.#requestDepth(feed, 0);
    }
  }

  // ---- subscriptions ----

  /**
   * Before a subscribe is answered: pending book changes go out to the present subscribers first,
   * so the newcomer's snapshot includes them (a resubscribe too: its fresh snapshot must be where
   * the next delta starts).
   */
  flushBooksOf(channels: readonly Channel[]): void {
    for (const channel of channels) if (channel.kind === 'orderbook') this.books.get(channel.symbol)!.flush();
  }

  add(session: Session, name: string): void {
    session.channels.add(name);
    let set = this.#subscribers.get(name);
    if (!set) this.#subscribers.set(name, (set = new Set()));
    set.add(session);
  }

  /** After the subscribe's answer: the books' snapshots; deltas follow from the snapshot's symbol_seq. */
  sendSnapshotsTo(session: Session, channels: readonly Channel[]): void {
    for (const channel of channels) {
      if (channel.kind !== 'orderbook') continue;
      const feed = this.books.get(channel.symbol)!;
      if (feed.state !== 'live') continue; // the snapshot goes out when the bootstrap ends
      this.#context.send(session, feed.snapshotFrame());
    }
  }

  /** Forgets the session on a public channel it has already left (`session.channels`). */
  remove(session: Session, name: string): void {
    const set = this.#subscribers.get(name);
    set?.delete(session);
    if (set?.size === 0) this.#subscribers.delete(name);
  }

  // ---- the feed ----

  onBookDeltas(envelopes: readonly Envelope[]): void {
    const bySymbol = new Map<string, BookDelta[]>();
    for (const envelope of envelopes) {
      if (envelope.type !== 'BookDelta') continue;
      const symbol = envelope.symbol;
      let list = bySymbol.get(symbol);
      if (!list) bySymbol.set(symbol, (list = []));
      list.push(envelope);
    }
    for (const [symbol, deltas] of bySymbol) {
      const feed = this.books.get(symbol);
      if (!feed) continue;
      feed.onDeltas(deltas);
      if (feed.hasPending && !this.#bookTimers.has(symbol)) {
        this.#bookTimers.set(
          symbol,
          this.#context.timers.setTimeout(() => {
            this.#bookTimers.delete(symbol);
            feed.flush();
          }, this.#untilWindowEnds(this.#context.limits.bookWindowMs)),
        );
      }
    }
  }

  onTrades(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (envelope.type !== 'Trade') continue;
      const symbol = envelope.symbol;
      if (!this.#subscribers.has(`trades.${symbol}`)) continue;
      let pending = this.#trades.get(symbol);
      if (!pending) {
        const created: { envelopes: string[]; timer: unknown } = { envelopes: [], timer: undefined };
        created.timer = this.#context.timers.setTimeout(
          () => this.#flushTrades(symbol),
          this.#untilWindowEnds(this.#context.limits.tradesWindowMs),
        );
        this.#trades.set(symbol, (pending = created));
      }
      pending.envelopes.push(clientJson(envelope));
    }
  }

  onTickers(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (envelope.type !== 'Ticker') continue;
      this.#broadcast(`ticker.${envelope.symbol}`, Buffer.from(clientJson(envelope)));
    }
  }

  /**
   * `MarkPrice` on `markprice.{SYMBOL}`, `Liquidation` on `liquidations.{SYMBOL}`: each envelope is
   * its own frame, as a Ticker is (a mark price goes out once per tick; liquidations are rare, and a
   * client acts on each one at once: nothing is gained by holding them for a window).
   */
  onPerpetualEvents(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (envelope.type === 'MarkPrice') this.#broadcast(`markprice.${envelope.symbol}`, Buffer.from(clientJson(envelope)));
      else if (envelope.type === 'Liquidation') this.#broadcast(`liquidations.${envelope.symbol}`, Buffer.from(clientJson(envelope)));
    }
  }

  #flushTrades(symbol: string): void {
    const pending = this.#trades.get(symbol);
    this.#trades.delete(symbol);
    if (!pending || pending.envelopes.length === 0) return;
    // the envelopes are JSON already: the frame is assembled, not re-serialized
    this.#broadcast(
      `trades.${symbol}`,
      Buffer.from(`{"type":"Trades","symbol":${JSON.stringify(symbol)},"trades":[${pending.envelopes.join(',')}]}`),
    );
  }

  /** Sends every pending merged frame now (shutdown, tests). */
  flushAll(): void {
    for (const symbol of [...this.#trades.keys()]) {
      this.#context.timers.clearTimeout(this.#trades.get(symbol)!.timer);
      this.#flushTrades(symbol);
    }
    for (const [symbol, timer] of this.#bookTimers) {
      this.#context.timers.clearTimeout(timer);
      this.books.get(symbol)!.flush();
    }
    this.#bookTimers.clear();
  }

  /**
   * Merge windows end on a shared clock grid (multiples of the window since the epoch), not a window
   * after their first event: a book delta and a trades batch with equal windows leave in the same
   * turn, and the transport writes them to each socket at once (one syscall, not two).
   */
  #untilWindowEnds(windowMs: number): number {
    return windowMs <= 0 ? 0 : windowMs - (this.#context.timers.now() % windowMs);
  }

  // ---- books ----

  #requestDepth(feed: BookFeed, delayMs: number): void {
    const run = () => {
      this.#depth.depth(feed.symbol).then(
        (depth) => feed.onDepth(depth),
        (error: unknown) => {
          this.#context.onError?.(`depth ${feed.symbol}`, error);
          feed.onDepthFailed();
        },
      );
    };
    if (delayMs <= 0) run();
    else this.#context.timers.setTimeout(run, delayMs);
  }

  #sendSnapshots(feed: BookFeed): void {
    const sessions = this.#subscribers.get(`orderbook.${feed.symbol}`);
    if (!sessions || sessions.size === 0) return;
    const frame = Buffer.from(feed.snapshotFrame());
    for (const session of sessions) this.#context.send(session, frame);
  }

  #broadcast(channel: string, frame: Buffer): void {
    const sessions = this.#subscribers.get(channel);
    if (!sessions) return;
    for (const session of sessions) this.#context.send(session, frame);
  }
}
