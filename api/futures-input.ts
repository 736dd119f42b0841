/**
 * The request bodies of the futures routes (ARCHITECTURE.md "Perpetual futures") as zod schemas —
 * also the OpenAPI request schemas (api/openapi-futures-paths.ts generates them from these) — and
 * their conversion to engine commands in engine units. Everything refused here is answered 400
 * without being journaled: no state change.
 */
import { z } from 'zod';
import {
  amountToMinor,
  findAsset,
  isDecimalError,
  priceToTicks,
  type AdjustIsolatedMarginCommand,
  type EngineConfig,
  type FuturesTransferCommand,
  type IndexPriceInput,
  type RejectReason,
  type SetLeverageCommand,
  type SetMarginTypeCommand,
  type SetPositionModeCommand,
} from '../engine/index.ts';
import type { PerpMarketSpec } from '../engine/perp/index.ts';
import { findTradedMarket, isPerpetual, perpetualMarkets } from '../contract/markets.ts';
import { ApiError, type ErrorWord } from './errors.ts';
import { decimalText } from './order-input.ts';

const decimalInput = z
  .union([z.string(), z.number()])
  .describe('decimal as a string (a JSON number is read by its exact characters; no sign, no exponent)');
const perpSymbol = z.string().max(32).describe('a perpetual market of GET /v1/markets (type "perpetual")');

/** POST /v1/futures/transfer */
export const futuresTransferBody = z.strictObject({
  asset: z.string().max(16).describe("a perpetual market's settlement asset (KRW)"),
  amount: decimalInput.describe("in the asset's units, > 0"),
  direction: z.enum(['spot_to_futures', 'futures_to_spot']).describe('futures_to_spot: at most the available futures balance'),
});

/** POST /v1/futures/position-mode */
export const positionModeBody = z.strictObject({
  hedge: z
    .boolean()
    .describe(
      'true: hedge mode (a LONG and a SHORT position per market); false: one-way (BOTH). Only with no position and no open order in any perpetual',
    ),
});

/** POST /v1/futures/leverage */
export const leverageBody = z.strictObject({
  symbol: perpSymbol,
  leverage: z
    .number()
    .int()
    .min(1)
    .describe("a JSON integer from 1 to the risk tier's max leverage for the position's current notional at the mark price"),
});

/** POST /v1/futures/margin-type */
export const marginTypeBody = z.strictObject({
  symbol: perpSymbol,
  margin_type: z.enum(['CROSS', 'ISOLATED']).describe('only with no position and no open order in this market'),
});

/** POST /v1/futures/isolated-margin */
export const isolatedMarginBody = z.strictObject({
  symbol: perpSymbol,
  position_side: z.enum(['BOTH', 'LONG', 'SHORT']).describe('BOTH in one-way mode, LONG or SHORT in hedge mode'),
  amount: decimalInput.describe('KRW, > 0'),
  action: z.enum(['add', 'remove']).describe('remove: only while the position keeps at least its initial margin at the mark price'),
});

/** Sources per POST /admin/index-prices (the oracle feed sends a handful per market). */
export const MAX_INDEX_PRICES = 100;
const INDEX_SOURCE = /^[A-Za-z0-9_.:-]{1,32}$/;
/** The built-in source of part 2 (the same-named spot market): fed by the core, never by the admin. */
export const SPOT_INDEX_SOURCE = 'spot';

/** POST /admin/index-prices */
export const indexPricesBody = z.strictObject({
  prices: z
    .array(
      z.strictObject({
        symbol: perpSymbol,
        source: z
          .string()
          .regex(INDEX_SOURCE)
          .describe(`oracle source name (letters, digits, _ . : -); '${SPOT_INDEX_SOURCE}' is reserved for the built-in source`),
        price: decimalInput.describe("the source's price in KRW, a multiple of the market's tick_size"),
      }),
    )
    .min(1)
    .max(MAX_INDEX_PRICES),
});

/** The stable word for a bad value in each futures field (the order fields keep theirs in order-input.ts). */
export const FUTURES_FIELD_WORDS: Readonly<Record<string, ErrorWord>> = {
  amount: 'NOT_A_DECIMAL',
  direction: 'INVALID_TRANSFER_DIRECTION',
  leverage: 'INVALID_LEVERAGE',
  margin_type: 'INVALID_MARGIN_TYPE',
  position_side: 'INVALID_POSITION_SIDE',
  action: 'INVALID_MARGIN_ACTION',
  prices: 'INVALID_INDEX_PRICES',
};

function fail(word: ErrorWord, message?: string): never {
  throw new ApiError(word, message);
}

