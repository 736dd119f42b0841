/**
 * Issue 22's input gaps, on every route that reads a JSON body: a repeated key is 400
 * DUPLICATE_KEY whichever value would win, a charset other than UTF-8 is 415
 * UNSUPPORTED_CHARSET, and the admin money routes take `user_id` only as a JSON integer or the
 * canonical decimal-string id /admin/users answers, and refuse deposits into the fee account. Nothing refused is journaled.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from './signature.ts';
import { ADMIN_TOKEN, json, startTestApi, testPool, type TestApi } from './test-support.ts';
import type { TestUser } from './test-client.ts';

let pool: pg.Pool;
let api: TestApi;
let alice: TestUser;

beforeAll(async () => {
  pool = await testPool();
  api = await startTestApi(pool);
  alice = await api.createUser('strict-alice', { KRW: '100000000', BTC: '1' });
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

let stamp = Date.now();
/** A request with the exact body text and Content-Type given (signed when `signed`); each gets its own timestamp. */
function send(method: string, route: string, body: string, contentType = 'application/json', signed = true): Promise<Response> {
  const timestamp = String(Math.max(Date.now(), ++stamp));
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (signed)
    Object.assign(headers, {
      'X-API-KEY': alice.apiKey,
      'X-TIMESTAMP': timestamp,
      'X-SIGNATURE': signRequest(alice.apiSecret, timestamp, method, route, body),
    });
  else headers.Authorization = `Bearer ${ADMIN_TOKEN}`;
  return Promise.resolve(api.app.request(route, { method, headers, body }));
}

async function expectRefused(answer: Response, status: number, word: string, what: string): Promise<void> {
  const body = await json(answer);
  expect({ what, status: answer.status, error: body.error }).toEqual({ what, status, error: word });
}

describe('a body with a repeated key', () => {
  it('is 400 DUPLICATE_KEY on every route that reads a JSON body, at any depth, and nothing is journaled', async () => {
    const orderId = JSON.parse(
      await (
        await send('POST', '/v1/order', '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":"1000000","quantity":"0.01"}')
      ).text(),
    ).order_id as string;
    const before = await api.state();
    const cases: Array<[string, string, string, boolean]> = [
      [
        'POST',
        '/v1/order',
        '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":"1000000","quantity":"0.01","quantity":"5"}',
        true,
      ],
      [
        'POST',
        '/v1/order',
        '{"symbol":"BTC-KRW","side":"Buy","side":"Sell","order_type":"Limit","price":"1000000","quantity":"0.01"}',
        true,
      ],
      [
        'POST',
        '/v1/order',
        '{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":"1000000","quantity":"0.01","x":{"a":1,"a":2}}',
        true,
      ],
      ['PATCH', `/v1/order/${orderId}`, '{"quantity":"0.005","quantity":"0.001"}', true],
      ['POST', '/admin/users', '{"name":"a","name":"b"}', false],
      ['POST', '/admin/deposits', `{"user_id":${alice.userId},"asset":"KRW","amount":"1","amount":"100000000"}`, false],
      ['POST', '/admin/withdrawals', `{"user_id":${alice.userId},"asset":"KRW","asset":"BTC","amount":"1"}`, false],
    ];
    for (const [method, route, body, signed] of cases) {
      const answer = await send(method, route, body, 'application/json', signed);
      await expectRefused(answer, 400, 'DUPLICATE_KEY', `${method} ${route} ${body}`);
    }
    expect(await api.state()).toEqual(before);
  });
});

describe('Content-Type', () => {
  it('takes application/json with no charset or utf-8 in any case, quoted or not, and answers anything else 415', async () => {
    let index = 0;
    const order = () =>
      `{"symbol":"BTC-KRW","side":"Buy","order_type":"Limit","price":"1000000","quantity":"0.01","client_order_id":"ct-${index++}"}`;
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'APPLICATION/JSON; CHARSET="Utf-8"',
      'application/json ; charset=utf-8 ',
      'application/json; foo=bar',
    ]) {
      expect((await send('POST', '/v1/order', order(), type)).status, type).toBe(200);
    }
    const before = await api.state();
    for (const type of [
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=iso-8859-1',
      'application/json; charset="utf-16le"',
      'application/json; charset=utf8',
      'application/json; charset',
      'application/json; charset=utf-8; charset=utf-16',
    ]) {
      await expectRefused(await send('POST', '/v1/order', order(), type), 415, 'UNSUPPORTED_CHARSET', type);
      await expectRefused(await send('POST', '/admin/users', '{"name":"x"}', type, false), 415, 'UNSUPPORTED_CHARSET', `admin ${type}`);
    }
    for (const type of ['text/plain', 'application/jsonp', 'application/x-www-form-urlencoded']) {
      await expectRefused(await send('POST', '/v1/order', order(), type), 415, 'UNSUPPORTED_MEDIA_TYPE', type);
    }
    expect(await api.state()).toEqual(before);
  });
});

describe('admin deposits and withdrawals', () => {
  it('take user_id only as a JSON integer or the canonical id string, and refuse deposits into the fee account (user 0), journaling nothing', async () => {
    const before = await api.state();
    for (const route of ['/admin/deposits', '/admin/withdrawals']) {
      for (const userId of [
        `"0${alice.userId}"`,
        `" ${alice.userId}"`,
        `"${alice.userId}.0"`,
        `"+${alice.userId}"`,
        '""',
        '1.5',
        '-1',
        'null',
        'true',
        '[1]',
        '1e300',
      ]) {
        await expectRefused(
          await send('POST', route, `{"user_id":${userId},"asset":"KRW","amount":"1"}`, 'application/json', false),
          400,
          'INVALID_FIELD',
          `${route} user_id ${userId}`,
        );
      }
    }
    for (const amount of ['"1"', '"1000000"']) {
      const answer = await send('POST', '/admin/deposits', `{"user_id":0,"asset":"KRW","amount":${amount}}`, 'application/json', false);
      await expectRefused(answer, 400, 'FEE_ACCOUNT_DEPOSIT', `deposit ${amount} into the fee account`);
    }
    expect(await api.state()).toEqual(before);
    const deposit = await send(
      'POST',
      '/admin/deposits',
      `{"user_id":${alice.userId},"asset":"KRW","amount":"1"}`,
      'application/json',
      false,
    );
    expect(deposit.status).toBe(200);
    // the id exactly as POST /admin/users gave it (a decimal string) names the same user
    const asGiven = await send(
      'POST',
      '/admin/deposits',
      `{"user_id":"${alice.userId}","asset":"KRW","amount":"1"}`,
      'application/json',
      false,
    );
    expect(asGiven.status).toBe(200);
  });
});
