/**
 * Markets and assets: the default configuration (the repo's market config file) and the exact
 * conversions between the decimal strings users send and the engine's integer units.
 *
 * Units chosen for the defaults (KRW has no minor unit, so it has 0 decimals):
 *   BTC-KRW  tick 1,000 KRW, lot 0.001 BTC  → one tick × one lot = 1 KRW  (quotePerTickLot 1)
 *   ETH-KRW  tick 1,000 KRW, lot 0.001 ETH  → 1 KRW                       (quotePerTickLot 1)
 * A lot of 0.0001 BTC with a 1,000 KRW tick would make one tick × lot worth 0.1 KRW, which is not
 * an integer number of KRW minor units; buildEngineConfig refuses such a pair.
 */
import { type DecimalError, decimalError, formatUnits, fractionDigits, isDecimalError, parseUnits } from './decimal.ts';
import { DEFAULT_PERP_MARKETS, type PerpMarketSpec, perpMarketSpecProblems } from './perp/perp-market.ts';
import type { AssetSpec, EngineConfig, MarketSpec } from './types.ts';

export interface RawAssetConfig {
  readonly code: string;
  readonly decimals: number;
}

/** A market as written by people: decimal strings in base/quote units, fees in ppm. */
export interface RawMarketConfig {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly tickSize: string; // quote units per base unit
  readonly lotSize: string; // base units
  readonly minQuantity: string; // base units, multiple of lotSize
  readonly maxQuantity: string;
  readonly minPrice: string; // quote units, multiple of tickSize
  readonly maxPrice: string;
  readonly minNotional: string; // quote units
  readonly makerFeePpm: number;
  readonly takerFeePpm: number;
}

export interface RawEngineConfig {
  readonly assets: readonly RawAssetConfig[];
  readonly markets: readonly RawMarketConfig[];
  readonly feeAccountId: number;
  readonly recentFinishedLimit: number;
  /** default 1,000 */
  readonly maxOpenOrdersPerUserMarket?: number;
  /** perpetual futures markets, already in integer units (engine/perp/perp-market.ts); default none */
  readonly perpetualMarkets?: readonly PerpMarketSpec[];
}

/** The default markets. User ids start at 1; account 0 collects the fees. */
export const DEFAULT_RAW_CONFIG: RawEngineConfig = {
  assets: [
    { code: 'BTC', decimals: 8 },
    { code: 'ETH', decimals: 8 },
    { code: 'KRW', decimals: 0 },
  ],
  markets: [
    {
      symbol: 'BTC-KRW',
      base: 'BTC',
      quote: 'KRW',
      tickSize: '1000',
      lotSize: '0.001',
      minQuantity: '0.001',
      maxQuantity: '1000',
      minPrice: '1000',
      maxPrice: '1000000000000',
      minNotional: '5000',
      makerFeePpm: 1000,
      takerFeePpm: 2000,
    },
    {
      symbol: 'ETH-KRW',
      base: 'ETH',
      quote: 'KRW',
      tickSize: '1000',
      lotSize: '0.001',
      minQuantity: '0.001',
      maxQuantity: '10000',
      minPrice: '1000',
      maxPrice: '100000000000',
      minNotional: '5000',
      makerFeePpm: 1000,
      takerFeePpm: 2000,
    },
  ],
  feeAccountId: 0,
  recentFinishedLimit: 100_000,
  maxOpenOrdersPerUserMarket: 1_000,
};

export class MarketConfigError extends Error {
  override name = 'MarketConfigError';
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const PPM = 1_000_000n;

function fail(where: string, message: string): never {
  throw new MarketConfigError(`${where}: ${message}`);
}

/** Parses a decimal string as a bigint scaled by 10^scale, refusing anything inexact. */
function scaled(where: string, field: string, text: unknown, scale: number): bigint {
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text))
    fail(where, `${field} must be a plain decimal string, got ${JSON.stringify(text)}`);
  const [whole = '', fraction = ''] = text.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > scale) fail(where, `${field} '${text}' has more than ${scale} decimals`);
  return BigInt(whole + trimmed.padEnd(scale, '0'));
}

function exactQuotient(where: string, field: string, numerator: bigint, denominator: bigint): bigint {
  if (numerator % denominator !== 0n) fail(where, `${field} is not a whole multiple`);
  return numerator / denominator;
}

function safeNumber(where: string, field: string, value: bigint, min: bigint): number {
  if (value < min) fail(where, `${field} must be ≥ ${min}, got ${value}`);
  if (value > MAX_SAFE) fail(where, `${field} exceeds 2^53 − 1`);
  return Number(value);
}