/** The perpetual market named `symbol`: UNKNOWN_SYMBOL when none, NOT_A_PERPETUAL for a spot market. */
export function perpMarketOf(config: EngineConfig, symbol: string): PerpMarketSpec {
  const market = findTradedMarket(config, symbol) ?? fail('UNKNOWN_SYMBOL', `no market '${symbol}'`);
  if (!isPerpetual(market)) fail('NOT_A_PERPETUAL', `${symbol} is a spot market`);
  return market;
}

/** A positive amount of `assetCode` in minor units. */
export function positiveMinor(config: EngineConfig, assetCode: string, value: string | number, field: string): number {
  const asset = findAsset(config, assetCode) ?? fail('UNKNOWN_ASSET', `no asset '${assetCode}'`);
  const minor = amountToMinor(asset, decimalText(value, field));
  if (isDecimalError(minor)) fail(minor.code as RejectReason, `${field}: ${minor.message}`);
  if (minor <= 0) fail('INVALID_AMOUNT', `${field} must be greater than zero`);
  return minor;
}

type Input<C> = Omit<C, 'timestamp'>;

export function toFuturesTransfer(
  body: z.infer<typeof futuresTransferBody>,
  userId: number,
  config: EngineConfig,
): Input<FuturesTransferCommand> {
  const settles = perpetualMarkets(config).some((market) => market.settlementAsset === body.asset);
  if (!settles) {
    if (!findAsset(config, body.asset)) fail('UNKNOWN_ASSET', `no asset '${body.asset}'`);
    fail('NOT_A_SETTLEMENT_ASSET', `no perpetual market settles in ${body.asset}`);
  }
  return {
    type: 'FuturesTransfer',
    userId,
    asset: body.asset,
    amount: positiveMinor(config, body.asset, body.amount, 'amount'),
    direction: body.direction === 'spot_to_futures' ? 'SpotToFutures' : 'FuturesToSpot',
  };
}

export function toSetPositionMode(body: z.infer<typeof positionModeBody>, userId: number): Input<SetPositionModeCommand> {
  return { type: 'SetPositionMode', userId, hedge: body.hedge };
}

export function toSetLeverage(body: z.infer<typeof leverageBody>, userId: number, config: EngineConfig): Input<SetLeverageCommand> {
  const market = perpMarketOf(config, body.symbol);
  return { type: 'SetLeverage', userId, symbol: market.symbol, leverage: body.leverage };
}

export function toSetMarginType(body: z.infer<typeof marginTypeBody>, userId: number, config: EngineConfig): Input<SetMarginTypeCommand> {
  const market = perpMarketOf(config, body.symbol);
  return { type: 'SetMarginType', userId, symbol: market.symbol, marginType: body.margin_type };
}

export function toAdjustIsolatedMargin(
  body: z.infer<typeof isolatedMarginBody>,
  userId: number,
  config: EngineConfig,
): Input<AdjustIsolatedMarginCommand> {
  const market = perpMarketOf(config, body.symbol);
  return {
    type: 'AdjustIsolatedMargin',
    userId,
    symbol: market.symbol,
    positionSide: body.position_side,
    amount: positiveMinor(config, market.settlementAsset, body.amount, 'amount'),
    action: body.action === 'add' ? 'Add' : 'Remove',
  };
}

/** The admin oracle feed in ticks; one price per (symbol, source), the reserved `spot` source refused. */
export function toIndexPrices(body: z.infer<typeof indexPricesBody>, config: EngineConfig): IndexPriceInput[] {
  const seen = new Set<string>();
  return body.prices.map((entry, index) => {
    const field = `prices[${index}].price`;
    const market = perpMarketOf(config, entry.symbol);
    if (entry.source === SPOT_INDEX_SOURCE)
      fail('INVALID_INDEX_PRICES', `prices[${index}].source: '${SPOT_INDEX_SOURCE}' is the built-in source, not fed by the admin`);
    const key = `${market.symbol}\u0000${entry.source}`;
    if (seen.has(key)) fail('INVALID_INDEX_PRICES', `prices[${index}]: ${market.symbol} from '${entry.source}' given twice`);
    seen.add(key);
    const ticks = priceToTicks(market, decimalText(entry.price, field));
    if (isDecimalError(ticks)) fail(ticks.code as RejectReason, `${field}: ${ticks.message}`);
    if (ticks < market.minPrice || ticks > market.maxPrice) fail('INVALID_PRICE', `${field}: outside the market's min_price … max_price`);
    return { symbol: market.symbol, source: entry.source, price: ticks };
  });
}
