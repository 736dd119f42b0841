/**
 * The worked example of issue 18 and docs/futures.md, driven through the HTTP API by the shared test
 * client — in process (api/futures.int.test.ts) or against a real core child (ops/futures-http.int.test.ts):
 *
 *   long and short each deposit 10,000,000 KRW and move 2,000,000 to futures;
 *   long sets BTC-KRW-PERP ISOLATED and 10×; the admin sets the index to 50,000,000;
 *   short rests a sell of 0.02 at 50,000,000, long buys 0.02 at 50,000,000 (opens 10× isolated);
 *   the index moves to 51,000,000; short rests a buy of 0.01 at 51,000,000, long sells 0.01 there
 *   reduce-only (half the position closed).
 *
 * The expected figures, by hand (1 tick × 1 lot = 1 KRW; tick 1,000 KRW, lot 0.001 BTC):
 *   open: 20 lots × 50,000 ticks = notional and cost 1,000,000 KRW
 *     long  isolated margin ceil(1,000,000 / 10) = 100,000; taker fee floor(1,000,000 × 500 ppm) = 500
 *     short maker fee floor(1,000,000 × 200 ppm) = 200
 *   close 10 lots at 51,000 ticks (notional 510,000):
 *     long  removed cost trunc(1,000,000 × 10 / 20) = 500,000; realized 10 × 51,000 − 500,000 = +10,000
 *           margin released trunc(100,000 × 10 / 20) = 50,000 → isolated margin 50,000
 *           taker fee floor(510,000 × 500 ppm) = 255
 *           wallet 2,000,000 − 500 + 10,000 − 255 = 2,009,245
 *     short removed cost −500,000; realized −(10 × 51,000) + 500,000 = −10,000; maker fee 102
 *           wallet 2,000,000 − 200 − 10,000 − 102 = 1,989,698
 *   at the mark 51,000 ticks, 10 lots left each side, cost ±500,000, entry 50,000,000:
 *     unrealized: long 510,000 − 500,000 = +10,000, short −10,000
 *     maintenance margin (tier 1, 0.40 %, cum 0): ceil(510,000 × 0.004) = 2,040 each
 *     long (isolated) bankruptcy: 50,000 + 10·P − 500,000 = 0 → P = 45,000 ticks = 45,000,000 KRW
 *     long liquidation: highest P with 10·P − 450,000 ≤ ceil(0.04·P): P = 45,180 (1,800 ≤ 1,808;
 *       at 45,181: 1,810 > 1,808) → 45,180,000 KRW
 *     long margin: cross balance = wallet − isolated margins = 2,009,245 − 50,000 = 1,959,245, no
 *       cross position, no order → available 1,959,245; account margin balance = wallet + unrealized
 *       = 2,019,245; initial margin at the mark ceil(510,000 / 10) = 51,000
 *     short (cross, 20×) IM ceil(510,000 / 20) = 25,500; cross balance 1,989,698 − 10,000 = 1,979,698
 *       → available 1,979,698 − 25,500 = 1,954,198 (= its margin balance − IM)
 *     short bankruptcy: 1,989,698 + 500,000 − 10·P = 0 → P = 248,969.8 → down (a short's) 248,969
 *     short liquidation: lowest P with 2,489,698 − 10·P ≤ ceil(0.04·P): P = 247,978
 *       (9,918 ≤ 9,920; at 247,977: 9,928 > 9,920) → 247,978,000 KRW
 *   conservation: 2,009,245 + 1,989,698 + fees 1,057 = 4,000,000 transferred in; costs +500,000 − 500,000 = 0.
 */
import type { Answer, TestClient, TestUser } from './test-client.ts';

export const PERP = 'BTC-KRW-PERP';

export const EXPECTED_LONG_POSITION = {
  symbol: PERP,
  position_side: 'BOTH',
  size: '0.01',
  entry_price: '50000000',
  mark_price: '51000000',
  unrealized_pnl: '10000',
  realized_pnl: '10000',
  leverage: 10,
  margin_type: 'ISOLATED',
  isolated_margin: '50000',
  maintenance_margin: '2040',
  liquidation_price: '45180000',
  bankruptcy_price: '45000000',
};

export const EXPECTED_SHORT_POSITION = {
  symbol: PERP,
  position_side: 'BOTH',
  size: '-0.01',
  entry_price: '50000000',
  mark_price: '51000000',
  unrealized_pnl: '-10000',
  realized_pnl: '-10000',
  leverage: 20,
  margin_type: 'CROSS',
  isolated_margin: '0',
  maintenance_margin: '2040',
  liquidation_price: '247978000',
  bankruptcy_price: '248969000',
};

export const EXPECTED_LONG_ACCOUNT = {
  asset: 'KRW',
  wallet_balance: '2009245',
  unrealized_pnl: '10000',
  margin_balance: '2019245',
  maintenance_margin: '2040',
  initial_margin: '51000',
  order_margin: '0',
  available_balance: '1959245',
  position_mode: 'ONE_WAY',
  positions: [EXPECTED_LONG_POSITION],
};

export const EXPECTED_SHORT_ACCOUNT = {
  asset: 'KRW',
  wallet_balance: '1989698',
  unrealized_pnl: '-10000',
  margin_balance: '1979698',
  maintenance_margin: '2040',
  initial_margin: '25500',
  order_margin: '0',
  available_balance: '1954198',
  position_mode: 'ONE_WAY',
  positions: [EXPECTED_SHORT_POSITION],
};

export interface WorkedExample {
  readonly long: TestUser;
  readonly short: TestUser;
}

/** Throws unless the answer is 200 and, for a futures setting, applied by the engine. */
export function applied(answer: Answer, what: string): Answer {
  if (answer.status !== 200 || (answer.body.outcome !== undefined && answer.body.outcome !== 'Applied'))
    throw new Error(`${what}: ${answer.status} ${answer.text}`);
  return answer;
}

export async function runWorkedExample(client: TestClient, prefix = 'futures'): Promise<WorkedExample> {
  const long = await client.createUser(`${prefix}-long`, { KRW: '10000000' });
  const short = await client.createUser(`${prefix}-short`, { KRW: '10000000' });
  for (const user of [long, short])
    applied(await client.futures(user, 'transfer', { asset: 'KRW', amount: '2000000', direction: 'spot_to_futures' }), 'transfer');
  applied(await client.futures(long, 'margin-type', { symbol: PERP, margin_type: 'ISOLATED' }), 'margin type');
  applied(await client.futures(long, 'leverage', { symbol: PERP, leverage: 10 }), 'leverage');
  applied(await client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '50000000' }]), 'index 50,000,000');
  await client.order(short, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.02' });
  await client.order(long, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.02' });
  applied(await client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '51000000' }]), 'index 51,000,000');
  await client.order(short, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '51000000', quantity: '0.01' });
  await client.order(long, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '51000000', quantity: '0.01', reduce_only: true });
  return { long, short };
}
