/**
 * Finished orders (filled, cancelled, expired, rejected) kept answerable by id, oldest forgotten
 * first once `limit` is reached.
 *
 * Stored column-wise in a ring of typed arrays rather than as order records: a finished order's
 * record goes straight back to the engine's pool while it is still in cache, writes here are
 * sequential, and forgetting the oldest entry reads its id from a column instead of touching a
 * long-cold object. The engine's OrderIndex maps a remembered id to its slot here.
 */
import type { OrderNode } from './order.ts';
import { rejectReason } from './reject-codes.ts';
import type { OrderStatus, OrderType, OrderView, SelfTradePrevention, Side, TimeInForce } from './types.ts';

export const SIDES: readonly Side[] = ['Buy', 'Sell'];
export const ORDER_TYPES: readonly OrderType[] = ['Limit', 'Market', 'StopLimit', 'StopMarket'];
export const TIMES_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
export const STP_MODES: readonly SelfTradePrevention[] = ['ExpireTaker', 'ExpireMaker', 'ExpireBoth'];
export const STATUSES: readonly OrderStatus[] = ['Pending', 'PartiallyFilled', 'Filled', 'Cancelled', 'Expired', 'Rejected', 'Untriggered'];

/** Numeric columns, in snapshot record order. */
const enum Column {
  OrderId,
  UserId,
  Price,
  StopPrice,
  Quantity,
  QuoteAmount,
  Filled,
  FilledQuote,
  FeesPaid,
  CreatedAt,
  UpdatedAt,
  Count,
}

// Enum fields packed into one Int32: side 1 bit, type 2, tif 2, postOnly 1, stp 2, status 3, byQuote 1.
function pack(order: OrderNode): number {
  return (
    (order.isBuy ? 0 : 1) |
    (ORDER_TYPES.indexOf(order.orderType) << 1) |
    (TIMES_IN_FORCE.indexOf(order.timeInForce) << 3) |
    ((order.postOnly ? 1 : 0) << 5) |
    (STP_MODES.indexOf(order.stp) << 6) |
    (STATUSES.indexOf(order.status) << 8) |
    ((order.byQuote ? 1 : 0) << 11)
  );
}

export class RecentOrders {
  private readonly columns: Float64Array[] = [];
  private readonly packed: Int32Array;
  private readonly rejectCodes: Int32Array;
  private readonly symbols: string[];
  private readonly clientOrderIds: (string | undefined)[];
  private start = 0;
  private count = 0;
  /** id of the order forgotten by the last push, or -1 */
  lastEvictedId = -1;

