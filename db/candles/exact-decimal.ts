/**
 * Exact non-negative decimals for candle arithmetic: a decimal string is an integer count of
 * 10^-scale units (a bigint), so sums and comparisons never round. The wire's decimals are
 * canonical (no exponent, no sign, no trailing zeros); `formatExact` gives that form back.
 */

export interface Exact {
  readonly units: bigint;
  /** digits after the point */
  readonly scale: number;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const POWERS: bigint[] = [1n];
const power = (exponent: number): bigint => {
  while (POWERS.length <= exponent) POWERS.push(POWERS[POWERS.length - 1]! * 10n);
  return POWERS[exponent]!;
};

export function isDecimalText(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 64 && DECIMAL.test(text);
}

/** Throws on anything but a plain non-negative decimal (`"50000000"`, `"0.002"`). */
export function parseExact(text: string): Exact {
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`not a plain decimal: ${JSON.stringify(text)}`);
  const fraction = match[2] ?? '';
  return { units: BigInt(match[1]! + fraction), scale: fraction.length };
}

function aligned(a: Exact, b: Exact): [bigint, bigint, number] {
  if (a.scale === b.scale) return [a.units, b.units, a.scale];
  return a.scale > b.scale ? [a.units, b.units * power(a.scale - b.scale), a.scale] : [a.units * power(b.scale - a.scale), b.units, b.scale];
}

export function addExact(a: Exact, b: Exact): Exact {
  const [x, y, scale] = aligned(a, b);
  return { units: x + y, scale };
}

export function compareExact(a: Exact, b: Exact): -1 | 0 | 1 {
  const [x, y] = aligned(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Canonical text: no trailing fractional zeros, no lone point. */
export function formatExact(value: Exact): string {
  let { units, scale } = value;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  if (scale === 0) return units.toString();
  const digits = units.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}
