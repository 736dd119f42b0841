/**
 * The PostgreSQL reads through createApi: GET /v1/order/{id} for orders the engine does not hold,
 * GET /v1/orders/history, GET /v1/fills, and GET /v1/trades/{symbol} topped up from PostgreSQL. The
 * rows are what the persister writes (db/execution-writer.ts) for a small engine run of two API
 * users, in a database of this file's own (xtrader_test_history); users and keys are in xtrader_test.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRows } from '../db/execution-rows.ts';
import { writeBatch } from '../db/execution-writer.ts';
import { HistoryStore } from '../db/history-store.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { DEFAULT_ENGINE_CONFIG, Engine, type Command, type EngineEvent, type PlaceOrderCommand } from '../engine/index.ts';
import { EnvelopeEncoder } from '../contract/envelope-encoder.ts';
import type { Envelope, ExecutionEnvelope, TradeEnvelope } from '../contract/envelopes.ts';
import { routesOf } from '../contract/broker-routes.ts';
import { EventFeed } from './event-feed.ts';
import type { ApiCredentials } from './signed-client.ts';
import { json, startTestApi, testPool, type TestApi } from './test-support.ts';
import { Views } from './views.ts';

const HISTORY_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_test_history';
  return url.toString();
})();

let pool: pg.Pool;
let historyPool: pg.Pool;
let deadPool: pg.Pool;
let api: TestApi;
let down: TestApi;
let alice: ApiCredentials & { userId: string };
let bob: ApiCredentials & { userId: string };
let engine: Engine;
let envelopes: Envelope[];
const ids: Record<string, number> = {};
const BASE_TIME = 1_800_000_000_000;
/** engine order ids far above the test API engine's own (its ids are its command seqs) */
const FIRST_ORDER_ID = 900_000_001;

/** Two users trade on BTC-KRW and ETH-KRW: fills, a cancel, an expiry, a rejection, an order still open. */
function scenario(aliceId: number, bobId: number): void {
  engine = new Engine(DEFAULT_ENGINE_CONFIG);
  const encoder = new EnvelopeEncoder(DEFAULT_ENGINE_CONFIG);
  envelopes = [];
  let orderId = FIRST_ORDER_ID;
  let time = BASE_TIME;
  const apply = (command: Command) => {
    const events: EngineEvent[] = engine.apply(command);
    for (const envelope of encoder.encodeAll(events)) if (routesOf(envelope).redis) envelopes.push(envelope);
  };
  for (const userId of [aliceId, bobId]) {
    apply({ type: 'Deposit', userId, asset: 'KRW', amount: 1_000_000_000, timestamp: (time += 1000) });
    apply({ type: 'Deposit', userId, asset: 'BTC', amount: 1_000_000_000, timestamp: (time += 1000) });
    apply({ type: 'Deposit', userId, asset: 'ETH', amount: 1_000_000_000, timestamp: (time += 1000) });
  }
  const place = (
    name: string,
    order: Omit<PlaceOrderCommand, 'type' | 'orderId' | 'timestamp' | 'postOnly' | 'stp' | 'timeInForce'> & Partial<PlaceOrderCommand>,
  ) => {
    ids[name] = orderId;
    apply({
      type: 'PlaceOrder',
      orderId: orderId++,
      timestamp: (time += 1000),
      postOnly: false,
      stp: 'ExpireTaker',
      timeInForce: order.orderType === 'Market' ? 'IOC' : 'GTC',
      ...order,
    });
  };
  // prices in ticks of 1,000 KRW, quantities in lots of 0.001
  place('aliceSellFilled', {
    userId: aliceId,
    symbol: 'BTC-KRW',
    side: 'Sell',
    orderType: 'Limit',
    price: 50_000,
    quantity: 10,
    clientOrderId: 'a-sell',
  });
  place('bobBuyFilled', { userId: bobId, symbol: 'BTC-KRW', side: 'Buy', orderType: 'Limit', price: 50_000, quantity: 10 });
  place('aliceBuyCancelled', { userId: aliceId, symbol: 'BTC-KRW', side: 'Buy', orderType: 'Limit', price: 40_000, quantity: 5 });
  apply({ type: 'CancelOrder', orderId: ids.aliceBuyCancelled!, userId: aliceId, timestamp: (time += 1000) });
  place('aliceSellOpen', { userId: aliceId, symbol: 'BTC-KRW', side: 'Sell', orderType: 'Limit', price: 60_000, quantity: 4 });
  place('bobMarketFilled', { userId: bobId, symbol: 'BTC-KRW', side: 'Buy', orderType: 'Market', quantity: 2 });
  place('bobPostOnlyRejected', {
    userId: bobId,
    symbol: 'BTC-KRW',
    side: 'Buy',
    orderType: 'Limit',
    price: 60_000,
    quantity: 1,
    postOnly: true,
  });
  place('aliceEthSellFilled', { userId: aliceId, symbol: 'ETH-KRW', side: 'Sell', orderType: 'Limit', price: 5_000, quantity: 3 });
  place('bobEthBuyFilled', { userId: bobId, symbol: 'ETH-KRW', side: 'Buy', orderType: 'Limit', price: 5_000, quantity: 3 });
  place('aliceIocExpired', {
    userId: aliceId,
    symbol: 'BTC-KRW',
    side: 'Buy',
    orderType: 'Limit',
    price: 30_000,
    quantity: 2,
    timeInForce: 'IOC',
  });
}

