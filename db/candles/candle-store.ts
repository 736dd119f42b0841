/**
 * The API's candle reads (implements the CandlePort of contract/ports/candles.ts). 1-minute rows
 * are read as they are; a larger interval groups the 1-minute rows by UTC bucket (`open_time - open_time % interval`: the epoch is a UTC midnight, so 1h, 4h and 1d buckets
 * start on UTC hours and days). Buckets without any trade have no row and are not returned.
 *
 * `limit` counts candles, as Binance's klines do. At most limit × (interval / 1 min) minute rows can
 * make up `limit` buckets, so the rows are read in order with that LIMIT and grouped: the first
 * `limit` buckets are whole, and the index (symbol, open_time) bounds the work.
 */
import type pg from 'pg';
import { canonicalDecimal } from '../../contract/decimal-text.ts';
import type { CandlePort, CandleRead, StoredCandle } from '../../contract/ports/candles.ts';
import { MINUTE_MS } from './minute-candles.ts';

interface Row {
  open_time: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quote_volume: string;
  trades: string;
  first_trade_id: string;
  last_trade_id: string;
}

const MINUTE_COLUMNS = 'open_time, open, high, low, close, volume, quote_volume, trade_count AS trades, first_trade_id, last_trade_id';

const grouped = (intervalMs: number, rows: string, direction: 'ASC' | 'DESC', limitParameter: string) => `
  SELECT open_time - open_time % ${intervalMs} AS open_time,
         (array_agg(open ORDER BY open_time))[1] AS open, max(high) AS high, min(low) AS low,
         (array_agg(close ORDER BY open_time DESC))[1] AS close,
         sum(volume) AS volume, sum(quote_volume) AS quote_volume, sum(trade_count) AS trades,
         min(first_trade_id) AS first_trade_id, max(last_trade_id) AS last_trade_id
  FROM (${rows}) AS minutes
  GROUP BY 1 ORDER BY 1 ${direction} LIMIT ${limitParameter}`;

export class CandleStore implements CandlePort {
  readonly #pool: Pick<pg.Pool, 'query'>;

  constructor(pool: Pick<pg.Pool, 'query'>) {
    this.#pool = pool;
  }

  /** Oldest first; from `start` when given, else the latest ones up to `end` (or now). */
  async candles(read: CandleRead): Promise<StoredCandle[]> {
    const { symbol, intervalMs, limit } = read;
    if (!Number.isSafeInteger(intervalMs) || intervalMs < MINUTE_MS || intervalMs % MINUTE_MS !== 0)
      throw new RangeError(`bad interval ${intervalMs}`);
    const bucket = (time: number) => time - (time % intervalMs);
    // minute rows strictly before the end of the bucket holding `end`
    const before = read.end === undefined ? undefined : bucket(read.end) + intervalMs;
    const forward = read.start !== undefined;
    const minuteRows = limit * (intervalMs / MINUTE_MS);
    const values: unknown[] = [symbol];
    const where = ['symbol = $1'];
    if (forward) {
      values.push(bucket(read.start!));
      where.push(`open_time >= $${values.length}`);
    }
    if (before !== undefined) {
      values.push(before);
      where.push(`open_time < $${values.length}`);
    }
    values.push(minuteRows);
    const rows = `SELECT * FROM candles_1m WHERE ${where.join(' AND ')} ORDER BY open_time ${forward ? 'ASC' : 'DESC'} LIMIT $${values.length}`;
    let text: string;
    if (intervalMs === MINUTE_MS) {
      text = `SELECT ${MINUTE_COLUMNS} FROM (${rows}) AS minutes ORDER BY open_time`;
    } else {
      values.push(limit);
      text = grouped(intervalMs, rows, forward ? 'ASC' : 'DESC', `$${values.length}`);
    }
    const result = await this.#pool.query<Row>(text, values);
    const candles = result.rows.map((row) => ({
      openTime: Number(row.open_time),
      open: canonicalDecimal(row.open),
      high: canonicalDecimal(row.high),
      low: canonicalDecimal(row.low),
      close: canonicalDecimal(row.close),
      volume: canonicalDecimal(row.volume),
      quoteVolume: canonicalDecimal(row.quote_volume),
      trades: Number(row.trades),
      firstTradeId: row.first_trade_id,
      lastTradeId: row.last_trade_id,
    }));
    if (!forward && intervalMs !== MINUTE_MS) candles.reverse();
    return candles;
  }
}