/**
 * Validates a raw config and derives the integer market specs. Throws MarketConfigError naming
 * the market and field on anything that would make the engine's arithmetic inexact or unsafe.
 */
export function buildEngineConfig(raw: RawEngineConfig): EngineConfig {
  const assets = new Map<string, AssetSpec>();
  for (const asset of raw.assets) {
    const where = `asset ${JSON.stringify(asset.code)}`;
    if (typeof asset.code !== 'string' || !/^[A-Z0-9]{1,16}$/.test(asset.code))
      fail(where, 'code must be 1–16 upper-case letters or digits');
    if (!Number.isInteger(asset.decimals) || asset.decimals < 0 || asset.decimals > 18) fail(where, 'decimals must be an integer in 0..18');
    if (assets.has(asset.code)) fail(where, 'listed twice');
    assets.set(asset.code, { code: asset.code, decimals: asset.decimals });
  }
  const markets: MarketSpec[] = [];
  const symbols = new Set<string>();
  for (const market of raw.markets) {
    const where = `market ${JSON.stringify(market.symbol)}`;
    if (typeof market.symbol !== 'string' || !/^[A-Z0-9]{1,16}-[A-Z0-9]{1,16}$/.test(market.symbol))
      fail(where, "symbol must look like 'BASE-QUOTE'");
    if (symbols.has(market.symbol)) fail(where, 'listed twice');
    symbols.add(market.symbol);
    const base = assets.get(market.base) ?? fail(where, `unknown base asset ${JSON.stringify(market.base)}`);
    const quote = assets.get(market.quote) ?? fail(where, `unknown quote asset ${JSON.stringify(market.quote)}`);
    if (base === quote) fail(where, 'base and quote must differ');

    const tickScale = fractionDigits(market.tickSize);
    const lotScale = fractionDigits(market.lotSize);
    const tick = scaled(where, 'tickSize', market.tickSize, tickScale); // tickSize × 10^tickScale
    const lot = scaled(where, 'lotSize', market.lotSize, lotScale); // lotSize × 10^lotScale
    if (tick <= 0n) fail(where, 'tickSize must be > 0');
    if (lot <= 0n) fail(where, 'lotSize must be > 0');
    // One tick × one lot in quote minor units = tickSize × lotSize × 10^quoteDecimals.
    const quotePerTickLot = exactQuotient(
      where,
      `tickSize × lotSize (${market.tickSize} × ${market.lotSize} ${quote.code}) in ${quote.code} minor units`,
      tick * lot * 10n ** BigInt(quote.decimals),
      10n ** BigInt(tickScale + lotScale),
    );
    const baseMinorPerLot = exactQuotient(
      where,
      `lotSize in ${base.code} minor units`,
      lot * 10n ** BigInt(base.decimals),
      10n ** BigInt(lotScale),
    );
    const inTicks = (field: string, text: string): bigint =>
      exactQuotient(where, `${field} in ticks`, scaled(where, field, text, tickScale), tick);
    const inLots = (field: string, text: string): bigint =>
      exactQuotient(where, `${field} in lots`, scaled(where, field, text, lotScale), lot);
    const minPrice = inTicks('minPrice', market.minPrice);
    const maxPrice = inTicks('maxPrice', market.maxPrice);
    const minQuantity = inLots('minQuantity', market.minQuantity);
    const maxQuantity = inLots('maxQuantity', market.maxQuantity);
    const minNotional = scaled(where, 'minNotional', market.minNotional, quote.decimals);
    if (maxPrice < minPrice) fail(where, 'maxPrice < minPrice');
    if (maxQuantity < minQuantity) fail(where, 'maxQuantity < minQuantity');
    for (const [field, ppm] of [
      ['makerFeePpm', market.makerFeePpm],
      ['takerFeePpm', market.takerFeePpm],
    ] as const) {
      if (!Number.isInteger(ppm) || ppm < 0 || ppm > 1_000_000) fail(where, `${field} must be an integer in 0..1000000`);
    }
    // The engine's integer bound: the largest order's notional plus its largest fee is a safe
    // integer, so every product the engine forms for this market is exact (engine/README.md).
    const maxNotional = maxPrice * maxQuantity * quotePerTickLot;
    const maxFeePpm = BigInt(Math.max(market.makerFeePpm, market.takerFeePpm));
    const maxFee = (maxNotional * maxFeePpm + PPM - 1n) / PPM;
    if (maxNotional + maxFee > MAX_SAFE)
      fail(where, `maxPrice × maxQuantity × quotePerTickLot (+ fee) = ${maxNotional + maxFee} exceeds 2^53 − 1`);
    if (maxQuantity * baseMinorPerLot > MAX_SAFE) fail(where, 'maxQuantity in base minor units exceeds 2^53 − 1');
    if (maxPrice * tick > MAX_SAFE || maxQuantity * lot > MAX_SAFE) fail(where, 'bounds too large to format exactly');
    markets.push({
      symbol: market.symbol,
      base: base.code,
      quote: quote.code,
      tickSize: market.tickSize,
      lotSize: market.lotSize,
      quotePerTickLot: safeNumber(where, 'quotePerTickLot', quotePerTickLot, 1n),
      baseMinorPerLot: safeNumber(where, 'baseMinorPerLot', baseMinorPerLot, 1n),
      baseDecimals: base.decimals,
      quoteDecimals: quote.decimals,
      minQuantity: safeNumber(where, 'minQuantity', minQuantity, 1n),
      maxQuantity: safeNumber(where, 'maxQuantity', maxQuantity, 1n),
      minPrice: safeNumber(where, 'minPrice', minPrice, 1n),
      maxPrice: safeNumber(where, 'maxPrice', maxPrice, 1n),
      minNotional: safeNumber(where, 'minNotional', minNotional, 0n),
      makerFeePpm: market.makerFeePpm,
      takerFeePpm: market.takerFeePpm,
    });
  }
  if (!Number.isSafeInteger(raw.feeAccountId) || raw.feeAccountId < 0) fail('feeAccountId', 'must be a non-negative safe integer');
  if (!Number.isSafeInteger(raw.recentFinishedLimit) || raw.recentFinishedLimit < 0)
    fail('recentFinishedLimit', 'must be a non-negative safe integer');
  const maxOpenOrdersPerUserMarket = raw.maxOpenOrdersPerUserMarket ?? 1_000;
  if (!Number.isSafeInteger(maxOpenOrdersPerUserMarket) || maxOpenOrdersPerUserMarket < 1)
    fail('maxOpenOrdersPerUserMarket', 'must be a positive safe integer');
  const perpetualMarkets = raw.perpetualMarkets ?? [];
  for (const market of perpetualMarkets) {
    const where = `perpetual market ${JSON.stringify(market.symbol)}`;
    if (symbols.has(market.symbol)) fail(where, 'listed twice');
    symbols.add(market.symbol);
    if (market.type !== 'perpetual') fail(where, "type must be 'perpetual'");
    if (!assets.has(market.base)) fail(where, `unknown base asset ${JSON.stringify(market.base)}`);
    const settlement =
      assets.get(market.settlementAsset) ?? fail(where, `unknown settlement asset ${JSON.stringify(market.settlementAsset)}`);
    if (market.quote !== market.settlementAsset || settlement.decimals !== market.quoteDecimals)
      fail(where, 'quote must be the settlement asset, with its decimals');
    const problems = perpMarketSpecProblems(market);
    if (problems.length > 0) fail(where, problems.join('; '));
    // as for spot: the largest order's notional plus its fee stays a safe integer (its reserve too)
    const maxNotional = BigInt(market.maxPrice) * BigInt(market.maxQuantity) * BigInt(market.quotePerTickLot);
    if (maxNotional * 2n > MAX_SAFE) fail(where, 'maxPrice × maxQuantity × quotePerTickLot × 2 exceeds 2^53 − 1');
  }
  const config: EngineConfig = {
    assets: [...assets.values()],
    markets,
    feeAccountId: raw.feeAccountId,
    recentFinishedLimit: raw.recentFinishedLimit,
    maxOpenOrdersPerUserMarket,
  };
  return perpetualMarkets.length === 0 ? config : { ...config, perpetualMarkets: [...perpetualMarkets] };
}

