/**
 * Finished orders (filled, cancelled, expired, rejected) in the order they finished, so the
 * oldest can be forgotten once `limit` is reached: a ring buffer, no allocation per order.
 * (The engine's OrderIndex finds them by id.)
 */
import type { OrderNode } from './order.ts';

export class RecentOrders {
  private readonly ring: (OrderNode | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly limit: number) {
    this.ring = new Array<OrderNode | undefined>(limit).fill(undefined);
  }

  /** Adds a finished order; returns the evicted one, if any, so its node can be reused. */
  push(order: OrderNode): OrderNode | undefined {
    if (this.limit === 0) return order;
    let evicted: OrderNode | undefined;
    if (this.count === this.limit) {
      evicted = this.ring[this.start];
      this.ring[this.start] = undefined;
      this.start = this.start + 1 === this.limit ? 0 : this.start + 1;
      this.count--;
    }
    let end = this.start + this.count;
    if (end >= this.limit) end -= this.limit;
    this.ring[end] = order;
    this.count++;
    return evicted;
  }

  get size(): number {
    return this.count;
  }

  /** Oldest first. */
  *entries(): Generator<OrderNode> {
    for (let index = 0; index < this.count; index++) {
      let at = this.start + index;
      if (at >= this.limit) at -= this.limit;
      yield this.ring[at]!;
    }
  }
}
