/**
 * Issue 19's three worked examples of liquidation (engine/perp/liquidation.test.ts, decisions
 * 54–63) over real HTTP against one real core process (ops/testing/test-core.ts). Test cores have
 * no price ticks (PRICE_TICK_INTERVAL_MS=0): the mark moves only with POST /admin/index-prices
 * (mark = index, one oracle source), and the liquidation check runs inside that command.
 *
 * Units (1 tick × 1 lot = 1 KRW): tick 1,000 KRW, lot 0.001 BTC; maker 200 ppm, taker 500 ppm;
 * tier 1 MMR 0.40 %. In each scenario the liquidated user, with 5,000,000 KRW in futures, goes
 * ISOLATED 10× and buys 0.1 BTC (100 lots) at 100,000,000 (100,000 ticks) from resting asks:
 *   cost 10,000,000; isolated margin ceil(10,000,000 / 10) = 1,000,000; taker fee 5,000 → wallet 4,995,000;
 *   MM at the mark 100,000,000: ceil(10,000,000 × 0.004) = 40,000;
 *   bankruptcy (decision 5, up for a long): ceil((10,000,000 − 1,000,000) / 100) = 90,000 ticks;
 *   liquidation price (decision 6): highest t with 1,000,000 + 100 t − 10,000,000 ≤ ceil(0.004 × 100 t):
 *     t = 90,361: 36,100 ≤ 36,145 yes; t = 90,362: 36,200 ≤ 36,145 no → 90,361,000 KRW.
 * The index then drops to 90,300,000, below the liquidation price.
 *
 * The insurance fund is one per settlement asset (KRW) and the core is shared, so the scenarios
 * run in order and each starts from the fund the previous left: (a) fills it with 20,000, (b)
 * spends exactly those 20,000, (c) meets an empty fund. Each scenario has its own users, and its
 * counterparties close their positions against each other afterwards, so no open position (a
 * profitable short would be an ADL candidate) and no resting order leaks into the next one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applied, PERP } from '../api/futures-example.test-support.ts';
import type { Answer, TestUser } from '../api/test-client.ts';
import { TestCore } from './testing/test-core.ts';

/** engine/perp/futures-state.ts LIQUIDATION_ORDER_ID_BASE: engine-placed order ids start above any seq */
const LIQUIDATION_ORDER_ID_BASE = 2 ** 52;

let harness: TestCore;
let prefix: string;

beforeAll(async () => {
  harness = await TestCore.start({ name: 'liquidation-http' });
  prefix = `liq-http-${process.pid}`;
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

const ok = (answer: Answer): unknown => {
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
};

async function user(name: string, futuresKrw: string): Promise<TestUser> {
  const created = await harness.client.createUser(`${prefix}-${name}`, { KRW: '10000000' });
  applied(
    await harness.client.futures(created, 'transfer', { asset: 'KRW', amount: futuresKrw, direction: 'spot_to_futures' }),
    'transfer',
  );
  return created;
}

async function index(price: string): Promise<void> {
  applied(await harness.client.indexPrices([{ symbol: PERP, source: 'oracle-a', price }]), `index ${price}`);
}

const positions = async (who: TestUser) => ok(await harness.client.futuresPositions(who, PERP));
const account = async (who: TestUser) => ok(await harness.client.futuresAccount(who));

async function insuranceFund(): Promise<unknown> {
  const response = await fetch(`${harness.url}/v1/futures/insurance-fund`);
  expect(response.status).toBe(200);
  return response.json();
}

async function orderById(who: TestUser, orderId: number | string): Promise<Record<string, unknown>> {
  const response = await harness.client.signed(who, 'GET', `/v1/order/${orderId}`);
  const body = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function publicTrades(limit: number): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${harness.url}/v1/trades/${PERP}?limit=${limit}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { trades: Record<string, unknown>[] }).trades;
}

/** The order views of GET /v1/order/{id} without the clock fields, so the printed JSON and the asserts are stable. */
function orderFacts(view: Record<string, unknown>): Record<string, unknown> {
  const { order_id, order_type, time_in_force, side, status, price, quantity, filled_quantity, avg_price, fees, expire_reason } = view;
  return { order_id, order_type, time_in_force, side, status, price, quantity, filled_quantity, avg_price, fees, expire_reason };
}

/** The long of every scenario: ISOLATED 10×, 0.1 BTC bought at 100,000,000 from the given resting asks. */
async function openIsolatedLong(name: string, asks: ReadonlyArray<[TestUser, string]>): Promise<TestUser> {
  const long = await user(name, '5000000');
  applied(await harness.client.futures(long, 'margin-type', { symbol: PERP, margin_type: 'ISOLATED' }), 'margin type');
  applied(await harness.client.futures(long, 'leverage', { symbol: PERP, leverage: 10 }), 'leverage');
  await index('100000000');
  for (const [seller, quantity] of asks)
    await harness.client.order(seller, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '100000000', quantity });
  await harness.client.order(long, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '100000000', quantity: '0.1' });
  return long;
}