beforeAll(async () => {
  pool = await testPool();
  await ensureDatabase(HISTORY_URL);
  historyPool = new pg.Pool({ connectionString: HISTORY_URL, max: 4 });
  await migrate(historyPool);
  await historyPool.query('TRUNCATE executions, orders, trades, balance_changes, stream_dead_letters');
  api = await startTestApi(pool, { history: new HistoryStore(historyPool) });
  alice = await api.createUser('history-alice', { KRW: '100000000' });
  bob = await api.createUser('history-bob', { KRW: '100000000' });
  scenario(Number(alice.userId), Number(bob.userId));
  const entries = envelopes.map((envelope) => ({ id: `${envelope.seq}-0`, body: JSON.stringify(envelope) }));
  for (let start = 0; start < entries.length; start += 10)
    await writeBatch(historyPool, 'executions', batchRows(entries.slice(start, start + 10)));
  // the same users and keys, but PostgreSQL for history on a port nothing listens on
  deadPool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 1_000 });
  deadPool.on('error', () => {});
  down = await startTestApi(pool, { history: new HistoryStore(deadPool) });
});

afterAll(async () => {
  await api?.close();
  await down?.close();
  await pool?.end();
  await historyPool?.end();
  await deadPool?.end();
});

const executionsOf = (orderId: number) =>
  envelopes.filter(
    (envelope): envelope is ExecutionEnvelope => envelope.type === 'Execution' && envelope.execution_report.order_id === String(orderId),
  );

