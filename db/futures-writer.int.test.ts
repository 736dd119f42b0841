/**
 * The futures rows against the real PostgreSQL (database xtrader_test_futures_rows, made here):
 * idempotent on seq, the current position moving only forward whatever order batches commit in,
 * and a transfer's amount from the wallet's previous balance.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchRows } from './execution-rows.ts';
import { writeBatch } from './execution-writer.ts';
import { ensureDatabase, migrate } from './migrate.ts';

const DATABASE_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_test_futures_rows';
  return url.toString();
})();

let pool: pg.Pool;

beforeAll(async () => {
  await ensureDatabase(DATABASE_URL);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  await migrate(pool);
});

beforeEach(async () => {
  await pool.query(
    'TRUNCATE futures_position_changes, futures_positions, futures_wallet_changes, futures_funding_payments, futures_liquidations',
  );
});

afterAll(async () => {
  await pool?.end();
});

const entry = (envelope: Record<string, unknown>) => ({
  id: `${String(envelope.seq)}-0`,
  body: JSON.stringify({ v: 1, prev_seq: 0, timestamp: 1000 + Number(envelope.seq), ...envelope }),
});
const position = (seq: number, size: string, realized = '0') =>
  entry({
    type: 'PositionChanged',
    seq,
    user_id: '7',
    symbol: 'BTC-KRW-PERP',
    position_side: 'BOTH',
    size,
    entry_price: size === '0' ? null : '50000000',
    realized_pnl: realized,
    margin_type: 'CROSS',
    isolated_margin: '0',
    leverage: 20,
  });
const wallet = (seq: number, balance: string, reason: string) =>
  entry({ type: 'WalletChanged', seq, user_id: '7', asset: 'KRW', wallet_balance: balance, reason });

describe('futures rows in PostgreSQL', () => {
  it('inserts each event once however often its batch is written, and the current position follows the highest seq in any commit order', async () => {
    const later = batchRows([position(30, '0', '-2500'), wallet(29, '997500', 'Trade')]);
    const earlier = batchRows([
      wallet(10, '1000000', 'Transfer'),
      position(20, '0.02'),
      entry({
        type: 'FundingPaid',
        seq: 25,
        user_id: '7',
        symbol: 'BTC-KRW-PERP',
        position_side: 'BOTH',
        size: '0.02',
        mark_price: '50000000',
        rate: '0.0001',
        amount: '-100',
      }),
      entry({
        type: 'Liquidation',
        seq: 26,
        symbol: 'BTC-KRW-PERP',
        side: 'Sell',
        price: '49000000',
        quantity: '0.02',
        stage: 'insurance',
      }),
    ]);
    expect((await writeBatch(pool, 's', later)).futures).toBe(2);
    expect((await writeBatch(pool, 's', earlier)).futures).toBe(4);
    // redelivered: nothing new
    expect((await writeBatch(pool, 's', earlier)).futures).toBe(0);
    expect((await writeBatch(pool, 's', later)).futures).toBe(0);

    const current = await pool.query('SELECT size::text, entry_price::text, realized_pnl::text, last_seq::int FROM futures_positions');
    expect(current.rows).toEqual([{ size: '0', entry_price: null, realized_pnl: '-2500', last_seq: 30 }]);
    const history = await pool.query('SELECT seq::int, size::text FROM futures_position_changes ORDER BY seq');
    expect(history.rows).toEqual([
      { seq: 20, size: '0.02' },
      { seq: 30, size: '0' },
    ]);
    const counts = await pool.query(
      `SELECT (SELECT count(*) FROM futures_wallet_changes)::int AS wallets, (SELECT count(*) FROM futures_funding_payments)::int AS funding,
              (SELECT stage FROM futures_liquidations) AS stage`,
    );
    expect(counts.rows[0]).toEqual({ wallets: 2, funding: 1, stage: 'insurance' });
  });

  it('gives a transfer the difference to its wallet’s previous balance (0 before the first)', async () => {
    await writeBatch(
      pool,
      's',
      batchRows([wallet(1, '1000000', 'Transfer'), wallet(4, '999500', 'Trade'), wallet(9, '599500', 'Transfer')]),
    );
    const transfers = await pool.query('SELECT seq::int, amount::text, wallet_balance::text FROM futures_transfers ORDER BY seq');
    expect(transfers.rows).toEqual([
      { seq: 1, amount: '1000000', wallet_balance: '1000000' },
      { seq: 9, amount: '-400000', wallet_balance: '599500' },
    ]);
  });
});
