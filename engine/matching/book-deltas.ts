/**
 * BookDelta events: within one command, one per touched price level with its final total, emitted
 * after the order events in the order the levels were first touched (a level removed and re-created
 * within the command is still one delta). Every trade and every change of a best price touches a
 * level, so the books listed here are the ones whose Ticker figures may have changed.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Book, PriceLevel } from './book.ts';
import type { TickerEmitter } from './ticker-emitter.ts';

export class BookDeltas {
  private readonly books: Book[] = [];
  private readonly isBid: boolean[] = [];
  private readonly prices: number[] = [];
  private count = 0;

  constructor(
    private readonly events: CommandEvents,
    private readonly tickers: TickerEmitter,
  ) {}

  /** Lists the level for a BookDelta at the end of the command. */
  touch(book: Book, isBid: boolean, level: PriceLevel): void {
    const epoch = this.events.epoch;
    if (level.dirtyMark === epoch) return;
    level.dirtyMark = epoch;
    const count = this.count;
    // A level removed and re-created within the command may already be listed by price.
    for (let index = 0; index < count; index++) {
      if (this.prices[index] === level.price && this.books[index] === book && this.isBid[index] === isBid) return;
    }
    this.books[count] = book;
    this.isBid[count] = isBid;
    this.prices[count] = level.price;
    this.count = count + 1;
  }

  /** At the end of a command: one BookDelta per listed level, with the level's final total (0 when gone). */
  flush(): void {
    if (this.count === 0) return;
    const events = this.events;
    const timestamp = events.timestamp;
    let listed: Book | null = null;
    for (let index = 0; index < this.count; index++) {
      const book = this.books[index]!;
      if (book !== listed) {
        listed = book;
        this.tickers.watch(book);
      }
      const isBid = this.isBid[index]!;
      const price = this.prices[index]!;
      const level = (isBid ? book.bids : book.asks).byPrice.get(price);
      events.emit({
        type: 'BookDelta',
        seq: ++events.seq,
        timestamp,
        symbol: book.market.symbol,
        symbolSeq: ++book.symbolSeq,
        side: isBid ? 'Buy' : 'Sell',
        price,
        quantity: level === undefined ? 0 : level.total,
      });
    }
    this.count = 0;
  }
}
