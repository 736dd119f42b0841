/**
 * Mark-price TP/SL (issue 19, README decisions 50–53): after a command moves marks
 * (FuturesCommands.marksMoved, called after the liquidation check), each moved market's
 * MARK_PRICE stop and take-profit orders that the new mark reaches fire, in the market order
 * `marksMoved` names them and within a market in trigger order (stop-book.ts), and run through
 * matching like any triggered stop — the fills they make may fire last-price stops behind them.
 * A move that fires nothing reads the head of two sorted lists per market: no scan of the orders.
 */
import type { Book } from '../matching/book.ts';
import type { Matcher } from '../matching/matcher.ts';
import type { FuturesState } from './futures-state.ts';

export class MarkTriggers {
  constructor(
    private readonly state: FuturesState,
    private readonly books: ReadonlyMap<string, Book>,
    private readonly matcher: Matcher,
  ) {}

  /** The engine sets each perpetual book's mark reader (a placement checks its own order with it). */
  wireBooks(): void {
    const marks = this.state.marks;
    for (const symbol of marks.keys()) {
      const book = this.books.get(symbol);
      if (book !== undefined) book.markTicks = () => marks.get(symbol)?.markTicks ?? 0;
    }
  }

  marksMoved(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      const book = this.books.get(symbol);
      if (book === undefined || book.stops.markSize === 0) continue;
      const markTicks = this.state.marks.get(symbol)?.markTicks;
      if (markTicks === undefined) continue;
      const fired = book.stops.takeMarkTriggered(markTicks);
      if (fired.length > 0) this.matcher.fireStops(book, fired);
    }
  }
}
