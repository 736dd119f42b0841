/**
 * What GET /v1/candles reads (api/ uses the port, db/candles/candle-store.ts implements it):
 * candles built by the market-data service from the Kafka trade feed, 1-minute rows in PostgreSQL,
 * larger intervals grouped from them by UTC bucket. Values are wire-ready: canonical decimal strings, ids as decimal
 * strings, times in ms. Buckets without trades are absent. Any failure rejects (the route answers
 * 503 STORE_UNAVAILABLE).
 */

export interface CandleRead {
  readonly symbol: string;
  /** a multiple of one minute that divides a day */
  readonly intervalMs: number;
  /** the candle containing this ms and later ones, oldest first, up to `limit` */
  readonly start?: number;
  /** candles opening at or before this ms; without `start`, the latest `limit` of them */
  readonly end?: number;
  readonly limit: number;
}

export interface StoredCandle {
  readonly openTime: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly quoteVolume: string;
  readonly trades: number;
  readonly firstTradeId: string;
  readonly lastTradeId: string;
}

export interface CandlePort {
  /** oldest first */
  candles(read: CandleRead): Promise<StoredCandle[]>;
}
