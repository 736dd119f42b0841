import pg from 'pg';
import { CredentialStore } from './credentials.ts';
import { SecretBox } from './secret-box.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue } from './errors.ts';
import { ORDER_STATUSES } from './openapi-shared.ts';
import { signedHeaders, type ApiCredentials } from './signed-client.ts';
import { ADMIN_TOKEN, json, startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let api: TestApi;
let alice: ApiCredentials & { userId: string };
let bob: ApiCredentials & { userId: string };

const limitBuy = { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.01' };

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
  alice = await api.createUser('alice', { KRW: '100000000', BTC: '10' });
  bob = await api.createUser('bob', { KRW: '100000000', BTC: '10' });
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

describe('admin', () => {
  it('takes the Bearer scheme in any case, and answers 404 for the balances of no user', async () => {
    const lower = await api.app.request('/admin/state', { headers: { Authorization: `bearer ${ADMIN_TOKEN}` } });
    expect(lower.status).toBe(200);
    const missing = await api.admin('GET', '/admin/balances/999999999');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ error: 'USER_NOT_FOUND' });
    const feeAccount = await api.admin('GET', '/admin/balances/0');
    expect(feeAccount.status).toBe(200);
  });

  it('refuses requests without the admin token', async () => {
    const response = await api.app.request('/admin/users', {
      method: 'POST',
      body: '{"name":"x"}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(401);
    expect(await json(response)).toMatchObject({ error: 'ADMIN_UNAUTHORIZED' });
    const wrong = await api.app.request('/admin/state', { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('creates a user with a key and secret, and deposits through the sequencer', async () => {
    const created = await api.admin('POST', '/admin/users', { name: 'carol' });
    expect(created.status).toBe(201);
    const body = await json(created);
    expect(body.user_id).toMatch(/^\d+$/);
    expect(body.api_key).toMatch(/^xk_[0-9a-f]{32}$/);
    expect(body.api_secret).toMatch(/^[0-9a-f]{64}$/);
    const before = await api.state();
    const deposit = await api.admin('POST', '/admin/deposits', { user_id: Number(body.user_id), asset: 'BTC', amount: '1.5' });
    expect(deposit.status).toBe(200);
    expect(await json(deposit)).toMatchObject({
      status: 'APPLIED',
      message: 'deposit applied',
      outcome: 'Applied',
      balances: [{ asset: 'BTC', available: '1.5' }],
    });
    expect((await api.state()).last_seq).toBe(before.last_seq + 1);
    const withdraw = await api.admin('POST', '/admin/withdrawals', { user_id: Number(body.user_id), asset: 'BTC', amount: '0.5' });
    expect(await json(withdraw)).toMatchObject({ outcome: 'Applied', balances: [{ asset: 'BTC', available: '1' }] });
    const tooMuch = await api.admin('POST', '/admin/withdrawals', { user_id: Number(body.user_id), asset: 'BTC', amount: '2' });
    expect(tooMuch.status).toBe(400);
    expect(await json(tooMuch)).toMatchObject({ error: 'INSUFFICIENT_AVAILABLE' });
    // a deposit the engine refuses (it would push BTC's total supply past 2^53 − 1 minor units): journaled, 409, nothing moved
    const huge = await api.admin('POST', '/admin/deposits', { user_id: Number(body.user_id), asset: 'BTC', amount: '90071992' });
    expect(huge.status).toBe(409);
    const hugeBody = await json(huge);
    expect(hugeBody).toMatchObject({ status: 'REJECTED', outcome: 'Rejected', balances: [{ asset: 'BTC', available: '1' }] });
    expect(hugeBody.message).toMatch(/^deposit rejected by the engine: \w+ \(journaled as request \d+; no balance changed\)$/);
    expect(hugeBody.message).not.toMatch(/accepted/);
    const unknownUser = await api.admin('POST', '/admin/deposits', { user_id: 999999999, asset: 'BTC', amount: '1' });
    expect(await json(unknownUser)).toMatchObject({ error: 'UNKNOWN_USER' });
    const unknownAsset = await api.admin('POST', '/admin/deposits', { user_id: Number(body.user_id), asset: 'DOGE', amount: '1' });
    expect(await json(unknownAsset)).toMatchObject({ error: 'UNKNOWN_ASSET' });
  });
});

describe('orders', () => {
  it('takes decimals sent as JSON numbers exactly as written', async () => {
    const text = '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":49000000,"quantity":0.012}';
    const placed = await api.app.request('/v1/order', {
      method: 'POST',
      headers: signedHeaders(alice, 'POST', '/v1/order', text),
      body: text,
    });
    expect(placed.status).toBe(200);
    const { order_id } = await json(placed);
    const order = await json(await api.signed(alice, 'GET', `/v1/order/${order_id}`));
    expect(order).toMatchObject({ price: '49000000', quantity: '0.012' });
    expect((await api.signed(alice, 'DELETE', `/v1/order/${order_id}`)).status).toBe(200);
  });

  it('acknowledges a limit order, shows its full state, lists it, cancels it', async () => {
    const placed = await api.signed(alice, 'POST', '/v1/order', { ...limitBuy, client_order_id: 'first-order' });
    expect(placed.status).toBe(200);
    const ack = await json(placed);
    expect(ack).toMatchObject({ status: 'ACCEPTED', message: 'order accepted', order_status: 'Pending' });
    expect(ack.order_id).toMatch(/^\d+$/);

    const order = await json(await api.signed(alice, 'GET', `/v1/order/${ack.order_id}`));
    expect(order).toMatchObject({
      order_id: ack.order_id,
      client_order_id: 'first-order',
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      time_in_force: 'GTC',
      price: '50000000',
      quantity: '0.01',
      filled_quantity: '0',
      remaining_quantity: '0.01',
      avg_price: null,
      fees: '0',
      status: 'Pending',
      reject_reason: null,
    });
    expect(typeof order.created_at).toBe('number');

    const open = await json(await api.signed(alice, 'GET', '/v1/orders?symbol=BTC-KRW'));
    expect(open.orders.map((entry: { order_id: string }) => entry.order_id)).toContain(ack.order_id);
    const balances = await json(await api.signed(alice, 'GET', '/v1/balances'));
    // 0.01 BTC × 50,000,000 KRW = 500,000 KRW held, plus the 0.2 % taker fee it might pay.
    expect(balances.balances).toContainEqual({ asset: 'KRW', available: '99499000', locked: '501000', total: '100000000' });

    const cancel = await api.signed(alice, 'DELETE', `/v1/order/${ack.order_id}`);
    expect(cancel.status).toBe(200);
    expect(await json(cancel)).toMatchObject({ order_id: ack.order_id, status: 'ACCEPTED', order_status: 'Cancelled' });
    const again = await api.signed(alice, 'DELETE', `/v1/order/${ack.order_id}`);
    expect(again.status).toBe(400);
    expect(await json(again)).toMatchObject({ error: 'ORDER_NOT_OPEN' });
  });

  it('shows resting orders in the aggregated book', async () => {
    await api.signed(alice, 'POST', '/v1/order', { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: 3000000, quantity: 0.5 });
    await api.signed(bob, 'POST', '/v1/order', { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: '3000000', quantity: '0.25' });
    await api.signed(bob, 'POST', '/v1/order', { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: '2999000', quantity: '1' });
    const book = await json(await api.app.request('/v1/orderbook/ETH-KRW?depth=5'));
    expect(book).toMatchObject({
      symbol: 'ETH-KRW',
      bids: [
        ['3000000', '0.75'],
        ['2999000', '1'],
      ],
      asks: [],
    });
    expect(book.symbol_seq).toBeGreaterThan(0);
    const top = await json(await api.app.request('/v1/orderbook/ETH-KRW?depth=1'));
    expect(top.bids).toHaveLength(1);
  });

  it('reports a funds rejection as status Rejected with its reason', async () => {
    const response = await api.signed(alice, 'POST', '/v1/order', { ...limitBuy, quantity: '100' });
    expect(response.status).toBe(200);
    const ack = await json(response);
    expect(ack.order_status).toBe('Rejected');
    const order = await json(await api.signed(alice, 'GET', `/v1/order/${ack.order_id}`));
    expect(order).toMatchObject({ order_id: ack.order_id, status: 'Rejected', reject_reason: 'INSUFFICIENT_FUNDS' });
  });

  it('trades BTC between two users and reflects it everywhere', async () => {
    const sell = await json(
      await api.signed(bob, 'POST', '/v1/order', {
        symbol: 'BTC-KRW',
        side: 'Sell',
        order_type: 'Limit',
        price: '60000000',
        quantity: '0.5',
      }),
    );
    expect(sell.order_status).toBe('Pending');
    const buy = await json(
      await api.signed(alice, 'POST', '/v1/order', { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Market', quantity: '0.2' }),
    );
    const taker = await json(await api.signed(alice, 'GET', `/v1/order/${buy.order_id}`));
    // taker fee 0.2 % of 12,000,000 KRW
    expect(taker).toMatchObject({
      status: 'Filled',
      filled_quantity: '0.2',
      remaining_quantity: '0',
      avg_price: '60000000',
      filled_quote: '12000000',
      fees: '24000',
    });
    const maker = await json(await api.signed(bob, 'GET', `/v1/order/${sell.order_id}`));
    expect(maker).toMatchObject({ status: 'PartiallyFilled', filled_quantity: '0.2', remaining_quantity: '0.3' });
    const trades = await json(await api.app.request('/v1/trades/BTC-KRW?limit=5'));
    expect(trades.trades[0]).toMatchObject({ price: '60000000', quantity: '0.2', taker_side: 'Buy' });
    const ticker = await json(await api.app.request('/v1/ticker/BTC-KRW'));
    expect(ticker).toMatchObject({
      symbol: 'BTC-KRW',
      last_price: '60000000',
      volume_24h: '0.2',
      best_ask: '60000000',
      best_ask_quantity: '0.3',
    });
  });

  it('answers another user’s order, and an unknown one, with 404', async () => {
    const ack = await json(await api.signed(alice, 'POST', '/v1/order', limitBuy));
    const peek = await api.signed(bob, 'GET', `/v1/order/${ack.order_id}`);
    expect(peek.status).toBe(404);
    expect(await json(peek)).toMatchObject({ error: 'ORDER_NOT_FOUND' });
    const before = await api.state();
    const cancel = await api.signed(bob, 'DELETE', `/v1/order/${ack.order_id}`);
    expect(cancel.status).toBe(404);
    expect(await api.state()).toEqual(before);
    expect((await api.signed(alice, 'GET', '/v1/order/987654321')).status).toBe(404);
  });
});

describe('validation: every class is refused without changing state', () => {
  const big = { ...limitBuy, client_order_id: 'x', padding: 'p'.repeat(17 * 1024) };
  const cases: Array<[string, unknown, number, string, Record<string, string>?]> = [
    ['unknown symbol', { ...limitBuy, symbol: 'DOGE-KRW' }, 400, 'UNKNOWN_SYMBOL'],
    ['bad side', { ...limitBuy, side: 'BUY' }, 400, 'INVALID_SIDE'],
    ['bad order type', { ...limitBuy, order_type: 'Iceberg' }, 400, 'INVALID_ORDER_TYPE'],
    ['bad time in force', { ...limitBuy, time_in_force: 'GTD' }, 400, 'INVALID_TIME_IN_FORCE'],
    [
      'GTC on a market order',
      { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Market', quantity: '0.01', time_in_force: 'GTC' },
      400,
      'INVALID_TIME_IN_FORCE',
    ],
    ['price missing on Limit', { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', quantity: '0.01' }, 400, 'PRICE_REQUIRED'],
    ['price present on Market', { ...limitBuy, order_type: 'Market' }, 400, 'PRICE_NOT_ALLOWED'],
    ['price off tick', { ...limitBuy, price: '50000500' }, 400, 'OFF_TICK'],
    ['price with a fraction KRW cannot hold', { ...limitBuy, price: '50000000.5' }, 400, 'TOO_MANY_DECIMALS'],
    ['quantity with more decimals than BTC has', { ...limitBuy, quantity: '0.010000001' }, 400, 'TOO_MANY_DECIMALS'],
    ['quantity off lot', { ...limitBuy, quantity: '0.0105' }, 400, 'OFF_LOT'],
    ['too many decimals', { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Market', quote_amount: '10000.5' }, 400, 'TOO_MANY_DECIMALS'],
    ['below minimum notional', { ...limitBuy, price: '1000', quantity: '0.001' }, 400, 'NOTIONAL_BELOW_MIN'],
    ['quantity above bounds', { ...limitBuy, quantity: '1001' }, 400, 'QUANTITY_ABOVE_MAX'],
    ['price above bounds', { ...limitBuy, price: '1000000001000' }, 400, 'PRICE_ABOVE_MAX'],
    ['zero quantity', { ...limitBuy, quantity: '0' }, 400, 'INVALID_QUANTITY'],
    ['zero price', { ...limitBuy, price: 0 }, 400, 'INVALID_PRICE'],
    ['negative quantity (string)', { ...limitBuy, quantity: '-1' }, 400, 'NOT_A_DECIMAL'],
    ['negative price (number)', { ...limitBuy, price: -50000000 }, 400, 'NOT_A_DECIMAL'],
    ['NaN as a string', { ...limitBuy, quantity: 'NaN' }, 400, 'NOT_A_DECIMAL'],
    ['NaN as a JSON literal', '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":NaN,"quantity":"1"}', 400, 'MALFORMED_JSON'],
    ['Infinity as a string', { ...limitBuy, price: 'Infinity' }, 400, 'NOT_A_DECIMAL'],
    [
      'Infinity from an overflowing JSON number',
      '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":1e400,"quantity":"1"}',
      400,
      'NOT_A_DECIMAL',
    ],
    ['exponent notation (string)', { ...limitBuy, price: '5e7' }, 400, 'NOT_A_DECIMAL'],
    ['exponent notation (tiny number)', { ...limitBuy, quantity: 1e-7 }, 400, 'NOT_A_DECIMAL'],
    ['absurdly long number', { ...limitBuy, price: `1${'0'.repeat(100)}` }, 400, 'OUT_OF_BOUNDS'],
    ['absurdly long fraction', { ...limitBuy, quantity: `0.${'0'.repeat(60)}1` }, 400, 'OUT_OF_BOUNDS'],
    ['huge but short number', { ...limitBuy, price: '99999999999999999999' }, 400, 'OUT_OF_BOUNDS'],
    ['decimal with spaces', { ...limitBuy, price: ' 50000000' }, 400, 'NOT_A_DECIMAL'],
    ['decimal of the wrong type', { ...limitBuy, price: true }, 400, 'NOT_A_DECIMAL'],
    ['body over 16 KiB', big, 413, 'BODY_TOO_LARGE'],
    ['malformed JSON', '{"symbol":', 400, 'MALFORMED_JSON'],
    ['JSON that is not an object', '[1,2]', 400, 'INVALID_BODY'],
    ['wrong content type', JSON.stringify(limitBuy), 415, 'UNSUPPORTED_MEDIA_TYPE', { 'Content-Type': 'text/plain' }],
    ['unknown field', { ...limitBuy, leverage: 100 }, 400, 'UNKNOWN_FIELD'],
    ['missing side', { symbol: 'BTC-KRW', order_type: 'Limit', price: '50000000', quantity: '0.01' }, 400, 'MISSING_FIELD'],
    [
      'post-only on a market order',
      { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Market', quantity: '0.01', post_only: true },
      400,
      'POST_ONLY_NOT_ALLOWED',
    ],
    ['post-only not a boolean', { ...limitBuy, post_only: 'yes' }, 400, 'INVALID_FIELD'],
    ['stop price on a limit order', { ...limitBuy, stop_price: '49000000' }, 400, 'STOP_PRICE_NOT_ALLOWED'],
    ['stop-limit without stop price', { ...limitBuy, order_type: 'StopLimit' }, 400, 'STOP_PRICE_REQUIRED'],
    [
      'quote amount on a sell',
      { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Market', quote_amount: '100000' },
      400,
      'QUOTE_AMOUNT_NOT_ALLOWED',
    ],
    ['quantity missing', { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000' }, 400, 'QUANTITY_REQUIRED'],
    ['bad client_order_id', { ...limitBuy, client_order_id: 'has space' }, 400, 'INVALID_CLIENT_ORDER_ID'],
    // a JSON number where a string belongs is refused, not turned into a string (decimals take both)
    ['client_order_id as a JSON number', { ...limitBuy, client_order_id: 123 }, 400, 'INVALID_CLIENT_ORDER_ID'],
    ['symbol as a JSON number', { ...limitBuy, symbol: 1 }, 400, 'INVALID_FIELD'],
    ['side as a JSON number', { ...limitBuy, side: 0 }, 400, 'INVALID_SIDE'],
    ['bad self-trade prevention', { ...limitBuy, self_trade_prevention: 'Allow' }, 400, 'INVALID_STP_MODE'],
    // JSON numbers are validated by the characters the client sent, never via a rounding float.
    [
      'JSON-number quantity a float would round to the lot',
      '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":"50000000","quantity":0.0100000000000000000001}',
      400,
      'TOO_MANY_DECIMALS',
    ],
    [
      'JSON-number price a float would round to the tick',
      '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":50000000.0000000000000001,"quantity":"0.01"}',
      400,
      'TOO_MANY_DECIMALS',
    ],
    [
      'JSON-number quantity within BTC precision but off the lot',
      '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":"50000000","quantity":0.01000001}',
      400,
      'OFF_LOT',
    ],
    [
      'exponent notation (JSON number)',
      '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":5e7,"quantity":"0.01"}',
      400,
      'NOT_A_DECIMAL',
    ],
  ];

  it.each(cases)('%s', async (_name, body, status, word, headers) => {
    const before = await api.state();
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await api.app.request('/v1/order', {
      method: 'POST',
      headers: { ...signedHeaders(alice, 'POST', '/v1/order', text), ...headers },
      body: text,
    });
    expect(response.status).toBe(status);
    const answer = await json(response);
    expect(answer.error).toBe(word);
    expect(typeof answer.message).toBe('string');
    expect(await api.state()).toEqual(before);
  });

  it('pages GET /v1/orders oldest first with limit and after_order_id', async () => {
    const pager = await api.createUser('pager', { KRW: '100000000' });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const placed = await json(await api.signed(pager, 'POST', '/v1/order', { ...limitBuy, price: String(40_000_000 + index * 1000) }));
      ids.push(placed.order_id);
    }
    const all = await json(await api.signed(pager, 'GET', '/v1/orders'));
    expect(all.orders.map((order: { order_id: string }) => order.order_id)).toEqual(ids);
    expect(all.next_after_order_id).toBeNull();
    const pages: string[][] = [];
    let after: string | null = null;
    do {
      const route: string = `/v1/orders?limit=2${after === null ? '' : `&after_order_id=${after}`}`;
      const page = await json(await api.signed(pager, 'GET', route));
      pages.push(page.orders.map((order: { order_id: string }) => order.order_id));
      after = page.next_after_order_id;
    } while (after !== null);
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
  });

  it.each([
    ['GET', '/v1/order/abc', 400, 'INVALID_ORDER_ID'],
    ['DELETE', '/v1/order/-5', 400, 'INVALID_ORDER_ID'],
    ['GET', '/v1/orders?symbol=NOPE', 400, 'UNKNOWN_SYMBOL'],
    ['GET', '/v1/orders?limit=0', 400, 'INVALID_QUERY'],
    ['GET', '/v1/orders?limit=1001', 400, 'INVALID_QUERY'],
    ['GET', '/v1/orders?after_order_id=x', 400, 'INVALID_QUERY'],
  ])('%s %s → %i %s', async (method, route, status, word) => {
    const before = await api.state();
    const response = await api.signed(alice, method, route);
    expect(response.status).toBe(status);
    expect((await json(response)).error).toBe(word);
    expect(await api.state()).toEqual(before);
  });

  it.each([
    ['/v1/orderbook/BTC-KRW?depth=0', 'INVALID_QUERY'],
    ['/v1/orderbook/BTC-KRW?depth=abc', 'INVALID_QUERY'],
    ['/v1/orderbook/NOPE', 'UNKNOWN_SYMBOL'],
    ['/v1/trades/BTC-KRW?limit=5000', 'INVALID_QUERY'],
    ['/v1/ticker/NOPE', 'UNKNOWN_SYMBOL'],
  ])('public %s → 400 %s', async (route, word) => {
    const response = await api.app.request(route);
    expect(response.status).toBe(400);
    expect((await json(response)).error).toBe(word);
  });

  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const response = await api.app.request('/v1/nothing');
    expect(response.status).toBe(404);
    expect((await json(response)).error).toBe('NOT_FOUND');
  });
});

describe('authentication', () => {
  const body = JSON.stringify(limitBuy);
  const post = (headers: Record<string, string>) => api.app.request('/v1/order', { method: 'POST', headers, body });

  it('accepts the signature in upper-case hex too (hex has no case)', async () => {
    const headers = signedHeaders(alice, 'POST', '/v1/order', body);
    const response = await post({ ...headers, 'X-SIGNATURE': headers['X-SIGNATURE']!.toUpperCase() });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: 'ACCEPTED' });
  });

  it('refuses missing, unknown, wrong, stale and replayed signatures without changing state', async () => {
    const before = await api.state();
    const good = signedHeaders(alice, 'POST', '/v1/order', body);
    const cases: Array<[Record<string, string>, string]> = [
      [{ 'Content-Type': 'application/json' }, 'MISSING_CREDENTIALS'],
      [{ ...good, 'X-SIGNATURE': '' }, 'MISSING_CREDENTIALS'],
      [{ ...good, 'X-API-KEY': 'xk_unknown' }, 'INVALID_API_KEY'],
      [{ ...good, 'X-SIGNATURE': 'f'.repeat(64) }, 'INVALID_SIGNATURE'],
      [{ ...good, 'X-SIGNATURE': 'not-hex' }, 'INVALID_SIGNATURE'],
      [signedHeaders({ ...alice, apiSecret: bob.apiSecret }, 'POST', '/v1/order', body), 'INVALID_SIGNATURE'],
      [signedHeaders(alice, 'POST', '/v1/orders', body), 'INVALID_SIGNATURE'],
      [signedHeaders(alice, 'POST', '/v1/order', body, Date.now() - 61_000), 'STALE_TIMESTAMP'],
      [signedHeaders(alice, 'POST', '/v1/order', body, Date.now() + 61_000), 'STALE_TIMESTAMP'],
      [{ ...good, 'X-TIMESTAMP': '12e5' }, 'INVALID_TIMESTAMP_HEADER'],
    ];
    for (const [headers, word] of cases) {
      const response = await post(headers);
      expect(response.status, word).toBe(401);
      expect((await json(response)).error).toBe(word);
    }
    expect(await api.state()).toEqual(before);
    const first = await post(good);
    expect(first.status).toBe(200);
    const mid = await api.state();
    const replay = await post(good);
    expect(replay.status).toBe(401);
    expect((await json(replay)).error).toBe('REPLAYED_SIGNATURE');
    expect(await api.state()).toEqual(mid);
  });

  it('refuses a request signed before the server process started (replays across a restart)', async () => {
    const fresh = await startTestApi(pool);
    try {
      const user = await fresh.createUser('restart');
      const old = await fresh.signed(user, 'GET', '/v1/balances', undefined, Date.now() - 5_000);
      expect(old.status).toBe(401);
      expect((await json(old)).error).toBe('STALE_TIMESTAMP');
    } finally {
      await fresh.close();
    }
  });

  it('answers 503 STORE_UNAVAILABLE, not 500, when PostgreSQL cannot be reached for an unknown key', async () => {
    const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/xtrader', connectionTimeoutMillis: 500 });
    const cut = await startTestApi(pool, { credentials: new CredentialStore(unreachable, new SecretBox(Buffer.alloc(32, 7))) });
    try {
      const response = await cut.app.request('/v1/balances', { headers: signedHeaders(alice, 'GET', '/v1/balances') });
      expect(response.status).toBe(503);
      expect((await json(response)).error).toBe('STORE_UNAVAILABLE');
      const created = await cut.admin('POST', '/admin/users', { name: 'nobody' });
      expect(created.status).toBe(503);
    } finally {
      await cut.close();
      await unreachable.end();
    }
  });

  it('a key sealed under another encryption key is 401 INVALID_API_KEY, and the operator hears why', async () => {
    const unsealable: Array<[string, number]> = [];
    const other = await startTestApi(pool, {
      credentials: new CredentialStore(pool, new SecretBox(Buffer.alloc(32, 9)), (apiKey, userId) => unsealable.push([apiKey, userId])),
    });
    try {
      const response = await other.app.request('/v1/balances', { headers: signedHeaders(alice, 'GET', '/v1/balances') });
      expect(response.status).toBe(401);
      expect((await json(response)).error).toBe('INVALID_API_KEY');
      expect(unsealable).toEqual([[alice.apiKey, Number(alice.userId)]]);
    } finally {
      await other.close();
    }
  });

  it('signs the query string too', async () => {
    const route = '/v1/orders?symbol=BTC-KRW';
    const wrong = await api.app.request(route, { headers: signedHeaders(alice, 'GET', '/v1/orders') });
    expect(wrong.status).toBe(401);
    expect((await api.app.request(route, { headers: signedHeaders(alice, 'GET', route) })).status).toBe(200);
  });
});

describe('idempotency', () => {
  it('answers concurrent retries of one client_order_id with the one original order', async () => {
    const before = await api.state();
    const order = { ...limitBuy, price: '40000000', client_order_id: `retry-${Date.now()}` };
    // Each retry is signed afresh (its own timestamp), as a client retrying would.
    const base = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => api.signed(alice, 'POST', '/v1/order', order, base - index)),
    );
    const bodies = await Promise.all(responses.map((response) => json(response)));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const ids = new Set(bodies.map((entry) => entry.order_id));
    expect(ids.size).toBe(1);
    expect(bodies.filter((entry) => entry.duplicate === true)).toHaveLength(19);
    expect((await api.state()).last_seq).toBe(before.last_seq + 1);
    const later = await json(await api.signed(alice, 'POST', '/v1/order', { ...order, quantity: '0.02' }));
    expect(later).toMatchObject({ order_id: [...ids][0], duplicate: true, order_status: 'Pending' });
    // Another user may use the same client_order_id.
    const other = await json(await api.signed(bob, 'POST', '/v1/order', { ...order, side: 'Buy' }));
    expect(other.order_id).not.toBe([...ids][0]);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the orders-per-second budget, and does not sequence it', async () => {
    const limited = await startTestApi(pool, { rateLimits: { ordersPerSecond: 3, requestsPerMinute: 5 } });
    try {
      const user = await limited.createUser('rate', { KRW: '100000000' });
      const statuses: number[] = [];
      for (let index = 0; index < 4; index++) {
        const response = await limited.signed(user, 'POST', '/v1/order', { ...limitBuy, price: `${index + 1}000000`, quantity: '0.01' });
        statuses.push(response.status);
        if (response.status === 429) {
          expect(Number(response.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
          expect((await json(response)).error).toBe('RATE_LIMITED');
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await limited.state()).last_seq).toBe(4); // one deposit + three orders
      // The request budget (5/min) is separate and counts every signed request that passed
      // (refused ones take no token): two more GETs pass, the next is refused.
      expect((await limited.signed(user, 'GET', '/v1/balances')).status).toBe(200);
      expect((await limited.signed(user, 'GET', '/v1/balances?again=1')).status).toBe(200);
      const refused = await limited.signed(user, 'GET', '/v1/balances?third=1');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });
});

describe('service routes', () => {
  it('serves markets, health, ready, metrics, openapi and docs', async () => {
    const markets = await json(await api.app.request('/v1/markets'));
    expect(markets.markets.map((market: { symbol: string }) => market.symbol)).toEqual([
      'BTC-KRW',
      'ETH-KRW',
      'BTC-KRW-PERP',
      'ETH-KRW-PERP',
    ]);
    expect(markets.markets[0]).toMatchObject({ tick_size: '1000', lot_size: '0.001', min_notional: '5000' });
    expect(await json(await api.app.request('/health'))).toEqual({ status: 'ok', services: { postgres: 'up' } });
    const ready = await api.app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({ status: 'ready', publishers: {}, services: { postgres: 'up' } });
    const metrics = await (await api.app.request('/metrics')).text();
    for (const name of [
      'xtrader_order_ack_seconds',
      'xtrader_sequencer_queue_depth',
      'xtrader_journal_batch_write_fsync_seconds',
      'xtrader_engine_apply_seconds',
    ]) {
      expect(metrics).toContain(name);
    }
    const spec = await json(await api.app.request('/openapi.json'));
    expect(spec.openapi).toBe('3.1.0');
    for (const route of [
      '/v1/order',
      '/v1/order/{order_id}',
      '/v1/orders',
      '/v1/orderbook/{symbol}',
      '/v1/trades/{symbol}',
      '/v1/ticker/{symbol}',
      '/v1/balances',
      '/v1/markets',
      '/health',
      '/ready',
      '/metrics',
      '/admin/users',
      '/admin/deposits',
      '/admin/withdrawals',
    ]) {
      expect(spec.paths, route).toHaveProperty([route]);
    }
    for (const entry of errorCatalogue()) expect(spec.info.description).toContain(`\`${entry.error}\``);
    for (const status of Object.keys(ORDER_STATUSES)) expect(spec.components.schemas.OrderStatus.enum).toContain(status);
    const docs = await api.app.request('/docs');
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/openapi.json');
  });

  it('answers 503 on /ready and on engine routes until recovery has finished', async () => {
    const recovering = await startTestApi(pool, {}, { open: false });
    try {
      const ready = await recovering.app.request('/ready');
      expect(ready.status).toBe(503);
      expect(await json(ready)).toMatchObject({ status: 'recovering', last_seq: null });
      const book = await recovering.app.request('/v1/orderbook/BTC-KRW');
      expect(book.status).toBe(503);
      expect((await json(book)).error).toBe('NOT_READY');
      expect((await recovering.app.request('/health')).status).toBe(200);
      await recovering.sequencer.open();
      expect((await recovering.app.request('/ready')).status).toBe(200);
    } finally {
      await recovering.close();
    }
  });

  it('answers 503 OVERLOADED when the sequencer queue is full, and sequences only what it accepted', async () => {
    const small = await startTestApi(pool, {}, { maxPending: 2 });
    try {
      const user = await small.createUser('burst', { KRW: '100000000' });
      const before = await small.state();
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, index) =>
          small.signed(user, 'POST', '/v1/order', { ...limitBuy, price: '1000000', client_order_id: `burst-${index}` }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      const accepted = statuses.filter((status) => status === 200).length;
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
      expect(accepted + statuses.filter((status) => status === 503).length).toBe(30);
      const refused = responses.find((response) => response.status === 503)!;
      expect((await json(refused)).error).toBe('OVERLOADED');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await small.state()).last_seq).toBe(before.last_seq + accepted);
    } finally {
      await small.close();
    }
  });

  it('gives every error word one unique number', () => {
    const catalogue = errorCatalogue();
    expect(new Set(catalogue.map((entry) => entry.error)).size).toBe(catalogue.length);
    expect(new Set(catalogue.map((entry) => entry.code)).size).toBe(catalogue.length);
  });
});
