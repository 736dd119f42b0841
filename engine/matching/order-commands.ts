/**
 * The order commands: PlaceOrder (checks, the market's hold, accept, match or wait as a stop),
 * CancelOrder and AmendOrder, and the Rejected records a refused PlaceOrder leaves answerable by
 * id. Funds move only through the book's settlement (Book.settlement).
 */
import type { CommandEvents } from '../command-events.ts';
import type { Ledger } from '../ledger.ts';
import { REJECT_CODES, type RejectReason } from '../reject-codes.ts';
import type { AmendOrderCommand, CancelOrderCommand, EngineConfig, PlaceOrderCommand } from '../types.ts';
import { isNonNegativeSafe, validatePlaceOrder } from '../validation.ts';
import type { Book } from './book.ts';
import type { BookDeltas } from './book-deltas.ts';
import type { Matcher } from './matcher.ts';
import type { OrderLifecycle } from './order-lifecycle.ts';
import type { OrderNode } from './order.ts';

/** Rejections where the command is too malformed to keep a Rejected order record of it. */
const UNRECORDABLE = new Set<RejectReason>([
  'INVALID_ORDER_ID',
  'INVALID_USER_ID',
  'INVALID_TIMESTAMP',
  'INVALID_SIDE',
  'INVALID_ORDER_TYPE',
  'INVALID_TIME_IN_FORCE',
  'INVALID_STP_MODE',
  'INVALID_COMMAND',
  'INVALID_CLIENT_ORDER_ID',
  'DUPLICATE_ORDER_ID',
  'DUPLICATE_CLIENT_ORDER_ID',
]);

export class OrderCommands {
  constructor(
    private readonly config: EngineConfig,
    private readonly books: ReadonlyMap<string, Book>,
    private readonly ledger: Ledger,
    private readonly events: CommandEvents,
    private readonly deltas: BookDeltas,
    private readonly lifecycle: OrderLifecycle,
    private readonly matcher: Matcher,
  ) {}

