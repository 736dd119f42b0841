/**
 * Perpetual futures markets: the spec (a spot MarketSpec for matching, plus settlement, funding and
 * risk tiers), the default BTC-KRW-PERP and ETH-KRW-PERP, and the tier lookup by notional.
 *
 * Units as on spot (engine/README.md "Units"): price in integer ticks, quantity in integer lots,
 * money in integer minor units of the settlement asset (KRW has 0 decimals, so 1 minor unit =
 * 1 KRW). Rates are integers in 1e-8 (0.40 % = 400,000); fees stay in ppm like spot fees. Spec
 * fields are plain numbers (JSON-friendly for snapshots and GET /v1/markets; every one ≤ 2^53 − 1);
 * the rules convert them to BigInt before any product.
 */
import { fractionDigits, isDecimalError, parseUnits } from '../decimal.ts';
import type { MarketSpec } from '../types.ts';

/** 1.00 in the contract's rate unit (1e-8): 0.40 % = 400,000 / RATE_ONE_1E8. */
export const RATE_ONE_1E8 = 100_000_000;

/** One row of the contract's risk-tier table. */
export interface RiskTier {
  readonly tier: number; // 1-based, as the contract numbers them
  /** inclusive upper bound of the position notional at the mark price, KRW; null for the last tier ("above") */
  readonly maxNotionalKrw: number | null;
  readonly maxLeverage: number;
  /** maintenance margin rate, 1e-8 (0.40 % = 400,000) */
  readonly maintenanceMarginRate1e8: number;
  /** KRW subtracted from notional × MMR so that MM is continuous across tier edges (Binance's "cum") */
  readonly cumKrw: number;
}

/**
 * A perpetual market. It is a spot MarketSpec too (symbol, tick, lot, limits, fees), so the shared
 * matching code can run its book unchanged; `quote` is the settlement asset and `base` is never
 * moved (a position is a size and a cost, not base coins).
 */
export interface PerpMarketSpec extends MarketSpec {
  readonly type: 'perpetual';
  readonly settlementAsset: string;
  /** funding every this many ms, at multiples of it since the epoch (FUNDING_INTERVAL_MS overrides) */
  readonly fundingIntervalMs: number;
  /** the built-in `spot` index source: the same-named spot market */
  readonly indexSpotSymbol: string;
  readonly riskTiers: readonly RiskTier[];
}

const EIGHT_HOURS_MS = 8 * 60 * 60 * 1000;

/** The contract's table (ARCHITECTURE.md "Perpetual futures"), verbatim. */
const BTC_RISK_TIERS: readonly RiskTier[] = [
  { tier: 1, maxNotionalKrw: 250_000_000, maxLeverage: 50, maintenanceMarginRate1e8: 400_000, cumKrw: 0 },
  { tier: 2, maxNotionalKrw: 1_000_000_000, maxLeverage: 25, maintenanceMarginRate1e8: 500_000, cumKrw: 250_000 },
  { tier: 3, maxNotionalKrw: 5_000_000_000, maxLeverage: 10, maintenanceMarginRate1e8: 1_000_000, cumKrw: 5_250_000 },
  { tier: 4, maxNotionalKrw: null, maxLeverage: 5, maintenanceMarginRate1e8: 2_500_000, cumKrw: 80_250_000 },
];

/**
 * ETH tiers (the contract gives BTC's only). Shaped as Binance USDⓈ-M shapes ETHUSDT against
 * BTCUSDT: the same leverage steps (50/25/10/5), notional caps smaller (ETH books are thinner, so a
 * given notional is a bigger share of their depth) and each MMR a step higher (ETH moves more).
 * Every MMR stays at most a quarter of the initial margin rate at the tier's max leverage (BTC's:
 * at most a fifth), so a position opened at max leverage has room before liquidation. `cum` follows
 * from the rule cum(k) = cum(k−1) + cap(k−1) × (MMR(k) − MMR(k−1)):
 *   tier 2: 0 + 100,000,000 × (1.00 % − 0.50 %) = 500,000
 *   tier 3: 500,000 + 500,000,000 × (2.00 % − 1.00 %) = 5,500,000
 *   tier 4: 5,500,000 + 2,500,000,000 × (5.00 % − 2.00 %) = 80,500,000
 */
