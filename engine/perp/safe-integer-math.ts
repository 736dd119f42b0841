/**
 * Exact integer arithmetic in float64 for the hot margin paths (issue 18's bench: every order's
 * pre-trade check and every fill). A double holds every integer up to 2^53 exactly, so while the
 * products stay at or below FAST_LIMIT the results are the BigInt rules' results bit for bit; the
 * callers test each product against the limit and fall back to BigInt beyond it. The limit is 2^52,
 * not 2^53 − 1, so that a quotient's correction step (q × b) is exact too.
 */

/** the largest magnitude a fast-path operand or product may have */
export const FAST_LIMIT = 2 ** 52;

/** whether `value` is an integer of magnitude ≤ FAST_LIMIT (a product of integers past 2^53 rounds to ≥ 2^53, so this test is exact) */
export function isFast(value: number): boolean {
  return Number.isInteger(value) && value <= FAST_LIMIT && value >= -FAST_LIMIT;
}

/**
 * floor(a / b) for integers |a| ≤ FAST_LIMIT and 0 < b ≤ FAST_LIMIT: the float quotient is within
 * 1 of the true one (relative error 2^-53 on |a / b| ≤ 2^52), corrected by the exact remainder.
 */
export function floorDivFast(a: number, b: number): number {
  let quotient = Math.floor(a / b);
  const rest = a - quotient * b;
  if (rest < 0) quotient -= 1;
  else if (rest >= b) quotient += 1;
  return quotient + 0; // never −0 (as Number of a BigInt)
}

/** ceil(a / b), same bounds */
export function ceilDivFast(a: number, b: number): number {
  return 0 - floorDivFast(-a, b);
}

/** trunc(a / b), same bounds: towards zero as BigInt's `/` */
export function truncDivFast(a: number, b: number): number {
  return a < 0 ? 0 - floorDivFast(-a, b) : floorDivFast(a, b);
}
