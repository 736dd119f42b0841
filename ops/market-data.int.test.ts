/**
 * The market-data service (ops/market-data.ts, a real child process) on real Kafka and PostgreSQL:
 * synthetic Trade envelopes with controlled timestamps, produced straight into a topic of this
 * file's own namespace (single records and arrays, BookDelta and Ticker between them, duplicates
 * and resends), give the hand-computed candles of every interval through GET /v1/candles; a kill -9
 * mid-stream, a duplicate delivery and a re-read of the whole topic change nothing; the backfill
 * from the `trades` table gives exactly the live candles; lag is on /metrics.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApi, testPool, TEST_DATABASE_URL, type TestApi } from '../api/test-support.ts';
import { backfillCandles, IncompleteTradesError } from '../db/candles/candle-backfill.ts';
import { CandleStore } from '../db/candles/candle-store.ts';
import { dropDatabase, ensureDatabase, migrate } from '../db/migrate.ts';
import { ensureTopics } from '../mq/adapters/kafka-publisher.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import { freePort } from './core-child.ts';
import { spawnTs, waitFor, type ChildHandle } from './testing/stack.ts';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const NAMESPACE = `md${process.pid}x${Math.floor(Math.random() * 1e9).toString(36)}`;
const TOPIC = brokerNames(NAMESPACE).marketData;
const GROUP = `${NAMESPACE}.candles`;
const DATABASE_URL = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/xtrader_${NAMESPACE.toLowerCase()}`;
  return url.toString();
})();

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 1); // a UTC midnight
const NOW = T0 + DAY + 30_000; // the day-2 candles are still being built

interface SyntheticTrade {
  v: 1;
  type: 'Trade';
  seq: number;
  prev_seq: number;
  timestamp: number;
  symbol: string;
  trade_id: string;
  price: string;
  quantity: string;
  quote_quantity: string;
  taker_side: 'Buy' | 'Sell';
}

// Every trade of the scenario, in seq order; trade ids gap-free over both markets, as the engine's.
const spec: Array<[name: string, symbol: string, seq: number, at: number, price: string, quantity: string, quote: string]> = [
  ['t1', 'BTC-KRW', 10, 10_000, '100000', '1', '100000'],
  ['t2', 'BTC-KRW', 13, 50_000, '120000', '0.5', '60000'],
  ['e1', 'ETH-KRW', 14, 2 * MIN, '3000000', '0.5', '1500000'],
  ['t3', 'BTC-KRW', 16, MIN + 5_000, '90000', '2', '180000'],
  ['t4', 'BTC-KRW', 19, 5 * MIN - 1, '95000', '0.25', '23750'],
  ['t5', 'BTC-KRW', 22, 5 * MIN, '110000', '1', '110000'],
  ['t6', 'BTC-KRW', 25, 16 * MIN, '105000', '3', '315000'],
  ['t7', 'BTC-KRW', 28, HOUR, '130000', '0.001', '130'],
  ['e2', 'ETH-KRW', 29, 2 * MIN + 30_000, '3100000', '1', '3100000'],
  ['t8', 'BTC-KRW', 31, 4 * HOUR + 30_000, '80000', '1.5', '120000'],
  ['t9', 'BTC-KRW', 34, DAY + 1_000, '200000', '0.1', '20000'],
];
const trades = new Map<string, SyntheticTrade>();
spec.forEach(([name, symbol, seq, at, price, quantity, quote], index) =>
  trades.set(name, {
    v: 1,
    type: 'Trade',
    seq,
    prev_seq: 0,
    timestamp: T0 + at,
    symbol,
    trade_id: String(index + 1),
    price,
    quantity,
    quote_quantity: quote,
    taker_side: index % 2 ? 'Sell' : 'Buy',
  }),
);
const T = (name: string) => trades.get(name)!;
const delta = (seq: number) => ({
  v: 1,
  type: 'BookDelta',
  seq,
  prev_seq: 0,
  timestamp: T0,
  symbol: 'BTC-KRW',
  symbol_seq: seq,
  side: 'Buy',
  price: '1000',
  quantity: '0',
});
const ticker = (seq: number) => ({
  v: 1,
  type: 'Ticker',
  seq,
  prev_seq: 0,
  timestamp: T0,
  symbol: 'BTC-KRW',
  last_price: '1',
  best_bid: null,
  best_ask: null,
  open_24h: null,
  high_24h: null,
  low_24h: null,
  volume_24h: '0',
  quote_volume_24h: '0',
});

/** [open_time offset, open, high, low, close, volume, quote_volume, trades, first id, last id] — computed by hand */
type Expected = [number, string, string, string, string, string, string, number, string, string];
const EXPECTED: Record<string, Expected[]> = {
  '1m': [
    [0, '100000', '120000', '100000', '120000', '1.5', '160000', 2, '1', '2'],
    [MIN, '90000', '90000', '90000', '90000', '2', '180000', 1, '4', '4'],
    [4 * MIN, '95000', '95000', '95000', '95000', '0.25', '23750', 1, '5', '5'],
    [5 * MIN, '110000', '110000', '110000', '110000', '1', '110000', 1, '6', '6'],
    [16 * MIN, '105000', '105000', '105000', '105000', '3', '315000', 1, '7', '7'],
    [HOUR, '130000', '130000', '130000', '130000', '0.001', '130', 1, '8', '8'],
    [4 * HOUR, '80000', '80000', '80000', '80000', '1.5', '120000', 1, '10', '10'],
    [DAY, '200000', '200000', '200000', '200000', '0.1', '20000', 1, '11', '11'],
  ],
  '5m': [
    [0, '100000', '120000', '90000', '95000', '3.75', '363750', 4, '1', '5'],
    [5 * MIN, '110000', '110000', '110000', '110000', '1', '110000', 1, '6', '6'],
    [15 * MIN, '105000', '105000', '105000', '105000', '3', '315000', 1, '7', '7'],
    [HOUR, '130000', '130000', '130000', '130000', '0.001', '130', 1, '8', '8'],
    [4 * HOUR, '80000', '80000', '80000', '80000', '1.5', '120000', 1, '10', '10'],
    [DAY, '200000', '200000', '200000', '200000', '0.1', '20000', 1, '11', '11'],
  ],
  '15m': [
    [0, '100000', '120000', '90000', '110000', '4.75', '473750', 5, '1', '6'],
    [15 * MIN, '105000', '105000', '105000', '105000', '3', '315000', 1, '7', '7'],
    [HOUR, '130000', '130000', '130000', '130000', '0.001', '130', 1, '8', '8'],
    [4 * HOUR, '80000', '80000', '80000', '80000', '1.5', '120000', 1, '10', '10'],
    [DAY, '200000', '200000', '200000', '200000', '0.1', '20000', 1, '11', '11'],
  ],
  '1h': [
    [0, '100000', '120000', '90000', '105000', '7.75', '788750', 6, '1', '7'],
    [HOUR, '130000', '130000', '130000', '130000', '0.001', '130', 1, '8', '8'],
    [4 * HOUR, '80000', '80000', '80000', '80000', '1.5', '120000', 1, '10', '10'],
    [DAY, '200000', '200000', '200000', '200000', '0.1', '20000', 1, '11', '11'],
  ],
  '4h': [
    [0, '100000', '130000', '90000', '130000', '7.751', '788880', 7, '1', '8'],
    [4 * HOUR, '80000', '80000', '80000', '80000', '1.5', '120000', 1, '10', '10'],
    [DAY, '200000', '200000', '200000', '200000', '0.1', '20000', 1, '11', '11'],
  ],
  '1d': [
    [0, '100000', '130000', '80000', '80000', '9.251', '908880', 8, '1', '10'],
    [DAY, '200000', '200000', '200000', '200000', '0.1', '20000', 1, '11', '11'],
  ],
};
const INTERVAL_MS: Record<string, number> = { '1m': MIN, '5m': 5 * MIN, '15m': 15 * MIN, '1h': HOUR, '4h': 4 * HOUR, '1d': DAY };