const ETH_RISK_TIERS: readonly RiskTier[] = [
  { tier: 1, maxNotionalKrw: 100_000_000, maxLeverage: 50, maintenanceMarginRate1e8: 500_000, cumKrw: 0 },
  { tier: 2, maxNotionalKrw: 500_000_000, maxLeverage: 25, maintenanceMarginRate1e8: 1_000_000, cumKrw: 500_000 },
  { tier: 3, maxNotionalKrw: 2_500_000_000, maxLeverage: 10, maintenanceMarginRate1e8: 2_000_000, cumKrw: 5_500_000 },
  { tier: 4, maxNotionalKrw: null, maxLeverage: 5, maintenanceMarginRate1e8: 5_000_000, cumKrw: 80_500_000 },
];

/** BTC-KRW-PERP as the contract fixes it: tick 1,000 KRW, lot 0.001 BTC (tick × lot = 1 KRW), 200 / 500 ppm, 8 h. */
export const BTC_KRW_PERP: PerpMarketSpec = {
  type: 'perpetual',
  symbol: 'BTC-KRW-PERP',
  base: 'BTC',
  quote: 'KRW',
  settlementAsset: 'KRW',
  tickSize: '1000',
  lotSize: '0.001',
  quotePerTickLot: 1,
  baseMinorPerLot: 100_000,
  baseDecimals: 8,
  quoteDecimals: 0,
  // order limits as on the BTC-KRW spot market (engine/markets.ts), so the spot integer bound holds
  minQuantity: 1,
  maxQuantity: 1_000_000,
  minPrice: 1,
  maxPrice: 1_000_000_000,
  minNotional: 5000,
  makerFeePpm: 200,
  takerFeePpm: 500,
  fundingIntervalMs: EIGHT_HOURS_MS,
  indexSpotSymbol: 'BTC-KRW',
  riskTiers: BTC_RISK_TIERS,
};

/**
 * ETH-KRW-PERP: tick 1,000 KRW and lot 0.001 ETH, exactly the ETH-KRW spot market's, so one tick ×
 * one lot is 1 KRW (no fractional KRW anywhere) and the `spot` index source's prices are already
 * in this market's ticks. At ~5,000,000 KRW per ETH a tick is 0.02 % of the price and a lot
 * ~5,000 KRW — Binance ETHUSDT's 0.001 ETH minimum quantity. Fees and funding as BTC's.
 */
export const ETH_KRW_PERP: PerpMarketSpec = {
  type: 'perpetual',
  symbol: 'ETH-KRW-PERP',
  base: 'ETH',
  quote: 'KRW',
  settlementAsset: 'KRW',
  tickSize: '1000',
  lotSize: '0.001',
  quotePerTickLot: 1,
  baseMinorPerLot: 100_000,
  baseDecimals: 8,
  quoteDecimals: 0,
  minQuantity: 1,
  maxQuantity: 10_000_000,
  minPrice: 1,
  maxPrice: 100_000_000,
  minNotional: 5000,
  makerFeePpm: 200,
  takerFeePpm: 500,
  fundingIntervalMs: EIGHT_HOURS_MS,
  indexSpotSymbol: 'ETH-KRW',
  riskTiers: ETH_RISK_TIERS,
};

export const DEFAULT_PERP_MARKETS: readonly PerpMarketSpec[] = [BTC_KRW_PERP, ETH_KRW_PERP];

/**
 * The tier of a position notional at the mark price (KRW): the first whose cap is ≥ it. "Notional
 * up to 250,000,000" is read as inclusive (README "Decisions"); MM is the same on either side of an
 * edge (cum), so only the maximum leverage depends on that reading.
 */
export function riskTierForNotionalKrw(notionalKrw: bigint | number, market: PerpMarketSpec): RiskTier {
  const tiers = market.riskTiers;
  for (const tier of tiers) {
    // bigint ≤ number compares exactly (no BigInt made per tier: this runs on every pre-trade check)
    if (tier.maxNotionalKrw === null || notionalKrw <= tier.maxNotionalKrw) return tier;
  }
  const last = tiers[tiers.length - 1];
  if (last === undefined) throw new Error(`${market.symbol} has no risk tiers`);
  return last;
}

/**
 * What is wrong with a spec (empty when nothing): the checks that keep the rules exact and sane —
 * tick × lot a whole number of settlement minor units, tiers ascending and open-ended, leverage
 * non-increasing, MMR below the initial margin rate at the tier's max leverage, cum continuous.
 */
