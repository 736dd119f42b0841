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
 * Fees are charged on an order's cumulative fill: the fee due after its fills is
 * floor(Σ notionalᵢ·rateᵢ) (rateᵢ the maker or taker rate of fill i), and each fill pays what that
 * adds. So the total never depends on how the order was split, and no more than one minor unit in
 * all is rounded away (in the trader's favour). The order carries the fraction floor() dropped so
 * far, `carry`, in millionths of a minor unit (0 ≤ carry < 10^6): the fee of its next fill of
 * `notional` at `ppm` is floor((carry + notional·ppm) / 10^6), the carry after it that quotient's
 * remainder (carryAfter). With carry 0 this is the fee of a notional on its own, rounded down.
 *
 * notional × ppm could pass 2^53, so split notional = q·10^6 + r:
 *   fee = q·ppm + floor((r·ppm + carry) / 10^6), with r·ppm + carry < 10^12 + 10^6 and
 *   q·ppm ≤ notional (ppm ≤ 10^6).
 */
export function feeOf(notional: number, ppm: number, carry = 0): number {
  const q = floorDiv(notional, PPM);
  const r = notional - q * PPM;
  return q * ppm + floorDiv(r * ppm + carry, PPM);
}

/** The order's carry after a fill of `notional` at `ppm` (see feeOf): (carry + notional·ppm) mod 10^6. */
export function carryAfter(notional: number, ppm: number, carry: number): number {
  const r = notional - floorDiv(notional, PPM) * PPM;
  const sum = r * ppm + carry;
  return sum - floorDiv(sum, PPM) * PPM;
}

/**
 * Quote to lock for a buy of `lots` at `ticks` by an order carrying `carry`: the notional plus the
 * most its fills can be charged, floor((carry + notional·maxFeePpm) / 10^6). Fills at or below the
 * price, at either rate, can never cost more — and what one leaves held (the hold less notional and
 * fee paid) still covers the rest at the carry after it, so a hold kept at this for the remainder
 * is always enough (engine/README "Holds, settlement, fees").
 */
export function buyLockOf(ticks: number, lots: number, quotePerTickLot: number, maxFeePpm: number, carry = 0): number {
  const notional = ticks * lots * quotePerTickLot;
  return notional + feeOf(notional, maxFeePpm, carry);
}

/**
 * Most lots (≤ cap) a budget buys at one price, fee included, for an order carrying `carry`: the
 * largest n with n·unit + feeOf(n·unit, ppm, carry) ≤ budget. The cost is non-decreasing in n, so
 * a binary search is exact.
 */
export function affordableLots(budget: number, unitNotional: number, ppm: number, cap: number, carry = 0): number {
  let high = Math.min(cap, floorDiv(budget, unitNotional));
  if (high <= 0) return 0;
  const full = high * unitNotional;
  if (full + feeOf(full, ppm, carry) <= budget) return high;
  let low = 0;
  high -= 1;
  while (low < high) {
    const middle = low + Math.ceil((high - low) / 2);
    const notional = middle * unitNotional;
    if (notional + feeOf(notional, ppm, carry) <= budget) low = middle;
    else high = middle - 1;
  }
  return low;
}