let kafka: Kafka;
let producer: Producer;
let pool: pg.Pool;
let credentialsPool: pg.Pool;
let api: TestApi;
let service: ChildHandle | undefined;
let servicePort: number;
const prevSeq = new Map<string, number>();

/** one Kafka record per item: an envelope alone, or an array of them; prev_seq chained on first sending */
async function produce(...records: Array<object | object[]>): Promise<void> {
  const chain = (envelope: object) => {
    const e = envelope as { seq: number; symbol: string; prev_seq: number };
    if (!prevSeq.has(`${e.symbol}/${e.seq}`)) {
      const last = prevSeq.get(e.symbol) ?? 0;
      prevSeq.set(`${e.symbol}/${e.seq}`, last);
      if (e.seq > last) prevSeq.set(e.symbol, e.seq);
    }
    return { ...e, prev_seq: prevSeq.get(`${e.symbol}/${e.seq}`)! };
  };
  await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: records.map((record) => {
      const envelopes = Array.isArray(record) ? record : [record];
      const symbol = (envelopes[0] as { symbol: string }).symbol;
      return { key: symbol, value: JSON.stringify(Array.isArray(record) ? envelopes.map(chain) : chain(record)) };
    }),
  });
}

function startService(): ChildHandle {
  service = spawnTs('ops/market-data.ts', [], {
    DATABASE_URL,
    BROKER_NAMESPACE: NAMESPACE,
    KAFKA_BROKERS: BROKERS.join(','),
    MARKET_DATA_PORT: String(servicePort),
  });
  return service;
}