/** The long before its liquidation, the same in every scenario (figures in the file's comment). */
const LONG_POSITION_BEFORE = {
  symbol: PERP,
  position_side: 'BOTH',
  size: '0.1',
  entry_price: '100000000',
  mark_price: '100000000',
  unrealized_pnl: '0',
  realized_pnl: '0',
  leverage: 10,
  margin_type: 'ISOLATED',
  isolated_margin: '1000000',
  maintenance_margin: '40000',
  liquidation_price: '90361000',
  bankruptcy_price: '90000000',
};
// wallet 4,995,000; available = wallet − isolated margins = 3,995,000 (no cross position, no order)
const LONG_ACCOUNT_BEFORE = {
  asset: 'KRW',
  wallet_balance: '4995000',
  unrealized_pnl: '0',
  margin_balance: '4995000',
  maintenance_margin: '40000',
  initial_margin: '1000000',
  order_margin: '0',
  available_balance: '3995000',
};
// in all three the long loses exactly its isolated margin: wallet 4,995,000 − 1,000,000 = 3,995,000, flat
const LONG_ACCOUNT_AFTER = {
  asset: 'KRW',
  wallet_balance: '3995000',
  unrealized_pnl: '0',
  margin_balance: '3995000',
  maintenance_margin: '0',
  initial_margin: '0',
  order_margin: '0',
  available_balance: '3995000',
  position_mode: 'ONE_WAY',
  positions: [],
};

/** Two counterparties left with opposite positions close them against each other at the mark. */
async function closeOut(buyer: TestUser, seller: TestUser, price: string): Promise<void> {
  const client = harness.client;
  await client.order(buyer, { symbol: PERP, side: 'Buy', order_type: 'Limit', price, quantity: '0.1', reduce_only: true });
  await client.order(seller, { symbol: PERP, side: 'Sell', order_type: 'Limit', price, quantity: '0.1', reduce_only: true });
  expect(await positions(buyer)).toEqual([]);
  expect(await positions(seller)).toEqual([]);
}

