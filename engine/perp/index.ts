/** Perpetual futures rules: pure functions over integers (README.md in this folder). */
export * from './perp-market.ts';
export * from './margin-rules.ts';
export * from './position-rules.ts';
export * from './liquidation-prices.ts';
export * from './funding-rules.ts';
export * from './index-price.ts';
