/**
 * What the API reads from PostgreSQL once the persister has written it (api/ uses the port,
 * db/history-store.ts implements it): orders the engine no longer remembers, finished orders, a user's fills, and
 * trades older than the in-memory ring. Values are wire-ready: decimals as canonical strings in the
 * API's units, ids as decimal strings, times in ms. Any failure rejects; the routes answer 503
 * STORE_UNAVAILABLE.
 */
import type { FuturesHistoryReads } from './futures-history.ts';

export interface StoredOrder {
  readonly orderId: string;
  readonly userId: string;
  readonly clientOrderId: string | null;
  readonly symbol: string;
  readonly side: string;
  readonly orderType: string;
  readonly status: string;
  /** null: not carried by the execution reports (envelope v1) */
  readonly timeInForce: string | null;
  readonly postOnly: boolean | null;
  readonly price: string | null;
  readonly stopPrice: string | null;
  readonly quantity: string;
  readonly quoteAmount: string | null;
  readonly filledQuantity: string;
  readonly remainingQuantity: string;
  readonly filledQuote: string;
  readonly avgPrice: string | null;
  readonly fees: string;
  readonly feeAsset: string;
  readonly rejectReason: string | null;
  readonly expireReason: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One of the user's own Trade execution reports. */
export interface StoredFill {
  readonly seq: number;
  readonly orderId: string;
  readonly tradeId: string;
  readonly symbol: string;
  readonly side: string;
  readonly price: string;
  readonly quantity: string;
  readonly quoteQuantity: string;
  readonly fee: string;
  readonly feeAsset: string;
  readonly isMaker: boolean | null;
  readonly timestamp: number;
}

export interface StoredTrade {
  readonly tradeId: string;
  readonly price: string;
  readonly quantity: string;
  readonly quoteQuantity: string;
  readonly takerSide: string;
  readonly timestamp: number;
}

export interface HistoryQuery {
  readonly userId: number;
  readonly symbol?: string;
  /** ms, inclusive: orders by created_at, fills by timestamp */
  readonly start?: number;
  readonly end?: number;
  /** rows strictly after this cursor (order id / seq) */
  readonly after?: number;
  readonly limit: number;
}

export interface HistoryPort extends FuturesHistoryReads {
  /** the user's order, or undefined (none, or another user's) */
  order(userId: number, orderId: number): Promise<StoredOrder | undefined>;
  /** Filled, Cancelled, Expired and Rejected orders, oldest first (ascending order id) */
  finishedOrders(query: HistoryQuery): Promise<StoredOrder[]>;
  /** the user's fills, oldest first (ascending seq) */
  fills(query: HistoryQuery): Promise<StoredFill[]>;
  /** the symbol's trades, newest first, older than `beforeTradeId` when given */
  trades(symbol: string, limit: number, beforeTradeId?: number): Promise<StoredTrade[]>;
}