  placeOrder(command: PlaceOrderCommand): void {
    const events = this.events;
    const lifecycle = this.lifecycle;
    const book = this.books.get(command.symbol);
    const reason = validatePlaceOrder(book?.market, command);
    if (reason !== undefined) return this.rejectOrder(reason, command);
    if (lifecycle.orders.get(command.orderId) !== undefined) return this.rejectOrder('DUPLICATE_ORDER_ID', command);
    const clientOrderId = command.clientOrderId;
    if (clientOrderId !== undefined) {
      // One order per (user, client order id) among open and remembered orders: the retry is told
      // which order has it, and leaves no record of its own (it must not shadow the original).
      const original = this.ledger.find(command.userId)?.clientOrderIds?.get(clientOrderId);
      if (original !== undefined) return events.reject('DUPLICATE_CLIENT_ORDER_ID', command, command.orderId, undefined, original);
    }
    // Bounded per user: an order that could rest (a GTC limit, a stop) needs room under the cap.
    if (command.stopPrice !== undefined || (command.orderType === 'Limit' && command.timeInForce === 'GTC')) {
      const open = this.ledger.find(command.userId)?.openByMarket[book!.index] ?? 0;
      if (open >= this.config.maxOpenOrdersPerUserMarket) return this.rejectOrder('TOO_MANY_OPEN_ORDERS', command);
    }
    const market = (book as Book).market;
    const isBuy = command.side === 'Buy';
    if (command.postOnly) {
      const best = (isBuy ? book!.asks : book!.bids).best();
      if (best !== undefined && (isBuy ? command.price! >= best.price : command.price! <= best.price)) {
        return this.rejectOrder('POST_ONLY_WOULD_TAKE', command);
      }
    }
    // A market order by quantity has a value only against the book: at the best price now it must
    // reach the minimum notional, as a limit order must at its price. (Below it, a whole order's fee
    // rounds down to little or nothing — ops/security.int.test.ts.)
    if (command.orderType === 'Market' && command.quantity !== undefined) {
      const best = (isBuy ? book!.asks : book!.bids).best();
      if (best !== undefined && best.price * command.quantity * market.quotePerTickLot < market.minNotional) {
        return this.rejectOrder('NOTIONAL_BELOW_MIN', command);
      }
    }

    // Pre-trade hold: what the order can cost at most, taken by the market's settlement.
    const account = this.ledger.account(command.userId);
    const hold = book!.settlement.hold(book!, account, command);
    if (typeof hold !== 'number') return this.rejectOrder(hold, command);

    const order = lifecycle.newOrder(command, market, account, isBuy);
    order.locked = hold;
    lifecycle.orders.set(order.orderId, order);
    if (clientOrderId !== undefined) lifecycle.claimClientOrderId(account, clientOrderId, order.orderId);
    if (command.stopPrice !== undefined) {
      order.status = 'Untriggered';
      lifecycle.list(book!, order);
      book!.stops.add(order);
      events.emit({ type: 'OrderAccepted', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
    } else {
      events.emit({ type: 'OrderAccepted', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
      this.matcher.execute(book!, order);
    }
    // a mark-price order placed already through the mark fires at once, as a last-price one does
    // through the last price (perp/README decision 52); only this order can, the others would have
    const markTicks = order.workingType === 'MARK_PRICE' && order.status === 'Untriggered' ? book!.markTicks() : 0;
    const markFired = markTicks > 0 ? book!.stops.takeMarkTriggered(markTicks) : [];
    if (markFired.length > 0 || (book!.stops.size > 0 && book!.lastPrice > 0)) this.matcher.fireStops(book!, markFired);
  }

  cancelOrder(command: CancelOrderCommand): void {
    const order = this.findOwnOrder(command);
    if (order === undefined) return;
    const events = this.events;
    const book = this.books.get(order.symbol)!;
    if (order.status === 'Untriggered') book.stops.remove(order);
    else this.lifecycle.unrest(book, order);
    order.status = 'Cancelled';
    order.updatedAt = events.timestamp;
    events.emit({ type: 'OrderCancelled', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
    this.lifecycle.retire(book, order);
  }

  amendOrder(command: AmendOrderCommand): void {
    const order = this.findOwnOrder(command);
    if (order === undefined) return;
    const events = this.events;
    const newQuantity = command.newQuantity;
    if (order.byQuote) return events.reject('AMEND_NOT_ALLOWED', command, order.orderId);
    if (typeof newQuantity !== 'number' || !Number.isSafeInteger(newQuantity) || newQuantity <= 0) {
      return events.reject('INVALID_QUANTITY', command, order.orderId);
    }
    if (newQuantity >= order.quantity) return events.reject('AMEND_NOT_REDUCING', command, order.orderId);
    if (newQuantity <= order.filled) return events.reject('AMEND_BELOW_FILLED', command, order.orderId);
    const book = this.books.get(order.symbol)!;
    const reduction = order.quantity - newQuantity;
    const level = order.level;
    if (level !== null) {
      level.total -= reduction;
      this.deltas.touch(book, order.isBuy, level);
    }
    order.quantity = newQuantity;
    order.updatedAt = events.timestamp;
    book.settlement.releaseReduced(book, order, reduction);
    events.emit({ type: 'OrderAmended', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
  }

  private findOwnOrder(command: CancelOrderCommand | AmendOrderCommand): OrderNode | undefined {
    const events = this.events;
    if (!isNonNegativeSafe(command.userId)) return events.reject('INVALID_USER_ID', command, undefined);
    if (!isNonNegativeSafe(command.timestamp)) return events.reject('INVALID_TIMESTAMP', command, undefined);
    const orderId = command.orderId;
    const order = typeof orderId === 'number' && orderId > 0 ? this.lifecycle.orders.get(orderId) : undefined;
    if (typeof order !== 'object') {
      // A number is a remembered finished order's slot: the owner hears it is not open, anyone else
      // that it is not theirs (as for an open order).
      const reason =
        order === undefined
          ? 'ORDER_NOT_FOUND'
          : this.lifecycle.recent.userIdAt(order) === command.userId
            ? 'ORDER_NOT_OPEN'
            : 'NOT_ORDER_OWNER';
      return events.reject(reason, command, isNonNegativeSafe(orderId) ? orderId : undefined);
    }
    if (order.userId !== command.userId) return events.reject('NOT_ORDER_OWNER', command, orderId);
    return order;
  }

  private rejectOrder(reason: RejectReason, command: PlaceOrderCommand): void {
    const validId = isNonNegativeSafe(command.orderId) && command.orderId > 0;
    const order = this.recordRejected(reason, command);
    // The event carries the record's view; the record joins the remembered orders after it.
    this.events.reject(reason, command, validId ? command.orderId : undefined, order?.view());
    if (order === undefined) return;
    // A kept record holds its client order id like any order: a retry is answered with it.
    if (typeof order.clientOrderId === 'string')
      this.lifecycle.claimClientOrderId(this.ledger.account(order.userId), order.clientOrderId, order.orderId);
    this.lifecycle.remember(order);
  }

  /** The Rejected record of a refused PlaceOrder, or undefined when none is kept (not yet remembered). */
  private recordRejected(reason: RejectReason, command: PlaceOrderCommand): OrderNode | undefined {
    // INVALID_TIME_IN_FORCE with a valid value is the combination rule (FOK on a buy by amount
    // alone), checked after every field is known good: such an order is recorded like the others.
    const tif = command.timeInForce;
    const combination = reason === 'INVALID_TIME_IN_FORCE' && (tif === 'GTC' || tif === 'IOC' || tif === 'FOK');
    if ((UNRECORDABLE.has(reason) && !combination) || typeof command.symbol !== 'string') return undefined;
    // An id already known keeps its own record (a rejected command does not shadow it); so does a
    // client order id (a shape refusal comes before the duplicate check).
    if (this.lifecycle.orders.get(command.orderId) !== undefined) return undefined;
    const clientOrderId = command.clientOrderId;
    if (clientOrderId !== undefined && this.ledger.find(command.userId)?.clientOrderIds?.has(clientOrderId) === true) return undefined;
    // Keep the rejected order answerable by id (status Rejected with its reason).
    const order = this.lifecycle.newOrder(command, this.books.get(command.symbol)?.market, null, command.side === 'Buy');
    if (!isNonNegativeSafe(order.price)) order.price = 0;
    if (!isNonNegativeSafe(order.stopPrice)) order.stopPrice = 0;
    // a buy by amount alone bought nothing: its quantity (lots bought) is 0, not the market's cap
    if (!isNonNegativeSafe(order.quantity) || command.quantity === undefined) order.quantity = 0;
    if (!isNonNegativeSafe(order.quoteAmount)) order.quoteAmount = 0;
    order.byQuote = false;
    order.status = 'Rejected';
    order.rejectCode = REJECT_CODES[reason];
    return order;
  }
}
