/**
 * Ticker events: at the end of a command, a book whose symbol traded in it, or whose best bid or
 * ask is no longer what its last Ticker carried, has changed figures (dirty until its next
 * Ticker); a dirty symbol's Ticker goes out once its last one is TICKER_INTERVAL_MS old (or it has
 * none), in market order. The per-book state is the book's TickerWindow (ticker.ts).
 */
import type { CommandEvents } from '../command-events.ts';
import { TICKER_INTERVAL_MS } from '../types.ts';
import type { Book } from './book.ts';

export class TickerEmitter {
  /** books whose levels the command touched: their Ticker figures may have changed */
  private readonly checks: Book[] = [];
  private checkCount = 0;
  /** symbols whose changed figures wait for their Ticker (derived from the books' ticker state) */
  private pendingCount = 0;
  /** the earliest command timestamp at which a waiting Ticker is due (Infinity when none waits) */
  private nextDueAt = Infinity;

  constructor(
    private readonly events: CommandEvents,
    /** books in market-config order (Ticker events go out in this order) */
    private readonly bookList: readonly Book[],
  ) {}

  get pending(): number {
    return this.pendingCount;
  }

  /** Lists a book whose levels the command touched, once per command. */
  watch(book: Book): void {
    const epoch = this.events.epoch;
    if (book.ticker.checkMark === epoch) return;
    book.ticker.checkMark = epoch;
    this.checks[this.checkCount++] = book;
  }

  /** At the end of a command, after the book deltas: marks changed books dirty, emits the Tickers due. */
  endCommand(): void {
    if (this.checkCount > 0) this.check();
    if (this.pendingCount > 0 && this.events.timestamp >= this.nextDueAt) this.flush();
  }

  private check(): void {
    const epoch = this.events.epoch;
    for (let index = 0; index < this.checkCount; index++) {
      const book = this.checks[index]!;
      const ticker = book.ticker;
      if (ticker.dirty) continue;
      if (ticker.tradedEpoch === epoch || (book.bids.best()?.price ?? 0) !== ticker.bid || (book.asks.best()?.price ?? 0) !== ticker.ask) {
        ticker.dirty = true;
        this.pendingCount++;
        const due = ticker.lastAt < 0 ? -Infinity : ticker.lastAt + TICKER_INTERVAL_MS;
        if (due < this.nextDueAt) this.nextDueAt = due;
      }
    }
    this.checkCount = 0;
  }

  private flush(): void {
    const events = this.events;
    const timestamp = events.timestamp;
    let nextDue = Infinity;
    for (const book of this.bookList) {
      const ticker = book.ticker;
      if (!ticker.dirty) continue;
      if (ticker.lastAt >= 0 && timestamp - ticker.lastAt < TICKER_INTERVAL_MS) {
        if (ticker.lastAt + TICKER_INTERVAL_MS < nextDue) nextDue = ticker.lastAt + TICKER_INTERVAL_MS;
        continue;
      }
      const bid = book.bids.best()?.price ?? 0;
      const ask = book.asks.best()?.price ?? 0;
      const figures = ticker.figures(book.market.symbol, timestamp, book.lastPrice, bid, ask);
      events.emit({
        type: 'Ticker',
        seq: ++events.seq,
        timestamp,
        symbol: figures.symbol,
        lastPrice: figures.lastPrice,
        bestBid: figures.bestBid,
        bestAsk: figures.bestAsk,
        open24h: figures.open24h,
        high24h: figures.high24h,
        low24h: figures.low24h,
        volume24h: figures.volume24h,
        quoteVolume24h: figures.quoteVolume24h,
      });
      ticker.dirty = false;
      ticker.lastAt = timestamp;
      ticker.bid = bid;
      ticker.ask = ask;
      this.pendingCount--;
    }
    this.nextDueAt = nextDue;
  }

  /** After a restore: the pending count and next due time from the books' ticker state. */
  recount(): void {
    this.pendingCount = 0;
    this.nextDueAt = Infinity;
    for (const book of this.bookList) {
      const ticker = book.ticker;
      if (!ticker.dirty) continue;
      this.pendingCount++;
      const due = ticker.lastAt < 0 ? -Infinity : ticker.lastAt + TICKER_INTERVAL_MS;
      if (due < this.nextDueAt) this.nextDueAt = due;
    }
  }
}
