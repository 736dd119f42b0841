/**
 * The trading page as the core serves it: web/dist read into memory once at start (gzip'ed once),
 * and the WebSocket URLs the page is told about. WEB_WS_URLS overrides them; by default they are
 * the two ws-servers of `npm start` on the API's host (127.0.0.1 when the API listens on all addresses).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { WebAsset, WebPage } from '../api/context.ts';
import type { Config } from './config.ts';
import { WEB_DIST } from './web-build.ts';

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export function webSocketUrls(config: Config): string[] {
  if (config.WEB_WS_URLS)
    return config.WEB_WS_URLS.split(',')
      .map((url) => url.trim())
      .filter((url) => url !== '');
  const host = ['0.0.0.0', '::', '[::]'].includes(config.API_HOST) ? '127.0.0.1' : config.API_HOST;
  return [config.WS_PORT, config.WS_PORT_2].map((port) => `ws://${host}:${port}/ws`);
}

/** The page's files as found in `dir` now; a missing file is left out (the core then answers `/` with 503 and how to build). */
export async function loadWebPage(config: Config, dir = WEB_DIST): Promise<WebPage> {
  const assets = new Map<string, WebAsset>();
  for (const [name, contentType] of Object.entries(TYPES)) {
    const body = await readFile(path.join(dir, name)).catch(() => undefined);
    if (!body) continue;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, gzip: gzipSync(body, { level: 9 }), contentType, etag });
  }
  return { assets, wsUrls: webSocketUrls(config) };
}