describe('GET /v1/order/{id} from PostgreSQL', () => {
  it('answers an order the engine does not hold from its row, in the same shape as the engine view', async () => {
    const views = new Views(DEFAULT_ENGINE_CONFIG);
    for (const name of ['aliceSellFilled', 'aliceBuyCancelled', 'aliceSellOpen', 'aliceIocExpired']) {
      const response = await api.signed(alice, 'GET', `/v1/order/${ids[name]}`);
      expect(response.status, name).toBe(200);
      const body = await json(response);
      const expected = views.order(engine.getOrder(ids[name]!)!);
      expect(Object.keys(body)).toEqual(Object.keys(expected));
      // execution reports do not carry these four
      expect(body).toEqual({ ...expected, time_in_force: null, post_only: null, stop_price: null, quote_amount: null });
    }
    const filled = await json(await api.signed(alice, 'GET', `/v1/order/${ids.aliceSellFilled}`));
    expect(filled).toMatchObject({
      status: 'Filled',
      client_order_id: 'a-sell',
      filled_quantity: '0.01',
      avg_price: '50000000',
      fees: '500',
      filled_quote: '500000',
    });
    const rejected = await json(await api.signed(bob, 'GET', `/v1/order/${ids.bobPostOnlyRejected}`));
    expect(rejected).toMatchObject({ status: 'Rejected', reject_reason: 'POST_ONLY_WOULD_TAKE' });
    expect(await json(await api.signed(alice, 'GET', `/v1/order/${ids.aliceIocExpired}`))).toMatchObject({
      status: 'Expired',
      expire_reason: 'IOC',
    });
  });

  it("answers 404 for another user's order and for an order nowhere", async () => {
    const other = await api.signed(bob, 'GET', `/v1/order/${ids.aliceSellFilled}`);
    expect(other.status).toBe(404);
    expect(await json(other)).toMatchObject({ error: 'ORDER_NOT_FOUND' });
    expect((await api.signed(alice, 'GET', '/v1/order/999999999999')).status).toBe(404);
  });
});

describe('GET /v1/orders/history', () => {
  it("lists the caller's finished orders only, oldest first, in pages", async () => {
    const all = await json(await api.signed(alice, 'GET', '/v1/orders/history'));
    expect(all.orders.map((order: { order_id: string }) => Number(order.order_id))).toEqual([
      ids.aliceSellFilled,
      ids.aliceBuyCancelled,
      ids.aliceEthSellFilled,
      ids.aliceIocExpired,
    ]);
    expect(all.next_after_order_id).toBeNull();
    expect(all.orders.map((order: { status: string }) => order.status)).toEqual(['Filled', 'Cancelled', 'Filled', 'Expired']);

    const first = await json(await api.signed(alice, 'GET', '/v1/orders/history?limit=3'));
    expect(first.orders).toHaveLength(3);
    expect(first.next_after_order_id).toBe(String(ids.aliceEthSellFilled));
    const second = await json(await api.signed(alice, 'GET', `/v1/orders/history?limit=3&after_order_id=${first.next_after_order_id}`));
    expect(second.orders.map((order: { order_id: string }) => Number(order.order_id))).toEqual([ids.aliceIocExpired]);
    expect(second.next_after_order_id).toBeNull();

    const bobs = await json(await api.signed(bob, 'GET', '/v1/orders/history'));
    expect(bobs.orders.map((order: { order_id: string }) => Number(order.order_id))).toEqual([
      ids.bobBuyFilled,
      ids.bobMarketFilled,
      ids.bobPostOnlyRejected,
      ids.bobEthBuyFilled,
    ]);
  });

  it('filters by symbol and by creation time (inclusive)', async () => {
    const eth = await json(await api.signed(alice, 'GET', '/v1/orders/history?symbol=ETH-KRW'));
    expect(eth.orders.map((order: { order_id: string }) => Number(order.order_id))).toEqual([ids.aliceEthSellFilled]);
    const cancelled = engine.getOrder(ids.aliceBuyCancelled!)!;
    const expired = engine.getOrder(ids.aliceIocExpired!)!;
    const window = await json(
      await api.signed(alice, 'GET', `/v1/orders/history?start=${cancelled.createdAt}&end=${expired.createdAt - 1}`),
    );
    expect(window.orders.map((order: { order_id: string }) => Number(order.order_id))).toEqual([
      ids.aliceBuyCancelled,
      ids.aliceEthSellFilled,
    ]);
  });

  it('answers 400 with stable words for bad parameters', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/orders/history?symbol=DOGE-KRW', 'UNKNOWN_SYMBOL'],
      ['/v1/orders/history?start=yesterday', 'INVALID_TIME_RANGE'],
      ['/v1/orders/history?start=2000&end=1000', 'INVALID_TIME_RANGE'],
      ['/v1/orders/history?limit=0', 'INVALID_QUERY'],
      ['/v1/orders/history?limit=1001', 'INVALID_QUERY'],
      ['/v1/orders/history?after_order_id=-1', 'INVALID_QUERY'],
      ['/v1/fills?after_seq=abc', 'INVALID_QUERY'],
      ['/v1/fills?end=1.5', 'INVALID_TIME_RANGE'],
    ];
    for (const [route, word] of cases) {
      const response = await api.signed(alice, 'GET', route);
      expect(response.status, route).toBe(400);
      expect((await json(response)).error, route).toBe(word);
    }
  });

  it('needs a signature', async () => {
    expect((await api.app.request('/v1/orders/history')).status).toBe(401);
    expect((await api.app.request('/v1/fills')).status).toBe(401);
  });
});