/** The default engine config, validated: the spot markets and the perpetual ones (BTC-KRW-PERP, ETH-KRW-PERP). */
export const DEFAULT_ENGINE_CONFIG: EngineConfig = buildEngineConfig({ ...DEFAULT_RAW_CONFIG, perpetualMarkets: DEFAULT_PERP_MARKETS });

// ---------------------------------------------------------------------------------------------
// Decimal string ⇄ integer units at the edges. Each returns the integer or a DecimalError
// (NOT_A_DECIMAL, TOO_MANY_DECIMALS, OFF_TICK, OFF_LOT, OUT_OF_BOUNDS). Market bounds (min/max
// price and quantity, min notional) are the engine's checks: see validatePlaceOrder.

/**
 * A decimal with more significant decimals than its asset has (trailing zeros do not count) is
 * TOO_MANY_DECIMALS — no market could take it; one within the asset's precision but between two
 * steps is OFF_TICK / OFF_LOT. Only plain decimals are looked at; parseUnits judges the rest.
 */
function tooManyDecimals(text: string, assetDecimals: number, what: string): DecimalError | undefined {
  const dot = text.indexOf('.');
  if (dot < 0) return undefined;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--; // '0'
  if (end - dot - 1 <= assetDecimals) return undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (index !== dot && (char < 48 || char > 57)) return undefined;
  }
  return decimalError('TOO_MANY_DECIMALS', `${what} '${text}' has more than ${assetDecimals} decimals`);
}

