/**
 * Kafka away from the market-data service: the service runs in this process with its Kafka
 * connections through a socket factory the test cuts (every socket destroyed, new ones refused, as a
 * stopped broker refuses them), so the shared broker — which other test files use — stays up, and
 * the producer of this file keeps writing to it. Candles stop advancing, the API still answers them
 * from PostgreSQL, /health and /metrics say Kafka is down; when the connections come back the
 * service rejoins its group (its session expired meanwhile) and catches up from the committed
 * offsets to exactly the candles of every trade, none twice.
 */
import net from 'node:net';
import { Kafka, logLevel, type ISocketFactory, type Producer } from 'kafkajs';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApi, testPool, TEST_DATABASE_URL, type TestApi } from '../api/test-support.ts';
import { CandleStore } from '../db/candles/candle-store.ts';
import { dropDatabase, ensureDatabase, migrate } from '../db/migrate.ts';
import { ensureTopics } from '../mq/adapters/kafka-publisher.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import { loadConfig } from './config.ts';
import { freePort } from './core-child.ts';
import { startMarketData, type RunningMarketData } from './market-data.ts';
import { waitFor } from './testing/stack.ts';

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const NAMESPACE = `mdo${process.pid}x${Math.floor(Math.random() * 1e9).toString(36)}`;
const TOPIC = brokerNames(NAMESPACE).marketData;
const DATABASE_URL = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/xtrader_${NAMESPACE.toLowerCase()}`;
  return url.toString();
})();
const T0 = Date.UTC(2025, 5, 1, 12);

/** kafkajs's own factory, plus a switch: off destroys every open socket and refuses new ones */
class CuttableSockets {
  readonly #open = new Set<net.Socket>();
  #down = false;
  refused = 0;

  readonly factory: ISocketFactory = ({ host, port, onConnect }) => {
    if (this.#down) {
      this.refused++;
      return net.connect({ host: '127.0.0.1', port: 1 }); // ECONNREFUSED, as from a stopped broker
    }
    const socket = net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
    return socket;
  };

  down(): void {
    this.#down = true;
    // with an error, as a broker that went away resets the connection (a bare destroy() is a silent close kafkajs only notices by timeouts)
    for (const socket of this.#open)
      socket.destroy(Object.assign(new Error('connection reset (test: Kafka down)'), { code: 'ECONNRESET' }));
  }

  up(): void {
    this.#down = false;
  }
}

let kafka: Kafka;
let producer: Producer;
let pool: pg.Pool;
let credentialsPool: pg.Pool;
let api: TestApi;
let service: RunningMarketData;
const sockets = new CuttableSockets();
let seq = 0;

async function trade(at: number, price: string, quantity: string): Promise<number> {
  seq += 3;
  const quote = String(Number(price) * Number(quantity));
  await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: [
      {
        key: 'BTC-KRW',
        value: JSON.stringify({
          v: 1,
          type: 'Trade',
          seq,
          prev_seq: seq - 3,
          timestamp: T0 + at,
          symbol: 'BTC-KRW',
          trade_id: String(seq / 3),
          price,
          quantity,
          quote_quantity: quote,
          taker_side: 'Buy',
        }),
      },
    ],
  });
  return seq;
}

const lastSeq = async () =>
  Number((await pool.query<{ last_seq: string }>("SELECT last_seq FROM candle_progress WHERE symbol = 'BTC-KRW'")).rows[0]?.last_seq ?? 0);
const health = async () => (await (await fetch(`${service.url}/health`)).json()) as Record<string, unknown>;
const candles = async () =>
  (await json(await api.app.request(`/v1/candles/BTC-KRW?interval=1m&start=${T0}`))).candles as Array<Record<string, unknown>>;

beforeAll(async () => {
  kafka = new Kafka({ clientId: `${NAMESPACE}-producer`, brokers: BROKERS, logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [TOPIC], 3);
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await ensureDatabase(DATABASE_URL);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  await migrate(pool);
  credentialsPool = await testPool();
  api = await startTestApi(credentialsPool, { candles: new CandleStore(pool) });
  const config = loadConfig({
    DATABASE_URL,
    KAFKA_BROKERS: BROKERS.join(','),
    BROKER_NAMESPACE: NAMESPACE,
    MARKET_DATA_PORT: String(await freePort()),
    MARKET_DATA_SESSION_TIMEOUT_MS: '6000',
  });
  service = await startMarketData(config, pino({ level: 'silent' }), { kafkaSocketFactory: sockets.factory });
}, 60_000);

afterAll(async () => {
  sockets.up();
  await service?.close();
  await api?.close();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [TOPIC] }).catch(() => {});
  await admin.deleteGroups([`${NAMESPACE}.candles`]).catch(() => {});
  await admin.disconnect();
  await pool?.end();
  await credentialsPool?.end();
  await dropDatabase(DATABASE_URL);
}, 60_000);

describe('market-data service with Kafka down', () => {
  it('stops advancing candles, keeps answering them, and catches up exactly once Kafka is back', async () => {
    await trade(1_000, '100', '1');
    const first = await trade(2_000, '110', '2');
    await waitFor(async () => (await lastSeq()) === first, 30_000, 'the first trades applied');
    expect(await health()).toMatchObject({ status: 'ok', services: { kafka: 'up' }, lag_messages: 0 });

    sockets.down();
    // trades keep coming on the (healthy) broker while this consumer cannot reach it
    await trade(3_000, '90', '1');
    await trade(61_000, '120', '0.5');
    const last = await trade(62_000, '80', '0.25');
    // longer than the 6 s session: the group drops the member and it must join again
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect(await lastSeq()).toBe(first);
    expect(await candles()).toEqual([
      expect.objectContaining({ open: '100', high: '110', low: '100', close: '110', volume: '3', trades: 2 }),
    ]);
    expect(await health()).toMatchObject({ status: 'degraded', services: { kafka: 'down', postgres: 'up' }, lag_messages: null });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^xtrader_market_data_lag_messages -1$/m);
    expect(sockets.refused).toBeGreaterThan(0);

    sockets.up();
    await waitFor(async () => (await lastSeq()) === last, 60_000, 'catch-up after Kafka is back');
    await waitFor(async () => (await health()).lag_messages === 0, 30_000, 'lag 0 after catch-up');
    expect(await candles()).toEqual([
      expect.objectContaining({
        open_time: T0,
        open: '100',
        high: '110',
        low: '90',
        close: '90',
        volume: '4',
        quote_volume: '410',
        trades: 3,
        first_trade_id: '1',
        last_trade_id: '3',
      }),
      expect.objectContaining({
        open_time: T0 + 60_000,
        open: '120',
        high: '120',
        low: '80',
        close: '80',
        volume: '0.75',
        quote_volume: '80',
        trades: 2,
        first_trade_id: '4',
        last_trade_id: '5',
      }),
    ]);
    expect(service.stats()).toMatchObject({ tradesApplied: 5 });
    expect(await health()).toMatchObject({ status: 'ok', consumer: 'running' });
  }, 120_000);
});
