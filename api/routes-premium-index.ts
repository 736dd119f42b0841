/**
 * GET /v1/futures/premium-index/{symbol} (ARCHITECTURE.md "Index and mark price"): a perpetual's
 * mark and index price, its sources, and the funding figures. Public market data, as Binance's
 * premiumIndex is: the one read under /v1/futures that needs no signature (app.ts lets
 * `isPublicFuturesPath` through the signed middleware). Prices are decimal strings, rates eight
 * decimals ("0.00010000"), times integer ms.
 */
import type { Hono } from 'hono';
import type { MarkPriceView, PerpMarketSpec } from '../engine/index.ts';
import { ticksToPrice } from '../engine/index.ts';
import { rate1e8Text } from '../contract/decimal-text.ts';
import type { ApiDeps, AppEnv } from './context.ts';
import { ApiError } from './errors.ts';
import { perpMarketOf } from './futures-input.ts';

const PREFIX = '/v1/futures/premium-index/';

export function isPublicFuturesPath(path: string): boolean {
  return path.startsWith(PREFIX);
}

export function premiumIndexRoutes(app: Hono<AppEnv>, deps: ApiDeps): void {
  app.get(`${PREFIX}:symbol`, (c) => {
    if (deps.ready && !deps.ready()) throw new ApiError('NOT_READY');
    const market = perpMarketOf(deps.engineConfig, c.req.param('symbol'));
    return c.json(premiumIndexView(market, deps.sequencer.queries.markPrice(market.symbol)!));
  });
}

export function premiumIndexView(market: PerpMarketSpec, view: MarkPriceView): Record<string, unknown> {
  const price = (ticks: number | undefined) => (ticks === undefined ? null : ticksToPrice(market, ticks));
  const rate = (rate1e8: bigint | undefined) => (rate1e8 === undefined ? null : rate1e8Text(rate1e8));
  return {
    symbol: market.symbol,
    mark_price: price(view.markPrice),
    index_price: price(view.indexPrice),
    index_stale: view.indexStale ?? true,
    sources: view.sources.map((source) => ({
      source: source.source,
      price: ticksToPrice(market, source.price),
      timestamp: source.timestamp,
    })),
    last_funding_rate: rate(view.lastFundingRate1e8),
    estimated_funding_rate: rate(view.estimatedFundingRate1e8),
    next_funding_time: view.nextFundingTime ?? null,
    interest_rate: rate(view.interestRate1e8),
  };
}
