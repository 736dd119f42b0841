/**
 * PATCH /v1/order/{id} (amend: reduce quantity, keep priority) and DELETE /v1/orders?symbol=
 * (cancel all of one's open orders in a market): the good cases and every 4xx, in-process on a
 * real sequencer, engine and PostgreSQL (api/test-support.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders, type ApiCredentials } from './signed-client.ts';
import { json, startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let api: TestApi;
let alice: ApiCredentials & { userId: string };
let bob: ApiCredentials & { userId: string };

const sell = (price: string, quantity: string, extra: Record<string, unknown> = {}) => ({
  symbol: 'BTC-KRW',
  side: 'Sell',
  order_type: 'Limit',
  price,
  quantity,
  ...extra,
});
const buy = (price: string, quantity: string, extra: Record<string, unknown> = {}) => ({
  symbol: 'BTC-KRW',
  side: 'Buy',
  order_type: 'Limit',
  price,
  quantity,
  ...extra,
});

async function place(user: ApiCredentials, body: Record<string, unknown>): Promise<string> {
  const response = await api.signed(user, 'POST', '/v1/order', body);
  const answer = await json(response);
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer.order_id as string;
}

async function order(user: ApiCredentials, orderId: string) {
  return json(await api.signed(user, 'GET', `/v1/order/${orderId}`));
}

async function balance(user: ApiCredentials, asset: string): Promise<{ available: string; locked: string }> {
  const { balances } = await json(await api.signed(user, 'GET', `/v1/balances?asset=${asset}&t=${Math.random()}`));
  return balances.find((entry: { asset: string }) => entry.asset === asset);
}

const amend = (user: ApiCredentials, orderId: string, body: unknown) => api.signed(user, 'PATCH', `/v1/order/${orderId}`, body);

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
  alice = await api.createUser('amend-alice', { KRW: '1000000000', BTC: '10' });
  bob = await api.createUser('amend-bob', { KRW: '1000000000', BTC: '10' });
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

describe('PATCH /v1/order/{id}: amend', () => {
  it('reduces a resting order, releases the freed funds, and keeps its place in the queue', async () => {
    const first = await place(alice, sell('61000000', '0.05'));
    const second = await place(bob, sell('61000000', '0.05'));
    const lockedBefore = await balance(alice, 'BTC');
    const response = await amend(alice, first, { quantity: '0.03' });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      order_id: first,
      status: 'ACCEPTED',
      message: 'amend accepted',
      order_status: 'Pending',
      quantity: '0.03',
      remaining_quantity: '0.03',
    });
    expect(await order(alice, first)).toMatchObject({
      status: 'Pending',
      quantity: '0.03',
      remaining_quantity: '0.03',
      filled_quantity: '0',
    });
    const lockedAfter = await balance(alice, 'BTC');
    expect(Number(lockedBefore.locked) - Number(lockedAfter.locked)).toBeCloseTo(0.02, 8);
    // the book level shrank by 0.02 and alice, amended, is still first at the level
    const book = await json(await api.app.request('/v1/orderbook/BTC-KRW?depth=50'));
    expect(book.asks).toContainEqual(['61000000', '0.08']);
    await place(bob, buy('61000000', '0.01'));
    expect(await order(alice, first)).toMatchObject({ status: 'PartiallyFilled', filled_quantity: '0.01', remaining_quantity: '0.02' });
    expect(await order(bob, second)).toMatchObject({ status: 'Pending', filled_quantity: '0' });
    await api.signed(alice, 'DELETE', `/v1/order/${first}`);
    await api.signed(bob, 'DELETE', `/v1/order/${second}`);
  });

  it('amends a partially filled order down to just above its filled part, and a stop order', async () => {
    const resting = await place(alice, sell('62000000', '0.05'));
    await place(bob, buy('62000000', '0.02'));
    const response = await amend(alice, resting, { quantity: 0.021 }); // a JSON number, read by its characters
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ order_status: 'PartiallyFilled', quantity: '0.021', remaining_quantity: '0.001' });
    const stop = await place(alice, {
      symbol: 'BTC-KRW',
      side: 'Sell',
      order_type: 'StopLimit',
      price: '40000000',
      stop_price: '41000000',
      quantity: '0.01',
    });
    const stopAmend = await amend(alice, stop, { quantity: '0.004' });
    expect(await json(stopAmend)).toMatchObject({ status: 'ACCEPTED', order_status: 'Untriggered', quantity: '0.004' });
    await api.signed(alice, 'DELETE', `/v1/order/${resting}`);
    await api.signed(alice, 'DELETE', `/v1/order/${stop}`);
  });

  it('answers each refused amend with its error word and journals nothing', async () => {
    const resting = await place(alice, sell('63000000', '0.05'));
    await place(bob, buy('63000000', '0.01'));
    const cancelled = await place(alice, sell('64000000', '0.01'));
    await api.signed(alice, 'DELETE', `/v1/order/${cancelled}`);
    const byQuote = await place(alice, {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'StopMarket',
      stop_price: '90000000',
      quote_amount: '100000',
    });
    const before = await api.state();
    const cases: Array<[string, string, unknown, number, string]> = [
      ['not reducing (equal)', resting, { quantity: '0.05' }, 400, 'AMEND_NOT_REDUCING'],
      ['not reducing (larger)', resting, { quantity: '1' }, 400, 'AMEND_NOT_REDUCING'],
      ['at the filled part', resting, { quantity: '0.01' }, 400, 'AMEND_BELOW_FILLED'],
      ['below the filled part', resting, { quantity: '0.005' }, 400, 'AMEND_BELOW_FILLED'],
      ['zero', resting, { quantity: '0' }, 400, 'INVALID_QUANTITY'],
      ['off the lot', resting, { quantity: '0.0305' }, 400, 'OFF_LOT'],
      ['too many decimals', resting, { quantity: '0.030000001' }, 400, 'TOO_MANY_DECIMALS'],
      ['not a decimal', resting, { quantity: '-0.01' }, 400, 'NOT_A_DECIMAL'],
      ['exponent', resting, { quantity: '3e-2' }, 400, 'NOT_A_DECIMAL'],
      ['missing quantity', resting, {}, 400, 'MISSING_FIELD'],
      ['unknown field', resting, { quantity: '0.03', price: '1' }, 400, 'UNKNOWN_FIELD'],
      ['body not an object', resting, '[1]', 400, 'INVALID_BODY'],
      ['body not JSON', resting, '{"quantity":', 400, 'MALFORMED_JSON'],
      ['a finished order', cancelled, { quantity: '0.005' }, 400, 'ORDER_NOT_OPEN'],
      ['a buy by quote amount', byQuote, { quantity: '0.001' }, 400, 'AMEND_NOT_ALLOWED'],
      ['an unknown order', '99999999', { quantity: '0.01' }, 404, 'ORDER_NOT_FOUND'],
      ['a malformed id', 'abc', { quantity: '0.01' }, 400, 'INVALID_ORDER_ID'],
      ['id zero', '0', { quantity: '0.01' }, 400, 'INVALID_ORDER_ID'],
    ];
    for (const [what, orderId, body, status, error] of cases) {
      const response = await amend(alice, orderId, body);
      expect(response.status, what).toBe(status);
      expect((await json(response)).error, what).toBe(error);
    }
    // another user's order is indistinguishable from none
    const theirs = await amend(bob, resting, { quantity: '0.03' });
    expect(theirs.status).toBe(404);
    expect((await json(theirs)).error).toBe('ORDER_NOT_FOUND');
    expect((await api.state()).last_seq).toBe(before.last_seq);
    expect(await order(alice, resting)).toMatchObject({ quantity: '0.05', filled_quantity: '0.01' });
    await api.signed(alice, 'DELETE', `/v1/order/${resting}`);
    await api.signed(alice, 'DELETE', `/v1/order/${byQuote}`);
  });

  it('refuses a body that is not JSON-typed (415), too large (413), unsigned or wrongly signed (401)', async () => {
    const resting = await place(alice, sell('65000000', '0.05'));
    const route = `/v1/order/${resting}`;
    const text = JSON.stringify({ quantity: '0.03' });
    const headers = signedHeaders(alice, 'PATCH', route, text);
    const untyped = await api.app.request(route, { method: 'PATCH', body: text, headers: { ...headers, 'Content-Type': 'text/plain' } });
    expect(untyped.status).toBe(415);
    expect((await json(untyped)).error).toBe('UNSUPPORTED_MEDIA_TYPE');
    const big = JSON.stringify({ quantity: '0.03', pad: 'x'.repeat(17_000) });
    const large = await api.app.request(route, {
      method: 'PATCH',
      body: big,
      headers: { ...signedHeaders(alice, 'PATCH', route, big), 'Content-Length': String(big.length) },
    });
    expect(large.status).toBe(413);
    const unsigned = await api.app.request(route, { method: 'PATCH', body: text, headers: { 'Content-Type': 'application/json' } });
    expect(unsigned.status).toBe(401);
    expect((await json(unsigned)).error).toBe('MISSING_CREDENTIALS');
    // signed for another route (or another body): the signature does not match
    const wrong = await api.app.request(route, { method: 'PATCH', body: text, headers: signedHeaders(alice, 'PATCH', `${route}0`, text) });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error).toBe('INVALID_SIGNATURE');
    expect(await order(alice, resting)).toMatchObject({ quantity: '0.05' });
    await api.signed(alice, 'DELETE', route);
  });

  it('answers 409 with the engine reason when the order finished between the check and the engine, and the order stays Cancelled', async () => {
    const resting = await place(alice, sell('66000000', '0.05'));
    // the cancel is queued first; the amend's checks still see the order open, the engine does not
    const cancelling = api.sequencer.submit({ type: 'CancelOrder', orderId: Number(resting), userId: Number(alice.userId) });
    const response = await amend(alice, resting, { quantity: '0.03' });
    await cancelling;
    if (response.status === 400) {
      // the cancel was applied before the route read the order: the ordinary refusal (a fast machine)
      expect((await json(response)).error).toBe('ORDER_NOT_OPEN');
      return;
    }
    expect(response.status).toBe(409);
    expect(await json(response)).toMatchObject({
      error: 'ORDER_NOT_OPEN',
      status: 'REJECTED',
      reject_reason: 'ORDER_NOT_OPEN',
      order_id: resting,
      order_status: 'Cancelled',
    });
    // a refused amend does not make the order look Rejected
    expect(await order(alice, resting)).toMatchObject({ status: 'Cancelled', reject_reason: null });
  });

  it('draws on the orders-per-second budget: 429 past it, nothing sequenced', async () => {
    const limited = await startTestApi(pool, { rateLimits: { ordersPerSecond: 2, requestsPerMinute: 1_000 } });
    try {
      const user = await limited.createUser('amend-rate', { BTC: '1' });
      const placed = await json(await limited.signed(user, 'POST', '/v1/order', sell('70000000', '0.05')));
      const first = await limited.signed(user, 'PATCH', `/v1/order/${placed.order_id}`, { quantity: '0.04' });
      expect(first.status).toBe(200);
      const before = await limited.state();
      const second = await limited.signed(user, 'PATCH', `/v1/order/${placed.order_id}`, { quantity: '0.03' });
      expect(second.status).toBe(429);
      expect((await json(second)).error).toBe('RATE_LIMITED');
      expect(Number(second.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      expect((await limited.state()).last_seq).toBe(before.last_seq);
    } finally {
      await limited.close();
    }
  });
});

describe('DELETE /v1/orders?symbol=: cancel all', () => {
  it("cancels every open order of the caller in that market (stops included), nobody else's and no other market's", async () => {
    const carol = await api.createUser('cancel-all-carol', { KRW: '1000000000', BTC: '10', ETH: '10' });
    const mine = [
      await place(carol, buy('40000000', '0.01')),
      await place(carol, buy('40001000', '0.02')),
      await place(carol, sell('80000000', '0.03')),
      await place(carol, {
        symbol: 'BTC-KRW',
        side: 'Sell',
        order_type: 'StopLimit',
        price: '30000000',
        stop_price: '31000000',
        quantity: '0.01',
      }),
    ];
    const eth = await place(carol, { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: '2000000', quantity: '0.1' });
    const bobs = await place(bob, buy('40000000', '0.01'));
    const response = await api.signed(carol, 'DELETE', '/v1/orders?symbol=BTC-KRW');
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ symbol: 'BTC-KRW', status: 'ACCEPTED', message: '4 cancels accepted', cancelled: mine });
    for (const orderId of mine) expect((await order(carol, orderId)).status).toBe('Cancelled');
    expect((await json(await api.signed(carol, 'GET', '/v1/orders?symbol=BTC-KRW'))).orders).toEqual([]);
    expect((await order(carol, eth)).status).toBe('Pending');
    expect((await order(bob, bobs)).status).toBe('Pending');
    // every BTC-KRW hold is released; the ETH-KRW buy still holds its KRW
    expect((await balance(carol, 'BTC')).locked).toBe('0');
    expect(Number((await balance(carol, 'KRW')).locked)).toBeGreaterThan(0);
    // again, with nothing open: an empty list, still a 200
    const again = await api.signed(carol, 'DELETE', '/v1/orders?symbol=BTC-KRW');
    expect(await json(again)).toEqual({ symbol: 'BTC-KRW', status: 'ACCEPTED', message: '0 cancels accepted', cancelled: [] });
    await api.signed(bob, 'DELETE', `/v1/order/${bobs}`);
  });

  it('refuses a missing or unknown symbol (400) and an unsigned request (401), cancelling nothing', async () => {
    const resting = await place(alice, buy('41000000', '0.01'));
    const before = await api.state();
    for (const [route, error] of [
      ['/v1/orders', 'INVALID_QUERY'],
      ['/v1/orders?symbol=', 'INVALID_QUERY'],
      ['/v1/orders?symbol=DOGE-KRW', 'UNKNOWN_SYMBOL'],
      ['/v1/orders?symbol=btc-krw', 'UNKNOWN_SYMBOL'],
    ] as const) {
      const response = await api.signed(alice, 'DELETE', route);
      expect(response.status, route).toBe(400);
      expect((await json(response)).error, route).toBe(error);
    }
    const unsigned = await api.app.request('/v1/orders?symbol=BTC-KRW', { method: 'DELETE' });
    expect(unsigned.status).toBe(401);
    expect((await json(unsigned)).error).toBe('MISSING_CREDENTIALS');
    const wrong = await api.app.request('/v1/orders?symbol=BTC-KRW', {
      method: 'DELETE',
      headers: signedHeaders(alice, 'DELETE', '/v1/orders?symbol=ETH-KRW'),
    });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error).toBe('INVALID_SIGNATURE');
    expect((await api.state()).last_seq).toBe(before.last_seq);
    expect((await order(alice, resting)).status).toBe('Pending');
    await api.signed(alice, 'DELETE', `/v1/order/${resting}`);
  });

  it('is one order token: 429 past the orders-per-second budget, nothing cancelled', async () => {
    const limited = await startTestApi(pool, { rateLimits: { ordersPerSecond: 2, requestsPerMinute: 1_000 } });
    try {
      const user = await limited.createUser('cancel-all-rate', { BTC: '1' });
      const placed = await json(await limited.signed(user, 'POST', '/v1/order', sell('70000000', '0.05')));
      const first = await limited.signed(user, 'DELETE', '/v1/orders?symbol=ETH-KRW');
      expect(first.status).toBe(200);
      const second = await limited.signed(user, 'DELETE', '/v1/orders?symbol=BTC-KRW');
      expect(second.status).toBe(429);
      expect((await json(second)).error).toBe('RATE_LIMITED');
      expect((await json(await limited.signed(user, 'GET', `/v1/order/${placed.order_id}`))).status).toBe('Pending');
    } finally {
      await limited.close();
    }
  });

  it('is described in /openapi.json with PATCH /v1/order/{order_id}', async () => {
    const spec = await json(await api.app.request('/openapi.json'));
    expect(spec.paths['/v1/orders'].delete.parameters[0]).toMatchObject({ name: 'symbol', in: 'query', required: true });
    expect(Object.keys(spec.paths['/v1/orders'].delete.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429', '503']));
    expect(Object.keys(spec.paths['/v1/order/{order_id}'].patch.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '409', '413', '415', '429']),
    );
    expect(spec.components.schemas.Amend.required).toEqual(['quantity']);
  });
});