describe('GET /v1/fills', () => {
  it("lists the caller's Trade execution reports, oldest first, in pages and by symbol", async () => {
    const expected = envelopes
      .filter(
        (envelope): envelope is ExecutionEnvelope =>
          envelope.type === 'Execution' &&
          envelope.execution_report.exec_type === 'Trade' &&
          envelope.execution_report.user_id === alice.userId,
      )
      .map((envelope) => {
        const report = envelope.execution_report;
        return {
          seq: envelope.seq,
          order_id: report.order_id,
          trade_id: report.trade_id,
          symbol: report.symbol,
          side: report.side,
          price: report.price,
          quantity: report.quantity,
          quote_quantity: envelopes.find((other): other is TradeEnvelope => other.type === 'Trade' && other.trade_id === report.trade_id)!
            .quote_quantity,
          fee: report.fee,
          fee_asset: report.fee_asset,
          is_maker: report.is_maker,
          timestamp: envelope.timestamp,
        };
      });
    expect(expected.length).toBe(3);
    const all = await json(await api.signed(alice, 'GET', '/v1/fills'));
    expect(all).toEqual({ fills: expected, next_after_seq: null });
    const first = await json(await api.signed(alice, 'GET', '/v1/fills?limit=2'));
    expect(first).toEqual({ fills: expected.slice(0, 2), next_after_seq: String(expected[1]!.seq) });
    const rest = await json(await api.signed(alice, 'GET', `/v1/fills?limit=2&after_seq=${first.next_after_seq}`));
    expect(rest).toEqual({ fills: expected.slice(2), next_after_seq: null });
    const eth = await json(await api.signed(alice, 'GET', '/v1/fills?symbol=ETH-KRW'));
    expect(eth.fills.map((fill: { order_id: string }) => Number(fill.order_id))).toEqual([ids.aliceEthSellFilled]);
    expect(executionsOf(ids.aliceSellFilled!).length).toBeGreaterThan(1);
  });
});

