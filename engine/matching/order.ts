/**
 * The engine's mutable order record. One node per order, linked into its price level (FIFO) and
 * into its owner's open-order list, so cancel, fill and removal are O(1) without allocation.
 * Callers only ever see OrderView copies.
 */
import type { OrderStatus, OrderType, OrderView, SelfTradePrevention, Side, TimeInForce, WorkingType } from '../types.ts';
import type { PriceLevel } from './book.ts';
import type { Account } from '../ledger.ts';
import { rejectReason } from '../reject-codes.ts';
import { EXPIRY_REASONS } from './recent-orders.ts';

export class OrderNode {
  // Field order is memory layout (V8 keeps in-object fields in declaration order): what a fill,
  // a cancel and the unlinking of a resting order read and write comes first, so a cold order
  // costs as few cache lines as possible; what only views and snapshots read comes last.
  level: PriceLevel | null = null;
  prev: OrderNode | null = null;
  next: OrderNode | null = null;
  userId = 0;
  /** lots, original after amends; for buys by quote amount alone, the market's max quantity as a cap */
  quantity = 0;
  filled = 0;
  isBuy = true;
  /** the owner's ledger account (null for rejected records) */
  account: Account | null = null;
  /** funds this order still holds: quote minor units for buys, base minor units for sells */
  locked = 0;
  /** ticks; 0 when the order has none (market) */
  price = 0;
  status: OrderStatus = 'Pending';
  filledQuote = 0;
  feesPaid = 0;
  /** millionths of a quote minor unit of fee due but not yet charged (arithmetic.ts feeOf), < 10^6 */
  feeCarry = 0;
  updatedAt = 0;
  /** in the engine's open-order index and the owner's open list */
  listed = false;
  /** position in the owner's open-order array (Account.open), -1 when not open */
  openSlot = -1;
  orderId = 0;
  /** true for a market buy given only a quote amount: the view shows quantity = filled */
  byQuote = false;
  side: Side = 'Buy';
  clientOrderId: string | undefined = undefined;
  symbol = '';
  orderType: OrderType = 'Limit';
  timeInForce: TimeInForce = 'GTC';
  postOnly = false;
  stp: SelfTradePrevention = 'ExpireTaker';
  /** ticks; 0 when not a stop order */
  stopPrice = 0;
  /** quote minor units; 0 when not given */
  quoteAmount = 0;
  /** set for status Rejected */
  rejectCode = 0;
  /** set for status Expired: 1 + index in EXPIRY_REASONS (recent-orders.ts) */
  expireReason = 0;
  createdAt = 0;
  /** perpetual stop/take-profit orders: the price the stop watches (stop-book.ts); undefined otherwise */
  workingType: WorkingType | undefined = undefined;
  /** a perpetual close-position order: quantity 0 until it fires, then its leg's size */
  closePosition = false;
  /**
   * An engine-placed liquidation order (perpetuals, perp/liquidation.ts): it pays no taker fee and
   * its trades are public with `liquidation: true`. Always false for orders users place.
   */
  liquidation = false;

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
      expireReason: this.expireReason > 0 ? EXPIRY_REASONS[this.expireReason - 1] : undefined,
      workingType: this.workingType,
      closePosition: this.closePosition ? true : undefined,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
    };
  }
}

/** Statuses of an order that can still trade or be cancelled. */
export function isOpenStatus(status: OrderStatus): boolean {
  return status === 'Pending' || status === 'PartiallyFilled' || status === 'Untriggered';
}
