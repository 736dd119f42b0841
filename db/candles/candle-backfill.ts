/**
 * Rebuilds 1-minute candles from the persisted trades (`trades`, written by the persister), for a
 * fix of past candles or a fresh candle store: `npm run candles:backfill` (ops/candles-backfill.ts).
 *
 * Per symbol, in one transaction under the same advisory lock as the live writer:
 * - the trades used are those the live consumer has already applied (seq ≤ candle_progress.last_seq),
 *   so later trades are left to the consumer and none is counted twice; a symbol the consumer has
 *   not reached yet takes all its trades, and its progress is set to the last of them (the consumer
 *   then skips them);
 * - PostgreSQL must hold every one of those trades: trade ids are gap-free over all markets, so
 *   `count(trade_id ≤ X) = X` proves it (the persister commits out of order and may be behind);
 *   otherwise IncompleteTradesError (retry once the persister caught up);
 * - the minutes in [from, to) are deleted and aggregated again in SQL: open and close by seq,
 *   high/low/volumes/counts as the live fold computes them — one definition, two implementations,
 *   compared by the tests.
 */
import type pg from 'pg';
import { lockSymbols } from './candle-writer.ts';
import { MINUTE_MS } from './minute-candles.ts';

export class IncompleteTradesError extends Error {
  override name = 'IncompleteTradesError';
}

export interface BackfillOptions {
  /** default: every symbol with trades or candle progress */
  readonly symbols?: readonly string[];
  /** ms, rounded down to the minute; default: the beginning */
  readonly from?: number;
  /** ms, exclusive, rounded up to the minute; default: no end */
  readonly to?: number;
}

export interface BackfillResult {
  readonly symbol: string;
  readonly trades: number;
  readonly candleRows: number;
  readonly deletedRows: number;
  /** the last seq the rebuilt candles include (null: the symbol has no trades) */
  readonly throughSeq: number | null;
}

const FAR_FUTURE = 8_640_000_000_000_000; // JavaScript's maximum Date, ms

export async function backfillCandles(pool: Pick<pg.Pool, 'connect' | 'query'>, options: BackfillOptions = {}): Promise<BackfillResult[]> {
  const from = Math.floor((options.from ?? 0) / MINUTE_MS) * MINUTE_MS;
  const to = options.to === undefined ? FAR_FUTURE : Math.ceil(options.to / MINUTE_MS) * MINUTE_MS;
  const symbols =
    options.symbols ??
    (
      await pool.query<{ symbol: string }>(
        // a loose index scan over trades_symbol (symbol, trade_id DESC): one probe per symbol, not a scan of every trade
        `WITH RECURSIVE s AS (
           (SELECT symbol FROM trades ORDER BY symbol LIMIT 1)
           UNION ALL
           SELECT (SELECT t.symbol FROM trades t WHERE t.symbol > s.symbol ORDER BY t.symbol LIMIT 1) FROM s WHERE s.symbol IS NOT NULL
         )
         SELECT symbol FROM s WHERE symbol IS NOT NULL UNION SELECT symbol FROM candle_progress ORDER BY 1`,
      )
    ).rows.map((row) => row.symbol);
  const results: BackfillResult[] = [];
  for (const symbol of symbols) results.push(await backfillSymbol(pool, symbol, from, to));
  return results;
}

async function backfillSymbol(pool: Pick<pg.Pool, 'connect'>, symbol: string, from: number, to: number): Promise<BackfillResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await lockSymbols(client, [symbol]);
      const progress = await client.query<{ last_seq: string; last_trade_id: string }>(
        'SELECT last_seq, last_trade_id FROM candle_progress WHERE symbol = $1',
        [symbol],
      );
      let through = progress.rows[0];
      if (!through) {
        const last = await client.query<{ last_seq: string | null; last_trade_id: string | null }>(
          'SELECT max(seq) AS last_seq, max(trade_id) AS last_trade_id FROM trades WHERE symbol = $1',
          [symbol],
        );
        if (last.rows[0]?.last_seq == null) {
          await client.query('COMMIT');
          return { symbol, trades: 0, candleRows: 0, deletedRows: 0, throughSeq: null };
        }
        through = { last_seq: last.rows[0].last_seq, last_trade_id: last.rows[0].last_trade_id! };
        await client.query('INSERT INTO candle_progress (symbol, last_seq, last_trade_id) VALUES ($1, $2, $3)', [
          symbol,
          through.last_seq,
          through.last_trade_id,
        ]);
      }
      const held = await client.query<{ count: string }>('SELECT count(*) AS count FROM trades WHERE trade_id <= $1', [
        through.last_trade_id,
      ]);
      if (held.rows[0]!.count !== through.last_trade_id) {
        throw new IncompleteTradesError(
          `${symbol}: PostgreSQL holds ${held.rows[0]!.count} of the ${through.last_trade_id} trades up to trade id ${through.last_trade_id} (the persister is behind): retry later`,
        );
      }
      const deleted = await client.query('DELETE FROM candles_1m WHERE symbol = $1 AND open_time >= $2 AND open_time < $3', [
        symbol,
        from,
        to,
      ]);
      const inserted = await client.query<{ trades: string }>(
        `WITH rebuilt AS (
           INSERT INTO candles_1m (symbol, open_time, open, high, low, close, volume, quote_volume, trade_count, first_trade_id, last_trade_id)
           SELECT symbol, timestamp - timestamp % ${MINUTE_MS} AS open_time,
                  (array_agg(price ORDER BY seq))[1], max(price), min(price), (array_agg(price ORDER BY seq DESC))[1],
                  sum(quantity), sum(quote_quantity), count(*),
                  (array_agg(trade_id ORDER BY seq))[1], (array_agg(trade_id ORDER BY seq DESC))[1]
           FROM trades
           WHERE symbol = $1 AND seq <= $2 AND timestamp >= $3 AND timestamp < $4
           GROUP BY symbol, timestamp - timestamp % ${MINUTE_MS}
           RETURNING trade_count
         )
         SELECT coalesce(sum(trade_count), 0) AS trades, count(*) AS rows FROM rebuilt`,
        [symbol, through.last_seq, from, to],
      );
      await client.query('COMMIT');
      const row = inserted.rows[0] as unknown as { trades: string; rows: string };
      return {
        symbol,
        trades: Number(row.trades),
        candleRows: Number(row.rows),
        deletedRows: deleted.rowCount ?? 0,
        throughSeq: Number(through.last_seq),
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    client.release();
  }
}
