/**
 * End of a command that moved positions: a leg's open reduce-only orders (and hedge-mode closing
 * orders) never add up to more than the leg can reduce. When a position shrank below them, the
 * newest are cut first (Binance's behaviour: the latest intent yields) — an order whose whole
 * remainder is beyond the position is cancelled, the next one's quantity is reduced (queue place
 * kept, OrderAmended). Then every open order on a touched leg has its reserve exact again (what it
 * can open depends on the position). Fill-time caps (FuturesLedger.fillableLots) already stop a
 * reduce-only order from ever flipping a position; this tidies what is left resting.
 *
 * Cost (issue 18's bench): the work is per touched leg, over that leg's orders only (PerpOrders
 * keeps them per leg, reduce-only apart). Reserves: every open order's reserve is exact at the
 * start of a command, so on a touched leg only the orders of a side whose reducible lots moved
 * since the command began, and the orders the command already recomputed mid-way (placed, filled),
 * can be off; FuturesLedger.refreshReserve skips the BigInt work when the inputs did not change.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Book } from '../matching/book.ts';
import type { BookDeltas } from '../matching/book-deltas.ts';
import type { OrderLifecycle } from '../matching/order-lifecycle.ts';
import type { OrderNode } from '../matching/order.ts';
import type { FuturesEvents } from './futures-events.ts';
import { reducibleLots, type FuturesLedger } from './futures-ledger.ts';
import type { FuturesAccount, FuturesState, PerpOrder, PerpPosition } from './futures-state.ts';
import { LegKind, type LegOrders } from './perp-orders.ts';

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
    const touched = this.changes.touchedPositions();
    const count = touched.length; // the legs touched before the cut (it touches none itself)
    const epoch = this.changes.epoch;
    for (let at = 0; at < count; at++) {
      const position = touched[at]!;
      const account = this.state.account(position.userId);
      const orders = account.orders;
      const reducing = orders.onLeg(position.market, position.side, LegKind.ReduceOnly);
      if (reducing.size > 0) this.cut(position, reducing);
      const startLots = position.startMark === epoch ? position.startSizeLots : position.sizeLots;
      this.refreshSide(account, position, reducibleOf(startLots, true), true);
      this.refreshSide(account, position, reducibleOf(startLots, false), false);
      const unknown = orders.onLeg(position.market, position.side, LegKind.SideUnknown);
      if (unknown.size > 0) this.refreshRestored(account, unknown);
    }
    const refreshed = this.futures.refreshedThisCommand();
    for (let at = 0; at < refreshed.length; at++) this.refreshAgain(refreshed[at]!, epoch);
  }

  /** the cut proper, over one leg's reduce-only orders */
  private cut(position: PerpPosition, orders: LegOrders): void {
    // first the sums alone (no allocation): most legs' reduce-only orders still fit, and nothing is cut
    let buyRemaining = 0;
    let sellRemaining = 0;
    for (let order = orders.head; order !== null; order = order.nextOnLeg) {
      const node = this.futures.nodeOf(order);
      if (node === null || node.closePosition) continue; // as below: close-position orders are not cut
      if (node.isBuy) buyRemaining += node.quantity - node.filled;
      else sellRemaining += node.quantity - node.filled;
    }
    if (buyRemaining <= reducibleLots(position, true) && sellRemaining <= reducibleLots(position, false)) return;
    const reducing: OrderNode[] = [];
    for (let order = orders.head; order !== null; order = order.nextOnLeg) {
      const node = this.futures.nodeOf(order);
      // close-position orders are sized when they fire (futures-ledger.ts closeLots): nothing to cut
      if (node !== null && !node.closePosition) reducing.push(node);
    }
    for (const isBuy of [true, false]) {
      const sideOrders = reducing.filter((node) => node.isBuy === isBuy).sort((a, b) => b.orderId - a.orderId);
      let excess = sideOrders.reduce((sum, node) => sum + node.quantity - node.filled, 0) - reducibleLots(position, isBuy);
      for (const node of sideOrders) {
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
  }

  /**
   * One side's orders of a leg, when what that side can reduce moved from `startReducible`: an
   * order opens max(0, remaining − reducible) lots, so none changes while every remaining is at
   * most the smaller of the two (LegOrders.maxRemaining bounds them).
   */
  private refreshSide(account: FuturesAccount, position: PerpPosition, startReducible: number, isBuy: boolean): void {
    const reducible = reducibleLots(position, isBuy);
    if (reducible === startReducible) return;
    const orders = account.orders.onLeg(position.market, position.side, isBuy ? LegKind.Buy : LegKind.Sell);
    if (orders.maxRemaining <= Math.min(reducible, startReducible)) return;
    this.futures.refreshReserves(account, position, orders, isBuy);
  }

  /** restored orders (side not known yet): all recomputed, as the cut did before the side lists, then filed by side */
  private refreshRestored(account: FuturesAccount, orders: LegOrders): void {
    const met: PerpOrder[] = [];
    for (let order = orders.head; order !== null; order = order.nextOnLeg) met.push(order);
    for (const order of met) {
      const node = this.futures.nodeOf(order);
      if (node === null) continue;
      this.futures.refreshReserve(account, order, node);
      account.orders.learnSide(order, node.isBuy, node.quantity - node.filled);
    }
  }

  /** an order recomputed mid-command, again at the end if it is still open on a leg this command touched */
  private refreshAgain(order: PerpOrder, epoch: number): void {
    if (order.reduceOnly || order.owner === null) return;
    const node = this.futures.nodeOf(order);
    const account = node === null ? undefined : this.state.accounts.get(node.userId);
    if (account === undefined || account.orders.get(order.orderId) !== order) return;
    if (account.leg(order.market, order.leg)?.dirtyMark !== epoch) return;
    this.futures.refreshReserve(account, order, node!);
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

/** reducibleLots for a size rather than a record */
function reducibleOf(sizeLots: number, isBuy: boolean): number {
  return isBuy ? (sizeLots < 0 ? -sizeLots : 0) : sizeLots > 0 ? sizeLots : 0;
}