export function perpMarketSpecProblems(market: PerpMarketSpec): string[] {
  const problems: string[] = [];
  const tickScale = fractionDigits(market.tickSize);
  const lotScale = fractionDigits(market.lotSize);
  const tick = parseUnits(market.tickSize, tickScale);
  const lot = parseUnits(market.lotSize, lotScale);
  if (isDecimalError(tick) || isDecimalError(lot) || tick <= 0 || lot <= 0) {
    problems.push('tickSize and lotSize must be positive plain decimals');
  } else {
    const scaled = BigInt(tick) * BigInt(lot) * 10n ** BigInt(market.quoteDecimals);
    const unit = 10n ** BigInt(tickScale + lotScale);
    if (scaled % unit !== 0n || scaled / unit !== BigInt(market.quotePerTickLot)) {
      problems.push(`quotePerTickLot ${market.quotePerTickLot} ≠ tickSize × lotSize in ${market.quote} minor units`);
    }
  }
  if (market.quote !== market.settlementAsset) problems.push('a linear perpetual settles in its quote asset');
  // the shared matching code's integer bound (engine/README.md "Integer bounds"): its largest order's notional + fee is a safe integer
  const maxOrderNotional = BigInt(market.maxPrice) * BigInt(market.maxQuantity) * BigInt(market.quotePerTickLot);
  const maxFeePpm = BigInt(Math.max(market.makerFeePpm, market.takerFeePpm));
  if (maxOrderNotional + (maxOrderNotional * maxFeePpm + 999_999n) / 1_000_000n > BigInt(Number.MAX_SAFE_INTEGER))
    problems.push('maxPrice × maxQuantity × quotePerTickLot (+ fee) exceeds 2^53 − 1');
  if (!Number.isSafeInteger(market.fundingIntervalMs) || market.fundingIntervalMs <= 0)
    problems.push('fundingIntervalMs must be a positive integer');
  for (const [field, ppm] of [
    ['makerFeePpm', market.makerFeePpm],
    ['takerFeePpm', market.takerFeePpm],
  ] as const) {
    if (!Number.isInteger(ppm) || ppm < 0 || ppm > 1_000_000) problems.push(`${field} must be an integer in 0..1000000`);
  }
  const tiers = market.riskTiers;
  if (tiers.length === 0) problems.push('no risk tiers');
  tiers.forEach((tier, index) => {
    const where = `tier ${index + 1}`;
    const last = index === tiers.length - 1;
    if (tier.tier !== index + 1) problems.push(`${where}: numbered ${tier.tier}`);
    if (last !== (tier.maxNotionalKrw === null)) problems.push(`${where}: only the last tier is open-ended`);
    if (!Number.isSafeInteger(tier.maxLeverage) || tier.maxLeverage < 1) problems.push(`${where}: maxLeverage must be an integer ≥ 1`);
    if (!Number.isSafeInteger(tier.maintenanceMarginRate1e8) || tier.maintenanceMarginRate1e8 <= 0)
      problems.push(`${where}: MMR must be a positive integer`);
    // MM < IM at the tier's max leverage: MMR × maxLeverage < 1
    else if (tier.maintenanceMarginRate1e8 * tier.maxLeverage >= RATE_ONE_1E8) problems.push(`${where}: MMR must be below 1 / maxLeverage`);
    if (!Number.isSafeInteger(tier.cumKrw) || tier.cumKrw < 0) problems.push(`${where}: cum must be a non-negative integer`);
    const previous = tiers[index - 1];
    if (previous === undefined) {
      if (tier.cumKrw !== 0) problems.push(`${where}: the first tier's cum must be 0`);
      return;
    }
    const edge = previous.maxNotionalKrw;
    if (edge === null) return; // reported above
    if (tier.maxNotionalKrw !== null && tier.maxNotionalKrw <= edge) problems.push(`${where}: caps must ascend`);
    if (tier.maxLeverage > previous.maxLeverage) problems.push(`${where}: maxLeverage must not grow with notional`);
    if (tier.maintenanceMarginRate1e8 < previous.maintenanceMarginRate1e8) problems.push(`${where}: MMR must not shrink with notional`);
    // cum(k) = cum(k−1) + cap(k−1) × (MMR(k) − MMR(k−1)), exactly, so MM is continuous at the edge
    const expected =
      BigInt(previous.cumKrw) * BigInt(RATE_ONE_1E8) +
      BigInt(edge) * BigInt(tier.maintenanceMarginRate1e8 - previous.maintenanceMarginRate1e8);
    if (expected !== BigInt(tier.cumKrw) * BigInt(RATE_ONE_1E8))
      problems.push(`${where}: cum ${tier.cumKrw} breaks MM continuity at ${edge}`);
  });
  return problems;
}
