/**
 * Finished orders (filled, cancelled, expired, rejected) kept answerable by id, oldest forgotten
 * first once `limit` is reached.
 *
 * Stored as fixed-size rows of one Float64Array ring rather than as order records: a finished
 * order's record goes straight back to the engine's pool while it is still in cache, a row is two
 * cache lines written in sequence, and forgetting the oldest entry reads its id from its row
 * instead of touching a long-cold object. The engine's OrderIndex maps a remembered id to its slot.
 */
import type { OrderNode } from './order.ts';
import { rejectReason } from '../reject-codes.ts';
import type { ExpiryReason, OrderStatus, OrderType, OrderView, SelfTradePrevention, Side, TimeInForce, WorkingType } from '../types.ts';

export const SIDES: readonly Side[] = ['Buy', 'Sell'];
export const ORDER_TYPES: readonly OrderType[] = ['Limit', 'Market', 'StopLimit', 'StopMarket', 'TakeProfitLimit', 'TakeProfitMarket'];
/** OrderNode.workingType n > 0 is WORKING_TYPES[n − 1]; 0 = none (not a perpetual stop) */
export const WORKING_TYPES: readonly WorkingType[] = ['LAST_PRICE', 'MARK_PRICE'];

/** The TP/SL bits of an order (snapshot.ts and the packed row): working type code 2 bits, close position 1. */
export function conditionalBits(order: OrderNode): number {
  const working = order.workingType === undefined ? 0 : WORKING_TYPES.indexOf(order.workingType) + 1;
  return working | ((order.closePosition ? 1 : 0) << 2);
}

/** Sets an order's working type and close position from conditionalBits. */
export function setConditionalBits(order: OrderNode, bits: number): void {
  const working = bits & 3;
  order.workingType = working === 0 ? undefined : WORKING_TYPES[working - 1];
  order.closePosition = ((bits >> 2) & 1) === 1;
}
/** order types as snapshot records number them: the user's six, then the engine's own */
export const RECORD_ORDER_TYPES: readonly OrderType[] = [...ORDER_TYPES, 'Liquidation'];
export const TIMES_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
export const STP_MODES: readonly SelfTradePrevention[] = ['ExpireTaker', 'ExpireMaker', 'ExpireBoth'];
export const STATUSES: readonly OrderStatus[] = ['Pending', 'PartiallyFilled', 'Filled', 'Cancelled', 'Expired', 'Rejected', 'Untriggered'];
/** OrderNode.expireReason n > 0 is EXPIRY_REASONS[n − 1]; 0 = not expired */
export const EXPIRY_REASONS: readonly ExpiryReason[] = [
  'IOC',
  'FOK',
  'MarketNoLiquidity',
  'SelfTradePrevention',
  'QuoteAmountExhausted',
  'ReduceOnly',
  'InsufficientMargin',
];

/** Numeric fields of a row. */
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
  Packed,
  RejectCode,
  Count,
}

// Enum fields packed into one Int32: side 1 bit, type 2, tif 2, postOnly 1, stp 2, status 3, byQuote 1,
// expiry reason 3, liquidation 1 at 15 (the engine's own 'Liquidation' order type, type bits 0 then),
// then (TP/SL, issue 19) the type's third bit at 16 and conditionalBits at 17–19.
const LIQUIDATION_BIT = 1 << 15;
const TYPE_HIGH_BIT = 16;
const CONDITIONAL_SHIFT = 17;

function pack(order: OrderNode): number {
  const liquidation = order.orderType === 'Liquidation';
  const type = liquidation ? 0 : ORDER_TYPES.indexOf(order.orderType);
  return (
    (liquidation ? LIQUIDATION_BIT : 0) |
    (order.isBuy ? 0 : 1) |
    ((type & 3) << 1) |
    ((type >> 2) << TYPE_HIGH_BIT) |
    (conditionalBits(order) << CONDITIONAL_SHIFT) |
    (TIMES_IN_FORCE.indexOf(order.timeInForce) << 3) |
    ((order.postOnly ? 1 : 0) << 5) |
    (STP_MODES.indexOf(order.stp) << 6) |
    (STATUSES.indexOf(order.status) << 8) |
    ((order.byQuote ? 1 : 0) << 11) |
    (order.expireReason << 12)
  );
}

export class RecentOrders {
  /** row r = values[r × Column.Count … r × Column.Count + Column.Count − 1] */
  private readonly values: Float64Array;
  private readonly symbols: string[];
  private readonly clientOrderIds: (string | undefined)[];
  private start = 0;
  private count = 0;
  /** id of the order forgotten by the last push, or -1 */
  lastEvictedId = -1;
  /** owner and client order id of that order (its id is free again once it is forgotten) */
  lastEvictedUserId = -1;
  lastEvictedClientOrderId: string | undefined = undefined;

