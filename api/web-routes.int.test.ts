/** GET /, /web/app.js, /web/app.css, /web/config.json: the page's files with a strict CSP, gzip, ETag; 503 saying how to build when missing. */
import pg from 'pg';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebAsset } from './context.ts';
import { pageCsp } from './routes-web.ts';
import { startTestApi, testPool, type TestApi } from './test-support.ts';

let pool: pg.Pool;
let built: TestApi;
let unbuilt: TestApi;
const asset = (text: string, contentType: string): WebAsset => ({
  body: Buffer.from(text),
  gzip: gzipSync(text),
  contentType,
  etag: `"${text.length}"`,
});
const wsUrls = ['ws://127.0.0.1:7001/ws', 'ws://127.0.0.1:7002/ws'];

beforeAll(async () => {
  pool = await testPool();
  const assets = new Map([
    ['index.html', asset('<!doctype html><script type="module" src="/web/app.js"></script>', 'text/html; charset=utf-8')],
    ['app.js', asset('console.log(1)', 'text/javascript; charset=utf-8')],
    ['app.css', asset('body{}', 'text/css; charset=utf-8')],
  ]);
  built = await startTestApi(pool, { web: { assets, wsUrls } });
  unbuilt = await startTestApi(pool, { web: { assets: new Map(), wsUrls } });
});

afterAll(async () => {
  await built?.close();
  await unbuilt?.close();
  await pool?.end();
});

describe('the trading page routes', () => {
  it('serves index.html at / with a CSP allowing only this origin and the WebSocket servers', async () => {
    const response = await built.app.request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws://127.0.0.1:7001 ws://127.0.0.1:7002; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('/web/app.js');
  });

  it('serves the bundle gzip-encoded when asked, answers 304 to a matching ETag, and 404 for another file', async () => {
    const gzip = await built.app.request('/web/app.js', { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(gzip.headers.get('content-type')).toMatch(/^text\/javascript/);
    const plain = await built.app.request('/web/app.css');
    expect(await plain.text()).toBe('body{}');
    const etag = plain.headers.get('etag')!;
    expect((await built.app.request('/web/app.css', { headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await built.app.request('/web/other.js')).status).toBe(404);
    expect((await built.app.request('/web/../admin/state')).status).not.toBe(200);
  });

  it('tells the page its WebSocket URLs at /web/config.json', async () => {
    expect(await (await built.app.request('/web/config.json')).json()).toEqual({ ws_urls: wsUrls });
  });

  it('answers 503 with how to build it when the bundle is missing', async () => {
    const response = await unbuilt.app.request('/');
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/npm run web:build/);
  });

  it('builds connect-src from wss URLs too, each origin once', () => {
    expect(pageCsp(['wss://x.example/ws', 'wss://x.example/other'])).toContain("connect-src 'self' wss://x.example;");
  });
});
