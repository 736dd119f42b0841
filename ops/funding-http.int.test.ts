/**
 * Issue 19's funding over real HTTP against a real core process, price ticks on (one a second) and
 * FUNDING_INTERVAL_MS = 5,000: a long and a short of 0.01 BTC-KRW-PERP at 50,000,000 KRW, no book
 * left (premium samples of 0, so F = I = 0.01 %): at the next multiple of 5 s the long pays
 * 0.01 × 50,000,000 × 0.0001 = 50 KRW and the short receives 50 — exact, no dust. Then
 * GET /v1/futures/premium-index shows the rate settled, and a restart (journal replay) gives the
 * same wallets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applied, PERP } from '../api/futures-example.test-support.ts';
import type { TestUser } from '../api/test-client.ts';
import { TestCore } from './testing/test-core.ts';

let harness: TestCore;

beforeAll(async () => {
  harness = await TestCore.start({ name: 'funding-http', env: { PRICE_TICK_INTERVAL_MS: '1000', FUNDING_INTERVAL_MS: '5000' } });
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

async function premiumIndex(): Promise<Record<string, unknown>> {
  const answer = await fetch(`${harness.url}/v1/futures/premium-index/${PERP}`);
  expect(answer.status).toBe(200);
  return (await answer.json()) as Record<string, unknown>;
}

async function wallet(user: TestUser): Promise<string> {
  const answer = await harness.client.futuresAccount(user);
  expect(answer.status, answer.text).toBe(200);
  return (answer.body as { wallet_balance: string }).wallet_balance;
}

describe('funding over HTTP on a real core', () => {
  it('pays funding at the next funding time and shows it in the premium index, the same after a restart', async () => {
    const client = harness.client;
    const prefix = `funding-${process.pid}`;
    const long = await client.createUser(`${prefix}-long`, { KRW: '10000000' });
    const short = await client.createUser(`${prefix}-short`, { KRW: '10000000' });
    for (const user of [long, short])
      applied(await client.futures(user, 'transfer', { asset: 'KRW', amount: '2000000', direction: 'spot_to_futures' }), 'transfer');
    applied(await client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '50000000' }]), 'index 50,000,000');
    await client.order(short, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.01' });
    await client.order(long, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.01' });
    // fees: taker 500 ppm × 500,000 = 250, maker 200 ppm × 500,000 = 100
    const before = { long: await wallet(long), short: await wallet(short) };
    expect(before).toEqual({ long: '1999750', short: '1999900' });

    // wait for a settlement with the positions open (every 5 s): the short's wallet moves. (Waiting for
    // last_funding_rate alone is not enough: on a slow machine a settlement can pass before the fills.)
    const deadline = Date.now() + 20_000;
    while ((await wallet(short)) === before.short && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    const index = await premiumIndex();
    console.log(`GET /v1/futures/premium-index/${PERP} →`, JSON.stringify(index, null, 2));
    expect(index).toMatchObject({
      symbol: PERP,
      mark_price: '50000000',
      index_price: '50000000',
      index_stale: false,
      last_funding_rate: '0.00010000',
      estimated_funding_rate: '0.00010000',
      interest_rate: '0.00010000',
    });
    expect((index.next_funding_time as number) % 5_000).toBe(0);
    // settlements come every 5 s, so the reads may straddle more than one: k ≥ 1 of them, each 50 KRW
    // from the long to the short (no dust: 50 is exact)
    const paid = async () => {
      const now = { long: BigInt(await wallet(long)), short: BigInt(await wallet(short)) };
      const received = now.short - BigInt(before.short);
      expect(now.long - BigInt(before.long)).toBe(-received);
      expect(received > 0n && received % 50n === 0n, `short received ${received}`).toBe(true);
      return received / 50n;
    };
    const settlements = await paid();
    console.log('settlements seen before the restart:', settlements);

    await harness.kill9();
    await harness.restart();
    // the journal replays every tick and settlement: at least as many, the same 50 KRW each
    expect(await paid()).toBeGreaterThanOrEqual(settlements);
  }, 120_000);
});
