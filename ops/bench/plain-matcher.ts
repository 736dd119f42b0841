/**
 * The yardstick BASELINES.md names — "plain TS price-time matching, no ledger/events" — built so
 * bench:engine can measure it in the same run as the engine: a run's absolute figures move with the
 * VM (±40 % and more from one machine to the next), the ratio to this does much less.
 *
 * Deliberately the least a correct price-time matcher does: levels in an array sorted best-last
 * with a Map by price, a FIFO linked list per level, a Map by id for cancel. No ledger, no fees,
 * no events, no validation, no order records kept after they finish. Not a design for xtrader.
 */
import type { Command } from '../../engine/index.ts';

class PlainOrder {
  next: PlainOrder | null = null;
  prev: PlainOrder | null = null;
  constructor(
    readonly id: number,
    readonly level: PlainLevel,
    public remaining: number,
  ) {}
}

class PlainLevel {
  head: PlainOrder | null = null;
  tail: PlainOrder | null = null;
  constructor(
    readonly price: number,
    readonly side: PlainSide,
  ) {}
}

class PlainSide {
  /** worst → best */
  readonly levels: PlainLevel[] = [];
  readonly byPrice = new Map<number, PlainLevel>();
  constructor(readonly isBid: boolean) {}

  better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }

  level(price: number): PlainLevel {
    let level = this.byPrice.get(price);
    if (level !== undefined) return level;
    level = new PlainLevel(price, this);
    this.byPrice.set(price, level);
    const levels = this.levels;
    let index = levels.length;
    while (index > 0 && this.better(levels[index - 1]!.price, price)) index--;
    levels.splice(index, 0, level);
    return level;
  }

  drop(level: PlainLevel): void {
    this.byPrice.delete(level.price);
    const levels = this.levels;
    if (levels[levels.length - 1] === level) levels.pop();
    else levels.splice(levels.lastIndexOf(level), 1);
  }
}

class PlainBook {
  readonly bids = new PlainSide(true);
  readonly asks = new PlainSide(false);
}

export class PlainMatcher {
  private readonly books = new Map<string, PlainBook>();
  private readonly orders = new Map<number, PlainOrder>();
  trades = 0;

  private book(symbol: string): PlainBook {
    let book = this.books.get(symbol);
    if (book === undefined) this.books.set(symbol, (book = new PlainBook()));
    return book;
  }

  apply(command: Command): void {
    if (command.type === 'PlaceOrder') {
      const book = this.book(command.symbol);
      const isBuy = command.side === 'Buy';
      const limit = command.price ?? 0;
      let remaining = command.quantity ?? 0;
      const opposite = isBuy ? book.asks : book.bids;
      while (remaining > 0) {
        const level = opposite.levels[opposite.levels.length - 1];
        if (level === undefined || (limit > 0 && (isBuy ? level.price > limit : level.price < limit))) break;
        let maker = level.head;
        while (maker !== null && remaining > 0) {
          const lots = Math.min(remaining, maker.remaining);
          remaining -= lots;
          maker.remaining -= lots;
          this.trades++;
          const next = maker.next;
          if (maker.remaining === 0) this.unlink(maker);
          maker = next;
        }
      }
      if (remaining > 0 && limit > 0) {
        const level = (isBuy ? book.bids : book.asks).level(limit);
        const order = new PlainOrder(command.orderId, level, remaining);
        order.prev = level.tail;
        if (level.tail === null) level.head = order;
        else level.tail.next = order;
        level.tail = order;
        this.orders.set(order.id, order);
      }
    } else if (command.type === 'CancelOrder') {
      const order = this.orders.get(command.orderId);
      if (order !== undefined) this.unlink(order);
    }
  }

  private unlink(order: PlainOrder): void {
    const level = order.level;
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    this.orders.delete(order.id);
    if (level.head === null) level.side.drop(level);
  }
}
