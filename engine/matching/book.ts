/**
 * One market's order book: two sides of price levels plus the waiting stop orders (stop-book.ts).
 *
 * A side keeps its levels in an array sorted so that the BEST level is LAST (bids ascending,
 * asks descending): reading the best price is an index, removing an exhausted best level is a
 * pop, and new levels — which arrive near the top of the book around a moving mid — are spliced
 * in close to the end. A Map finds a level by price. Within a level, orders form an intrusive
 * doubly-linked FIFO list through OrderNode.prev/next, so cancel-by-id is O(1).
 */
import type { Settlement } from '../settlement.ts';
import type { MarketSpec } from '../types.ts';
import type { OrderNode } from './order.ts';
import { StopBook } from './stop-book.ts';
import { TickerWindow } from './ticker.ts';

export class PriceLevel {
  price = 0;
  /** lots resting at this price */
  total = 0;
  count = 0;
  head: OrderNode | null = null;
  tail: OrderNode | null = null;
  /** engine command counter when this level last joined the command's book-delta list */
  dirtyMark = -1;
}

export class BookSide {
  /** levels ordered worst → best */
  readonly sorted: PriceLevel[] = [];
  readonly byPrice = new Map<number, PriceLevel>();
  private readonly pool: PriceLevel[] = [];

  constructor(readonly isBid: boolean) {}

  best(): PriceLevel | undefined {
    return this.sorted[this.sorted.length - 1];
  }

  /** Index of the first level strictly better than `price` (levels are worst → best). */
  private upperBound(price: number): number {
    const sorted = this.sorted;
    let low = 0;
    let high = sorted.length;
    if (this.isBid) {
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (sorted[middle]!.price > price) high = middle;
        else low = middle + 1;
      }
    } else {
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (sorted[middle]!.price < price) high = middle;
        else low = middle + 1;
      }
    }
    return low;
  }

  levelFor(price: number): PriceLevel {
    const existing = this.byPrice.get(price);
    if (existing !== undefined) return existing;
    const level = this.pool.pop() ?? new PriceLevel();
    level.price = price;
    level.total = 0;
    level.count = 0;
    level.head = null;
    level.tail = null;
    level.dirtyMark = -1;
    this.byPrice.set(price, level);
    const sorted = this.sorted;
    const last = sorted[sorted.length - 1];
    if (last === undefined || (this.isBid ? price > last.price : price < last.price)) sorted.push(level);
    else sorted.splice(this.upperBound(price), 0, level);
    return level;
  }

  /** Removes an empty level. */
  removeLevel(level: PriceLevel): void {
    const sorted = this.sorted;
    if (sorted[sorted.length - 1] === level) sorted.pop();
    else sorted.splice(this.upperBound(level.price) - 1, 1);
    this.byPrice.delete(level.price);
    level.head = null;
    level.tail = null;
    this.pool.push(level);
  }

  /** Appends an order at the back of its price level's queue. */
  append(order: OrderNode): void {
    const level = this.levelFor(order.price);
    order.level = level;
    order.next = null;
    order.prev = level.tail;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.total += order.quantity - order.filled;
    level.count++;
  }

  /** Unlinks an order (its remaining quantity leaves the level); drops the level when empty. */
  unlink(order: OrderNode): void {
    const level = order.level!;
    level.total -= order.quantity - order.filled;
    level.count--;
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    order.prev = null;
    order.next = null;
    order.level = null;
    if (level.count === 0) this.removeLevel(level);
  }

  /** Levels best first, up to `limit`. */
  *bestFirst(limit = Infinity): Generator<PriceLevel> {
    const sorted = this.sorted;
    for (let index = sorted.length - 1, taken = 0; index >= 0 && taken < limit; index--, taken++) yield sorted[index]!;
  }
}

export class Book {
  readonly bids = new BookSide(true);
  readonly asks = new BookSide(false);
  readonly stops = new StopBook();
  symbolSeq = 0;
  /** ticks of the last trade; 0 before the first trade */
  lastPrice = 0;
  readonly maxFeePpm: number;
  /** the settlement may refuse part of a fill (Settlement.fillableLots: perpetual markets) */
  readonly capsFills: boolean;
  /** 24 h window and Ticker emission state */
  readonly ticker = new TickerWindow();
  /** ticks of the mark price, 0 when none (spot; set by the engine for perpetual books: stop-book.ts) */
  markTicks: () => number = () => 0;

  constructor(
    readonly market: MarketSpec,
    /** ledger asset indexes */
    readonly baseIndex: number,
    readonly quoteIndex: number,
    /** position in the market config (an account's open-order count per market) */
    readonly index: number,
    /** how this market's orders hold funds and its fills settle (chosen by market kind) */
    readonly settlement: Settlement,
  ) {
    this.maxFeePpm = Math.max(market.makerFeePpm, market.takerFeePpm);
    this.capsFills = settlement.fillableLots !== undefined;
  }
}
