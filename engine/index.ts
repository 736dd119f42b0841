/** The engine's public surface: import from 'engine/index.ts' outside engine/. */
export type * from './types.ts';
export * from './decimal.ts';
export * from './markets.ts';
export * from './reject-codes.ts';
