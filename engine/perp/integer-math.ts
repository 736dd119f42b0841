/**
 * Signed BigInt division with an explicit rounding direction. BigInt's own `/` truncates towards
 * zero; the futures rules need floor, ceiling and truncation each in its place (README "Rounding").
 */

/** floor(a / b), b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient;
}

/** ceil(a / b), b > 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a > 0n ? quotient + 1n : quotient;
}

/** trunc(a / b), b ≠ 0: towards zero, as BigInt's `/` does — named so the choice reads as one. */
export function truncDiv(a: bigint, b: bigint): bigint {
  return a / b;
}

export function absBig(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export function signBig(value: bigint): -1n | 0n | 1n {
  return value > 0n ? 1n : value < 0n ? -1n : 0n;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function clampBig(value: bigint, low: bigint, high: bigint): bigint {
  return value < low ? low : value > high ? high : value;
}

/** Ticks as a JS number; a price past 2^53 − 1 ticks is far beyond any market's maxPrice, so it is capped there. */
export function ticksToNumber(ticks: bigint): number {
  return ticks > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ticks);
}
