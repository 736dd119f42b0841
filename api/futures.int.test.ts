/**
 * The futures routes (api/routes-futures.ts) in process on a real sequencer, engine and PostgreSQL:
 * every route's good case and each of its 400s — a 400 is never journaled (last_seq and the state
 * hash do not move) — the worked example's figures (api/futures-example.test-support.ts), the
 * perpetuals in GET /v1/markets, and the order fields reduce_only and position_side.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPECTED_LONG_ACCOUNT,
  EXPECTED_LONG_POSITION,
  EXPECTED_SHORT_ACCOUNT,
  EXPECTED_SHORT_POSITION,
  PERP,
  applied,
  runWorkedExample,
  type WorkedExample,
} from './futures-example.test-support.ts';
import { answerOf, type Answer, type TestUser } from './test-client.ts';
import { startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let api: TestApi;
let example: WorkedExample;

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
  example = await runWorkedExample(api.client, `futures-${process.pid}`);
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

/** Every call of `refused` answers 400 with `word`, and none of them is journaled or changes the engine. */
async function expectRefused(calls: ReadonlyArray<readonly [word: string, call: () => Promise<Answer>]>): Promise<void> {
  const before = await api.state();
  for (const [word, call] of calls) {
    const answer = await call();
    expect({ status: answer.status, error: answer.body.error }, `${word}: ${answer.text}`).toEqual({ status: 400, error: word });
    expect(typeof answer.body.message).toBe('string');
  }
  const after = await api.state();
  expect({ last_seq: after.last_seq, state_hash: after.state_hash }).toEqual({ last_seq: before.last_seq, state_hash: before.state_hash });
}

