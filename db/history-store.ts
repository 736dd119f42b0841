/**
 * The API's reads of what the persister wrote (implements the HistoryPort of
 * contract/ports/history.ts). Decimal columns come back as PostgreSQL prints `numeric` (the
 * scale of a sum or product may add trailing zeros) and leave here in the API's canonical form.
 * At most `maxInFlight` queries at once: beyond, a read fails at once (the API answers 503) instead
 * of queueing behind a flood on the pool.
 */
import type pg from 'pg';
import { canonicalDecimal } from '../contract/decimal-text.ts';
import type { FuturesHistoryQuery, PublicHistoryQuery } from '../contract/ports/futures-history.ts';
import type { HistoryPort, HistoryQuery } from '../contract/ports/history.ts';
import { FuturesHistoryReader } from './futures-history-reads.ts';

export class HistoryUnavailableError extends Error {
  override name = 'HistoryUnavailableError';
}

const decimalOrNull = (value: string | null): string | null => (value === null ? null : canonicalDecimal(value));

interface OrderRow {
  order_id: string;
  user_id: string;
  client_order_id: string | null;
  symbol: string;
  side: string;
  order_type: string;
  status: string;
  time_in_force: string | null;
  post_only: boolean | null;
  order_price: string | null;
  stop_price: string | null;
  order_quantity: string;
  quote_amount: string | null;
  filled_quantity: string;
  remaining_quantity: string;
  filled_quote: string;
  avg_price: string | null;
  fees: string;
  fee_asset: string;
  reject_reason: string | null;
  expire_reason: string | null;
  created_at: string;
  updated_at: string;
}

const ORDER_COLUMNS = `order_id, user_id, client_order_id, symbol, side, order_type, status, time_in_force, post_only, order_price, stop_price,
  order_quantity, quote_amount, filled_quantity, remaining_quantity, filled_quote, avg_price, fees, fee_asset, reject_reason, expire_reason,
  created_at, updated_at`;

const FINISHED = `status IN ('Filled', 'Cancelled', 'Expired', 'Rejected')`;

