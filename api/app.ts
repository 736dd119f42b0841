import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { adminOnly, SignedRequestVerifier, signedRequests } from './auth.ts';
import { limitBody } from './body.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError, apiErrorOfKind } from './errors.ts';
import { docsPage } from './docs-page.ts';
import { buildAsyncApi } from './asyncapi.ts';
import { buildOpenApi } from './openapi.ts';
import { adminRoutes } from './routes-admin.ts';
import { futuresRoutes } from './routes-futures.ts';
import { futuresHistoryRoutes } from './routes-futures-history.ts';
import { isPublicFuturesPath, premiumIndexRoutes } from './routes-premium-index.ts';
import { marketRoutes } from './routes-market.ts';
import { historyRoutes } from './routes-history.ts';
import { candleRoutes } from './routes-candles.ts';
import { webRoutes } from './routes-web.ts';
import { createOrderFastPath, type OrderFastPath } from './order-fast-path.ts';
import { orderPlacer, orderRoutes } from './routes-orders.ts';
import { Views } from './views.ts';

/** Maps anything thrown in a handler to `{error, message}`; only a real bug becomes a 500. */
function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException && error.status === 413) return new ApiError('BODY_TOO_LARGE');
  return apiErrorOfKind(error);
}

/** What the error handler answers for `error`: status, extra headers, `{error, message}` body. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: string; readonly message: string };
}

/** The one mapping of thrown errors to answers (Hono's onError and the fast path), metrics and logging included. */
export function errorAnswer(deps: ApiDeps, error: unknown, method: string, path: string): ErrorAnswer {
  const apiError = toApiError(error);
  if (apiError) {
    deps.metrics.errors.inc({ status: String(apiError.status), error: apiError.word });
    return { status: apiError.status, headers: apiError.headers, body: apiError.body() };
  }
  deps.logger?.error({ err: error, method, path }, 'unhandled error in request');
  deps.metrics.errors.inc({ status: '500', error: 'INTERNAL' });
  return { status: 500, headers: {}, body: new ApiError('INTERNAL').body() };
}

/** What createApi builds: the app, and the fast path that shares its verifier and order placer. */
export interface Api {
  /** the HTTP API as a Hono app that never listens: ops/core.ts serves it with @hono/node-server, tests call `app.request()` */
  readonly app: Hono<AppEnv>;
  /**
   * POST /v1/order as a node:http handler for the server to try before the app: it answers the
   * common case (Content-Length body, plain header values) exactly as the app would, without the
   * Hono and adapter layers, and returns false, touching nothing, for anything else. It must serve
   * beside this very app: the two share the replay cache of signatures and the in-flight
   * client_order_ids.
   */
  readonly orderFastPath: OrderFastPath;
}

/** The HTTP API. Routes and shapes: ARCHITECTURE.md § HTTP API and /openapi.json. */
export function createApi(deps: ApiDeps): Api {
  const app = new Hono<AppEnv>();
  const views = new Views(deps.engineConfig);
  const now = deps.now ?? Date.now;

  app.onError((error, c) => {
    const answer = errorAnswer(deps, error, c.req.method, c.req.path);
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    return c.json(answer.body, answer.status as 400);
  });
  app.notFound((c) => {
    deps.metrics.errors.inc({ status: '404', error: 'NOT_FOUND' });
    return c.json(new ApiError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`).body(), 404);
  });

  app.use('*', limitBody);

  // Signed, per-user routes.
  const verifier = new SignedRequestVerifier(deps);
  const placeOrder = orderPlacer(deps);
  const orderFastPath = createOrderFastPath(verifier, placeOrder, (error, method, path) => errorAnswer(deps, error, method, path));
  const signed = signedRequests(verifier);
  app.use('/v1/order', signed);
  app.use('/v1/order/*', signed);
  app.use('/v1/orders', signed);
  app.use('/v1/orders/history', signed);
  app.use('/v1/fills', signed);
  app.use('/v1/balances', signed);
  // every futures route is the user's, except the public market figures (premium index, insurance fund)
  app.use('/v1/futures/*', (c, next) =>
    isPublicFuturesPath(c.req.path) || c.req.path === '/v1/futures/insurance-fund' ? next() : signed(c, next),
  );
  orderRoutes(app, deps, views, placeOrder);
  marketRoutes(app, deps, views);
  historyRoutes(app, deps, views);
  candleRoutes(app, deps, views);
  premiumIndexRoutes(app, deps);

  app.use('/admin/*', adminOnly(deps.adminToken));
  adminRoutes(app, deps, views);
  // after adminOnly: POST /admin/index-prices is the admin's
  futuresRoutes(app, deps);
  futuresHistoryRoutes(app, deps);

  let probed: { at: number; services: Promise<Record<string, string>> } | undefined;
  const services = (): Promise<Record<string, string>> => {
    // Probes open connections; cache one round for a second so a busy poller cannot multiply them.
    if (!deps.probeServices) return Promise.resolve({});
    const clock = now();
    if (!probed || clock - probed.at > 1000) probed = { at: clock, services: deps.probeServices() };
    return probed.services;
  };

  app.get('/health', async (c) => {
    const states = await services();
    const degraded = Object.values(states).some((state) => state !== 'up');
    return c.json({ status: degraded ? 'degraded' : 'ok', services: states });
  });

  app.get('/ready', async (c) => {
    // probed first: a probe of a hung broker takes ~1 s, and the status must describe the same
    // moment as the publishers listed with it (read after the probe, they could say `retrying`
    // under a status `ready` read before it)
    const probed = await services();
    const ready = deps.sequencer.ready && (deps.ready?.() ?? true);
    const body = {
      // degraded: orders are taken, but some broker's feed is behind or down
      status: ready ? (deps.degraded?.() ? 'degraded' : 'ready') : 'recovering',
      last_seq: ready ? deps.sequencer.lastSeq : null,
      queue: { pending: deps.sequencer.pending, max: deps.sequencer.maxPending },
      recovery: deps.recoveryInfo?.() ?? null,
      services: probed,
      publishers: deps.publishers?.() ?? {},
      ...(deps.eventLog ? { event_log: deps.eventLog() } : {}),
      ...(deps.persister ? { persister: deps.persister() } : {}),
    };
    return c.json(body, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': deps.metrics.registry.contentType });
  });

  const openApi = buildOpenApi(deps.engineConfig);
  app.get('/openapi.json', (c) => c.json(openApi));
  const asyncApi = buildAsyncApi(deps.engineConfig);
  app.get('/asyncapi.json', (c) => c.json(asyncApi));
  app.get('/docs', (c: Context) => c.html(docsPage()));
  webRoutes(app, deps);
  return { app, orderFastPath };
}