function toMultiple(
  text: string,
  step: string,
  offCode: 'OFF_TICK' | 'OFF_LOT',
  what: string,
  assetDecimals: number,
): number | DecimalError {
  const tooPrecise = tooManyDecimals(text, assetDecimals, what);
  if (tooPrecise !== undefined) return tooPrecise;
  const scale = fractionDigits(step);
  const stepUnits = parseUnits(step, scale);
  if (isDecimalError(stepUnits) || stepUnits <= 0) throw new MarketConfigError(`bad step size '${step}'`);
  const units = parseUnits(text, scale);
  if (isDecimalError(units)) {
    return units.code === 'TOO_MANY_DECIMALS' ? decimalError(offCode, `${what} '${text}' is not a multiple of ${step}`) : units;
  }
  if (units % stepUnits !== 0) return decimalError(offCode, `${what} '${text}' is not a multiple of ${step}`);
  return units / stepUnits;
}

function fromMultiple(count: number, step: string): string {
  const scale = fractionDigits(step);
  const stepUnits = parseUnits(step, scale);
  if (isDecimalError(stepUnits)) throw new MarketConfigError(`bad step size '${step}'`);
  const units = count * stepUnits;
  if (!Number.isSafeInteger(units)) throw new RangeError(`${count} × ${step} is beyond exact formatting`);
  return formatUnits(units, scale);
}

/** '123000' → 123 ticks on a 1,000 KRW tick; OFF_TICK when not a whole number of ticks, TOO_MANY_DECIMALS beyond the quote asset's decimals. */
export function priceToTicks(market: MarketSpec, text: string): number | DecimalError {
  return toMultiple(text, market.tickSize, 'OFF_TICK', 'price', market.quoteDecimals);
}

/** '0.5' → 500 lots on a 0.001 lot; OFF_LOT when not a whole number of lots, TOO_MANY_DECIMALS beyond the base asset's decimals. */
export function quantityToLots(market: MarketSpec, text: string): number | DecimalError {
  return toMultiple(text, market.lotSize, 'OFF_LOT', 'quantity', market.baseDecimals);
}

/** '1.5' BTC → 150000000 satoshi; TOO_MANY_DECIMALS beyond the asset's decimals. */
export function amountToMinor(asset: AssetSpec, text: string): number | DecimalError {
  return parseUnits(text, asset.decimals);
}

export function ticksToPrice(market: MarketSpec, ticks: number): string {
  return fromMultiple(ticks, market.tickSize);
}

export function lotsToQuantity(market: MarketSpec, lots: number): string {
  return fromMultiple(lots, market.lotSize);
}

export function formatAmount(asset: AssetSpec, minor: number): string {
  return formatUnits(minor, asset.decimals);
}

/** Average fill price as a decimal string, truncated to `extraDigits` digits below the tick. */
export function averagePrice(market: MarketSpec, filledQuote: number, filledLots: number, extraDigits = 2): string | undefined {
  if (filledLots <= 0) return undefined;
  // filledQuote / (filledLots × quotePerTickLot) ticks; computed in bigint (display only).
  const scale = fractionDigits(market.tickSize);
  const tickUnits = BigInt(parseUnits(market.tickSize, scale) as number);
  const extra = 10n ** BigInt(extraDigits);
  const numerator = BigInt(filledQuote) * tickUnits * extra;
  const denominator = BigInt(filledLots) * BigInt(market.quotePerTickLot);
  const value = numerator / denominator; // price × 10^(scale + extraDigits), truncated
  return formatUnits(Number(value), scale + extraDigits);
}

export function findMarket(config: EngineConfig, symbol: string): MarketSpec | undefined {
  return config.markets.find((market) => market.symbol === symbol);
}

export function findAsset(config: EngineConfig, code: string): AssetSpec | undefined {
  return config.assets.find((asset) => asset.code === code);
}
