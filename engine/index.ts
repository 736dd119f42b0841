/** The engine's public surface: import from 'engine/index.ts' outside engine/. */
export type * from './types.ts';
export { Engine } from './engine.ts';
export { validatePlaceOrder } from './validation.ts';
export { SNAPSHOT_VERSION } from './snapshot.ts';
export { TICKER_INTERVAL_MS } from './types.ts';
export * from './decimal.ts';
export * from './markets.ts';
export * from './reject-codes.ts';
// perpetual futures: market specs and the rules the API needs on its read side (e.g. the leverage tier bound)
export {
  BTC_KRW_PERP,
  DEFAULT_PERP_MARKETS,
  ETH_KRW_PERP,
  riskTierForNotionalKrw,
  type PerpMarketSpec,
  type RiskTier,
} from './perp/perp-market.ts';
export { maxLeverageForNotional, notionalKrw } from './perp/margin-rules.ts';
export { withFundingIntervalMs } from './perp/market-funding.ts';
