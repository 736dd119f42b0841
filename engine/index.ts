/** The engine's public surface: import from 'engine/index.ts' outside engine/. */
export type * from './types.ts';
export { Engine } from './engine.ts';
export { validatePlaceOrder } from './validation.ts';
export { SNAPSHOT_VERSION } from './snapshot.ts';
export { TICKER_INTERVAL_MS } from './types.ts';
export * from './decimal.ts';
export * from './markets.ts';
export * from './reject-codes.ts';
