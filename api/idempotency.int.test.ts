/**
 * A retry the API's read of the engine does not see (here hidden on purpose, as a lost race or a
 * second API process would) goes to the journal, and the engine refuses it as
 * DUPLICATE_CLIENT_ORDER_ID: the client gets the same answer as from the fast path — the original
 * order_id, its current status, duplicate: true — and no second order exists.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../engine/index.ts';
import type { EngineQueries } from '../sequencer/index.ts';
import { createApi } from './app.ts';
import type { SequencerPort } from './context.ts';
import { CredentialStore } from './credentials.ts';
import { EventFeed } from './event-feed.ts';
import { ApiMetrics } from './metrics.ts';
import { SecretBox } from './secret-box.ts';
import { signedHeaders, type ApiCredentials } from './signed-client.ts';
import { json, startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let api: TestApi;
let blind: Pick<TestApi, 'signed'>;
let alice: ApiCredentials & { userId: string };

const limitBuy = { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '40000000', quantity: '0.01' };

/** The same sequencer and engine, except that the engine's queries seem to know no client_order_id. */
function withoutClientOrderIds(sequencer: SequencerPort): SequencerPort {
  const blind = (target: EngineQueries): EngineQueries =>
    new Proxy(target, {
      get: (object, property) => {
        if (property === 'orderForClientOrderId') return () => undefined;
        const value = Reflect.get(object, property) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
      },
    });
  return {
    get ready() {
      return sequencer.ready;
    },
    get queries() {
      return blind(sequencer.queries);
    },
    get lastSeq() {
      return sequencer.lastSeq;
    },
    get pending() {
      return sequencer.pending;
    },
    maxPending: sequencer.maxPending,
    submit: (command) => sequencer.submit(command),
  };
}

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
  alice = await api.createUser('idempotency-alice', { KRW: '100000000' });
  blind = blindApi();
});

/** A second app on api's sequencer (same users and keys) whose engine read misses every client_order_id. */
function blindApi(): Pick<TestApi, 'signed'> {
  const { app } = createApi({
    sequencer: withoutClientOrderIds(api.sequencer),
    engineConfig: DEFAULT_ENGINE_CONFIG,
    credentials: new CredentialStore(pool, new SecretBox(Buffer.alloc(32, 7))),
    feed: new EventFeed(),
    metrics: new ApiMetrics({ defaultMetrics: false }),
    adminToken: 'unused-admin-token-0123456789',
    rateLimits: { ordersPerSecond: 10_000, requestsPerMinute: 1_000_000 },
  });
  const signed = async (user: ApiCredentials, method: string, route: string, body?: unknown, timestamp?: number) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    return app.request(route, {
      method,
      headers: signedHeaders(user, method, route, text, timestamp),
      ...(text !== '' ? { body: text } : {}),
    });
  };
  return { signed };
}

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

describe('a client_order_id retry refused by the engine', () => {
  it('answers as the fast path does: the original order_id and status, duplicate: true, one order', async () => {
    const order = { ...limitBuy, client_order_id: `engine-refused-${Date.now()}` };
    const placed = await json(await api.signed(alice, 'POST', '/v1/order', order));
    expect(placed).toMatchObject({ status: 'ACCEPTED', order_status: 'Pending' });
    expect(placed.duplicate).toBeUndefined();

    const fast = await json(await api.signed(alice, 'POST', '/v1/order', { ...order, quantity: '0.02' }));
    const before = await api.state();
    const refused = await json(await blind.signed(alice, 'POST', '/v1/order', { ...order, quantity: '0.02' }));
    expect(refused).toEqual(fast);
    expect(refused).toMatchObject({ order_id: placed.order_id, duplicate: true, order_status: 'Pending' });
    // This retry did reach the journal (the fast path's does not) and left no order of its own.
    expect((await api.state()).last_seq).toBe(before.last_seq + 1);
    expect(api.sequencer.engine.getOrder(before.last_seq + 1)).toBeUndefined();
    const open = await json(await api.signed(alice, 'GET', '/v1/orders'));
    expect(open.orders.filter((entry: { client_order_id?: string }) => entry.client_order_id === order.client_order_id)).toHaveLength(1);
  });

  it('answers concurrent blind retries with the one original order', async () => {
    const order = { ...limitBuy, client_order_id: `engine-burst-${Date.now()}` };
    const base = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, index) => blind.signed(alice, 'POST', '/v1/order', order, base - index).then(json)),
    );
    const ids = new Set(answers.map((answer) => answer.order_id));
    expect(ids.size).toBe(1);
    expect(answers.filter((answer) => answer.duplicate === true)).toHaveLength(9);
  });
});