const fresh = async (name: string, krw = '10000000'): Promise<TestUser> =>
  api.createUser(`${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, { KRW: krw });

describe('GET /v1/markets', () => {
  it('lists the perpetuals with type "perpetual", their settlement asset, funding interval, fees and the contract\'s risk tiers', async () => {
    const { markets } = (await (await api.app.request('/v1/markets')).json()) as { markets: Array<Record<string, unknown>> };
    expect(markets.find((market) => market.symbol === 'BTC-KRW')).toMatchObject({ type: 'spot' });
    const btc = markets.find((market) => market.symbol === PERP);
    expect(btc).toMatchObject({
      type: 'perpetual',
      base: 'BTC',
      quote: 'KRW',
      settlement_asset: 'KRW',
      tick_size: '1000',
      lot_size: '0.001',
      maker_fee_rate: '0.0002',
      taker_fee_rate: '0.0005',
      funding_interval_ms: 28_800_000,
      default_leverage: 20,
    });
    expect(btc!.risk_tiers).toEqual([
      { tier: 1, max_notional: '250000000', max_leverage: 50, maintenance_margin_rate: '0.00400000', cum: '0' },
      { tier: 2, max_notional: '1000000000', max_leverage: 25, maintenance_margin_rate: '0.00500000', cum: '250000' },
      { tier: 3, max_notional: '5000000000', max_leverage: 10, maintenance_margin_rate: '0.01000000', cum: '5250000' },
      { tier: 4, max_notional: null, max_leverage: 5, maintenance_margin_rate: '0.02500000', cum: '80250000' },
    ]);
    expect(markets.find((market) => market.symbol === 'ETH-KRW-PERP')).toMatchObject({ type: 'perpetual', settlement_asset: 'KRW' });
  });
});

describe('the worked example over the API', () => {
  it('GET /v1/futures/positions and /account show the figures computed by hand', async () => {
    const positions = await api.client.futuresPositions(example.long);
    console.log('in-process worked example, long positions:', JSON.stringify(positions.body));
    expect(positions.status).toBe(200);
    expect(positions.body).toEqual([EXPECTED_LONG_POSITION]);
    expect((await api.client.futuresPositions(example.long, PERP)).body).toEqual([EXPECTED_LONG_POSITION]);
    expect((await api.client.futuresPositions(example.short)).body).toEqual([EXPECTED_SHORT_POSITION]);
    const account = await api.client.futuresAccount(example.long);
    console.log('in-process worked example, long account:', JSON.stringify(account.body));
    expect(account.body).toEqual(EXPECTED_LONG_ACCOUNT);
    expect((await api.client.futuresAccount(example.short)).body).toEqual(EXPECTED_SHORT_ACCOUNT);
  });

  it('the perpetual market has its public book, trades and ticker like a spot one', async () => {
    const trades = (await (await api.app.request(`/v1/trades/${PERP}`)).json()) as { trades: Array<{ price: string; quantity: string }> };
    // newest first
    expect(trades.trades.map((trade) => [trade.price, trade.quantity])).toEqual([
      ['51000000', '0.01'],
      ['50000000', '0.02'],
    ]);
    expect((await api.app.request(`/v1/orderbook/${PERP}`)).status).toBe(200);
    expect(await (await api.app.request(`/v1/ticker/${PERP}`)).json()).toMatchObject({ symbol: PERP, last_price: '51000000' });
  });

  it('reads refuse a spot or unknown symbol and an asset no perpetual settles in, and need a signature', async () => {
    await expectRefused([
      ['NOT_A_PERPETUAL', () => api.client.futuresPositions(example.long, 'BTC-KRW')],
      ['UNKNOWN_SYMBOL', () => api.client.futuresPositions(example.long, 'DOGE-KRW-PERP')],
      ['NOT_A_SETTLEMENT_ASSET', () => api.client.futuresAccount(example.long, 'BTC')],
    ]);
    expect((await api.app.request('/v1/futures/account')).status).toBe(401);
    expect((await api.app.request('/v1/futures/positions')).status).toBe(401);
  });
});

describe('GET /v1/futures/insurance-fund', () => {
  it('answers the fund of a settlement asset without a signature, and 400 for an asset no perpetual settles in', async () => {
    const answer = await api.app.request('/v1/futures/insurance-fund');
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { asset: string; balance: string };
    expect(body.asset).toBe('KRW');
    expect(body.balance).toMatch(/^\d+$/); // never below 0; KRW has no decimals
    const other = await api.app.request('/v1/futures/insurance-fund?asset=BTC');
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: string }).error).toBe('NOT_A_SETTLEMENT_ASSET');
  });
});

describe('POST /v1/futures/transfer', () => {
  it('moves money spot → futures and back, acknowledged after the journal with the balances after it', async () => {
    const user = await fresh('transfer');
    const into = applied(
      await api.client.futures(user, 'transfer', { asset: 'KRW', amount: 3_000_000, direction: 'spot_to_futures' }),
      'in',
    );
    expect(into.body).toMatchObject({
      status: 'ACCEPTED',
      outcome: 'Applied',
      reject_reason: null,
      asset: 'KRW',
      wallet_balance: '3000000',
      available_balance: '3000000',
      spot_available: '7000000',
    });
    expect(into.body.request_id).toMatch(/^[1-9]\d*$/);
    const back = applied(
      await api.client.futures(user, 'transfer', { asset: 'KRW', amount: '1000000', direction: 'futures_to_spot' }),
      'out',
    );
    expect(back.body).toMatchObject({ wallet_balance: '2000000', spot_available: '8000000' });
    expect((await api.client.balance(user.userId, 'KRW')).available).toBe('8000000');
  });

  it('answers 400 to each bad transfer, journaling none', async () => {
    const user = await fresh('transfer-bad', '1000');
    const transfer = (body: unknown) => () => api.client.futures(user, 'transfer', body);
    await expectRefused([
      ['MISSING_FIELD', transfer({ asset: 'KRW', amount: '1' })],
      ['UNKNOWN_FIELD', transfer({ asset: 'KRW', amount: '1', direction: 'spot_to_futures', memo: 'x' })],
      ['INVALID_TRANSFER_DIRECTION', transfer({ asset: 'KRW', amount: '1', direction: 'sideways' })],
      ['INVALID_FIELD', transfer({ asset: 7, amount: '1', direction: 'spot_to_futures' })],
      ['NOT_A_DECIMAL', transfer({ asset: 'KRW', amount: '-5', direction: 'spot_to_futures' })],
      ['NOT_A_DECIMAL', transfer({ asset: 'KRW', amount: '1e3', direction: 'spot_to_futures' })],
      ['TOO_MANY_DECIMALS', transfer({ asset: 'KRW', amount: '1.5', direction: 'spot_to_futures' })],
      ['INVALID_AMOUNT', transfer({ asset: 'KRW', amount: '0', direction: 'spot_to_futures' })],
      ['UNKNOWN_ASSET', transfer({ asset: 'DOGE', amount: '1', direction: 'spot_to_futures' })],
      ['NOT_A_SETTLEMENT_ASSET', transfer({ asset: 'BTC', amount: '1', direction: 'spot_to_futures' })],
      ['INSUFFICIENT_AVAILABLE', transfer({ asset: 'KRW', amount: '1001', direction: 'spot_to_futures' })],
      ['INSUFFICIENT_MARGIN', transfer({ asset: 'KRW', amount: '1', direction: 'futures_to_spot' })],
      ['MALFORMED_JSON', transfer('{"asset": "KRW",')],
      ['INVALID_BODY', transfer('[1]')],
    ]);
  });
});

describe('POST /v1/futures/position-mode', () => {
  it('switches to hedge mode and back with no position and no order', async () => {
    const user = await fresh('mode');
    expect(applied(await api.client.futures(user, 'position-mode', { hedge: true }), 'hedge').body).toMatchObject({
      outcome: 'Applied',
      position_mode: 'HEDGE',
    });
    expect((await api.client.futuresAccount(user)).body.position_mode).toBe('HEDGE');
    expect(applied(await api.client.futures(user, 'position-mode', { hedge: false }), 'one-way').body.position_mode).toBe('ONE_WAY');
  });

  it('answers 400 to a bad body and while a position is open, journaling none', async () => {
    const mode = (body: unknown) => () => api.client.futures(example.long, 'position-mode', body);
    await expectRefused([
      ['INVALID_FIELD', mode({ hedge: 'yes' })],
      ['INVALID_FIELD', mode({ hedge: 1 })],
      ['MISSING_FIELD', mode({})],
      ['UNKNOWN_FIELD', mode({ hedge: true, symbol: PERP })],
      ['POSITION_OR_ORDERS_OPEN', mode({ hedge: true })],
    ]);
  });
});

describe('POST /v1/futures/leverage', () => {
  it('sets the leverage of one market, answered with the setting after the command', async () => {
    const user = await fresh('leverage');
    const answer = applied(await api.client.futures(user, 'leverage', { symbol: PERP, leverage: 50 }), 'leverage');
    expect(answer.body).toMatchObject({ symbol: PERP, leverage: 50, margin_type: 'CROSS', max_leverage: 50 });
    expect((await api.client.futures(user, 'leverage', { symbol: 'ETH-KRW-PERP', leverage: 3 })).body).toMatchObject({
      symbol: 'ETH-KRW-PERP',
      leverage: 3,
    });
  });

  it("refuses a leverage above the tier's maximum for the current position's notional (tier 2 at 300,000,000 KRW: 25×)", async () => {
    const big = await fresh('leverage-big', '100000000');
    const maker = await fresh('leverage-maker', '100000000');
    for (const user of [big, maker])
      applied(await api.client.futures(user, 'transfer', { asset: 'KRW', amount: '60000000', direction: 'spot_to_futures' }), 'transfer');
    // 6 BTC at the mark 51,000,000 = 306,000,000 KRW of notional: tier 2 (up to 1,000,000,000), max 25×
    await api.client.order(maker, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '51000000', quantity: '6' });
    await api.client.order(big, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '51000000', quantity: '6' });
    expect((await api.client.futuresPositions(big)).body).toMatchObject([{ size: '6' }]);
    await expectRefused([['LEVERAGE_ABOVE_TIER_MAX', () => api.client.futures(big, 'leverage', { symbol: PERP, leverage: 26 })]]);
    expect(applied(await api.client.futures(big, 'leverage', { symbol: PERP, leverage: 25 }), '25×').body).toMatchObject({
      leverage: 25,
      max_leverage: 25,
    });
  });

  it('answers 400 to each bad leverage, journaling none', async () => {
    const leverage = (body: unknown) => () => api.client.futures(example.short, 'leverage', body);
    await expectRefused([
      ['INVALID_LEVERAGE', leverage({ symbol: PERP, leverage: 0 })],
      ['INVALID_LEVERAGE', leverage({ symbol: PERP, leverage: 2.5 })],
      ['INVALID_LEVERAGE', leverage({ symbol: PERP, leverage: '10' })],
      ['LEVERAGE_ABOVE_TIER_MAX', leverage({ symbol: PERP, leverage: 51 })],
      ['NOT_A_PERPETUAL', leverage({ symbol: 'BTC-KRW', leverage: 5 })],
      ['UNKNOWN_SYMBOL', leverage({ symbol: 'DOGE-KRW-PERP', leverage: 5 })],
      ['MISSING_FIELD', leverage({ symbol: PERP })],
    ]);
  });
});

describe('POST /v1/futures/margin-type', () => {
  it('sets ISOLATED and back to CROSS with no position and no order', async () => {
    const user = await fresh('margin-type');
    expect(
      applied(await api.client.futures(user, 'margin-type', { symbol: PERP, margin_type: 'ISOLATED' }), 'isolated').body,
    ).toMatchObject({ symbol: PERP, margin_type: 'ISOLATED', leverage: 20 });
    expect(applied(await api.client.futures(user, 'margin-type', { symbol: PERP, margin_type: 'CROSS' }), 'cross').body.margin_type).toBe(
      'CROSS',
    );
  });

  it('answers 400 to a bad body and while the market holds a position or an open order, journaling none', async () => {
    const withOrder = await fresh('margin-type-order');
    applied(await api.client.futures(withOrder, 'transfer', { asset: 'KRW', amount: '1000000', direction: 'spot_to_futures' }), 'transfer');
    await api.client.order(withOrder, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '40000000', quantity: '0.001' });
    await expectRefused([
      ['INVALID_MARGIN_TYPE', () => api.client.futures(example.long, 'margin-type', { symbol: PERP, margin_type: 'isolated' })],
      ['NOT_A_PERPETUAL', () => api.client.futures(example.long, 'margin-type', { symbol: 'ETH-KRW', margin_type: 'CROSS' })],
      ['POSITION_OR_ORDERS_OPEN', () => api.client.futures(example.long, 'margin-type', { symbol: PERP, margin_type: 'CROSS' })],
      ['POSITION_OR_ORDERS_OPEN', () => api.client.futures(withOrder, 'margin-type', { symbol: PERP, margin_type: 'ISOLATED' })],
    ]);
  });
});

describe('POST /v1/futures/isolated-margin', () => {
  it('adds to and removes from an isolated position; the position after the command is in the answer', async () => {
    const added = applied(
      await api.client.futures(example.long, 'isolated-margin', { symbol: PERP, position_side: 'BOTH', amount: '10000', action: 'add' }),
      'add',
    );
    // margin 60,000: bankruptcy 60,000 + 10·P − 500,000 = 0 → 44,000; liquidation 10·P − 440,000 ≤ ceil(0.04·P) → P = 44,176
    expect(added.body.position).toMatchObject({ isolated_margin: '60000', bankruptcy_price: '44000000', liquidation_price: '44176000' });
    // removable: margin − the initial margin at the mark, ceil(510,000 / 10) = 51,000 → 9,000 of the 60,000
    const removed = applied(
      await api.client.futures(example.long, 'isolated-margin', { symbol: PERP, position_side: 'BOTH', amount: '9000', action: 'remove' }),
      'remove',
    );
    // margin 51,000: bankruptcy 51,000 + 10·P − 500,000 = 0 → 44,900; liquidation 10·P − 449,000 ≤ ceil(0.04·P) → P = 45,080
    expect(removed.body.position).toEqual({
      ...EXPECTED_LONG_POSITION,
      isolated_margin: '51000',
      bankruptcy_price: '44900000',
      liquidation_price: '45080000',
    });
  });

  it('answers 400 to each bad adjustment, journaling none', async () => {
    const adjust = (user: TestUser, body: Record<string, unknown>) => () =>
      api.client.futures(user, 'isolated-margin', { symbol: PERP, position_side: 'BOTH', amount: '1000', action: 'add', ...body });
    const nobody = await fresh('isolated-none');
    await expectRefused([
      ['NO_POSITION', adjust(nobody, {})],
      ['NOT_ISOLATED', adjust(example.short, {})],
      ['POSITION_SIDE_MISMATCH', adjust(example.long, { position_side: 'LONG' })],
      ['INVALID_POSITION_SIDE', adjust(example.long, { position_side: 'long' })],
      ['INVALID_MARGIN_ACTION', adjust(example.long, { action: 'withdraw' })],
      ['INVALID_AMOUNT', adjust(example.long, { amount: '0' })],
      ['NOT_A_DECIMAL', adjust(example.long, { amount: 'lots' })],
      // the position keeps its initial margin at the mark, ceil(510,000 / 10) = 51,000: nothing of its 51,000 can go
      ['INSUFFICIENT_MARGIN', adjust(example.long, { action: 'remove' })],
      ['INSUFFICIENT_MARGIN', adjust(example.long, { amount: '100000000' })],
      ['NOT_A_PERPETUAL', adjust(example.long, { symbol: 'BTC-KRW' })],
    ]);
  });
});

describe('POST /admin/index-prices', () => {
  it('sets sources and answers with the marks after the command (the median of the fresh sources)', async () => {
    const answer = await api.client.indexPrices([
      { symbol: 'ETH-KRW-PERP', source: 'oracle-a', price: '3000000' },
      { symbol: 'ETH-KRW-PERP', source: 'oracle-b', price: '3002000' },
      { symbol: 'ETH-KRW-PERP', source: 'oracle-c', price: '3010000' },
    ]);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'APPLIED',
      outcome: 'Applied',
      reject_reason: null,
      marks: [{ symbol: 'ETH-KRW-PERP', mark_price: '3002000', index_price: '3002000' }],
    });
  });

  it('answers 400 to each bad feed and 401 without the admin token, journaling none', async () => {
    const feed = (prices: unknown) => async () => answerOf(await api.admin('POST', '/admin/index-prices', { prices }));
    await expectRefused([
      ['INVALID_INDEX_PRICES', feed([])],
      ['INVALID_INDEX_PRICES', feed([{ symbol: PERP, source: 'spot', price: '1000' }])],
      [
        'INVALID_INDEX_PRICES',
        feed([
          { symbol: PERP, source: 'a', price: '1000' },
          { symbol: PERP, source: 'a', price: '2000' },
        ]),
      ],
      ['INVALID_INDEX_PRICES', feed('50000000')],
      ['INVALID_INDEX_PRICES', feed([{ symbol: PERP, source: 'has space', price: '1000' }])],
      ['OFF_TICK', feed([{ symbol: PERP, source: 'a', price: '50000500' }])],
      ['INVALID_PRICE', feed([{ symbol: PERP, source: 'a', price: '0' }])],
      ['NOT_A_PERPETUAL', feed([{ symbol: 'BTC-KRW', source: 'a', price: '1000' }])],
    ]);
    const response = await api.app.request('/admin/index-prices', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prices: [] }),
    });
    expect(response.status).toBe(401);
  });
});

describe('POST /v1/order on perpetuals', () => {
  it('takes reduce_only and position_side on a perpetual; a reduce-only order with nothing to reduce is rejected by the engine', async () => {
    const user = await fresh('order-reduce');
    applied(await api.client.futures(user, 'transfer', { asset: 'KRW', amount: '1000000', direction: 'spot_to_futures' }), 'transfer');
    const orderId = await api.client.order(user, {
      symbol: PERP,
      side: 'Sell',
      order_type: 'Limit',
      price: '60000000',
      quantity: '0.001',
      reduce_only: true,
      position_side: 'BOTH',
    });
    const order = await (await api.signed(user, 'GET', `/v1/order/${orderId}`)).json();
    expect(order).toMatchObject({ status: 'Rejected', reject_reason: 'REDUCE_ONLY_WOULD_INCREASE' });
  });

  it('answers 400 to reduce_only or position_side on a spot market and to bad values, journaling none', async () => {
    const user = example.long;
    const order = (body: Record<string, unknown>) => async () =>
      answerOf(
        await api.signed(user, 'POST', '/v1/order', {
          symbol: PERP,
          side: 'Buy',
          order_type: 'Limit',
          price: '50000000',
          quantity: '0.001',
          ...body,
        }),
      );
    await expectRefused([
      ['NOT_A_PERPETUAL', order({ symbol: 'BTC-KRW', reduce_only: true })],
      ['NOT_A_PERPETUAL', order({ symbol: 'BTC-KRW', position_side: 'BOTH' })],
      ['INVALID_POSITION_SIDE', order({ position_side: 'UP' })],
      ['INVALID_FIELD', order({ reduce_only: 'true' })],
    ]);
  });
});
