import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders, type ApiCredentials } from './signed-client.ts';
import { json, startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let api: TestApi;
let user: ApiCredentials;

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
  user = await api.createUser('fuzz', { KRW: '100000000', BTC: '10' });
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

const decimalish = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^-?\d{0,14}(\.\d{0,10})?(e[+-]?\d{1,3})?$/),
  fc.double(),
  fc.integer(),
  fc.constantFrom('0', '50000000', '0.01', '1e3', 'NaN', 'Infinity', '', ' 1', '1.', '.5'),
  fc.constant(null),
  fc.boolean(),
);
const field = <T>(values: fc.Arbitrary<T>) => fc.option(fc.oneof(values, fc.string({ maxLength: 8 }), fc.integer()), { nil: undefined });
const orderish = fc.record(
  {
    symbol: field(fc.constantFrom('BTC-KRW', 'ETH-KRW', 'btc-krw')),
    side: field(fc.constantFrom('Buy', 'Sell')),
    order_type: field(fc.constantFrom('Limit', 'Market', 'StopLimit', 'StopMarket')),
    price: fc.option(decimalish, { nil: undefined }),
    quantity: fc.option(decimalish, { nil: undefined }),
    quote_amount: fc.option(decimalish, { nil: undefined }),
    stop_price: fc.option(decimalish, { nil: undefined }),
    time_in_force: field(fc.constantFrom('GTC', 'IOC', 'FOK')),
    post_only: fc.option(fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })), { nil: undefined }),
    client_order_id: fc.option(fc.string({ maxLength: 70 }), { nil: undefined }),
    extra: fc.option(fc.anything(), { nil: undefined }),
  },
  { requiredKeys: [] },
);

describe('POST /v1/order with arbitrary bodies', () => {
  it('never answers 500, and changes state only when it answers 200', async () => {
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          orderish.map((body) => JSON.stringify(body)),
          fc.string({ maxLength: 200 }),
        ),
        async (text) => {
          const before = await api.state();
          // A fresh timestamp per run keeps every signature unique even for equal bodies.
          const response = await api.app.request('/v1/order', {
            method: 'POST',
            headers: signedHeaders(user, 'POST', '/v1/order', text, Date.now() + (counter++ % 1000)),
            body: text,
          });
          const answer = await json(response);
          expect([200, 400, 413, 415]).toContain(response.status);
          if (response.status !== 200) {
            expect(typeof answer.error).toBe('string');
            expect(await api.state()).toEqual(before);
          } else {
            expect(answer.status).toBe('ACCEPTED');
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
