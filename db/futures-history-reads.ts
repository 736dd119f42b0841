/**
 * The futures reads of the HistoryPort (contract/ports/futures-history.ts) over the tables of
 * migration 004; db/history-store.ts runs them through its bounded query. Each page is oldest first
 * by seq, on an index that starts with its filter (user, symbol or asset, seq).
 */
import type pg from 'pg';
import { canonicalDecimal } from '../contract/decimal-text.ts';
import type {
  FuturesHistoryQuery,
  FuturesHistoryReads,
  PublicHistoryQuery,
  StoredFundingPayment,
  StoredLiquidation,
  StoredPositionChange,
  StoredTransfer,
} from '../contract/ports/futures-history.ts';

export type RunQuery = <T extends pg.QueryResultRow>(text: string, values: unknown[]) => Promise<T[]>;

/** `numeric` text → canonical, keeping the sign ("-2500.00" → "-2500") */
const signed = (value: string): string => (value.startsWith('-') ? `-${canonicalDecimal(value.slice(1))}` : canonicalDecimal(value));

/** `WHERE` and parameters of a page; the last parameter is the limit. */
function page(query: Partial<FuturesHistoryQuery> & { limit: number }): { where: string; limit: string; values: unknown[] } {
  const values: unknown[] = [];
  const clauses: string[] = [];
  const add = (clause: string, value: unknown) => {
    values.push(value);
    clauses.push(clause.replace('?', `$${values.length}`));
  };
  if (query.userId !== undefined) add('user_id = ?', query.userId);
  if (query.symbol !== undefined) add('symbol = ?', query.symbol);
  if (query.asset !== undefined) add('asset = ?', query.asset);
  if (query.start !== undefined) add('timestamp >= ?', query.start);
  if (query.end !== undefined) add('timestamp <= ?', query.end);
  if (query.after !== undefined) add('seq > ?', query.after);
  values.push(query.limit);
  return { where: clauses.length === 0 ? 'true' : clauses.join(' AND '), limit: `$${values.length}`, values };
}

export class FuturesHistoryReader implements FuturesHistoryReads {
  readonly #run: RunQuery;

  constructor(run: RunQuery) {
    this.#run = run;
  }

  async transfers(query: FuturesHistoryQuery): Promise<StoredTransfer[]> {
    const { where, limit, values } = page(query);
    const rows = await this.#run<{ seq: string; asset: string; amount: string; wallet_balance: string; timestamp: string }>(
      `SELECT seq, asset, amount::text, wallet_balance::text, timestamp FROM futures_transfers WHERE ${where} ORDER BY seq LIMIT ${limit}`,
      values,
    );
    return rows.map((row) => {
      const amount = signed(row.amount);
      const out = amount.startsWith('-');
      return {
        seq: Number(row.seq),
        asset: row.asset,
        amount: out ? amount.slice(1) : amount,
        direction: out ? 'futures_to_spot' : 'spot_to_futures',
        walletBalance: signed(row.wallet_balance),
        timestamp: Number(row.timestamp),
      };
    });
  }

  async fundingPayments(query: FuturesHistoryQuery): Promise<StoredFundingPayment[]> {
    const { where, limit, values } = page(query);
    const rows = await this.#run<{
      seq: string;
      symbol: string;
      position_side: string;
      size: string;
      mark_price: string;
      rate: string;
      amount: string;
      timestamp: string;
    }>(
      // rates keep their 8 decimals at the edges ("0.00010000"), as the premium index shows them
      `SELECT seq, symbol, position_side, size::text, mark_price::text, round(rate, 8)::text AS rate, amount::text, timestamp
       FROM futures_funding_payments WHERE ${where} ORDER BY seq LIMIT ${limit}`,
      values,
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      symbol: row.symbol,
      positionSide: row.position_side,
      size: signed(row.size),
      markPrice: canonicalDecimal(row.mark_price),
      rate: row.rate,
      amount: signed(row.amount),
      timestamp: Number(row.timestamp),
    }));
  }

  async liquidations(query: PublicHistoryQuery): Promise<StoredLiquidation[]> {
    const { where, limit, values } = page(query);
    const rows = await this.#run<{
      seq: string;
      symbol: string;
      side: string;
      price: string;
      quantity: string;
      stage: string;
      timestamp: string;
    }>(
      `SELECT seq, symbol, side, price::text, quantity::text, stage, timestamp FROM futures_liquidations WHERE ${where} ORDER BY seq LIMIT ${limit}`,
      values,
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      symbol: row.symbol,
      side: row.side,
      price: canonicalDecimal(row.price),
      quantity: canonicalDecimal(row.quantity),
      stage: row.stage,
      timestamp: Number(row.timestamp),
    }));
  }

  async positionChanges(query: FuturesHistoryQuery): Promise<StoredPositionChange[]> {
    const { where, limit, values } = page(query);
    const rows = await this.#run<{
      seq: string;
      symbol: string;
      position_side: string;
      size: string;
      entry_price: string | null;
      realized_pnl: string;
      margin_type: string;
      isolated_margin: string;
      leverage: number;
      timestamp: string;
    }>(
      `SELECT seq, symbol, position_side, size::text, entry_price::text, realized_pnl::text, margin_type, isolated_margin::text, leverage, timestamp
       FROM futures_position_changes WHERE ${where} ORDER BY seq LIMIT ${limit}`,
      values,
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      symbol: row.symbol,
      positionSide: row.position_side,
      size: signed(row.size),
      entryPrice: row.entry_price === null ? null : canonicalDecimal(row.entry_price),
      realizedPnl: signed(row.realized_pnl),
      marginType: row.margin_type,
      isolatedMargin: canonicalDecimal(row.isolated_margin),
      leverage: row.leverage,
      timestamp: Number(row.timestamp),
    }));
  }
}
