import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore, MAX_UNCACHED_LOOKUPS, StoreUnavailableError } from './credentials.ts';
import { SecretBox } from './secret-box.ts';
import { testPool } from './test-support.ts';

let pool: pg.Pool;
let blocker: pg.Pool;

beforeAll(async () => {
  pool = await testPool();
  blocker = await testPool();
});

afterAll(async () => {
  await pool?.end();
  await blocker?.end();
});

describe('CredentialStore', () => {
  it(`answers at once (store unavailable) past ${MAX_UNCACHED_LOOKUPS} uncached keys in flight, then recovers`, async () => {
    const store = new CredentialStore(pool, new SecretBox(Buffer.alloc(32, 7)));
    const user = await store.createUser('lookup-bound');
    // Hold every api_keys read in PostgreSQL itself, so lookups stay in flight.
    const lock = await blocker.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE');
    const waiting = Array.from({ length: MAX_UNCACHED_LOOKUPS }, (_, index) => store.lookup(`xk_random_${index}`));
    const started = performance.now();
    await expect(store.lookup('xk_one_too_many')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(100); // refused, not queued behind the flood
    await lock.query('ROLLBACK');
    lock.release();
    expect(await Promise.all(waiting)).toEqual(Array.from({ length: MAX_UNCACHED_LOOKUPS }, () => undefined));
    expect((await store.lookup(user.apiKey))?.userId).toBe(Number(user.userId));
  });
});
