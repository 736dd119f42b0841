/**
 * The engine's only money arithmetic. Every value is a non-negative safe integer, and every
 * product below is proven to stay ≤ 2^53 − 1, so plain JS numbers are exact (no bigint on the
 * hot path).
 *
 * Bounds (checked by buildEngineConfig for each market, and by the deposit rule):
 *   ticks ≤ maxPrice, lots ≤ maxQuantity, and
 *   maxPrice × maxQuantity × quotePerTickLot + fee(that, max fee rate) ≤ 2^53 − 1.
 *   Every balance is ≤ the asset's engine-wide supply, and deposits that would push a supply
 *   above 2^53 − 1 are refused, so balance sums and differences are exact too.
 */

export const PPM = 1_000_000;

/** floor(a / b) for safe integers a ≥ 0, b > 0. The float quotient is correctly rounded, so it
 *  is never below the true floor and at most one above it; one exact check corrects it. */
export function floorDiv(a: number, b: number): number {
  const quotient = Math.floor(a / b);
  return quotient * b > a ? quotient - 1 : quotient;
}

/** Quote minor units for `lots` at `ticks`: ≤ maxPrice × maxQuantity × quotePerTickLot ≤ 2^53 − 1. */
export function notionalOf(ticks: number, lots: number, quotePerTickLot: number): number {
  return ticks * lots * quotePerTickLot;
}

/**
 * Fee on a notional at `ppm` parts per million, rounded DOWN (in the trader's favour, by less
 * than one minor unit per fill). Rounding down per fill is what keeps the pre-trade lock
 * sufficient: Σ floor(nᵢ·rate) ≤ floor(Σ nᵢ·rate) ≤ the fee locked on the whole order.
 *
 * notional × ppm could pass 2^53, so split notional = q·10^6 + r:
 *   fee = q·ppm + floor(r·ppm / 10^6), with r·ppm < 10^12 and q·ppm ≤ notional (ppm ≤ 10^6).
 */
export function feeOf(notional: number, ppm: number): number {
  const q = floorDiv(notional, PPM);
  const r = notional - q * PPM;
  return q * ppm + floorDiv(r * ppm, PPM);
}

/** Quote to lock for a buy of `lots` at `ticks`: the notional plus its largest possible fee. */
export function buyLockOf(ticks: number, lots: number, quotePerTickLot: number, maxFeePpm: number): number {
  const notional = ticks * lots * quotePerTickLot;
  return notional + feeOf(notional, maxFeePpm);
}

/**
 * Most lots (≤ cap) a budget buys at one price, fee included: the largest n with
 * n·unit + fee(n·unit) ≤ budget. cost(n) is non-decreasing in n, so a binary search is exact.
 */
export function affordableLots(budget: number, unitNotional: number, ppm: number, cap: number): number {
  let high = Math.min(cap, floorDiv(budget, unitNotional));
  if (high <= 0) return 0;
  const full = high * unitNotional;
  if (full + feeOf(full, ppm) <= budget) return high;
  let low = 0;
  high -= 1;
  while (low < high) {
    const middle = low + Math.ceil((high - low) / 2);
    const notional = middle * unitNotional;
    if (notional + feeOf(notional, ppm) <= budget) low = middle;
    else high = middle - 1;
  }
  return low;
}
