/**
 * Stop and take-profit orders waiting for their trigger price (one StopBook per market).
 *
 * An order fires when the price it watches reaches its stop price: the last trade price, or the
 * mark price for a perpetual order with working type MARK_PRICE (perp/README decisions 50–53).
 * Which way it fires depends on its kind and side (Binance's rule): a stop buy and a take-profit
 * sell fire on a rise (price ≥ stop), a stop sell and a take-profit buy on a fall (price ≤ stop).
 * So there are four lists — {last, mark} × {rising, falling} — each kept in trigger order: the
 * stop nearest the price first (rising: stop ascending; falling: descending), and among equal stop
 * prices the earlier-placed order first. A price move fires a prefix of each list, so a move that
 * fires nothing reads one element per list, however many orders wait (a binary-searched insert
 * and a prefix splice are the only other costs).
 */
import type { OrderNode } from './order.ts';

/** Whether the order fires on a rise (price ≥ stop) rather than on a fall (price ≤ stop). */
export function firesOnRise(order: OrderNode): boolean {
  const stopKind = order.orderType === 'StopLimit' || order.orderType === 'StopMarket';
  return stopKind === order.isBuy;
}

export class StopBook {
  /** last price, fire when last ≥ stop (buy stops, sell take-profits): stopPrice ascending */
  readonly rising: OrderNode[] = [];
  /** last price, fire when last ≤ stop (sell stops, buy take-profits): stopPrice descending */
  readonly falling: OrderNode[] = [];
  /** the same two for MARK_PRICE orders */
  readonly markRising: OrderNode[] = [];
  readonly markFalling: OrderNode[] = [];

  /** The list an order waits in (by working type and trigger direction). */
  listOf(order: OrderNode): OrderNode[] {
    const rise = firesOnRise(order);
    if (order.workingType === 'MARK_PRICE') return rise ? this.markRising : this.markFalling;
    return rise ? this.rising : this.falling;
  }

  add(order: OrderNode): void {
    const list = this.listOf(order);
    // after every order with the same stop price: equal stops fire in placement order
    list.splice(boundary(list, order.stopPrice, list === this.rising || list === this.markRising, true), 0, order);
  }

  remove(order: OrderNode): void {
    const list = this.listOf(order);
    const ascending = list === this.rising || list === this.markRising;
    for (let index = boundary(list, order.stopPrice, ascending, false); index < list.length; index++) {
      const other = list[index]!;
      if (other === order) return void list.splice(index, 1);
      if (other.stopPrice !== order.stopPrice) return;
    }
  }

  /** Removes and returns the last-price stops `lastPrice` fires, in trigger order. */
  takeTriggered(lastPrice: number): OrderNode[] {
    return take(this.rising, this.falling, lastPrice);
  }

  /** Removes and returns the mark-price stops `markTicks` fires, in trigger order. */
  takeMarkTriggered(markTicks: number): OrderNode[] {
    return take(this.markRising, this.markFalling, markTicks);
  }

  /** last-price stops waiting */
  get size(): number {
    return this.rising.length + this.falling.length;
  }

  /** mark-price stops waiting */
  get markSize(): number {
    return this.markRising.length + this.markFalling.length;
  }
}

/**
 * Index of the first order whose stop comes after `stopPrice` in trigger order (`after`), or of
 * the first with that stop price (not `after`).
 */
function boundary(list: readonly OrderNode[], stopPrice: number, ascending: boolean, after: boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const other = list[middle]!.stopPrice;
    const beyond = ascending ? other > stopPrice || (!after && other === stopPrice) : other < stopPrice || (!after && other === stopPrice);
    if (beyond) high = middle;
    else low = middle + 1;
  }
  return low;
}

function take(rising: OrderNode[], falling: OrderNode[], price: number): OrderNode[] {
  let riseCount = 0;
  while (riseCount < rising.length && rising[riseCount]!.stopPrice <= price) riseCount++;
  let fallCount = 0;
  while (fallCount < falling.length && falling[fallCount]!.stopPrice >= price) fallCount++;
  if (riseCount === 0 && fallCount === 0) return [];
  // Only one direction can fire on a given price unless orders were placed already through it;
  // then the rising list goes first, each in its own trigger order.
  return [...rising.splice(0, riseCount), ...falling.splice(0, fallCount)];
}
