import type { EngineEvent, Side } from '../engine/index.ts';

/** A trade as kept for GET /v1/trades (engine units). */
export interface RecentTrade {
  readonly tradeId: number;
  readonly price: number; // ticks
  readonly quantity: number; // lots
  readonly quoteQuantity: number; // quote minor units
  readonly takerSide: Side;
  readonly timestamp: number;
  /** a liquidation order's or an ADL fill (perpetuals): GET /v1/trades shows `liquidation: true`, as the Trade envelope does */
  readonly liquidation?: true;
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
 * too, so they rebuild after a restart from the events after the latest snapshot). Bounded: a
 * trades ring per symbol and a reject-reason map of the most recent rejected orders. (Which
 * client_order_id is taken is engine state: MatchingEngine.orderForClientOrderId.)
 */
export class EventFeed {
  readonly #symbols = new Map<string, SymbolProjection>();
  readonly #tradesPerSymbol: number;
  readonly #rejections = new Map<number, RejectionRecord>();
  readonly #rejectionOrder: FifoRing<number>;

  constructor(options: EventFeedOptions = {}) {
    this.#tradesPerSymbol = options.tradesPerSymbol ?? 1000;
    this.#rejectionOrder = new FifoRing(options.recentRejections ?? 100_000);
  }

  /** The sequencer's event sink. Synchronous and cheap: it runs on the writer loop. */
  readonly onEvents = (events: readonly EngineEvent[]): void => {
    for (const event of events) this.#apply(event);
  };

  #apply(event: EngineEvent): void {
    switch (event.type) {
      case 'OrderRejected':
        // Only a refused place makes an order Rejected: a refused cancel or amend names an order
        // that stays what it was (recording it would show a later-forgotten order as Rejected).
        if (event.orderId !== undefined && event.commandType === 'PlaceOrder') {
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
          ...(event.liquidation === true ? { liquidation: true as const } : {}),
        });
        break;
      }
      default:
        break; // the order reports, BalanceChanged, BookDelta, Ticker: nothing to project
    }
  }

  rejection(orderId: number): RejectionRecord | undefined {
    return this.#rejections.get(orderId);
  }

  recentTrades(symbol: string, limit: number): RecentTrade[] {
    return this.#symbols.get(symbol)?.recent(limit) ?? [];
  }
}
