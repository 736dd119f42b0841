/**
 * The shared test client checks what other tests rely on it to check: its conservation check
 * fails when money appears that it did not pay in, or leaves, and its decimal sums are exact.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { units } from './test-client.ts';
import { startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let api: TestApi;

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

describe('units', () => {
  it('turns decimals of every asset into exact 10^-8 units', () => {
    expect(units('100000000000')).toBe(10_000_000_000_000_000_000n);
    expect(units('0.00000001')).toBe(1n);
    expect(units('1.5')).toBe(150_000_000n);
    expect(units('-2.25')).toBe(-225_000_000n);
    expect(() => units('0.000000001')).toThrow(/more than 8 decimals/);
  });
});

describe('TestClient conservation', () => {
  it('holds after trades and withdrawals it recorded, and fails on a deposit it did not record', async () => {
    const client = api.client;
    const [seller, buyer] = await client.createUsers('conserve', 2, { KRW: '100000000', BTC: '1' });
    await client.order(seller!, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.1' });
    await client.order(buyer!, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.1' });
    await client.withdraw(seller!.userId, 'KRW', '1000');
    const held = await client.conservation();
    expect(held.actual).toEqual(held.expected);
    expect(held.expected).toEqual({ BTC: '200000000', KRW: String(units('199999000')) });
    // money the ledger does not know of: a deposit made around the client
    const response = await api.app.request('/admin/deposits', {
      method: 'POST',
      headers: { Authorization: `Bearer ${client.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: Number(buyer!.userId), asset: 'BTC', amount: '0.5' }),
    });
    expect(response.status).toBe(200);
    const broken = await client.conservation();
    expect(broken.actual).not.toEqual(broken.expected);
    expect(BigInt(broken.actual.BTC!) - BigInt(broken.expected.BTC!)).toBe(50_000_000n);
  });
});