function order(row: OrderRow) {
  return {
    orderId: row.order_id,
    userId: row.user_id,
    clientOrderId: row.client_order_id,
    symbol: row.symbol,
    side: row.side,
    orderType: row.order_type,
    status: row.status,
    timeInForce: row.time_in_force,
    postOnly: row.post_only,
    price: decimalOrNull(row.order_price),
    stopPrice: decimalOrNull(row.stop_price),
    quantity: canonicalDecimal(row.order_quantity),
    quoteAmount: decimalOrNull(row.quote_amount),
    filledQuantity: canonicalDecimal(row.filled_quantity),
    remainingQuantity: canonicalDecimal(row.remaining_quantity),
    filledQuote: canonicalDecimal(row.filled_quote),
    avgPrice: decimalOrNull(row.avg_price),
    fees: canonicalDecimal(row.fees),
    feeAsset: row.fee_asset,
    rejectReason: row.reject_reason,
    expireReason: row.expire_reason,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** `WHERE` clauses and parameters shared by the paged reads. */
function filters(query: HistoryQuery, column: { time: string; cursor: string }): { where: string; values: unknown[] } {
  const values: unknown[] = [query.userId];
  const clauses = ['user_id = $1'];
  const add = (clause: string, value: unknown) => {
    values.push(value);
    clauses.push(clause.replace('?', `$${values.length}`));
  };
  if (query.symbol !== undefined) add('symbol = ?', query.symbol);
  if (query.start !== undefined) add(`${column.time} >= ?`, query.start);
  if (query.end !== undefined) add(`${column.time} <= ?`, query.end);
  if (query.after !== undefined) add(`${column.cursor} > ?`, query.after);
  values.push(query.limit);
  return { where: clauses.join(' AND '), values };
}

export class HistoryStore implements HistoryPort {
  readonly #pool: Pick<pg.Pool, 'query'>;
  readonly #maxInFlight: number;
  #inFlight = 0;
  readonly #futures = new FuturesHistoryReader((text, values) => this.#query(text, values));

  constructor(pool: Pick<pg.Pool, 'query'>, options: { maxInFlight?: number } = {}) {
    this.#pool = pool;
    this.#maxInFlight = options.maxInFlight ?? 32;
  }

  transfers(query: FuturesHistoryQuery) {
    return this.#futures.transfers(query);
  }

  fundingPayments(query: FuturesHistoryQuery) {
    return this.#futures.fundingPayments(query);
  }

  liquidations(query: PublicHistoryQuery) {
    return this.#futures.liquidations(query);
  }

  positionChanges(query: FuturesHistoryQuery) {
    return this.#futures.positionChanges(query);
  }

  async order(userId: number, orderId: number) {
    const result = await this.#query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE order_id = $1 AND user_id = $2`, [
      orderId,
      userId,
    ]);
    return result[0] ? order(result[0]) : undefined;
  }

  async finishedOrders(query: HistoryQuery) {
    const { where, values } = filters(query, { time: 'created_at', cursor: 'order_id' });
    const rows = await this.#query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE ${where} AND ${FINISHED} ORDER BY order_id LIMIT $${values.length}`,
      values,
    );
    return rows.map(order);
  }

  async fills(query: HistoryQuery) {
    const { where, values } = filters(query, { time: 'timestamp', cursor: 'seq' });
    const rows = await this.#query<{
      seq: string;
      order_id: string;
      trade_id: string;
      symbol: string;
      side: string;
      price: string;
      quantity: string;
      quote_quantity: string;
      fee: string;
      fee_asset: string;
      is_maker: boolean | null;
      timestamp: string;
    }>(
      `SELECT seq, order_id, trade_id, symbol, side, price, quantity, price * quantity AS quote_quantity, fee, fee_asset, is_maker, timestamp
       FROM executions WHERE ${where} AND exec_type IN ('Trade', 'ADL') ORDER BY seq LIMIT $${values.length}`,
      values,
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      orderId: row.order_id,
      tradeId: row.trade_id,
      symbol: row.symbol,
      side: row.side,
      price: canonicalDecimal(row.price),
      quantity: canonicalDecimal(row.quantity),
      quoteQuantity: canonicalDecimal(row.quote_quantity),
      fee: canonicalDecimal(row.fee),
      feeAsset: row.fee_asset,
      isMaker: row.is_maker,
      timestamp: Number(row.timestamp),
    }));
  }

  async trades(symbol: string, limit: number, beforeTradeId?: number) {
    const rows = await this.#query<{
      trade_id: string;
      price: string;
      quantity: string;
      quote_quantity: string;
      taker_side: string;
      timestamp: string;
    }>(
      beforeTradeId === undefined
        ? 'SELECT trade_id, price, quantity, quote_quantity, taker_side, timestamp FROM trades WHERE symbol = $1 ORDER BY trade_id DESC LIMIT $2'
        : 'SELECT trade_id, price, quantity, quote_quantity, taker_side, timestamp FROM trades WHERE symbol = $1 AND trade_id < $3 ORDER BY trade_id DESC LIMIT $2',
      beforeTradeId === undefined ? [symbol, limit] : [symbol, limit, beforeTradeId],
    );
    return rows.map((row) => ({
      tradeId: row.trade_id,
      price: canonicalDecimal(row.price),
      quantity: canonicalDecimal(row.quantity),
      quoteQuantity: canonicalDecimal(row.quote_quantity),
      takerSide: row.taker_side,
      timestamp: Number(row.timestamp),
    }));
  }

  async #query<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    if (this.#inFlight >= this.#maxInFlight) throw new HistoryUnavailableError(`more than ${this.#maxInFlight} history reads at once`);
    this.#inFlight++;
    try {
      return (await this.#pool.query<T>(text, values)).rows;
    } finally {
      this.#inFlight--;
    }
  }
}