  constructor(readonly limit: number) {
    this.values = new Float64Array(limit * Column.Count);
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
      this.lastEvictedId = this.values[slot * Column.Count + Column.OrderId]!;
      this.lastEvictedUserId = this.values[slot * Column.Count + Column.UserId]!;
      this.lastEvictedClientOrderId = this.clientOrderIds[slot];
      this.start = slot + 1 === limit ? 0 : slot + 1;
    } else {
      slot = this.start + this.count;
      if (slot >= limit) slot -= limit;
      this.count++;
    }
    const values = this.values;
    const row = slot * Column.Count;
    values[row + Column.OrderId] = order.orderId;
    values[row + Column.UserId] = order.userId;
    values[row + Column.Price] = order.price;
    values[row + Column.StopPrice] = order.stopPrice;
    values[row + Column.Quantity] = order.quantity;
    values[row + Column.QuoteAmount] = order.quoteAmount;
    values[row + Column.Filled] = order.filled;
    values[row + Column.FilledQuote] = order.filledQuote;
    values[row + Column.FeesPaid] = order.feesPaid;
    values[row + Column.CreatedAt] = order.createdAt;
    values[row + Column.UpdatedAt] = order.updatedAt;
    values[row + Column.Packed] = pack(order);
    values[row + Column.RejectCode] = order.rejectCode;
    this.symbols[slot] = order.symbol;
    this.clientOrderIds[slot] = order.clientOrderId;
    return slot;
  }

  private field(slot: number, column: Column): number {
    return this.values[slot * Column.Count + column]!;
  }

  orderIdAt(slot: number): number {
    return this.field(slot, Column.OrderId);
  }

  userIdAt(slot: number): number {
    return this.field(slot, Column.UserId);
  }

  statusAt(slot: number): OrderStatus {
    return STATUSES[(this.field(slot, Column.Packed) >> 8) & 7]!;
  }

  view(slot: number): OrderView {
    const field = (column: Column): number => this.field(slot, column);
    const packed = field(Column.Packed);
    const byQuote = ((packed >> 11) & 1) === 1;
    const quantity = field(Column.Quantity);
    const filled = field(Column.Filled);
    const price = field(Column.Price);
    const stopPrice = field(Column.StopPrice);
    const quoteAmount = field(Column.QuoteAmount);
    const rejectCode = field(Column.RejectCode);
    const expireReason = (packed >> 12) & 7;
    const working = (packed >> CONDITIONAL_SHIFT) & 3;
    return {
      orderId: field(Column.OrderId),
      userId: field(Column.UserId),
      clientOrderId: this.clientOrderIds[slot],
      symbol: this.symbols[slot]!,
      side: SIDES[packed & 1]!,
      orderType: (packed & LIQUIDATION_BIT) !== 0 ? 'Liquidation' : ORDER_TYPES[unpackType(packed)]!,
      timeInForce: TIMES_IN_FORCE[(packed >> 3) & 3]!,
      postOnly: ((packed >> 5) & 1) === 1,
      price: price > 0 ? price : undefined,
      stopPrice: stopPrice > 0 ? stopPrice : undefined,
      quantity: byQuote ? filled : quantity,
      quoteAmount: quoteAmount > 0 ? quoteAmount : undefined,
      filledQuantity: filled,
      remainingQuantity: byQuote ? 0 : quantity - filled,
      filledQuote: field(Column.FilledQuote),
      feesPaid: field(Column.FeesPaid),
      status: STATUSES[(packed >> 8) & 7]!,
      rejectCode: rejectCode > 0 ? rejectCode : undefined,
      rejectReason: rejectCode > 0 ? rejectReason(rejectCode) : undefined,
      expireReason: expireReason > 0 ? EXPIRY_REASONS[expireReason - 1] : undefined,
      workingType: working > 0 ? WORKING_TYPES[working - 1] : undefined,
      closePosition: ((packed >> (CONDITIONAL_SHIFT + 2)) & 1) === 1 ? true : undefined,
      createdAt: field(Column.CreatedAt),
      updatedAt: field(Column.UpdatedAt),
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
    const field = (column: Column): number => this.field(slot, column);
    const packed = field(Column.Packed);
    list.push(
      field(Column.OrderId),
      field(Column.UserId),
      this.clientOrderIds[slot] ?? null,
      this.symbols[slot]!,
      packed & 1,
      (packed & LIQUIDATION_BIT) !== 0 ? RECORD_ORDER_TYPES.indexOf('Liquidation') : unpackType(packed),
      (packed >> 3) & 3,
      (packed >> 5) & 1,
      (packed >> 6) & 3,
      field(Column.Price),
      field(Column.StopPrice),
      field(Column.Quantity),
      (packed >> 11) & 1,
      field(Column.QuoteAmount),
      field(Column.Filled),
      field(Column.FilledQuote),
      field(Column.FeesPaid),
      0, // a finished order holds nothing
      // status, expiry reason, TP/SL bits (snapshot.ts)
      ((packed >> 8) & 7) | (((packed >> 12) & 7) << 3) | (((packed >> CONDITIONAL_SHIFT) & 7) << 8),
      field(Column.RejectCode),
      field(Column.CreatedAt),
      field(Column.UpdatedAt),
    );
  }
}

function unpackType(packed: number): number {
  return ((packed >> 1) & 3) | (((packed >> TYPE_HIGH_BIT) & 1) << 2);
}