describe('GET /v1/trades/{symbol}', () => {
  const trade = (tradeId: number, seq: number): EngineEvent => {
    const fill = {
      seq: seq + 1,
      orderId: 1,
      userId: 1,
      side: 'Sell' as const,
      isMaker: true,
      filledQuantity: 1,
      remainingQuantity: 0,
      fee: 0,
      status: 'Filled' as const,
      orderType: 'Limit' as const,
      orderQuantity: 1,
      filledQuote: 50_000,
    };
    return {
      type: 'Trade',
      seq,
      timestamp: BASE_TIME + tradeId,
      symbol: 'BTC-KRW',
      tradeId,
      price: 50_000,
      quantity: 1,
      quoteQuantity: 50_000,
      takerSide: 'Buy',
      maker: fill,
      taker: { ...fill, seq: seq + 2, isMaker: false, side: 'Buy' },
    };
  };

  it('answers from memory when it holds `limit` trades, else tops memory up with older trades from PostgreSQL', async () => {
    await historyPool.query('TRUNCATE trades');
    // PostgreSQL holds trades 1–103 (all persisted); memory, as after a restart, only 101–103
    const stored: TradeEnvelope[] = Array.from({ length: 103 }, (_, index) => ({
      v: 1,
      type: 'Trade',
      seq: 10_000 + index * 3,
      prev_seq: 0,
      timestamp: BASE_TIME + index + 1,
      symbol: 'BTC-KRW',
      trade_id: String(index + 1),
      price: '50000000',
      quantity: '0.001',
      quote_quantity: '50000',
      taker_side: 'Buy',
    }));
    await writeBatch(
      historyPool,
      'executions',
      batchRows(stored.map((envelope) => ({ id: `${envelope.seq}-0`, body: JSON.stringify(envelope) }))),
    );
    const feed = new EventFeed();
    feed.onEvents([trade(101, 20_000), trade(102, 20_003), trade(103, 20_006)]);
    const restarted = await startTestApi(pool, { feed, history: new HistoryStore(historyPool) });
    const failing = await startTestApi(pool, { feed, history: new HistoryStore(deadPool) });
    try {
      const topped = await json(await restarted.app.request('/v1/trades/BTC-KRW?limit=5'));
      expect(topped.trades.map((entry: { trade_id: string }) => entry.trade_id)).toEqual(['103', '102', '101', '100', '99']);
      expect(topped.trades[3]).toEqual({
        trade_id: '100',
        price: '50000000',
        quantity: '0.001',
        quote_quantity: '50000',
        taker_side: 'Buy',
        timestamp: BASE_TIME + 100,
      });
      expect(topped.trades[0]).toEqual({ ...topped.trades[3], trade_id: '103', timestamp: BASE_TIME + 103 });
      // memory suffices: PostgreSQL is not asked (so its outage does not matter)
      const fromMemory = await failing.app.request('/v1/trades/BTC-KRW?limit=3');
      expect(fromMemory.status).toBe(200);
      expect((await json(fromMemory)).trades.map((entry: { trade_id: string }) => entry.trade_id)).toEqual(['103', '102', '101']);
      const unavailable = await failing.app.request('/v1/trades/BTC-KRW?limit=4');
      expect(unavailable.status).toBe(503);
      expect(await json(unavailable)).toMatchObject({ error: 'STORE_UNAVAILABLE' });
      // no history store at all: memory only, as before
      const plain = await startTestApi(pool, { feed });
      try {
        expect((await json(await plain.app.request('/v1/trades/BTC-KRW?limit=50'))).trades).toHaveLength(3);
      } finally {
        await plain.close();
      }
    } finally {
      await restarted.close();
      await failing.close();
    }
  });
});

describe('PostgreSQL down', () => {
  it('answers the history reads 503 STORE_UNAVAILABLE and still takes orders', async () => {
    const user = await down.createUser('history-down', { KRW: '100000000' });
    for (const route of ['/v1/orders/history', '/v1/fills', '/v1/order/999999999']) {
      const response = await down.signed(user, 'GET', route);
      expect(response.status, route).toBe(503);
      expect(await json(response), route).toMatchObject({ error: 'STORE_UNAVAILABLE' });
    }
    const placed = await down.signed(user, 'POST', '/v1/order', {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: '1000000',
      quantity: '0.01',
    });
    expect(placed.status).toBe(200);
    const { order_id } = await json(placed);
    // an order the engine holds never needs PostgreSQL
    expect(await json(await down.signed(user, 'GET', `/v1/order/${order_id}`))).toMatchObject({ status: 'Pending' });
    expect((await down.signed(user, 'DELETE', `/v1/order/${order_id}`)).status).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('describes the history routes and the new error word', async () => {
    const spec = await json(await api.app.request('/openapi.json'));
    expect(spec.paths['/v1/orders/history'].get.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      'symbol',
      'start',
      'end',
      'limit',
      'after_order_id',
    ]);
    expect(spec.paths['/v1/fills'].get.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      'symbol',
      'start',
      'end',
      'limit',
      'after_seq',
    ]);
    expect(spec.paths['/v1/orders/history'].get.responses['503']).toBeDefined();
    expect(spec.components.schemas.Fill.properties).toHaveProperty('quote_quantity');
    expect(spec.info.description).toContain('`INVALID_TIME_RANGE`');
  });
});
