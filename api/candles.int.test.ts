/**
 * GET /v1/candles/{symbol} through createApi and the real candle store (db/candles/candle-store.ts)
 * on a database of this file's own (xtrader_test_candles), with 1-minute rows written directly:
 * the window rules (start, end, limit counting candles, UTC buckets, gaps omitted, `closed`) and
 * every bad parameter answered 400 with its error word. The rows' way in from Kafka is
 * ops/market-data.int.test.ts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CandleStore } from '../db/candles/candle-store.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { json, startTestApi, testPool, type TestApi } from './test-support.ts';

const CANDLES_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_test_candles';
  return url.toString();
})();

const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 3); // a UTC midnight
const NOW = T0 + 2 * 86_400_000 + 30_000; // 30 s into the last row's minute

let credentialsPool: pg.Pool;
let pool: pg.Pool;
let api: TestApi;
let broken: TestApi;

/** minute index → close price; every row: volume 1, quote = price, one trade, trade id = minute index + 1 */
const MINUTES: ReadonlyArray<[number, string]> = [
  [0, '100'],
  [1, '101'],
  [2, '99'],
  [7, '105'],
  [59, '103'],
  [60, '110'],
  [61, '90'],
  [1439, '120'],
  [2 * 1440, '130'], // day 2, the minute NOW is in
];

const get = async (query: string) => api.app.request(`/v1/candles/${query}`);

beforeAll(async () => {
  credentialsPool = await testPool();
  await ensureDatabase(CANDLES_URL);
  pool = new pg.Pool({ connectionString: CANDLES_URL, max: 4 });
  await migrate(pool);
  await pool.query('TRUNCATE candles_1m, candle_progress');
  for (const [minute, price] of MINUTES) {
    await pool.query(
      `INSERT INTO candles_1m (symbol, open_time, open, high, low, close, volume, quote_volume, trade_count, first_trade_id, last_trade_id)
       VALUES ('BTC-KRW', $1, $2, $2, $2, $2, 1, $2, 1, $3, $3)`,
      [T0 + minute * MIN, price, minute + 1],
    );
  }
  // another market's rows never show up in BTC-KRW's candles
  await pool.query(`INSERT INTO candles_1m VALUES ('ETH-KRW', $1, 1, 1, 1, 1, 1, 1, 1, 999, 999)`, [T0]);
  api = await startTestApi(credentialsPool, { candles: new CandleStore(pool), now: () => NOW });
  broken = await startTestApi(credentialsPool, { candles: { candles: () => Promise.reject(new Error('connection refused')) } });
});

afterAll(async () => {
  await api?.close();
  await broken?.close();
  await pool?.end();
  await credentialsPool?.end();
});

