/**
 * The market-data service's PostgreSQL half: one transaction per Kafka batch. Under a per-symbol
 * advisory lock (shared with the backfill, and with a second consumer that still holds a partition
 * during a rebalance) it reads each symbol's last applied seq, folds the batch's newer trades into
 * minute candles in memory (minute-candles.ts), merges them into `candles_1m` with one multi-row
 * upsert, and moves `candle_progress` in the same transaction. The caller commits the Kafka offsets
 * only after this resolves, so a crash in between re-reads trades that are then skipped by seq.
 */
import type pg from 'pg';
import { aggregateMinutes, type CandleTrade, type MinuteCandle, type SymbolProgress } from './minute-candles.ts';

/** Arbitrary constant naming "candles of one symbol" among PostgreSQL advisory locks (key 2: hashtext(symbol)). */
export const CANDLE_LOCK_KEY = 7_402_010;

/** Locks the symbols in hash order, so two transactions never wait on each other in a cycle. */
export async function lockSymbols(client: Pick<pg.PoolClient, 'query'>, symbols: readonly string[]): Promise<void> {
  await client.query(
    `SELECT pg_advisory_xact_lock(${CANDLE_LOCK_KEY}, h) FROM (SELECT DISTINCT hashtext(s) AS h FROM unnest($1::text[]) AS s ORDER BY 1) AS locks`,
    [symbols],
  );
}

export interface CandleWriteResult {
  readonly applied: number;
  readonly duplicates: number;
  readonly candleRows: number;
  readonly progress: ReadonlyMap<string, SymbolProgress>;
}

const UPSERT = `
  INSERT INTO candles_1m AS c (symbol, open_time, open, high, low, close, volume, quote_volume, trade_count, first_trade_id, last_trade_id)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[],
                       $9::integer[], $10::bigint[], $11::bigint[])
  ON CONFLICT (symbol, open_time) DO UPDATE SET
    high = GREATEST(c.high, EXCLUDED.high),
    low = LEAST(c.low, EXCLUDED.low),
    close = EXCLUDED.close,
    volume = c.volume + EXCLUDED.volume,
    quote_volume = c.quote_volume + EXCLUDED.quote_volume,
    trade_count = c.trade_count + EXCLUDED.trade_count,
    last_trade_id = EXCLUDED.last_trade_id`;

const PROGRESS = `
  INSERT INTO candle_progress AS p (symbol, last_seq, last_trade_id, updated_at)
  SELECT symbol, last_seq, last_trade_id, now() FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t (symbol, last_seq, last_trade_id)
  ON CONFLICT (symbol) DO UPDATE SET last_seq = EXCLUDED.last_seq, last_trade_id = EXCLUDED.last_trade_id, updated_at = now()`;

function columns(candles: readonly MinuteCandle[]): unknown[] {
  return [
    candles.map((c) => c.symbol),
    candles.map((c) => String(c.openTime)),
    candles.map((c) => c.open),
    candles.map((c) => c.high),
    candles.map((c) => c.low),
    candles.map((c) => c.close),
    candles.map((c) => c.volume),
    candles.map((c) => c.quoteVolume),
    candles.map((c) => c.tradeCount),
    candles.map((c) => c.firstTradeId),
    candles.map((c) => c.lastTradeId),
  ];
}

export class CandleWriter {
  readonly #pool: Pick<pg.Pool, 'connect'>;

  constructor(pool: Pick<pg.Pool, 'connect'>) {
    this.#pool = pool;
  }

  /** Applies the trades of one batch (each symbol's in seq order); trades already applied are skipped. */
  async write(trades: readonly CandleTrade[]): Promise<CandleWriteResult> {
    if (trades.length === 0) return { applied: 0, duplicates: 0, candleRows: 0, progress: new Map() };
    const symbols = [...new Set(trades.map((trade) => trade.symbol))].sort();
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        await lockSymbols(client, symbols);
        const applied = await client.query<{ symbol: string; last_seq: string }>(
          'SELECT symbol, last_seq FROM candle_progress WHERE symbol = ANY($1::text[])',
          [symbols],
        );
        const lastSeq = new Map(applied.rows.map((row) => [row.symbol, Number(row.last_seq)]));
        const aggregate = aggregateMinutes(trades, (symbol) => lastSeq.get(symbol) ?? 0);
        if (aggregate.candles.length > 0) {
          await client.query(UPSERT, columns(aggregate.candles));
          const progress = [...aggregate.progress];
          await client.query(PROGRESS, [
            progress.map(([symbol]) => symbol),
            progress.map(([, p]) => String(p.lastSeq)),
            progress.map(([, p]) => p.lastTradeId),
          ]);
        }
        await client.query('COMMIT');
        return {
          applied: aggregate.applied,
          duplicates: aggregate.duplicates,
          candleRows: aggregate.candles.length,
          progress: aggregate.progress,
        };
      } catch (error) {
        // a connection that failed mid-transaction is not given back to the pool
        await client.query('ROLLBACK').catch((rollback: Error) => {
          broken = rollback;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }
}
