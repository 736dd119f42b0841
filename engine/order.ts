/**
 * The engine's mutable order record. One node per order, linked into its price level (FIFO) and
 * into its owner's open-order list, so cancel, fill and removal are O(1) without allocation.
 * Callers only ever see OrderView copies.
 */
import type { OrderStatus, OrderType, OrderView, SelfTradePrevention, Side, TimeInForce } from './types.ts';
import type { PriceLevel } from './book.ts';
import type { Account } from './ledger.ts';
import { rejectReason } from './reject-codes.ts';

export class OrderNode {
  orderId = 0;
  userId = 0;
  clientOrderId: string | undefined = undefined;
  symbol = '';
  side: Side = 'Buy';
  isBuy = true;
  orderType: OrderType = 'Limit';
  timeInForce: TimeInForce = 'GTC';
  postOnly = false;
  stp: SelfTradePrevention = 'ExpireTaker';
  /** ticks; 0 when the order has none (market) */
  price = 0;
  /** ticks; 0 when not a stop order */
  stopPrice = 0;
  /** lots, original after amends; for buys by quote amount alone, the market's max quantity as a cap */
  quantity = 0;
  /** true for a market buy given only a quote amount: the view shows quantity = filled */
  byQuote = false;
  /** quote minor units; 0 when not given */
  quoteAmount = 0;
  filled = 0;
  filledQuote = 0;
  feesPaid = 0;
  /** funds this order still holds: quote minor units for buys, base minor units for sells */
  locked = 0;
  status: OrderStatus = 'Pending';
  /** set for status Rejected */
  rejectCode = 0;
  createdAt = 0;
  updatedAt = 0;

  /** the owner's ledger account (null for rejected records) */
  account: Account | null = null;
  /** in the engine's open-order index and the owner's open list */
  listed = false;
  level: PriceLevel | null = null;
  prev: OrderNode | null = null;
  next: OrderNode | null = null;
  /** position in the owner's open-order array (Account.open), -1 when not open */
  openSlot = -1;

  view(): OrderView {
    return {
      orderId: this.orderId,
      userId: this.userId,
      clientOrderId: this.clientOrderId,
      symbol: this.symbol,
      side: this.side,
      orderType: this.orderType,
      timeInForce: this.timeInForce,
      postOnly: this.postOnly,
      price: this.price > 0 ? this.price : undefined,
      stopPrice: this.stopPrice > 0 ? this.stopPrice : undefined,
      quantity: this.byQuote ? this.filled : this.quantity,
      quoteAmount: this.quoteAmount > 0 ? this.quoteAmount : undefined,
      filledQuantity: this.filled,
      remainingQuantity: this.byQuote ? 0 : this.quantity - this.filled,
      filledQuote: this.filledQuote,
      feesPaid: this.feesPaid,
      status: this.status,
      rejectCode: this.rejectCode > 0 ? this.rejectCode : undefined,
      rejectReason: this.rejectCode > 0 ? rejectReason(this.rejectCode) : undefined,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }
}

/** Statuses of an order that can still trade or be cancelled. */
export function isOpenStatus(status: OrderStatus): boolean {
  return status === 'Pending' || status === 'PartiallyFilled' || status === 'Untriggered';
}
