/**
 * The markets a configuration trades, spot and perpetual: the engine keeps its perpetual markets
 * apart (`EngineConfig.perpetualMarkets`, engine/perp/perp-market.ts) and `findMarket` looks at the
 * spot ones; every edge that names a market by its symbol (the API, the envelopes and their
 * schemas, the documents) takes both from here.
 */
import type { EngineConfig, MarketSpec } from '../engine/index.ts';
import type { PerpMarketSpec } from '../engine/perp/index.ts';

/** Spot markets first, then the perpetuals, each in configuration order. */
export function tradedMarkets(config: EngineConfig): readonly MarketSpec[] {
  const perpetual = config.perpetualMarkets ?? [];
  return perpetual.length === 0 ? config.markets : [...config.markets, ...perpetual];
}

export function perpetualMarkets(config: EngineConfig): readonly PerpMarketSpec[] {
  return config.perpetualMarkets ?? [];
}

/** The spot or perpetual market named `symbol`. */
export function findTradedMarket(config: EngineConfig, symbol: string): MarketSpec | undefined {
  return config.markets.find((market) => market.symbol === symbol) ?? config.perpetualMarkets?.find((market) => market.symbol === symbol);
}

export function isPerpetual(market: MarketSpec): market is PerpMarketSpec {
  return market.type === 'perpetual';
}
