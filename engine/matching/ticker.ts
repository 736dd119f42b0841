/**
 * A symbol's ticker state: the rolling 24 h window of its trades, as 1,440 one-minute buckets in a
 * ring (bucket of minute m at row m mod 1,440), and what its last Ticker event said.
 *
 * A trade costs one row write (O(1), no allocation); the 24 h figures are an O(1,440) pass over the
 * rows, done when a Ticker is emitted (at most once per symbol per second) or asked for. A bucket
 * belongs to the window ending at `now` when floor(now / 60,000) − 1,440 < minute ≤ floor(now / 60,000):
 * a trade counts in its minute, so the window's edge moves a minute at a time (as the API's event
 * feed did). Rows of minutes older than that are stale and overwritten when their slot comes round.
 */
import type { TickerFigures } from '../types.ts';

export const MINUTES_PER_DAY = 1440;
const MS_PER_MINUTE = 60_000;

/** Numeric fields of a bucket row. */
const enum Column {
  Minute, // -1 = never used
  Open,
  High,
  Low,
  Volume, // lots
  QuoteVolume, // quote minor units
  Count,
}
/** numbers per bucket row (snapshot.ts stores rows this wide) */
export const BUCKET_FIELDS = Column.Count;

export class TickerWindow {
  /** row r = rows[r × BUCKET_FIELDS …]; see Column */
  readonly rows = new Float64Array(MINUTES_PER_DAY * Column.Count).fill(-1);
  /** command timestamp of the last Ticker event, -1 before the first */
  lastAt = -1;
  /** best bid / ask price the last Ticker carried (0 = none) */
  bid = 0;
  ask = 0;
  /** figures changed since the last Ticker (a trade, or a best price unlike the one it carried) */
  dirty = false;
  /** the engine's command epoch of this symbol's latest trade */
  tradedEpoch = -1;
  /** the engine's command epoch in which this symbol was last listed for the end-of-command check */
  checkMark = -1;

  /** Adds one trade to its minute's bucket. */
  record(timestamp: number, price: number, lots: number, quote: number): void {
    const minute = Math.floor(timestamp / MS_PER_MINUTE);
    const rows = this.rows;
    const at = (minute % MINUTES_PER_DAY) * Column.Count;
    if (rows[at + Column.Minute] !== minute) {
      rows[at + Column.Minute] = minute;
      rows[at + Column.Open] = price;
      rows[at + Column.High] = price;
      rows[at + Column.Low] = price;
      rows[at + Column.Volume] = lots;
      rows[at + Column.QuoteVolume] = quote;
      return;
    }
    if (price > rows[at + Column.High]!) rows[at + Column.High] = price;
    if (price < rows[at + Column.Low]!) rows[at + Column.Low] = price;
    rows[at + Column.Volume]! += lots;
    rows[at + Column.QuoteVolume]! += quote;
  }

  /** The figures of the 24 h window ending at `now` (ms), with the given last price and best prices (0 = none). */
  figures(symbol: string, now: number, lastPrice: number, bestBid: number, bestAsk: number): TickerFigures {
    const current = Math.floor(now / MS_PER_MINUTE);
    const oldestAllowed = current - MINUTES_PER_DAY; // exclusive
    const rows = this.rows;
    let volume = 0;
    let quoteVolume = 0;
    let high = 0;
    let low = 0;
    let openMinute = -1;
    let open = 0;
    for (let at = 0; at < rows.length; at += Column.Count) {
      const minute = rows[at + Column.Minute]!;
      if (minute <= oldestAllowed || minute > current) continue; // stale, unused (-1) or after `now`
      volume += rows[at + Column.Volume]!;
      quoteVolume += rows[at + Column.QuoteVolume]!;
      const bucketHigh = rows[at + Column.High]!;
      const bucketLow = rows[at + Column.Low]!;
      if (openMinute < 0) {
        high = bucketHigh;
        low = bucketLow;
      } else {
        if (bucketHigh > high) high = bucketHigh;
        if (bucketLow < low) low = bucketLow;
      }
      if (openMinute < 0 || minute < openMinute) {
        openMinute = minute;
        open = rows[at + Column.Open]!;
      }
    }
    const traded = openMinute >= 0;
    return {
      symbol,
      lastPrice: lastPrice > 0 ? lastPrice : undefined,
      bestBid: bestBid > 0 ? bestBid : undefined,
      bestAsk: bestAsk > 0 ? bestAsk : undefined,
      open24h: traded ? open : undefined,
      high24h: traded ? high : undefined,
      low24h: traded ? low : undefined,
      volume24h: volume,
      quoteVolume24h: quoteVolume,
    };
  }

  /** Used buckets as flat rows in slot order (canonical: equal states give equal lists). */
  encodeBuckets(): number[] {
    const list: number[] = [];
    const rows = this.rows;
    for (let at = 0; at < rows.length; at += Column.Count) {
      if (rows[at + Column.Minute]! < 0) continue;
      for (let field = 0; field < Column.Count; field++) list.push(rows[at + field]!);
    }
    return list;
  }

  restoreBuckets(list: readonly number[]): void {
    for (let offset = 0; offset + Column.Count <= list.length; offset += Column.Count) {
      const minute = list[offset]!;
      const at = (minute % MINUTES_PER_DAY) * Column.Count;
      for (let field = 0; field < Column.Count; field++) this.rows[at + field] = list[offset + field]!;
    }
  }
}