  constructor(readonly limit: number) {
    for (let column = 0; column < Column.Count; column++) this.columns.push(new Float64Array(limit));
    this.packed = new Int32Array(limit);
    this.rejectCodes = new Int32Array(limit);
    this.symbols = new Array<string>(limit).fill('');
    this.clientOrderIds = new Array<string | undefined>(limit).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** Copies a finished order in; returns its slot, or -1 when nothing is kept (limit 0). */
  push(order: OrderNode): number {
    this.lastEvictedId = -1;
    const limit = this.limit;
    if (limit === 0) return -1;
    let slot: number;
    if (this.count === limit) {
      slot = this.start;
      this.lastEvictedId = this.columns[Column.OrderId]![slot]!;
      this.start = slot + 1 === limit ? 0 : slot + 1;
    } else {
      slot = this.start + this.count;
      if (slot >= limit) slot -= limit;
      this.count++;
    }
    const columns = this.columns;
    columns[Column.OrderId]![slot] = order.orderId;
    columns[Column.UserId]![slot] = order.userId;
    columns[Column.Price]![slot] = order.price;
    columns[Column.StopPrice]![slot] = order.stopPrice;
    columns[Column.Quantity]![slot] = order.quantity;
    columns[Column.QuoteAmount]![slot] = order.quoteAmount;
    columns[Column.Filled]![slot] = order.filled;
    columns[Column.FilledQuote]![slot] = order.filledQuote;
    columns[Column.FeesPaid]![slot] = order.feesPaid;
    columns[Column.CreatedAt]![slot] = order.createdAt;
    columns[Column.UpdatedAt]![slot] = order.updatedAt;
    this.packed[slot] = pack(order);
    this.rejectCodes[slot] = order.rejectCode;
    this.symbols[slot] = order.symbol;
    this.clientOrderIds[slot] = order.clientOrderId;
    return slot;
  }

  orderIdAt(slot: number): number {
    return this.columns[Column.OrderId]![slot]!;
  }

  userIdAt(slot: number): number {
    return this.columns[Column.UserId]![slot]!;
  }

  statusAt(slot: number): OrderStatus {
    return STATUSES[(this.packed[slot]! >> 8) & 7]!;
  }

  view(slot: number): OrderView {
    const columns = this.columns;
    const packed = this.packed[slot]!;
    const byQuote = ((packed >> 11) & 1) === 1;
    const quantity = columns[Column.Quantity]![slot]!;
    const filled = columns[Column.Filled]![slot]!;
    const price = columns[Column.Price]![slot]!;
    const stopPrice = columns[Column.StopPrice]![slot]!;
    const quoteAmount = columns[Column.QuoteAmount]![slot]!;
    const rejectCode = this.rejectCodes[slot]!;
    return {
      orderId: columns[Column.OrderId]![slot]!,
      userId: columns[Column.UserId]![slot]!,
      clientOrderId: this.clientOrderIds[slot],
      symbol: this.symbols[slot]!,
      side: SIDES[packed & 1]!,
      orderType: ORDER_TYPES[(packed >> 1) & 3]!,
      timeInForce: TIMES_IN_FORCE[(packed >> 3) & 3]!,
      postOnly: ((packed >> 5) & 1) === 1,
      price: price > 0 ? price : undefined,
      stopPrice: stopPrice > 0 ? stopPrice : undefined,
      quantity: byQuote ? filled : quantity,
      quoteAmount: quoteAmount > 0 ? quoteAmount : undefined,
      filledQuantity: filled,
      remainingQuantity: byQuote ? 0 : quantity - filled,
      filledQuote: columns[Column.FilledQuote]![slot]!,
      feesPaid: columns[Column.FeesPaid]![slot]!,
      status: STATUSES[(packed >> 8) & 7]!,
      rejectCode: rejectCode > 0 ? rejectCode : undefined,
      rejectReason: rejectCode > 0 ? rejectReason(rejectCode) : undefined,
      createdAt: columns[Column.CreatedAt]![slot]!,
      updatedAt: columns[Column.UpdatedAt]![slot]!,
    };
  }

  /** Slots oldest first. */
  *slots(): Generator<number> {
    for (let index = 0; index < this.count; index++) {
      let slot = this.start + index;
      if (slot >= this.limit) slot -= this.limit;
      yield slot;
    }
  }

  /** Appends the entry at `slot` to a snapshot order list (record layout: see snapshot.ts). */
  appendRecord(slot: number, list: (number | string | null)[]): void {
    const columns = this.columns;
    const packed = this.packed[slot]!;
    list.push(
      columns[Column.OrderId]![slot]!,
      columns[Column.UserId]![slot]!,
      this.clientOrderIds[slot] ?? null,
      this.symbols[slot]!,
      packed & 1,
      (packed >> 1) & 3,
      (packed >> 3) & 3,
      (packed >> 5) & 1,
      (packed >> 6) & 3,
      columns[Column.Price]![slot]!,
      columns[Column.StopPrice]![slot]!,
      columns[Column.Quantity]![slot]!,
      (packed >> 11) & 1,
      columns[Column.QuoteAmount]![slot]!,
      columns[Column.Filled]![slot]!,
      columns[Column.FilledQuote]![slot]!,
      columns[Column.FeesPaid]![slot]!,
      0, // a finished order holds nothing
      (packed >> 8) & 7,
      this.rejectCodes[slot]!,
      columns[Column.CreatedAt]![slot]!,
      columns[Column.UpdatedAt]![slot]!,
    );
  }
}
