import type { EngineEvent, OrderView, Side } from '../engine/index.ts';

/** A trade as kept for GET /v1/trades (engine units). */
export interface RecentTrade {
  readonly tradeId: number;
  readonly price: number; // ticks
  readonly quantity: number; // lots
  readonly quoteQuantity: number; // quote minor units
  readonly takerSide: Side;
  readonly timestamp: number;
}

/**
 * Per-symbol market projection: a ring of recent trades. (The ticker's 24 h figures are engine
 * state — engine.ticker() — so they survive restarts; they are not projected here.)
 */
class SymbolProjection {
  readonly #trades: RecentTrade[] = [];
  #next = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  add(trade: RecentTrade): void {
    if (this.#trades.length < this.#capacity) this.#trades.push(trade);
    else this.#trades[this.#next] = trade;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Newest first. */
  recent(limit: number): RecentTrade[] {
    const count = Math.min(limit, this.#trades.length);
    const out: RecentTrade[] = [];
    for (let index = 1; index <= count; index++) {
      const position = (this.#next - index + this.#trades.length * 2) % this.#trades.length;
      out.push(this.#trades[position]!);
    }
    return out;
  }
}

/** What an OrderRejected event tells about a rejected place order. */
export interface RejectionRecord {
  readonly reason: string;
  readonly code: number;
  readonly userId: number;
  readonly symbol?: string;
  readonly clientOrderId?: string;
  readonly timestamp: number;
}

export interface EventFeedOptions {
  /** recent trades kept per symbol */
  readonly tradesPerSymbol?: number;
  /** client_order_id entries of finished orders kept for idempotent retries */
  readonly recentClientOrderIds?: number;
  /** reject reasons of recent rejected orders kept for GET /v1/order */
  readonly recentRejections?: number;
}

/** A bounded FIFO: push returns the entry it pushed out once full. O(1), no holes to skip. */
class FifoRing<T> {
  readonly #slots: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#slots = new Array<T | undefined>(Math.max(1, capacity));
  }

  push(value: T): T | undefined {
    const capacity = this.#slots.length;
    if (this.#size < capacity) {
      this.#slots[(this.#head + this.#size) % capacity] = value;
      this.#size++;
      return undefined;
    }
    const out = this.#slots[this.#head];
    this.#slots[this.#head] = value;
    this.#head = (this.#head + 1) % capacity;
    return out;
  }
}

/**
 * The API's projections of the event stream, fed by the sequencer's event sink (replayed events
 * too, so they rebuild after a restart from the events after the latest snapshot). Bounded:
 * trades ring per symbol, and client_order_id / reject-reason maps that
 * keep open orders plus the most recent finished ones.
 */
export class EventFeed {
  readonly #symbols = new Map<string, SymbolProjection>();
  readonly #tradesPerSymbol: number;
  /** `${userId}:${clientOrderId}` → orderId, for open orders and the most recent finished ones */
  readonly #clientOrderIds = new Map<string, number>();
  /**
   * orderId → key of each OPEN order with a client_order_id. Open orders stay out of the eviction
   * order altogether; when one finishes it joins the finished FIFO. (Rotating live entries through
   * one insertion-ordered Map cost O(N²) once the bound was full of open orders: ~22 s per new
   * order at 200,000 — ops/security.test.ts.)
   */
  readonly #openKeys = new Map<number, string>();
  readonly #finishedKeys: FifoRing<string>;
  readonly #rejections = new Map<number, RejectionRecord>();
  readonly #rejectionOrder: FifoRing<number>;

  constructor(options: EventFeedOptions = {}) {
    this.#tradesPerSymbol = options.tradesPerSymbol ?? 1000;
    this.#finishedKeys = new FifoRing(options.recentClientOrderIds ?? 200_000);
    this.#rejectionOrder = new FifoRing(options.recentRejections ?? 100_000);
  }

  /** The sequencer's event sink. Synchronous and cheap: it runs on the writer loop. */
  readonly onEvents = (events: readonly EngineEvent[]): void => {
    for (const event of events) this.#apply(event);
  };

  #apply(event: EngineEvent): void {
    switch (event.type) {
      case 'OrderAccepted':
        if (event.order.clientOrderId !== undefined) this.#rememberClientOrderId(event.order.userId, event.order.clientOrderId, event.order.orderId, true);
        break;
      case 'OrderRejected':
        if (event.orderId !== undefined) {
          this.#rejections.set(event.orderId, {
            reason: event.reason,
            code: event.code,
            userId: event.userId,
            timestamp: event.timestamp,
            ...(event.symbol !== undefined ? { symbol: event.symbol } : {}),
            ...(event.clientOrderId !== undefined ? { clientOrderId: event.clientOrderId } : {}),
          });
          const forgotten = this.#rejectionOrder.push(event.orderId);
          if (forgotten !== undefined && forgotten !== event.orderId) this.#rejections.delete(forgotten);
          if (event.clientOrderId !== undefined && event.commandType === 'PlaceOrder') {
            this.#rememberClientOrderId(event.userId, event.clientOrderId, event.orderId, false);
          }
        }
        break;
      case 'Trade': {
        let projection = this.#symbols.get(event.symbol);
        if (!projection) {
          projection = new SymbolProjection(this.#tradesPerSymbol);
          this.#symbols.set(event.symbol, projection);
        }
        projection.add({
          tradeId: event.tradeId,
          price: event.price,
          quantity: event.quantity,
          quoteQuantity: event.quoteQuantity,
          takerSide: event.takerSide,
          timestamp: event.timestamp,
        });
        if (event.maker.status === 'Filled') this.#finished(event.maker.orderId);
        if (event.taker.status === 'Filled') this.#finished(event.taker.orderId);
        break;
      }
      case 'OrderCancelled':
      case 'OrderExpired':
        this.#finished(event.order.orderId);
        break;
      default:
        break; // BalanceChanged, BookDelta, OrderTriggered, OrderAmended, Ticker: nothing to project
    }
  }

  #rememberClientOrderId(userId: number, clientOrderId: string, orderId: number, open: boolean): void {
    const key = `${userId}:${clientOrderId}`;
    if (this.#clientOrderIds.has(key)) return;
    this.#clientOrderIds.set(key, orderId);
    if (open) this.#openKeys.set(orderId, key);
    else this.#rememberFinishedKey(key);
  }

  /** An order left the book (filled, cancelled, expired): its client_order_id joins the finished FIFO. */
  #finished(orderId: number): void {
    const key = this.#openKeys.get(orderId);
    if (key === undefined) return;
    this.#openKeys.delete(orderId);
    this.#rememberFinishedKey(key);
  }

