/**
 * `npm run bench:candles`: how fast a fresh market-data service (ops/market-data.ts, the real
 * process) turns a pre-filled `market-data` topic into candles, and how fast GET /v1/candles answers.
 *
 * BENCH_TRADES (default 1,000,000) Trade envelopes over one UTC day on BTC-KRW and ETH-KRW, random
 * walks in whole ticks, are produced before the service starts into a topic of the bench's own
 * (`bench<pid>.market-data`, 3 partitions), BENCH_RECORD_ENVELOPES per record (default 100: records
 * are JSON arrays as the Kafka publisher sends them under load; 1 = one envelope per record). The
 * service writes into a database of its own (xtrader_bench_candles, emptied first). The rate is
 * counted from its first committed batch to the last, from its own /health figures; the wall time
 * from spawn (connect, group join) is reported beside it. Every trade must be counted exactly once
 * (Σ trade_count and Σ volume are checked against the generator's exact sums).
 *
 * Queries: a core (ops/core.ts) on that database answers 500 GET /v1/candles/BTC-KRW?interval=1m
 * over random 1-hour windows of the day (60 candles each), one at a time over keep-alive; latency
 * from hdr-histogram-js. Yardsticks from the same run: GET /health on the same core (the HTTP floor),
 * and a bare kafkajs consumer reading the same topic without decoding or PostgreSQL (the client's
 * floor). Prints one JSON line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import hdr from 'hdr-histogram-js';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { ensureDatabase, migrate } from '../../db/migrate.ts';
import { ensureTopics } from '../../mq/adapters/kafka-publisher.ts';
import { brokerNames } from '../../contract/broker-routes.ts';
import { seededRandom as random } from '../../sequencer/testing/command-mix.ts';
import { freePort, spawnCore } from '../core-child.ts';
import { spawnTs } from '../testing/stack.ts';

const TRADES = Number(process.env.BENCH_TRADES ?? 1_000_000);
const RECORD_ENVELOPES = Number(process.env.BENCH_RECORD_ENVELOPES ?? 100);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 500);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const DATABASE_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_bench_candles';
  return url.toString();
})();
const DAY = 86_400_000;
const HOUR = 3_600_000;
const D0 = Date.UTC(2026, 0, 5);

interface Generated {
  records: Array<{ key: string; value: string }>;
  volumeLots: bigint;
}

/** trades in seq order, timestamps spread evenly over the day; prices in ticks of 1,000 KRW, quantities in lots of 0.001 */
function generate(): Generated {
  const next = random(42);
  const markets = [
    { symbol: 'BTC-KRW', share: 0.7, ticks: 50_000 },
    { symbol: 'ETH-KRW', share: 0.3, ticks: 3_000 },
  ];
  const pending = new Map<string, object[]>(markets.map((market) => [market.symbol, []]));
  const prev = new Map<string, number>();
  const records: Array<{ key: string; value: string }> = [];
  let volumeLots = 0n;
  const flush = (symbol: string) => {
    const group = pending.get(symbol)!;
    if (group.length === 0) return;
    records.push({ key: symbol, value: JSON.stringify(group.length === 1 ? group[0] : group) });
    pending.set(symbol, []);
  };
  for (let index = 0; index < TRADES; index++) {
    const market = next() < markets[0]!.share ? markets[0]! : markets[1]!;
    market.ticks = Math.max(1, market.ticks + Math.floor(next() * 5) - 2);
    const lots = 1 + Math.floor(next() * 2_000);
    volumeLots += BigInt(lots);
    const seq = index * 3 + 1; // a Trade, then its two execution reports, as the engine numbers them
    const price = market.ticks * 1_000;
    const quantity = (lots / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
    const envelope = {
      v: 1,
      type: 'Trade',
      seq,
      prev_seq: prev.get(market.symbol) ?? 0,
      timestamp: D0 + Math.floor((index * DAY) / TRADES),
      symbol: market.symbol,
      trade_id: String(index + 1),
      price: String(price),
      quantity,
      quote_quantity: String((price * lots) / 1000),
      taker_side: next() < 0.5 ? 'Buy' : 'Sell',
    };
    prev.set(market.symbol, seq);
    pending.get(market.symbol)!.push(envelope);
    if (pending.get(market.symbol)!.length >= RECORD_ENVELOPES) flush(market.symbol);
  }
  for (const market of markets) flush(market.symbol);
  return { records, volumeLots };
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

async function fetchJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(url)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function latencies(url: () => string, count: number): Promise<{ p50: number; p99: number; max: number }> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const response = await fetch(url());
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${url()}: ${response.status}`);
    histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
  }
  return { p50: histogram.getValueAtPercentile(50) / 1000, p99: histogram.getValueAtPercentile(99) / 1000, max: histogram.maxValue / 1000 };
}

/** a kafkajs consumer that only counts records: the client library's own floor on this machine */
async function bareConsume(kafka: Kafka, topic: string, records: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `${topic}.bare`, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let first = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        first ||= performance.now();
        seen += batch.messages.length;
        if (seen >= records) resolve(performance.now());
      },
    });
  });
  const end = await done;
  await consumer.disconnect();
  return (end - first) / 1000;
}

async function main(): Promise<void> {
  const namespace = `bench${process.pid}`;
  const topic = brokerNames(namespace).marketData;
  await ensureDatabase(DATABASE_URL);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  await migrate(pool);
  await pool.query('TRUNCATE candles_1m, candle_progress');

  const generated = generate();
  const kafka = new Kafka({ clientId: 'bench-candles', brokers: BROKERS, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [topic], 3);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const produceStarted = performance.now();
  for (let start = 0; start < generated.records.length;) {
    // ~600 KB per request: under the broker's 1 MB message.max.bytes even when both symbols share a partition
    let bytes = 0;
    let end = start;
    while (end < generated.records.length && bytes < 600_000) bytes += generated.records[end++]!.value.length;
    await producer.send({ topic, acks: -1, messages: generated.records.slice(start, end) });
    start = end;
  }
  const produceSeconds = (performance.now() - produceStarted) / 1000;
  await producer.disconnect();

  const port = await freePort();
  const spawned = performance.now();
  const service = spawnTs('ops/market-data.ts', [], {
    DATABASE_URL,
    BROKER_NAMESPACE: namespace,
    KAFKA_BROKERS: BROKERS.join(','),
    MARKET_DATA_PORT: String(port),
    LOG_LEVEL: 'warn',
  });
  let first: { at: number; trades: number } | undefined;
  let last: { at: number; trades: number } | undefined;
  const deadline = Date.now() + 600_000;
  try {
    for (;;) {
      const now = performance.now();
      const health = await fetchJson(`http://127.0.0.1:${port}/health`);
      const applied = (health?.trades_applied as number | undefined) ?? 0;
      if (applied > 0) {
        first ??= { at: now, trades: applied };
        if (!last || applied > last.trades) last = { at: now, trades: applied };
        if (applied >= TRADES) break;
      }
      if (Date.now() > deadline) throw new Error(`not consumed in 10 minutes: ${JSON.stringify(health)}\n${service.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await service.stop();
  }
  const wallSeconds = (last!.at - spawned) / 1000;
  const tradesPerSec = (last!.trades - first!.trades) / ((last!.at - first!.at) / 1000);

  const totals = (
    await pool.query<{ rows: string; trades: string; volume: string }>(
      'SELECT count(*) AS rows, sum(trade_count) AS trades, trim_scale(sum(volume))::text AS volume FROM candles_1m',
    )
  ).rows[0]!;
  const expectedVolume = (Number(generated.volumeLots) / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
  if (Number(totals.trades) !== TRADES || totals.volume !== expectedVolume) {
    throw new Error(`candles count ${totals.trades} trades, volume ${totals.volume}; expected ${TRADES} and ${expectedVolume}`);
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-bench-candles-'));
  const core = await spawnCore({
    dataDir,
    env: { DATABASE_URL, ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef', LOG_LEVEL: 'warn', PUBLISHERS: 'kafka' },
  });
  let query: { p50: number; p99: number; max: number };
  let dayOf1h: { p50: number; p99: number; max: number };
  let health: { p50: number; p99: number; max: number };
  const next = random(7);
  try {
    const window = () => {
      const start = D0 + Math.floor(next() * (DAY - HOUR));
      return `${core.url}/v1/candles/BTC-KRW?interval=1m&start=${start}&end=${start + HOUR - 1}`;
    };
    const probe = (await (await fetch(window())).json()) as { candles: unknown[] };
    if (probe.candles.length < 59) throw new Error(`a 1-hour window holds ${probe.candles.length} 1m candles`);
    await latencies(window, 50); // warm-up
    query = await latencies(window, QUERIES);
    dayOf1h = await latencies(() => `${core.url}/v1/candles/BTC-KRW?interval=1h&start=${D0}&end=${D0 + DAY - 1}`, 100);
    health = await latencies(() => `${core.url}/health`, QUERIES);
  } finally {
    await core.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  const bareSeconds = await bareConsume(kafka, topic, generated.records.length);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.deleteGroups([`${namespace}.candles`, `${topic}.bare`]).catch(() => {});
  await admin.disconnect();
  await pool.end();

  console.log(
    JSON.stringify({
      trades: TRADES,
      trades_per_sec: Math.round(tradesPerSec),
      candle_rows: Number(totals.rows),
      query_p50_ms: round(query.p50, 3),
      query_p99_ms: round(query.p99, 3),
      query_max_ms: round(query.max, 3),
      records: generated.records.length,
      envelopes_per_record: RECORD_ENVELOPES,
      wall_seconds_from_spawn: round(wallSeconds),
      produce_seconds: round(produceSeconds),
      query_1h_whole_day_p99_ms: round(dayOf1h.p99, 3),
      yardstick_health_p50_ms: round(health.p50, 3),
      yardstick_health_p99_ms: round(health.p99, 3),
      yardstick_bare_kafkajs_trades_per_sec: Math.round(TRADES / bareSeconds),
      load_average: os.loadavg().map((value) => round(value)),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
