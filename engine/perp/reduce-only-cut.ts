/**
 * End of a command that moved positions: a leg's open reduce-only orders (and hedge-mode closing
 * orders) never add up to more than the leg can reduce. When a position shrank below them, the
 * newest are cut first (Binance's behaviour: the latest intent yields) — an order whose whole
 * remainder is beyond the position is cancelled, the next one's quantity is reduced (queue place
 * kept, OrderAmended). Then every open order on a touched leg gets its reserve recomputed (what
 * it can open depends on the position). Fill-time caps (FuturesLedger.fillableLots) already stop a
 * reduce-only order from ever flipping a position; this tidies what is left resting.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Book } from '../matching/book.ts';
import type { BookDeltas } from '../matching/book-deltas.ts';
import type { OrderLifecycle } from '../matching/order-lifecycle.ts';
import type { OrderNode } from '../matching/order.ts';
import type { FuturesEvents } from './futures-events.ts';
import { reducibleLots, type FuturesLedger } from './futures-ledger.ts';
import type { FuturesState, PerpOrder } from './futures-state.ts';

export class ReduceOnlyCut {
  constructor(
    private readonly state: FuturesState,
    private readonly futures: FuturesLedger,
    private readonly changes: FuturesEvents,
    private readonly books: ReadonlyMap<string, Book>,
    private readonly lifecycle: OrderLifecycle,
    private readonly deltas: BookDeltas,
    private readonly events: CommandEvents,
  ) {}

  run(): void {
    if (!this.changes.touched) return;
    for (const position of [...this.changes.touchedPositions()]) {
      const account = this.state.account(position.userId);
      const symbol = position.market.symbol;
      const onLeg: { order: PerpOrder; node: OrderNode }[] = [];
      for (const order of account.orders.values()) {
        if (order.market.symbol !== symbol || order.leg !== position.side) continue;
        const node = this.futures.nodeOf(order);
        if (node !== null) onLeg.push({ order, node });
      }
      // close-position orders are sized when they fire (futures-ledger.ts closeLots): nothing to cut
      const reducing = onLeg.filter(({ order, node }) => order.reduceOnly && !node.closePosition);
      for (const isBuy of [true, false]) {
        const sideOrders = reducing.filter(({ node }) => node.isBuy === isBuy).sort((a, b) => b.node.orderId - a.node.orderId);
        let excess = sideOrders.reduce((sum, { node }) => sum + node.quantity - node.filled, 0) - reducibleLots(position, isBuy);
        for (const { node } of sideOrders) {
          if (excess <= 0) break;
          const remaining = node.quantity - node.filled;
          if (remaining <= excess) {
            this.cancel(node);
            excess -= remaining;
          } else {
            this.reduce(node, excess);
            excess = 0;
          }
        }
      }
      for (const { order, node } of onLeg) if (account.orders.has(order.orderId)) this.futures.refreshReserve(account, order, node);
    }
  }

  private cancel(order: OrderNode): void {
    const events = this.events;
    const book = this.books.get(order.symbol)!;
    if (order.status === 'Untriggered') book.stops.remove(order);
    else this.lifecycle.unrest(book, order);
    order.status = 'Cancelled';
    order.updatedAt = events.timestamp;
    events.emit({ type: 'OrderCancelled', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
    this.lifecycle.retire(book, order);
  }

  private reduce(order: OrderNode, reduction: number): void {
    const events = this.events;
    const book = this.books.get(order.symbol)!;
    const level = order.level;
    if (level !== null) {
      level.total -= reduction;
      this.deltas.touch(book, order.isBuy, level);
    }
    order.quantity -= reduction;
    order.updatedAt = events.timestamp;
    events.emit({ type: 'OrderAmended', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
  }
}