  #rememberFinishedKey(key: string): void {
    const forgotten = this.#finishedKeys.push(key);
    // The oldest finished entry goes, unless its key was taken since by a newer order.
    if (forgotten !== undefined && forgotten !== key && this.#openKeys.get(this.#clientOrderIds.get(forgotten) ?? -1) !== forgotten) {
      this.#clientOrderIds.delete(forgotten);
    }
  }

  /**
   * Registers open orders found in the recovered engine. Replay only covers the events after the
   * latest snapshot, so without this an order placed before it would lose its client_order_id
   * protection after a restart.
   */
  rememberOpenOrders(orders: readonly OrderView[]): void {
    for (const order of orders) {
      if (order.clientOrderId !== undefined) this.#rememberClientOrderId(order.userId, order.clientOrderId, order.orderId, true);
    }
  }

  /**
   * Registers the finished orders the recovered engine still remembers (oldest first). Their
   * events came before the latest snapshot, so replay did not index their client_order_id, and a
   * retry after a restart — what a client told OUTCOME_UNKNOWN does — would have placed the order
   * again. (They join the eviction order behind what replay indexed: a little early eviction of
   * these, only once more than the bound are kept.)
   */
  rememberFinishedOrders(orders: Iterable<OrderView>): void {
    for (const order of orders) {
      if (order.clientOrderId !== undefined) this.#rememberClientOrderId(order.userId, order.clientOrderId, order.orderId, false);
    }
  }

  /** The order already placed by this user with this client_order_id (open or recent). */
  orderForClientOrderId(userId: number, clientOrderId: string): number | undefined {
    return this.#clientOrderIds.get(`${userId}:${clientOrderId}`);
  }

  rejection(orderId: number): RejectionRecord | undefined {
    return this.#rejections.get(orderId);
  }

  recentTrades(symbol: string, limit: number): RecentTrade[] {
    return this.#symbols.get(symbol)?.recent(limit) ?? [];
  }
}
