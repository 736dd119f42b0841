/**
 * The PostgreSQL halves of the API's reads (through the HistoryPort): wire views of stored rows, the
 * 503 mapping, and the fall-backs of GET /v1/order/{id} (an order the engine no longer remembers)
 * and GET /v1/trades/{symbol} (trades older than the in-memory ring).
 */
import type { MarketSpec } from '../engine/index.ts';
import type { ApiDeps } from './context.ts';
import { ApiError } from './errors.ts';
import type { HistoryPort, StoredFill, StoredOrder, StoredTrade } from '../contract/ports/history.ts';
import type { Views } from './views.ts';

/** The same fields, in the same order, as Views.order() for an order the engine holds. */
export function storedOrderView(order: StoredOrder): Record<string, unknown> {
  return {
    order_id: order.orderId,
    client_order_id: order.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    order_type: order.orderType,
    time_in_force: order.timeInForce,
    post_only: order.postOnly,
    price: order.price,
    stop_price: order.stopPrice,
    quantity: order.quantity,
    quote_amount: order.quoteAmount,
    filled_quantity: order.filledQuantity,
    remaining_quantity: order.remainingQuantity,
    filled_quote: order.filledQuote,
    avg_price: order.avgPrice,
    fees: order.fees,
    fee_asset: order.feeAsset,
    status: order.status,
    reject_reason: order.status === 'Rejected' ? order.rejectReason : null,
    expire_reason: order.expireReason,
    created_at: order.createdAt,
    updated_at: order.updatedAt,
  };
}

export function storedFillView(fill: StoredFill): Record<string, unknown> {
  return {
    seq: fill.seq,
    order_id: fill.orderId,
    trade_id: fill.tradeId,
    symbol: fill.symbol,
    side: fill.side,
    price: fill.price,
    quantity: fill.quantity,
    quote_quantity: fill.quoteQuantity,
    fee: fill.fee,
    fee_asset: fill.feeAsset,
    is_maker: fill.isMaker,
    timestamp: fill.timestamp,
  };
}

/** The same fields as Views.trade() for a trade of the in-memory ring. */
export function storedTradeView(trade: StoredTrade): Record<string, unknown> {
  return {
    trade_id: trade.tradeId,
    price: trade.price,
    quantity: trade.quantity,
    quote_quantity: trade.quoteQuantity,
    taker_side: trade.takerSide,
    timestamp: trade.timestamp,
  };
}

/** Runs a PostgreSQL read; any failure is 503 STORE_UNAVAILABLE (logged: a bug would look the same to the client). */
export async function fromHistory<T>(deps: ApiDeps, read: (history: HistoryPort) => Promise<T>): Promise<T> {
  const history = deps.history;
  if (!history) throw new ApiError('STORE_UNAVAILABLE', 'history is not configured on this server');
  try {
    return await read(history);
  } catch (error) {
    deps.logger?.warn({ err: error }, 'history read failed: answered 503 STORE_UNAVAILABLE');
    throw new ApiError('STORE_UNAVAILABLE', 'the history store (PostgreSQL) is unavailable; retry shortly');
  }
}

/**
 * GET /v1/trades/{symbol}, newest first: the in-memory ring when it holds `limit` trades, else the
 * ring followed by older trades from PostgreSQL (after a restart the ring only holds what was
 * replayed since the latest snapshot). Without a history store, the ring alone.
 */
export async function recentTrades(deps: ApiDeps, views: Views, market: MarketSpec, limit: number): Promise<Record<string, unknown>[]> {
  const recent = deps.feed.recentTrades(market.symbol, limit);
  const fromMemory = recent.map((trade) => views.trade(market, trade));
  if (recent.length >= limit || !deps.history) return fromMemory;
  const oldest = recent[recent.length - 1]?.tradeId;
  const older = await fromHistory(deps, (history) => history.trades(market.symbol, limit - recent.length, oldest));
  return [...fromMemory, ...older.map(storedTradeView)];
}

/** GET /v1/order/{id} for an order the engine does not hold: the caller's own row, or undefined. */
export async function storedOrder(deps: ApiDeps, userId: number, orderId: number): Promise<Record<string, unknown> | undefined> {
  if (!deps.history) return undefined;
  const order = await fromHistory(deps, (history) => history.order(userId, orderId));
  return order ? storedOrderView(order) : undefined;
}
