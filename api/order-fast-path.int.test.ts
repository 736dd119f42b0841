/**
 * The POST /v1/order fast path answers exactly like the Hono app: two identical test APIs, one
 * served through the fast path (as ops/core.ts does) and one through the app alone, get the same
 * raw HTTP requests in the same order; status, headers (but Date) and body must be equal, and the
 * fast path must have taken every request it is meant for.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from './signature.ts';
import { startTestApi, testPool, type TestApi } from './test-support.ts';

interface Side {
  readonly api: TestApi;
  readonly server: Server;
  readonly port: number;
  readonly users: Record<string, { apiKey: string; apiSecret: string }>;
  fastHandled: number;
}

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

let pool: pg.Pool;
const sides: Side[] = [];

async function side(fast: boolean, overrides: Parameters<typeof startTestApi>[1] = {}): Promise<Side> {
  const api = await startTestApi(pool, overrides);
  const hono = getRequestListener(api.app.fetch);
  const fastPath = api.orderFastPath;
  const state = { fastHandled: 0 };
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (fast && fastPath(incoming, outgoing)) {
      state.fastHandled++;
      return;
    }
    void hono(incoming, outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const users = {
    rich: await api.createUser('fast-rich', { KRW: '100000000', BTC: '10' }),
    poor: await api.createUser('fast-poor'),
  };
  const result: Side = {
    api,
    server,
    port: (server.address() as AddressInfo).port,
    users,
    get fastHandled() {
      return state.fastHandled;
    },
  };
  sides.push(result);
  return result;
}

function raw(port: number, request: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headEnd = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        if (name !== 'date') headers[name] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(headEnd + 4) });
    });
    socket.write(request);
  });
}

interface OrderRequest {
  readonly user?: 'rich' | 'poor' | 'unknown';
  readonly body?: string;
  readonly timestamp?: number;
  readonly signature?: (valid: string) => string;
  readonly omit?: readonly string[];
  readonly contentType?: string;
  readonly extraHeaders?: string;
  readonly chunked?: boolean;
  readonly contentLength?: number;
}

/** The raw bytes of a POST /v1/order for this side's users (signed with its own secret). */
function orderRequest(target: Side, request: OrderRequest): string {
  const body = request.body ?? '';
  const timestamp = String(request.timestamp ?? Date.now());
  const user = request.user === 'unknown' ? { apiKey: 'xk_nobody', apiSecret: 'x' } : target.users[request.user ?? 'rich']!;
  const valid = signRequest(user.apiSecret, timestamp, 'POST', '/v1/order', body);
  const headers: Record<string, string> = {
    Host: `127.0.0.1:${target.port}`,
    'X-API-KEY': user.apiKey,
    'X-TIMESTAMP': timestamp,
    'X-SIGNATURE': request.signature ? request.signature(valid) : valid,
    'Content-Type': request.contentType ?? 'application/json',
    Connection: 'close',
  };
  for (const name of request.omit ?? []) delete headers[name];
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  if (request.chunked) {
    return `POST /v1/order HTTP/1.1\r\n${head}${request.extraHeaders ?? ''}Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  }
  return `POST /v1/order HTTP/1.1\r\n${head}${request.extraHeaders ?? ''}Content-Length: ${request.contentLength ?? Buffer.byteLength(body)}\r\n\r\n${body}`;
}

const limit = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.01', ...extra });

/** Sends the same request to both sides (in turn) and expects identical answers. */
async function same(fastSide: Side, appSide: Side, request: OrderRequest, expectFast: boolean): Promise<RawAnswer> {
  const handledBefore = fastSide.fastHandled;
  const viaFast = await raw(fastSide.port, orderRequest(fastSide, request));
  const viaApp = await raw(appSide.port, orderRequest(appSide, request));
  expect(viaFast).toEqual(viaApp);
  expect(fastSide.fastHandled - handledBefore).toBe(expectFast ? 1 : 0);
  return viaFast;
}

beforeAll(async () => {
  pool = await testPool();
});

afterAll(async () => {
  for (const { server, api } of sides) {
    await new Promise((resolve) => server.close(resolve));
    await api.close();
  }
  await pool?.end();
});

describe('POST /v1/order fast path', () => {
  it('answers every case exactly as the Hono app does', async () => {
    const fastSide = await side(true);
    const appSide = await side(false);
    const placed = await same(fastSide, appSide, { body: limit({ client_order_id: 'c-1' }) }, true);
    expect(placed.status).toBe(200);
    expect(JSON.parse(placed.body)).toMatchObject({ status: 'ACCEPTED', order_status: 'Pending' });
    const duplicate = await same(fastSide, appSide, { body: limit({ client_order_id: 'c-1', quantity: '0.02' }) }, true);
    expect(JSON.parse(duplicate.body)).toMatchObject({ duplicate: true });
    await same(fastSide, appSide, { body: limit() }, true);
    await same(fastSide, appSide, { body: limit({ side: 'Sell', price: '49000000' }) }, true); // trades
    await same(fastSide, appSide, { user: 'poor', body: limit() }, true); // acknowledged, then Rejected
    await same(fastSide, appSide, { body: limit({ order_type: 'Market', price: undefined, time_in_force: 'IOC' }) }, true);

    const refusals: Array<[OrderRequest, number, string]> = [
      [{ body: limit(), omit: ['X-SIGNATURE'] }, 401, 'MISSING_CREDENTIALS'],
      [{ body: limit(), omit: ['X-API-KEY', 'X-TIMESTAMP', 'X-SIGNATURE'] }, 401, 'MISSING_CREDENTIALS'],
      [{ body: limit(), timestamp: Date.now() - 120_000 }, 401, 'STALE_TIMESTAMP'],
      [{ body: limit(), timestamp: 1 }, 401, 'STALE_TIMESTAMP'],
      [{ body: limit(), user: 'unknown' }, 401, 'INVALID_API_KEY'],
      [{ body: limit(), signature: (valid) => `${valid.slice(0, -1)}${valid.endsWith('0') ? '1' : '0'}` }, 401, 'INVALID_SIGNATURE'],
      [{ body: limit(), signature: (valid) => valid.toUpperCase() }, 200, ''],
      [{ body: limit(), signature: () => 'zz' }, 401, 'INVALID_SIGNATURE'],
      [{ body: limit(), contentType: 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ body: limit(), contentType: 'application/json; charset=utf-8' }, 200, ''],
      [{ body: limit(), omit: ['Content-Type'] }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ body: '{"symbol":' }, 400, 'MALFORMED_JSON'],
      [{ body: '[1]' }, 400, 'INVALID_BODY'],
      [{ body: '' }, 400, 'MALFORMED_JSON'],
      [{ body: limit({ colour: 'red' }) }, 400, 'UNKNOWN_FIELD'],
      [{ body: limit({ side: 'Up' }) }, 400, 'INVALID_SIDE'],
      [{ body: limit({ price: '50000000.5' }) }, 400, 'TOO_MANY_DECIMALS'],
      [{ body: limit({ price: '50000500' }) }, 400, 'OFF_TICK'],
      [{ body: limit({ price: 1e-7 }) }, 400, 'NOT_A_DECIMAL'],
      [{ body: limit({ symbol: 'DOGE-KRW' }) }, 400, 'UNKNOWN_SYMBOL'],
      [{ body: limit({ quantity: undefined }) }, 400, ''],
      [{ body: limit({ client_order_id: 'bad id!' }) }, 400, 'INVALID_CLIENT_ORDER_ID'],
      [{ body: `${limit().slice(0, -1)},"client_order_id":"é"}` }, 400, 'INVALID_CLIENT_ORDER_ID'],
      // a repeated key is refused whichever value would have won (issue 22: the second "quantity" was placed)
      [{ body: `${limit().slice(0, -1)},"quantity":"500"}` }, 400, 'DUPLICATE_KEY'],
      [{ body: `${limit({ side: 'Buy' }).slice(0, -1)},"\\u0073ide":"Sell"}` }, 400, 'DUPLICATE_KEY'],
      [{ body: `${limit({ client_order_id: 'a:1' }).slice(0, -1)},"price":"1"}` }, 400, 'DUPLICATE_KEY'],
      [{ body: limit({ client_order_id: 'a:b:c' }) }, 200, ''],
      // charset: utf-8 in any case, quoted or not, or none; anything else 415
      // (distinct bodies: the same body signed in the same millisecond would be one request, REPLAYED_SIGNATURE)
      [{ body: limit({ client_order_id: 'cs-1' }), contentType: 'application/json; charset=UTF-8' }, 200, ''],
      [{ body: limit({ client_order_id: 'cs-2' }), contentType: 'application/json;charset="utf-8"' }, 200, ''],
      [{ body: limit({ client_order_id: 'cs-3' }), contentType: 'Application/JSON ; Charset=Utf-8' }, 200, ''],
      [{ body: limit(), contentType: 'application/json; charset=utf-16' }, 415, 'UNSUPPORTED_CHARSET'],
      [{ body: limit(), contentType: 'application/json; charset=latin1' }, 415, 'UNSUPPORTED_CHARSET'],
      [{ body: limit(), contentType: 'application/json; charset=utf-8; charset=latin1' }, 415, 'UNSUPPORTED_CHARSET'],
      [{ body: limit(), contentType: 'application/json; charset=' }, 415, 'UNSUPPORTED_CHARSET'],
      [{ body: limit(), contentType: 'application/jsonx' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [request, status, word] of refusals) {
      const answer = await same(fastSide, appSide, request, true);
      expect(answer.status, word).toBe(status);
      if (word) expect(JSON.parse(answer.body).error).toBe(word);
    }

    // the same signed bytes twice: replayed on both paths
    const timestamp = Date.now();
    for (const target of [fastSide, appSide]) {
      const bytes = orderRequest(target, { body: limit(), timestamp });
      expect((await raw(target.port, bytes)).status).toBe(200);
      const replay = await raw(target.port, bytes);
      expect(replay.status).toBe(401);
      expect(JSON.parse(replay.body).error).toBe('REPLAYED_SIGNATURE');
    }

    // not for the fast path: left to the app, answered alike
    const tooLong = await same(fastSide, appSide, { body: limit(), contentLength: 20_000 }, false);
    expect(tooLong.status).toBe(413);
    expect((await same(fastSide, appSide, { body: limit(), chunked: true }, false)).status).toBe(200);
    expect((await same(fastSide, appSide, { body: limit(), extraHeaders: 'X-API-KEY: second\r\n' }, true)).status).toBe(401);

    // user ids differ between the sides (one database), so compare what both journals hold
    expect((await fastSide.api.state()).last_seq).toBe((await appSide.api.state()).last_seq);
  });

  it('answers rate limits alike, Retry-After included', async () => {
    const fastSide = await side(true, { rateLimits: { ordersPerSecond: 1, requestsPerMinute: 1_000 } });
    const appSide = await side(false, { rateLimits: { ordersPerSecond: 1, requestsPerMinute: 1_000 } });
    await same(fastSide, appSide, { body: limit() }, true);
    const limited = await same(fastSide, appSide, { body: limit() }, true);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
  });
});
