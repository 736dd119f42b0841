/**
 * Funding (ARCHITECTURE.md "Perpetual futures", "Funding"): impact prices from the book, a premium
 * sample per price tick, the rate at each funding time, each position's payment, and when funding
 * falls due. Rates in 1e-8 as BigInt (a premium against a near-zero index is unbounded).
 */
import { absBig, ceilDiv, clampBig, floorDiv, signBig, truncDiv } from './integer-math.ts';
import { RATE_ONE_1E8, type PerpMarketSpec } from './perp-market.ts';

const RATE_ONE = BigInt(RATE_ONE_1E8);

/** The notional an impact price fills: 10,000,000 KRW. */
export const IMPACT_NOTIONAL_KRW = 10_000_000n;
/** I, the interest rate per funding interval: 0.01 %. */
export const INTEREST_RATE_1E8 = 10_000n;
/** clamp(I − P̄) to ±0.05 %. */
export const PREMIUM_CLAMP_1E8 = 50_000n;
/** clamp(F) to ±0.30 %. */
export const FUNDING_RATE_CAP_1E8 = 300_000n;

/** A price level of one side of the book, best first. */
export interface BookLevel {
  readonly priceTicks: number;
  readonly lots: number;
}

/** An exact price in ticks, numerator / denominator (denominator > 0): an average fill price is rarely a whole tick. */
export interface TicksFraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * The average price at which `impactNotionalKrw` of notional fills against `levels` (one side,
 * best first), exact: whole levels are taken while they fit, and the last one only for the KRW
 * still missing — a fraction of a lot, as Binance's impact margin notional does (an impact price is
 * a measurement, not an order). Undefined when the side is thinner than that notional.
 *   average = notional / base taken; in ticks: I·p / (L·p·q + rest), with L whole lots taken before
 *   the last level p and `rest` the KRW taken at p.
 */
export function impactPriceTicks(
  levels: readonly BookLevel[],
  market: PerpMarketSpec,
  impactNotionalKrw: bigint = IMPACT_NOTIONAL_KRW,
): TicksFraction | undefined {
  const perTickLot = BigInt(market.quotePerTickLot);
  let takenKrw = 0n;
  let wholeLots = 0n; // lots of the levels taken whole
  for (const level of levels) {
    const price = BigInt(level.priceTicks);
    const levelKrw = BigInt(level.lots) * price * perTickLot;
    const missing = impactNotionalKrw - takenKrw;
    if (levelKrw >= missing) {
      // base = wholeLots + missing / (p·q) lots; average ticks = I / (base · q) = I·p / (wholeLots·p·q + missing)
      return { numerator: impactNotionalKrw * price, denominator: wholeLots * price * perTickLot + missing };
    }
    takenKrw += levelKrw;
    wholeLots += BigInt(level.lots);
  }
  return undefined;
}

/**
 * One premium sample P = (max(0, impact bid − index) − max(0, index − impact ask)) / index, in
 * 1e-8, truncated towards zero (no drift either way). A missing impact price adds 0.
 */
export function premiumSample1e8(impactBid: TicksFraction | undefined, impactAsk: TicksFraction | undefined, indexTicks: number): bigint {
  if (indexTicks <= 0) throw new RangeError(`index must be > 0 ticks, got ${indexTicks}`);
  const index = BigInt(indexTicks);
  // above / below as fractions of ticks: (n − index·d) / d
  let numerator = 0n;
  let denominator = 1n;
  if (impactBid !== undefined && impactBid.numerator > index * impactBid.denominator) {
    numerator = impactBid.numerator - index * impactBid.denominator;
    denominator = impactBid.denominator;
  }
  if (impactAsk !== undefined && impactAsk.numerator < index * impactAsk.denominator) {
    const below = index * impactAsk.denominator - impactAsk.numerator; // over impactAsk.denominator
    numerator = numerator * impactAsk.denominator - below * denominator;
    denominator *= impactAsk.denominator;
  }
  return truncDiv(numerator * RATE_ONE, denominator * index);
}