describe('liquidation over HTTP on a real core (issue 19 worked examples)', () => {
  it('(a) sells into a resting bid above bankruptcy; the insurance fund gains the rest', async () => {
    const short = await user('a-short', '5000000');
    const bidder = await user('a-bidder', '5000000');
    const long = await openIsolatedLong('a-long', [[short, '0.1']]);
    const fundBefore = await insuranceFund();
    const positionsBefore = await positions(long);
    const accountBefore = await account(long);
    expect(fundBefore).toEqual({ asset: 'KRW', balance: '0' });
    expect(positionsBefore).toEqual([LONG_POSITION_BEFORE]);
    expect(accountBefore).toMatchObject(LONG_ACCOUNT_BEFORE);

    await harness.client.order(bidder, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '90200000', quantity: '0.1' });
    // one tick above the liquidation price: nothing. PnL 100 × (90,362 − 100,000) = −963,800; MM ceil(9,036,200 × 0.004)
    // = ceil(36,144.8) = 36,145; 1,000,000 − 963,800 = 36,200 > 36,145
    await index('90362000');
    expect(await positions(long)).toEqual([
      { ...LONG_POSITION_BEFORE, mark_price: '90362000', unrealized_pnl: '-963800', maintenance_margin: '36145' },
    ]);
    await index('90300000');

    // stage 2: reduce-only IOC Liquidation at the bankruptcy price 90,000,000 fills at the bid 90,200,000,
    // no taker fee; realized 100 × 90,200 − 10,000,000 = −980,000; surplus (90,200 − 90,000) × 100 = 20,000
    // to the fund; the long's wallet 4,995,000 − 980,000 − 20,000 = 3,995,000
    const liquidationOrder = orderFacts(await orderById(long, LIQUIDATION_ORDER_ID_BASE + 1));
    const fundAfter = await insuranceFund();
    const positionsAfter = await positions(long);
    const accountAfter = await account(long);
    // the bidder: long 100 at 90,200, maker fee floor(9,020,000 × 200 ppm) = 1,804 → wallet 4,998,196;
    // at the mark 90,300: unrealized 100 × 100 = 10,000
    const bidderPositions = await positions(bidder);
    const bidderAccount = await account(bidder);
    const trades = await publicTrades(1);
    expect(liquidationOrder).toEqual({
      order_id: String(LIQUIDATION_ORDER_ID_BASE + 1),
      order_type: 'Liquidation',
      time_in_force: 'IOC',
      side: 'Sell',
      status: 'Filled',
      price: '90000000',
      quantity: '0.1',
      filled_quantity: '0.1',
      avg_price: expect.stringMatching(/^90200000(\.0+)?$/),
      fees: '0', // no taker fee on a liquidation order
      expire_reason: null,
    });
    expect(fundAfter).toEqual({ asset: 'KRW', balance: '20000' });
    expect(positionsAfter).toEqual([]);
    expect(accountAfter).toEqual(LONG_ACCOUNT_AFTER);
    expect(bidderPositions).toMatchObject([{ size: '0.1', entry_price: '90200000', mark_price: '90300000', unrealized_pnl: '10000' }]);
    expect(bidderAccount).toMatchObject({ wallet_balance: '4998196' });
    expect(trades[0]).toMatchObject({
      price: '90200000',
      quantity: '0.1',
      quote_quantity: '9020000',
      taker_side: 'Sell',
      liquidation: true,
    });
    console.log(
      'WORKED_EXAMPLE_A',
      JSON.stringify({
        fund_before: fundBefore,
        long_positions_before: positionsBefore,
        long_account_before: accountBefore,
        index: '90300000',
        liquidation_order: liquidationOrder,
        public_trade: trades[0],
        fund_after: fundAfter,
        long_positions_after: positionsAfter,
        long_account_after: accountAfter,
        bidder_positions_after: bidderPositions,
      }),
    );
    await closeOut(short, bidder, '90300000');
  }, 120_000);

  it('(b) empty book above bankruptcy: the funded insurance fund takes it further and pays the loss beyond bankruptcy', async () => {
    const short = await user('b-short', '5000000');
    const bidder = await user('b-bidder', '5000000');
    const long = await openIsolatedLong('b-long', [[short, '0.1']]);
    // the fund (a) left: 20,000 reaches floor(20,000 / 100 lots) = 200 ticks below bankruptcy: 89,800,000
    const fundBefore = await insuranceFund();
    const positionsBefore = await positions(long);
    const accountBefore = await account(long);
    expect(fundBefore).toEqual({ asset: 'KRW', balance: '20000' });
    expect(positionsBefore).toEqual([LONG_POSITION_BEFORE]);
    expect(accountBefore).toMatchObject(LONG_ACCOUNT_BEFORE);

    // nothing at or above the bankruptcy price; the best bid is exactly what the fund reaches
    await harness.client.order(bidder, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '89800000', quantity: '0.1' });
    await index('90300000');

    // stage 2 at 90,000,000 finds no bid and expires; stage 3 sells limited at 89,800,000 and fills there:
    // realized 100 × 89,800 − 10,000,000 = −1,020,000; the fund pays (90,000 − 89,800) × 100 = 20,000 → 0;
    // the long's wallet 4,995,000 − 1,020,000 + 20,000 = 3,995,000 (it loses exactly its margin)
    const stage2 = orderFacts(await orderById(long, LIQUIDATION_ORDER_ID_BASE + 2));
    const stage3 = orderFacts(await orderById(long, LIQUIDATION_ORDER_ID_BASE + 3));
    const fundAfter = await insuranceFund();
    const positionsAfter = await positions(long);
    const accountAfter = await account(long);
    // the bidder: long 100 at 89,800, maker fee floor(8,980,000 × 200 ppm) = 1,796 → wallet 4,998,204;
    // unrealized at 90,300: 100 × 500 = 50,000
    const bidderPositions = await positions(bidder);
    const bidderAccount = await account(bidder);
    const trades = await publicTrades(1);
    expect(stage2).toEqual({
      order_id: String(LIQUIDATION_ORDER_ID_BASE + 2),
      order_type: 'Liquidation',
      time_in_force: 'IOC',
      side: 'Sell',
      status: 'Expired',
      price: '90000000',
      quantity: '0.1',
      filled_quantity: '0',
      avg_price: null,
      fees: '0',
      expire_reason: 'IOC',
    });
    expect(stage3).toEqual({
      order_id: String(LIQUIDATION_ORDER_ID_BASE + 3),
      order_type: 'Liquidation',
      time_in_force: 'IOC',
      side: 'Sell',
      status: 'Filled',
      price: '89800000',
      quantity: '0.1',
      filled_quantity: '0.1',
      avg_price: expect.stringMatching(/^89800000(\.0+)?$/),
      fees: '0',
      expire_reason: null,
    });
    expect(fundAfter).toEqual({ asset: 'KRW', balance: '0' });
    expect(positionsAfter).toEqual([]);
    expect(accountAfter).toEqual(LONG_ACCOUNT_AFTER);
    expect(bidderPositions).toMatchObject([{ size: '0.1', entry_price: '89800000', mark_price: '90300000', unrealized_pnl: '50000' }]);
    expect(bidderAccount).toMatchObject({ wallet_balance: '4998204' });
    expect(trades[0]).toMatchObject({
      price: '89800000',
      quantity: '0.1',
      quote_quantity: '8980000',
      taker_side: 'Sell',
      liquidation: true,
    });
    console.log(
      'WORKED_EXAMPLE_B',
      JSON.stringify({
        fund_before: fundBefore,
        long_positions_before: positionsBefore,
        long_account_before: accountBefore,
        index: '90300000',
        liquidation_order_stage2: stage2,
        liquidation_order_stage3: stage3,
        public_trade: trades[0],
        fund_after: fundAfter,
        long_positions_after: positionsAfter,
        long_account_after: accountAfter,
        bidder_positions_after: bidderPositions,
      }),
    );
    await closeOut(short, bidder, '90300000');
  }, 120_000);

  it('(c) empty book, empty fund: auto-deleverages the most profitable shorts at the bankruptcy price, no fees', async () => {
    // two shorts, 20× cross (the default): 0.06 with 5,000,000 and 0.04 with 1,000,000, both at 100,000,000
    const shortBig = await user('c-short-60', '5000000');
    const shortSmall = await user('c-short-40', '1000000');
    const long = await openIsolatedLong('c-long', [
      [shortBig, '0.06'],
      [shortSmall, '0.04'],
    ]);
    const fundBefore = await insuranceFund();
    const positionsBefore = await positions(long);
    const accountBefore = await account(long);
    const shortsBefore = { short_60: await positions(shortBig), short_40: await positions(shortSmall) };
    expect(fundBefore).toEqual({ asset: 'KRW', balance: '0' });
    expect(positionsBefore).toEqual([LONG_POSITION_BEFORE]);
    expect(accountBefore).toMatchObject(LONG_ACCOUNT_BEFORE);
    // maker fees floor(6,000,000 × 200 ppm) = 1,200 and floor(4,000,000 × 200 ppm) = 800
    expect(await account(shortBig)).toMatchObject({ wallet_balance: '4998800' });
    expect(await account(shortSmall)).toMatchObject({ wallet_balance: '999200' });
    expect(shortsBefore.short_60).toMatchObject([{ size: '-0.06', entry_price: '100000000', margin_type: 'CROSS', leverage: 20 }]);
    expect(shortsBefore.short_40).toMatchObject([{ size: '-0.04', entry_price: '100000000', margin_type: 'CROSS', leverage: 20 }]);

    await index('90300000');

    // stage 2 (90,000,000, empty book) expires; no stage 3 (fund 0); ADL at the bankruptcy price 90,000,000.
    // ranks at 90,300 (PnL % × notional / margin balance):
    //   short 60: 582,000 / 6,000,000 × 5,418,000 / (4,998,800 + 582,000) = 0.0942
    //   short 40: 388,000 / 4,000,000 × 3,612,000 / (999,200 + 388,000)   = 0.2526 → first
    // no fee either side: short 40 wallet 999,200 + 40 × 10,000 = 1,399,200; short 60 4,998,800 + 60 × 10,000
    // = 5,598,800; the long 4,995,000 + 100 × 90,000 − 10,000,000 = 3,995,000
    const stage2 = orderFacts(await orderById(long, LIQUIDATION_ORDER_ID_BASE + 4));
    const fundAfter = await insuranceFund();
    const positionsAfter = await positions(long);
    const accountAfter = await account(long);
    const shortsAfter = {
      short_60_positions: await positions(shortBig),
      short_60_account: await account(shortBig),
      short_40_positions: await positions(shortSmall),
      short_40_account: await account(shortSmall),
    };
    const trades = await publicTrades(2);
    expect(stage2).toEqual({
      order_id: String(LIQUIDATION_ORDER_ID_BASE + 4),
      order_type: 'Liquidation',
      time_in_force: 'IOC',
      side: 'Sell',
      status: 'Expired',
      price: '90000000',
      quantity: '0.1',
      filled_quantity: '0',
      avg_price: null,
      fees: '0',
      expire_reason: 'IOC',
    });
    // two ADL fills at the bankruptcy price, the small short's first (the higher rank), public with liquidation: true
    expect(
      trades.map(({ price, quantity, quote_quantity, taker_side, liquidation }) => ({
        price,
        quantity,
        quote_quantity,
        taker_side,
        liquidation,
      })),
    ).toEqual([
      { price: '90000000', quantity: '0.06', quote_quantity: '5400000', taker_side: 'Sell', liquidation: true },
      { price: '90000000', quantity: '0.04', quote_quantity: '3600000', taker_side: 'Sell', liquidation: true },
    ]);
    expect(Number(trades[0]!.trade_id)).toBe(Number(trades[1]!.trade_id) + 1);
    expect(fundAfter).toEqual({ asset: 'KRW', balance: '0' });
    expect(positionsAfter).toEqual([]);
    expect(accountAfter).toEqual(LONG_ACCOUNT_AFTER);
    expect(shortsAfter.short_60_positions).toEqual([]);
    expect(shortsAfter.short_40_positions).toEqual([]);
    expect(shortsAfter.short_60_account).toMatchObject({ wallet_balance: '5598800', available_balance: '5598800', positions: [] });
    expect(shortsAfter.short_40_account).toMatchObject({ wallet_balance: '1399200', available_balance: '1399200', positions: [] });
    console.log(
      'WORKED_EXAMPLE_C',
      JSON.stringify({
        fund_before: fundBefore,
        long_positions_before: positionsBefore,
        long_account_before: accountBefore,
        shorts_positions_before: shortsBefore,
        index: '90300000',
        liquidation_order_stage2: stage2,
        public_trades: trades,
        fund_after: fundAfter,
        long_positions_after: positionsAfter,
        long_account_after: accountAfter,
        shorts_after: shortsAfter,
      }),
    );
  }, 120_000);
});
