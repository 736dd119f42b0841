/**
 * An order's life from record to memory: a pooled record for each new order, listed under its
 * owner while open (resting or untriggered), taken off its level, finished (filled, expired,
 * cancelled) — giving back through its market's settlement what it still holds — then copied
 * into the remembered finished orders and the record returned to the pool. Also the index of
 * every order still known by id, and the per-user client order ids those orders hold.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Account, Ledger } from '../ledger.ts';
import type { ExpiryReason, MarketSpec, PlaceOrderCommand } from '../types.ts';
import type { Book } from './book.ts';
import type { BookDeltas } from './book-deltas.ts';
import { OrderIndex } from './order-index.ts';
import { OrderNode } from './order.ts';
import { EXPIRY_REASONS, RecentOrders } from './recent-orders.ts';

export class OrderLifecycle {
  /** the recently finished orders, kept answerable by id (bounded FIFO) */
  readonly recent: RecentOrders;
  /** every order still known by id: open ones and the recently finished */
  readonly orders: OrderIndex;
  private readonly nodePool: OrderNode[] = [];

  constructor(
    recentFinishedLimit: number,
    private readonly ledger: Ledger,
    private readonly events: CommandEvents,
    private readonly deltas: BookDeltas,
  ) {
    const recent = new RecentOrders(recentFinishedLimit);
    this.recent = recent;
    this.orders = new OrderIndex((slot, orderId) => recent.orderIdAt(slot) === orderId);
  }

  newOrder(command: PlaceOrderCommand, market: MarketSpec | undefined, account: Account | null, isBuy: boolean): OrderNode {
    const timestamp = this.events.timestamp;
    const order = this.nodePool.pop() ?? new OrderNode();
    order.orderId = command.orderId;
    order.userId = command.userId;
    order.account = account;
    order.clientOrderId = command.clientOrderId;
    // The market's own string: one copy for all orders, not the string parsed with each command.
    order.symbol = market !== undefined ? market.symbol : command.symbol;
    order.side = command.side;
    order.isBuy = isBuy;
    order.orderType = command.orderType;
    order.timeInForce = command.timeInForce;
    order.postOnly = command.postOnly;
    order.stp = command.stp;
    order.price = command.price ?? 0;
    order.stopPrice = command.stopPrice ?? 0;
    // a close-position order has no quantity of its own until it fires (it is not bought by amount)
    order.closePosition = command.closePosition === true;
    order.byQuote = command.quantity === undefined && !order.closePosition;
    order.quantity = command.quantity ?? (order.closePosition ? 0 : (market?.maxQuantity ?? 0));
    // a perpetual stop watches the last price unless told otherwise (perp/README decision 50)
    order.workingType = command.stopPrice !== undefined && market?.type === 'perpetual' ? (command.workingType ?? 'LAST_PRICE') : undefined;
    order.quoteAmount = command.quoteAmount ?? 0;
    order.filled = 0;
    order.filledQuote = 0;
    order.feesPaid = 0;
    order.feeCarry = 0;
    order.locked = 0;
    order.status = 'Pending';
    order.rejectCode = 0;
    order.expireReason = 0;
    order.createdAt = timestamp;
    order.updatedAt = timestamp;
    order.level = null;
    order.prev = null;
    order.next = null;
    order.openSlot = -1;
    order.listed = false;
    order.liquidation = false;
    return order;
  }

  /** Records an open order under its owner. */
  list(book: Book, order: OrderNode): void {
    order.account!.addOpen(order, book.index);
    order.listed = true;
  }

  unlist(book: Book, order: OrderNode): void {
    if (!order.listed) return;
    order.account!.removeOpen(order, book.index);
    order.listed = false;
  }

  /** Takes a resting order off its level, listing the level for a book delta. */
  unrest(book: Book, order: OrderNode): void {
    const level = order.level;
    if (level === null) return;
    this.deltas.touch(book, order.isBuy, level);
    (order.isBuy ? book.bids : book.asks).unlink(order);
  }

  complete(book: Book, order: OrderNode): void {
    order.status = 'Filled';
    order.updatedAt = this.events.timestamp;
    this.retire(book, order);
  }

  expire(book: Book, order: OrderNode, reason: ExpiryReason): void {
    const events = this.events;
    order.status = 'Expired';
    order.expireReason = EXPIRY_REASONS.indexOf(reason) + 1;
    order.updatedAt = events.timestamp;
    events.emit({ type: 'OrderExpired', seq: ++events.seq, timestamp: events.timestamp, reason, order: order.view() });
    this.retire(book, order);
  }

  /** A finished order: releases what it still holds and moves it to the recent-orders FIFO. */
  retire(book: Book, order: OrderNode): void {
    book.settlement.releaseRest(book, order);
    this.unlist(book, order);
    this.remember(order);
  }

  /**
   * Keeps a finished order answerable (copied into RecentOrders, the index pointing at its slot),
   * forgets the oldest one beyond the limit, and recycles the record.
   */
  remember(order: OrderNode): void {
    const recent = this.recent;
    const slot = recent.push(order);
    const evictedId = recent.lastEvictedId;
    // While an order is remembered its id cannot be placed or recorded again (duplicate), so the
    // index entry of the evicted id is still its slot: count it out without touching it.
    if (evictedId >= 0) {
      this.orders.forget(evictedId);
      if (recent.lastEvictedClientOrderId !== undefined)
        this.releaseClientOrderId(recent.lastEvictedUserId, recent.lastEvictedClientOrderId, evictedId);
    }
    if (slot >= 0) this.orders.set(order.orderId, slot);
    else {
      this.orders.delete(order.orderId);
      if (order.clientOrderId !== undefined) this.releaseClientOrderId(order.userId, order.clientOrderId, order.orderId);
    }
    order.account = null;
    order.clientOrderId = undefined;
    order.level = null;
    this.nodePool.push(order);
  }

  /** The user's client order id now names `orderId` (an accepted order or a kept Rejected record). */
  claimClientOrderId(account: Account, clientOrderId: string, orderId: number): void {
    (account.clientOrderIds ??= new Map()).set(clientOrderId, orderId);
  }

  /** A forgotten order gives its client order id back (unless a newer order holds it: old snapshots). */
  private releaseClientOrderId(userId: number, clientOrderId: string, orderId: number): void {
    const clientOrderIds = this.ledger.find(userId)?.clientOrderIds;
    if (clientOrderIds?.get(clientOrderId) === orderId) clientOrderIds.delete(clientOrderId);
  }
}