/** P̄, the mean of an interval's samples, truncated towards zero; 0 with no sample (then F = I). */
export function meanPremium1e8(samples: readonly bigint[]): bigint {
  let sum = 0n;
  for (const sample of samples) sum += sample;
  return meanPremiumOfSum1e8(sum, samples.length);
}

/** The same mean from the samples' sum and count (what the engine keeps per interval, not the samples). */
export function meanPremiumOfSum1e8(sum1e8: bigint, count: number): bigint {
  return count === 0 ? 0n : truncDiv(sum1e8, BigInt(count));
}

/** F = clamp(P̄ + clamp(I − P̄, −0.05 %, +0.05 %), −0.30 %, +0.30 %), I = 0.01 %. */
export function fundingRate1e8(meanPremium: bigint): bigint {
  const interest = clampBig(INTEREST_RATE_1E8 - meanPremium, -PREMIUM_CLAMP_1E8, PREMIUM_CLAMP_1E8);
  return clampBig(meanPremium + interest, -FUNDING_RATE_CAP_1E8, FUNDING_RATE_CAP_1E8);
}

/**
 * A position's funding, signed from its own side (> 0 received, < 0 paid, as FundingPaid's
 * `amount`): |size| × mark × F; longs pay shorts when F > 0. The payer's amount is rounded up,
 * the receiver's down, so Σ over a market (Σ sizes = 0) is ≤ 0 and the rest goes to the fund.
 */
export function fundingPaymentKrw(sizeLots: number, markTicks: number, rate1e8: bigint, market: PerpMarketSpec): bigint {
  const fast = fundingPaymentFastKrw(sizeLots, markTicks, rate1e8, market);
  if (fast !== undefined) return fast;
  const scaled = absBig(BigInt(sizeLots)) * BigInt(markTicks) * BigInt(market.quotePerTickLot) * absBig(rate1e8);
  const pays = signBig(BigInt(sizeLots)) * signBig(rate1e8) > 0n; // long with F > 0, or short with F < 0
  return pays ? -ceilDiv(scaled, RATE_ONE) : floorDiv(scaled, RATE_ONE);
}

/**
 * The next funding time strictly after `nowMs`: the next multiple of the interval since the epoch
 * (8 h → 00:00, 08:00, 16:00 UTC). A funding time reached exactly is due now and settled by the
 * tick at it; the one after is then reported.
 */
export function nextFundingTimeMs(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}

const RATE_ONE_NUMBER = RATE_ONE_1E8;
const MAX_RATE_NUMBER = BigInt(Number.MAX_SAFE_INTEGER);
const FAST_LIMIT = 2 ** 52;

/**
 * The same payment in float64 integers while |size| × mark × q × |F| stays ≤ 2^53 − 1 (every
 * product then exact), so a settlement over 100,000 positions does not pay for 10 BigInt operations
 * each; undefined beyond, where the BigInt form above takes over. The quotient by 1e8 is corrected
 * from its exact remainder, so it is the true floor however the division rounded.
 */
function fundingPaymentFastKrw(sizeLots: number, markTicks: number, rate1e8: bigint, market: PerpMarketSpec): bigint | undefined {
  if (rate1e8 > MAX_RATE_NUMBER || rate1e8 < -MAX_RATE_NUMBER) return undefined;
  const rate = Number(rate1e8);
  const perLot = markTicks * market.quotePerTickLot * Math.abs(rate);
  const lots = Math.abs(sizeLots);
  if (!Number.isSafeInteger(perLot)) return undefined;
  // a true product ≤ 2^53 is exact in float64; one beyond rounds to ≥ 2^53: either way this test is exact
  const scaled = lots * perLot;
  if (scaled > FAST_LIMIT) return undefined;
  let quotient = Math.floor(scaled / RATE_ONE_NUMBER);
  let rest = scaled - quotient * RATE_ONE_NUMBER;
  if (rest < 0) {
    quotient -= 1;
    rest += RATE_ONE_NUMBER;
  } else if (rest >= RATE_ONE_NUMBER) {
    quotient += 1;
    rest -= RATE_ONE_NUMBER;
  }
  const pays = Math.sign(sizeLots) * Math.sign(rate) > 0;
  return BigInt(pays ? -(quotient + (rest > 0 ? 1 : 0)) : quotient);
}
