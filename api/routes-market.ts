import type { Hono } from 'hono';
import type { MarketSpec } from '../engine/index.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { recentTrades } from './history-reads.ts';
import type { Views } from './views.ts';

/** A small positive integer query parameter within [1, max], or the default when absent. */
export function intQuery(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ApiError('INVALID_QUERY', `${name} must be an integer from 1 to ${max}`);
  }
  return Number(value);
}

/** Public market data: no signature needed. */
export function marketRoutes(app: Hono<AppEnv>, deps: ApiDeps, views: Views): void {
  const { sequencer } = deps;
  const now = deps.now ?? Date.now;
  const marketOf = (symbol: string): MarketSpec =>
    views.market(symbol) ??
    (() => {
      throw new ApiError('UNKNOWN_SYMBOL', `no market '${symbol}'`);
    })();

  app.get('/v1/markets', (c) => c.json({ markets: views.markets() }));

  app.get('/v1/orderbook/:symbol', (c) => {
    const market = marketOf(c.req.param('symbol'));
    const depth = intQuery(c.req.query('depth'), 'depth', 20, 500);
    return c.json(views.depth(sequencer.queries.depth(market.symbol, depth)));
  });

  app.get('/v1/trades/:symbol', async (c) => {
    const market = marketOf(c.req.param('symbol'));
    const limit = intQuery(c.req.query('limit'), 'limit', 100, 1000);
    // the in-memory ring, topped up from PostgreSQL when it holds fewer than `limit` (after a restart)
    return c.json({ symbol: market.symbol, trades: await recentTrades(deps, views, market, limit) });
  });

  app.get('/v1/ticker/:symbol', (c) => {
    const market = marketOf(c.req.param('symbol'));
    const clock = now();
    const queries = sequencer.queries;
    // All engine state, so it survives restarts whole: the 24 h figures from the engine's minute
    // buckets (the window ending now), the last price (stops trigger on it) and the best bid / ask.
    const figures = queries.ticker(market.symbol, clock) ?? { symbol: market.symbol, volume24h: 0, quoteVolume24h: 0 };
    return c.json(views.ticker(market, figures, queries.bestBidAsk(market.symbol), clock));
  });
}
