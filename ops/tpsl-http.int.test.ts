/**
 * TP/SL over real HTTP against a real core process (issue 19): a long of 0.01 BTC-KRW-PERP puts a
 * StopMarket sell with close_position (working_type left to its MARK_PRICE default) at 48,000,000;
 * POST /admin/index-prices moves the mark to 48,500,000 (nothing) and then to 48,000,000, which
 * fires it in that command: it sells the whole long into a resting bid at 47,000,000.
 *
 * By hand (1 tick × 1 lot = 1 KRW; tick 1,000 KRW, lot 0.001 BTC; taker 500 ppm, maker 200 ppm):
 *   open 10 lots at 50,000 ticks: notional 500,000; the long takes: fee floor(500,000 × 500 ppm) = 250
 *   close 10 lots at 47,000: notional 470,000, realized 470,000 − 500,000 = −30,000,
 *     taker fee floor(470,000 × 500 ppm) = 235
 *   long wallet 2,000,000 − 250 − 30,000 − 235 = 1,969,515, flat, no order margin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applied, PERP } from '../api/futures-example.test-support.ts';
import type { TestUser } from '../api/test-client.ts';
import { TestCore } from './testing/test-core.ts';

let harness: TestCore;
let long: TestUser;
let short: TestUser;
let bidder: TestUser;

beforeAll(async () => {
  harness = await TestCore.start({ name: 'tpsl-http' });
  const client = harness.client;
  const prefix = `tpsl-http-${process.pid}`;
  long = await client.createUser(`${prefix}-long`, { KRW: '10000000' });
  short = await client.createUser(`${prefix}-short`, { KRW: '10000000' });
  bidder = await client.createUser(`${prefix}-bidder`, { KRW: '10000000' });
  for (const user of [long, short, bidder])
    applied(await client.futures(user, 'transfer', { asset: 'KRW', amount: '2000000', direction: 'spot_to_futures' }), 'transfer');
  applied(await client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '50000000' }]), 'index 50,000,000');
  await client.order(short, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.01' });
  await client.order(long, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.01' });
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

async function order(user: TestUser, orderId: string): Promise<Record<string, unknown>> {
  const response = await harness.client.signed(user, 'GET', `/v1/order/${orderId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('TP/SL over HTTP on a real core', () => {
  it('fires a MARK_PRICE StopMarket close_position in the index-price command that reaches its stop', async () => {
    const client = harness.client;
    const stop = await client.order(long, {
      symbol: PERP,
      side: 'Sell',
      order_type: 'StopMarket',
      stop_price: '48000000',
      close_position: true,
    });
    const waiting = await order(long, stop);
    console.log('GET /v1/order (waiting) →', JSON.stringify(waiting, null, 2));
    expect(waiting).toMatchObject({
      order_type: 'StopMarket',
      status: 'Untriggered',
      stop_price: '48000000',
      quantity: '0',
      working_type: 'MARK_PRICE',
      close_position: true,
    });
    expect((await client.futuresAccount(long)).body).toMatchObject({ order_margin: '0' });
    await client.order(bidder, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '47000000', quantity: '0.02' });

    applied(await client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '48500000' }]), 'index 48,500,000');
    expect(await order(long, stop)).toMatchObject({ status: 'Untriggered' });

    applied(await client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '48000000' }]), 'index 48,000,000');
    const fired = await order(long, stop);
    console.log('GET /v1/order (fired) →', JSON.stringify(fired, null, 2));
    expect(fired).toMatchObject({
      status: 'Filled',
      quantity: '0.01',
      filled_quantity: '0.01',
      avg_price: expect.stringMatching(/^47000000(\.0+)?$/),
      working_type: 'MARK_PRICE',
      close_position: true,
    });
    const positions = await client.futuresPositions(long, PERP);
    expect(positions.status).toBe(200);
    expect(positions.body).toEqual([]);
    const account = await client.futuresAccount(long);
    console.log('GET /v1/futures/account (long, after) →', JSON.stringify(account.body, null, 2));
    expect(account.body).toMatchObject({ wallet_balance: '1969515', order_margin: '0', positions: [] });
  }, 120_000);
});
