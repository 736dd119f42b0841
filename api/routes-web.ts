import type { Context, Hono } from 'hono';
import type { ApiDeps, AppEnv, WebPage } from './context.ts';
import { ApiError } from './errors.ts';

/**
 * The trading page's Content-Security-Policy: scripts, styles and fonts from this origin only (no
 * inline script or style: the bundle builds the DOM with textContent), connections to this origin
 * (REST) and to the configured WebSocket servers, nothing framed, no form posts, no plugins.
 */
export function pageCsp(wsUrls: readonly string[]): string {
  const origins = [...new Set(wsUrls.map((url) => new URL(url).origin.replace(/^http/, 'ws')))];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${origins.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * GET / (index.html), GET /web/{app.js, app.css} (the bundle ops/web-build.ts writes to web/dist,
 * read into memory by the core at start, gzip'ed once) and GET /web/config.json (the WebSocket
 * URLs: the page has no inline script to carry them). Served by the core, on the API's origin, so
 * signed REST calls are same-origin (no CORS); the WebSocket servers are cross-origin, which
 * WebSockets allow and the CSP's connect-src names.
 */
export function webRoutes(app: Hono<AppEnv>, deps: ApiDeps): void {
  const page = deps.web;
  if (!page) return;
  const csp = pageCsp(page.wsUrls);
  const config = JSON.stringify({ ws_urls: page.wsUrls });

  const serve = (c: Context<AppEnv>, name: string) => {
    const asset = page.assets.get(name);
    if (!asset) {
      if (name === 'index.html') {
        return c.text(
          'The trading page is not built: run `npm run web:build` (npm start and npm test build it), then restart the core.\n',
          503,
          {
            'Content-Security-Policy': csp,
            ...SECURITY_HEADERS,
          },
        );
      }
      throw new ApiError('NOT_FOUND', `no page file ${name}`);
    }
    const gzip = asset.gzip !== undefined && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    const body = gzip ? asset.gzip! : asset.body;
    return c.body(new Uint8Array(body), 200, {
      'Content-Type': asset.contentType,
      // the names never change between builds: revalidate every time (the ETag makes that cheap)
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      'Content-Security-Policy': csp,
      ...SECURITY_HEADERS,
    });
  };
  const cached = (c: Context<AppEnv>, name: string) => {
    const asset = page.assets.get(name);
    if (asset && c.req.header('if-none-match') === asset.etag) return c.body(null, 304, { ETag: asset.etag, 'Cache-Control': 'no-cache' });
    return serve(c, name);
  };

  app.get('/', (c) => cached(c, 'index.html'));
  app.get('/web/config.json', (c) =>
    c.body(config, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...SECURITY_HEADERS }),
  );
  app.get('/web/:file{app\\.(js|css)}', (c) => cached(c, c.req.param('file')));
}

export type { WebPage };
