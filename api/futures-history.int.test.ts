/**
 * GET /v1/futures/funding-history, /liquidations, /transfers and /position-history through createApi
 * on rows the persister writes (db/execution-writer.ts) from FundingPaid, Liquidation, WalletChanged
 * and PositionChanged envelopes — FundingPaid and Liquidation shaped as ARCHITECTURE.md writes them,
 * before the engine emits them — in a database of this file's own (xtrader_test_futures_history).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRows } from '../db/execution-rows.ts';
import { writeBatch } from '../db/execution-writer.ts';
import { HistoryStore } from '../db/history-store.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import type { ApiCredentials } from './signed-client.ts';
import { json, startTestApi, testPool, type TestApi } from './test-support.ts';

const HISTORY_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_test_futures_history';
  return url.toString();
})();

const PERP = 'BTC-KRW-PERP';
let pool: pg.Pool;
let historyPool: pg.Pool;
let api: TestApi;
let alice: ApiCredentials & { userId: string };
let bob: ApiCredentials & { userId: string };

const entry = (seq: number, envelope: Record<string, unknown>) => ({
  id: `${seq}-0`,
  body: JSON.stringify({ v: 1, seq, prev_seq: 0, timestamp: 1_800_000_000_000 + seq * 1000, ...envelope }),
});

function funding(seq: number, userId: string, size: string, rate: string, amount: string) {
  return entry(seq, {
    type: 'FundingPaid',
    user_id: userId,
    symbol: PERP,
    position_side: 'BOTH',
    size,
    mark_price: '50000000',
    rate,
    amount,
  });
}

beforeAll(async () => {
  pool = await testPool();
  await ensureDatabase(HISTORY_URL);
  historyPool = new pg.Pool({ connectionString: HISTORY_URL, max: 4 });
  await migrate(historyPool);
  await historyPool.query(
    'TRUNCATE futures_position_changes, futures_positions, futures_wallet_changes, futures_funding_payments, futures_liquidations',
  );
  api = await startTestApi(pool, { history: new HistoryStore(historyPool) });
  alice = await api.createUser('futures-history-alice');
  bob = await api.createUser('futures-history-bob');
  const a = alice.userId;
  const b = bob.userId;
  // at a funding time with rate +0.01 %: alice long 0.02 pays 0.02 × 50,000,000 × 0.0001 = 100 (up),
  // bob short 0.02 receives 100 (down); a later one at −0.0325 %: alice receives 325, bob pays 325
  await writeBatch(
    historyPool,
    'executions',
    batchRows([
      entry(10, { type: 'WalletChanged', user_id: a, asset: 'KRW', wallet_balance: '2000000', reason: 'Transfer' }),
      entry(11, { type: 'WalletChanged', user_id: a, asset: 'KRW', wallet_balance: '1999500', reason: 'Trade' }),
      funding(20, a, '0.02', '0.0001', '-100'),
      funding(21, b, '-0.02', '0.0001', '100'),
      entry(22, { type: 'WalletChanged', user_id: a, asset: 'KRW', wallet_balance: '1999400', reason: 'Funding' }),
      funding(30, a, '0.02', '-0.000325', '325'),
      funding(31, b, '-0.02', '-0.000325', '-325'),
      entry(40, { type: 'Liquidation', symbol: PERP, side: 'Sell', price: '45180000', quantity: '0.01', stage: 'book' }),
      entry(41, { type: 'Liquidation', symbol: PERP, side: 'Sell', price: '45000000', quantity: '0.005', stage: 'insurance' }),
      entry(42, { type: 'Liquidation', symbol: PERP, side: 'Sell', price: '45000000', quantity: '0.005', stage: 'adl' }),
      entry(50, { type: 'WalletChanged', user_id: a, asset: 'KRW', wallet_balance: '1500000', reason: 'Transfer' }),
    ]),
  );
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
  await historyPool?.end();
});

describe('futures histories from PostgreSQL', () => {
  it("lists the caller's funding payments only, signed, rates with their 8 decimals, in pages", async () => {
    const all = await json(await api.signed(alice, 'GET', `/v1/futures/funding-history?symbol=${PERP}`));
    expect(all).toEqual({
      funding: [
        {
          seq: 20,
          symbol: PERP,
          position_side: 'BOTH',
          size: '0.02',
          mark_price: '50000000',
          rate: '0.00010000',
          amount: '-100',
          timestamp: 1_800_000_020_000,
        },
        {
          seq: 30,
          symbol: PERP,
          position_side: 'BOTH',
          size: '0.02',
          mark_price: '50000000',
          rate: '-0.00032500',
          amount: '325',
          timestamp: 1_800_000_030_000,
        },
      ],
      next_after_seq: null,
    });
    const first = await json(await api.signed(bob, 'GET', '/v1/futures/funding-history?limit=1'));
    expect(first.funding.map((row: { amount: string }) => row.amount)).toEqual(['100']);
    expect(first.next_after_seq).toBe('21');
    const second = await json(await api.signed(bob, 'GET', '/v1/futures/funding-history?limit=1&after_seq=21'));
    expect(second).toMatchObject({ funding: [{ seq: 31, size: '-0.02', amount: '-325' }], next_after_seq: null });
    const windowed = await json(await api.signed(alice, 'GET', '/v1/futures/funding-history?start=1800000025000&end=1800000030000'));
    expect(windowed.funding.map((row: { seq: number }) => row.seq)).toEqual([30]);
  });

  it("lists the market's liquidations with their stage", async () => {
    const page = await json(await api.signed(bob, 'GET', `/v1/futures/liquidations?symbol=${PERP}&limit=2`));
    expect(
      page.liquidations.map((row: { stage: string; price: string; quantity: string }) => [row.stage, row.price, row.quantity]),
    ).toEqual([
      ['book', '45180000', '0.01'],
      ['insurance', '45000000', '0.005'],
    ]);
    expect(page.next_after_seq).toBe('41');
    const rest = await json(await api.signed(bob, 'GET', `/v1/futures/liquidations?after_seq=41`));
    expect(rest).toMatchObject({ liquidations: [{ seq: 42, side: 'Sell', stage: 'adl' }], next_after_seq: null });
  });

  it('gives each transfer the difference to the previous wallet balance, whatever moved it in between', async () => {
    const page = await json(await api.signed(alice, 'GET', '/v1/futures/transfers?asset=KRW'));
    // 2,000,000 in; then fees and funding (1,999,400); then 1,999,400 − 1,500,000 = 499,400 out
    expect(
      page.transfers.map((row: { amount: string; direction: string; wallet_balance: string }) => [
        row.amount,
        row.direction,
        row.wallet_balance,
      ]),
    ).toEqual([
      ['2000000', 'spot_to_futures', '2000000'],
      ['499400', 'futures_to_spot', '1500000'],
    ]);
    expect(await json(await api.signed(bob, 'GET', '/v1/futures/transfers'))).toEqual({ transfers: [], next_after_seq: null });
  });

  it('refuses a spot or unknown market, a non-settlement asset and a bad cursor with the usual words', async () => {
    const cases: [string, string][] = [
      ['/v1/futures/funding-history?symbol=BTC-KRW', 'NOT_A_PERPETUAL'],
      ['/v1/futures/liquidations?symbol=DOGE-KRW-PERP', 'UNKNOWN_SYMBOL'],
      ['/v1/futures/transfers?asset=BTC', 'NOT_A_SETTLEMENT_ASSET'],
      ['/v1/futures/position-history?after_seq=-1', 'INVALID_QUERY'],
      ['/v1/futures/funding-history?start=5&end=4', 'INVALID_TIME_RANGE'],
    ];
    for (const [route, error] of cases) {
      const response = await api.signed(alice, 'GET', route);
      expect(response.status, route).toBe(400);
      expect(await json(response), route).toMatchObject({ error });
    }
  });
});