async function health(): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${servicePort}/health`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function progress(): Promise<Record<string, number>> {
  const rows = await pool.query<{ symbol: string; last_seq: string }>('SELECT symbol, last_seq FROM candle_progress');
  return Object.fromEntries(rows.rows.map((row) => [row.symbol, Number(row.last_seq)]));
}

async function appliedThrough(expected: Record<string, number>, what: string): Promise<void> {
  await waitFor(
    async () => {
      const now = await progress();
      return Object.entries(expected).every(([symbol, seq]) => (now[symbol] ?? 0) >= seq);
    },
    30_000,
    `${what} (service output: ${service?.output().slice(-2_000)})`,
  );
}

/** every candle row, as text PostgreSQL normalises (numeric compared by value) */
async function candleRows(): Promise<unknown[]> {
  return (
    await pool.query(
      `SELECT symbol, open_time, trim_scale(open)::text AS open, trim_scale(high)::text AS high, trim_scale(low)::text AS low,
              trim_scale(close)::text AS close, trim_scale(volume)::text AS volume, trim_scale(quote_volume)::text AS quote_volume, trade_count, first_trade_id, last_trade_id
       FROM candles_1m ORDER BY symbol, open_time`,
    )
  ).rows;
}

async function candles(interval: string, symbol = 'BTC-KRW'): Promise<Expected[]> {
  const response = await api.app.request(`/v1/candles/${symbol}?interval=${interval}&start=${T0}`);
  expect(response.status).toBe(200);
  const body = await json(response);
  expect(body).toMatchObject({ symbol, interval });
  return body.candles.map((candle: { open_time: number; close_time: number; closed: boolean; [field: string]: unknown }) => {
    expect(candle.close_time).toBe(candle.open_time + INTERVAL_MS[interval]! - 1);
    expect(candle.closed).toBe(candle.open_time + INTERVAL_MS[interval]! <= NOW);
    return [
      candle.open_time - T0,
      candle.open,
      candle.high,
      candle.low,
      candle.close,
      candle.volume,
      candle.quote_volume,
      candle.trades,
      candle.first_trade_id,
      candle.last_trade_id,
    ];
  });
}

async function expectHandComputedCandles(): Promise<void> {
  for (const [interval, expected] of Object.entries(EXPECTED)) expect(await candles(interval), interval).toEqual(expected);
  expect(await candles('1m', 'ETH-KRW')).toEqual([[2 * MIN, '3000000', '3100000', '3000000', '3100000', '1.5', '4600000', 2, '3', '9']]);
}

beforeAll(async () => {
  kafka = new Kafka({ clientId: `${NAMESPACE}-test`, brokers: BROKERS, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [TOPIC], 3);
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await ensureDatabase(DATABASE_URL);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  await migrate(pool);
  credentialsPool = await testPool();
  api = await startTestApi(credentialsPool, { candles: new CandleStore(pool), now: () => NOW });
  servicePort = await freePort();
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await api?.close();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [TOPIC] }).catch(() => {});
  await admin.deleteGroups([GROUP]).catch(() => {});
  await admin.disconnect();
  await pool?.end();
  await credentialsPool?.end();
  await dropDatabase(DATABASE_URL);
}, 60_000);

describe('market-data service: Kafka market-data → candles in PostgreSQL', () => {
  let liveRows: unknown[];

  it('builds the hand-computed candles of every interval, through a kill -9 mid-stream, duplicates and resends', async () => {
    startService();
    // first half: an array with a BookDelta between two trades, a single record, an array ending in a Ticker
    await produce([T('t1'), delta(11), T('t2')], [T('e1')], T('t3'), [T('t4'), T('t5'), ticker(23)]);
    await appliedThrough({ 'BTC-KRW': 22, 'ETH-KRW': 14 }, 'the first half applied');
    // a duplicate delivery of a record already applied
    await produce(T('t3'));
    // every offset committed (5 records), so the restart must read exactly the 6 records after them
    await waitFor(async () => (await health())?.lag_messages === 0 && (await health())?.records === 5, 30_000, 'first half committed');
    await service!.kill9();
    // second half, while the service is down: new trades, and a resend of old ones in one array
    await produce(T('t6'), [T('t2'), T('t3'), T('t7')], [T('e2')], [T('t8'), ticker(32)], T('t9'), T('t4'));
    startService();
    await appliedThrough({ 'BTC-KRW': 34, 'ETH-KRW': 29 }, 'the second half applied after the restart');
    await waitFor(async () => (await health())?.lag_messages === 0, 30_000, 'lag 0');
    await expectHandComputedCandles();
    liveRows = await candleRows();
    expect(liveRows).toHaveLength(9);
    const status = (await health())!;
    expect(status).toMatchObject({ status: 'ok', services: { kafka: 'up', postgres: 'up' }, lag_messages: 0, lag_seconds: 0, seq_gaps: 0 });
    // the restarted process went on from the committed offsets: it read the second half's 6 records only
    expect(status.records).toBe(6);
    expect(status.duplicates).toBe(3);
    const metrics = await (await fetch(`http://127.0.0.1:${servicePort}/metrics`)).text();
    expect(metrics).toMatch(/^xtrader_market_data_lag_messages 0$/m);
    expect(metrics).toMatch(/^xtrader_market_data_lag_seconds 0$/m);
    expect(metrics).toMatch(/^xtrader_market_data_last_applied_seq\{symbol="BTC-KRW"\} 34$/m);
  }, 120_000);

  it('changes nothing when the whole topic is read again from offset 0 (committed offsets lost)', async () => {
    await service!.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: GROUP, topic: TOPIC, earliest: true });
    await admin.disconnect();
    startService();
    // every record read again: 15 trade envelopes (11 trades, 4 of them sent twice), all skipped
    await waitFor(async () => (await health())?.records === 11 && (await health())?.lag_messages === 0, 30_000, 'the topic re-read');
    expect(await health()).toMatchObject({ trades_applied: 0, duplicates: 15 });
    expect(await candleRows()).toEqual(liveRows);
    await expectHandComputedCandles();
  }, 60_000);

  it('backfills from the trades table exactly what the live consumer built, over its candles or from nothing', async () => {
    // the trades as the persister writes them (db/execution-writer.ts)
    for (const trade of trades.values()) {
      await pool.query(
        'INSERT INTO trades (trade_id, seq, symbol, price, quantity, quote_quantity, taker_side, timestamp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [trade.trade_id, trade.seq, trade.symbol, trade.price, trade.quantity, trade.quote_quantity, trade.taker_side, trade.timestamp],
      );
    }
    const liveProgress = await progress();
    const command = spawnTs('ops/candles-backfill.ts', [], { DATABASE_URL });
    const exit = await new Promise<number | null>((resolve) => command.child.once('exit', resolve));
    expect(exit, command.output()).toBe(0);
    expect(command.output()).toContain('"symbol":"BTC-KRW","trades":9,"candleRows":8,"deletedRows":8,"throughSeq":34');
    expect(await candleRows()).toEqual(liveRows);
    expect(await progress()).toEqual(liveProgress);

    // a damaged minute repaired by a ranged backfill of one symbol: only that minute is rebuilt
    await pool.query('UPDATE candles_1m SET volume = 999, high = 1 WHERE symbol = $1 AND open_time = $2', ['BTC-KRW', T0 + MIN]);
    const ranged = spawnTs(
      'ops/candles-backfill.ts',
      ['--symbol', 'BTC-KRW', '--from', String(T0 + MIN + 30_000), '--to', String(T0 + 2 * MIN - 1)],
      { DATABASE_URL },
    );
    expect(await new Promise<number | null>((resolve) => ranged.child.once('exit', resolve)), ranged.output()).toBe(0);
    expect(ranged.output()).toContain('"symbol":"BTC-KRW","trades":1,"candleRows":1,"deletedRows":1,"throughSeq":34');
    expect(ranged.output()).not.toContain('ETH-KRW');
    expect(await candleRows()).toEqual(liveRows);
    const refused = spawnTs('ops/candles-backfill.ts', ['--from', '5', '--to', '5'], { DATABASE_URL });
    expect(await new Promise<number | null>((resolve) => refused.child.once('exit', resolve))).toBe(1);

    // a fresh candle store (nothing applied yet): everything from the trades, progress set so the consumer skips them
    await pool.query('TRUNCATE candles_1m, candle_progress');
    const results = await backfillCandles(pool);
    expect(results.map((result) => [result.symbol, result.trades, result.candleRows])).toEqual([
      ['BTC-KRW', 9, 8],
      ['ETH-KRW', 2, 1],
    ]);
    expect(await candleRows()).toEqual(liveRows);
    expect(await progress()).toEqual(liveProgress);
    await expectHandComputedCandles();

    // the live consumer goes on from there: the next trade lands once, in its own minute
    const t10: SyntheticTrade = {
      ...T('t9'),
      seq: 40,
      trade_id: '12',
      timestamp: T0 + DAY + 20_000,
      price: '210000',
      quantity: '1',
      quote_quantity: '210000',
    };
    await produce(t10, T('t9'));
    await appliedThrough({ 'BTC-KRW': 40 }, 't10 applied');
    const day2 = (await candles('1m')).at(-1);
    expect(day2).toEqual([DAY, '200000', '210000', '200000', '210000', '1.1', '230000', 2, '11', '12']);
  }, 60_000);

  it('refuses to backfill while PostgreSQL misses trades the consumer applied (the persister behind)', async () => {
    const t10 = { trade_id: '12', seq: 40, price: '210000', quantity: '1', quote: '210000', timestamp: T0 + DAY + 20_000 };
    await pool.query("INSERT INTO trades VALUES ($1, $2, 'BTC-KRW', $3, $4, $5, 'Buy', $6)", [
      t10.trade_id,
      t10.seq,
      t10.price,
      t10.quantity,
      t10.quote,
      t10.timestamp,
    ]);
    const complete = await candleRows();
    expect(await backfillCandles(pool, { symbols: ['BTC-KRW'] })).toMatchObject([{ symbol: 'BTC-KRW', trades: 10, throughSeq: 40 }]);
    expect(await candleRows()).toEqual(complete);
    await pool.query('DELETE FROM trades WHERE trade_id = 4');
    const before = await candleRows();
    await expect(backfillCandles(pool, { symbols: ['BTC-KRW'] })).rejects.toBeInstanceOf(IncompleteTradesError);
    expect(await candleRows()).toEqual(before);
  });
});