describe('GET /v1/candles/{symbol}', () => {
  it('answers 1-minute candles oldest first with the documented fields, omitting minutes without trades', async () => {
    const response = await get(`BTC-KRW?interval=1m&start=${T0}&limit=3`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      symbol: 'BTC-KRW',
      interval: '1m',
      candles: [
        {
          open_time: T0,
          close_time: T0 + MIN - 1,
          open: '100',
          high: '100',
          low: '100',
          close: '100',
          volume: '1',
          quote_volume: '100',
          trades: 1,
          first_trade_id: '1',
          last_trade_id: '1',
          closed: true,
        },
        {
          open_time: T0 + MIN,
          close_time: T0 + 2 * MIN - 1,
          open: '101',
          high: '101',
          low: '101',
          close: '101',
          volume: '1',
          quote_volume: '101',
          trades: 1,
          first_trade_id: '2',
          last_trade_id: '2',
          closed: true,
        },
        {
          open_time: T0 + 2 * MIN,
          close_time: T0 + 3 * MIN - 1,
          open: '99',
          high: '99',
          low: '99',
          close: '99',
          volume: '1',
          quote_volume: '99',
          trades: 1,
          first_trade_id: '3',
          last_trade_id: '3',
          closed: true,
        },
      ],
    });
  });

  it('counts limit in candles, not in intervals: sparse minutes still fill a page', async () => {
    const body = await json(await get(`BTC-KRW?interval=1m&start=${T0 + 3 * MIN}&limit=3`));
    expect(body.candles.map((candle: { open_time: number }) => (candle.open_time - T0) / MIN)).toEqual([7, 59, 60]);
  });

  it('groups minutes into UTC-aligned buckets for 5m, 15m, 1h, 4h and 1d', async () => {
    const opens = async (interval: string, extra = '') =>
      (await json(await get(`BTC-KRW?interval=${interval}&start=${T0}${extra}`))).candles.map(
        (candle: { open_time: number; close: string; trades: number }) => [(candle.open_time - T0) / MIN, candle.close, candle.trades],
      );
    expect(await opens('5m')).toEqual([
      [0, '99', 3],
      [5, '105', 1],
      [55, '103', 1],
      [60, '90', 2],
      [1435, '120', 1],
      [2880, '130', 1],
    ]);
    expect(await opens('15m')).toEqual([
      [0, '105', 4],
      [45, '103', 1],
      [60, '90', 2],
      [1425, '120', 1],
      [2880, '130', 1],
    ]);
    expect(await opens('1h')).toEqual([
      [0, '103', 5],
      [60, '90', 2],
      [1380, '120', 1],
      [2880, '130', 1],
    ]);
    expect(await opens('4h')).toEqual([
      [0, '90', 7],
      [1200, '120', 1],
      [2880, '130', 1],
    ]);
    expect(await opens('1d')).toEqual([
      [0, '120', 8],
      [2880, '130', 1],
    ]);
    const [hour] = (await json(await get(`BTC-KRW?interval=1h&start=${T0}&limit=1`))).candles;
    expect(hour).toEqual({
      open_time: T0,
      close_time: T0 + 3_600_000 - 1,
      open: '100',
      high: '105',
      low: '99',
      close: '103',
      volume: '5',
      quote_volume: '508',
      trades: 5,
      first_trade_id: '1',
      last_trade_id: '60',
      closed: true,
    });
  });

  it('starts with the bucket that contains start, and stops at end (buckets opening at or before it)', async () => {
    const body = await json(await get(`BTC-KRW?interval=1h&start=${T0 + 30 * MIN}&end=${T0 + 60 * MIN}`));
    expect(body.candles.map((candle: { open_time: number }) => (candle.open_time - T0) / MIN)).toEqual([0, 60]);
    // the 1h bucket holding `end` is whole: minute 61 is in it although it opens after `end`
    expect(body.candles[1]).toMatchObject({ trades: 2, close: '90', low: '90', high: '110' });
  });

  it('without start gives the latest limit candles up to end, or up to now, and flags the one being built', async () => {
    const latest = await json(await get('BTC-KRW?interval=1m&limit=2'));
    expect(latest.candles.map((candle: { open_time: number; closed: boolean }) => [(candle.open_time - T0) / MIN, candle.closed])).toEqual([
      [1439, true],
      [2880, false],
    ]);
    const daily = await json(await get('BTC-KRW?interval=1d&limit=5'));
    expect(daily.candles.map((candle: { closed: boolean; trades: number }) => [candle.closed, candle.trades])).toEqual([
      [true, 8],
      [false, 1],
    ]);
    const beforeEnd = await json(await get(`BTC-KRW?interval=5m&end=${T0 + 61 * MIN}&limit=2`));
    expect(beforeEnd.candles.map((candle: { open_time: number }) => (candle.open_time - T0) / MIN)).toEqual([55, 60]);
  });

  it('answers an empty list where nothing traded', async () => {
    expect(await json(await get(`ETH-KRW?interval=1m&start=${T0 + MIN}`))).toEqual({ symbol: 'ETH-KRW', interval: '1m', candles: [] });
  });

  it.each([
    ['NOPE-KRW?interval=1m', 'UNKNOWN_SYMBOL'],
    ['btc-krw?interval=1m', 'UNKNOWN_SYMBOL'],
    ['BTC-KRW', 'INVALID_INTERVAL'],
    ['BTC-KRW?interval=', 'INVALID_INTERVAL'],
    ['BTC-KRW?interval=2m', 'INVALID_INTERVAL'],
    ['BTC-KRW?interval=1M', 'INVALID_INTERVAL'],
    ['BTC-KRW?interval=toString', 'INVALID_INTERVAL'],
    ['BTC-KRW?interval=60000', 'INVALID_INTERVAL'],
    ['BTC-KRW?interval=1m&start=abc', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&start=-1', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&start=1.5', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&start=1e12', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&start=', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&end=9999999999999999', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&start=2000&end=1000', 'INVALID_TIME_RANGE'],
    ['BTC-KRW?interval=1m&limit=0', 'INVALID_QUERY'],
    ['BTC-KRW?interval=1m&limit=1001', 'INVALID_QUERY'],
    ['BTC-KRW?interval=1m&limit=-5', 'INVALID_QUERY'],
    ['BTC-KRW?interval=1m&limit=ten', 'INVALID_QUERY'],
    ['BTC-KRW?interval=1m&limit=', 'INVALID_QUERY'],
  ])('GET /v1/candles/%s → 400 %s', async (query, error) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    expect((await json(response)).error).toBe(error);
  });

  it('answers 503 STORE_UNAVAILABLE when PostgreSQL fails, never 500', async () => {
    const response = await broken.app.request('/v1/candles/BTC-KRW?interval=1m');
    expect(response.status).toBe(503);
    expect((await json(response)).error).toBe('STORE_UNAVAILABLE');
  });

  it('is public and documented in OpenAPI with its error words', async () => {
    const spec = await json(await api.app.request('/openapi.json'));
    expect(spec.paths).toHaveProperty(['/v1/candles/{symbol}']);
    expect(spec.components.schemas.Error.properties.error.enum).toContain('INVALID_INTERVAL');
    expect(spec.paths['/v1/candles/{symbol}'].get.security).toBeUndefined();
  });
});
