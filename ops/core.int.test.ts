/** The real core process over real HTTP: every route, chunked bodies, generated secrets, clean SIGTERM. */
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders, type ApiCredentials } from '../api/signed-client.ts';
import { answerOf, type Answer, type TestUser } from '../api/test-client.ts';
import { TestCore } from './testing/test-core.ts';

// No ADMIN_TOKEN and no SECRET_ENCRYPTION_KEY: both are generated into DATA_DIR (the harness reads the token there).
const GENERATED_SECRETS = { ADMIN_TOKEN: '', SECRET_ENCRYPTION_KEY: '' };

let harness: TestCore;
let alice: TestUser;
let bob: TestUser;

async function call(method: string, route: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return answerOf(
    await fetch(`${harness.url}${route}`, {
      method,
      headers: options.headers ?? {},
      ...(options.body !== undefined ? { body: options.body } : {}),
    }),
  );
}

const admin = async (method: string, route: string, body?: unknown) => answerOf(await harness.client.admin(method, route, body));
const signed = async (user: ApiCredentials, method: string, route: string, body?: unknown) =>
  answerOf(await harness.client.signed(user, method, route, body));
const newUser = (name: string) => harness.client.createUser(name, { KRW: '1000000000', BTC: '10' });

beforeAll(async () => {
  harness = await TestCore.start({ name: 'core', env: GENERATED_SECRETS });
  alice = await newUser('alice');
  bob = await newUser('bob');
}, 90_000);

afterAll(async () => {
  await harness?.close();
});

describe('core process over HTTP', () => {
  it('generates the admin token and encryption key into DATA_DIR with mode 600', async () => {
    expect(harness.adminToken).toMatch(/^[0-9a-f]{64}$/);
    for (const file of ['admin-token', 'secret-key']) expect((await stat(path.join(harness.dataDir, file))).mode & 0o777).toBe(0o600);
    expect((await call('GET', '/admin/state', { headers: { Authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
  });

  it('answers /health with the broker states and /ready with services and publishers', async () => {
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(['ok', 'degraded']).toContain(health.body.status);
    expect(Object.keys(health.body.services).sort()).toEqual(['kafka', 'postgres', 'rabbitmq', 'redis']);
    expect(health.body.services.postgres).toBe('up');
    const ready = await call('GET', '/ready');
    expect(ready.status).toBe(200);
    // no publisher process runs beside this core: it takes orders, and says its feeds are down
    expect(ready.body).toMatchObject({
      status: 'degraded',
      recovery: { lastSeq: 0 },
      event_log: { last_seq: expect.any(Number), max_bytes: expect.any(Number) },
    });
    for (const name of ['redis', 'kafka', 'rabbitmq']) {
      expect(ready.body.publishers[name]).toMatchObject({ state: 'down', running: false, last_error: 'publisher has not started' });
    }
  });

  it('serves the order lifecycle: place, status, list, book, trade, ticker, balances, cancel', async () => {
    const resting = await signed(bob, 'POST', '/v1/order', {
      symbol: 'BTC-KRW',
      side: 'Sell',
      order_type: 'Limit',
      price: '51000000',
      quantity: '0.5',
      client_order_id: 'bob-1',
    });
    expect(resting).toMatchObject({ status: 200, body: { status: 'ACCEPTED', order_status: 'Pending' } });
    const book = await call('GET', '/v1/orderbook/BTC-KRW?depth=3');
    expect(book.body).toMatchObject({ symbol: 'BTC-KRW', asks: [['51000000', '0.5']], bids: [] });
    const taker = await signed(alice, 'POST', '/v1/order', {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: '52000000',
      quantity: '0.2',
      time_in_force: 'IOC',
    });
    expect(taker.body.order_status).toBe('Filled');
    const state = await signed(alice, 'GET', `/v1/order/${taker.body.order_id}`);
    expect(state.body).toMatchObject({ status: 'Filled', filled_quantity: '0.2', avg_price: '51000000', fees: '20400' });
    expect((await signed(bob, 'GET', `/v1/order/${taker.body.order_id}`)).status).toBe(404);
    const open = await signed(bob, 'GET', '/v1/orders?symbol=BTC-KRW');
    expect(open.body.orders).toEqual([
      expect.objectContaining({ order_id: resting.body.order_id, status: 'PartiallyFilled', remaining_quantity: '0.3' }),
    ]);
    const trades = await call('GET', '/v1/trades/BTC-KRW');
    expect(trades.body.trades[0]).toMatchObject({ price: '51000000', quantity: '0.2', taker_side: 'Buy' });
    const ticker = await call('GET', '/v1/ticker/BTC-KRW');
    expect(ticker.body).toMatchObject({ last_price: '51000000', volume_24h: '0.2', best_ask: '51000000', best_bid: null });
    const balances = await signed(alice, 'GET', '/v1/balances');
    expect(balances.body.balances).toContainEqual({ asset: 'BTC', available: '10.2', locked: '0', total: '10.2' });
    const cancel = await signed(bob, 'DELETE', `/v1/order/${resting.body.order_id}`);
    expect(cancel.body).toMatchObject({ status: 'ACCEPTED', order_status: 'Cancelled' });
    expect((await call('GET', '/v1/markets')).body.markets).toHaveLength(4); // BTC-KRW, ETH-KRW and the perpetuals BTC-KRW-PERP, ETH-KRW-PERP
  });

  it('serves metrics, the OpenAPI document and the docs page', async () => {
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/xtrader_order_ack_seconds_count [1-9]/);
    expect(metrics.body).toMatch(/xtrader_journal_batch_write_fsync_seconds_count [1-9]/);
    expect(metrics.body).toMatch(/xtrader_engine_apply_seconds_count [1-9]/);
    // read when scraped: nothing is queued now (a batch-start sample would still say 1)
    expect(metrics.body).toMatch(/^xtrader_sequencer_queue_depth 0$/m);
    expect((await call('GET', '/openapi.json')).body.paths['/v1/order'].post).toBeDefined();
    const docs = await call('GET', '/docs');
    expect(docs.headers.get('content-type')).toContain('text/html');
  });

  it('verifies the signature over the request target exactly as sent (unencoded query characters)', async () => {
    const route = '/v1/orders?symbol=BTC-KRW&note="raw"';
    const status = await new Promise<number>((resolve, reject) => {
      // http.request sends the path as given; fetch() would percent-encode the quotes first.
      const request = http.request(
        `${harness.url}/`,
        { method: 'GET', path: route, headers: signedHeaders(alice, 'GET', route) },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(200);
  });

  it('refuses a chunked body over 16 KiB with 413 and keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        `${harness.url}/v1/order`,
        { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      for (let index = 0; index < 20; index++) request.write('x'.repeat(1024));
      request.end();
    });
    expect(status).toBe(413);
    expect((await call('GET', '/v1/markets')).status).toBe(200);
  });

  it('stops cleanly on SIGTERM and recovers the same state on restart', async () => {
    // a quiet core journals one Tick about a second after the last trade changed a ticker: let it pass first
    const before = await harness.client.settledState();
    expect(await harness.stop()).toBe(0);
    await harness.restart();
    const after = await admin('GET', '/admin/state');
    expect(after.body).toMatchObject({ last_seq: before.last_seq, state_hash: before.state_hash });
    expect((await call('GET', '/ready')).body.recovery.replayedCommands).toBeGreaterThan(0);
    // Keys still verify after the restart: the secret is decrypted from PostgreSQL with the kept key.
    expect((await signed(alice, 'GET', '/v1/balances')).status).toBe(200);
  });
});
