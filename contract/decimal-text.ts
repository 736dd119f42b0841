/**
 * The public text rules of numbers on the wire (ARCHITECTURE.md "Messages", the REST API): decimals
 * are strings in canonical form (no sign, no exponent, no leading or trailing zeros: "0",
 * "50000000", "0.002"), ids are decimal strings. The engine's own conversion between decimal text
 * and integer units is engine/decimal.ts (the engine imports nothing outside itself).
 *
 * Exact non-negative decimals for arithmetic outside the engine (candles): a decimal string is an
 * integer count of 10^-scale units (a bigint), so sums and comparisons never round; `formatExact`
 * gives the canonical form back.
 */

/** A decimal string in canonical form: no sign, no exponent, no leading or trailing zeros ("0", "50000000", "0.002"). */
export const DECIMAL_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$';
/** The same, greater than zero (prices, a trade's quantity). */
export const POSITIVE_DECIMAL_PATTERN = '^([1-9][0-9]*(\\.[0-9]*[1-9])?|0\\.[0-9]*[1-9])$';
/** A signed decimal in canonical form (futures sizes, PnL, balances): the canonical form with an optional "-", never "-0". */
export const SIGNED_DECIMAL_PATTERN = '^(0|-?[1-9][0-9]*(\\.[0-9]*[1-9])?|-?0\\.[0-9]*[1-9])$';
/** Ids are decimal strings; user 0 is the fee account. */
export const ID_PATTERN = '^[1-9][0-9]*$';
export const USER_ID_PATTERN = '^(0|[1-9][0-9]*)$';

/**
 * What a consumer accepts as a decimal in an envelope read from a broker (the persister, the candle
 * builder): plain digits with an optional fraction, at most 40 on each side. Tolerant on purpose:
 * the canonical form is the publishers' to keep (DECIMAL_PATTERN, checked by the schema tests); the
 * bound keeps what reaches SQL or a bigint small.
 */
export const RECEIVED_DECIMAL = /^\d{1,40}(\.\d{1,40})?$/;

/** `numeric` text (PostgreSQL: the scale of a sum or product may add trailing zeros) → canonical decimal: no trailing fractional zeros, no lone point. */
export function canonicalDecimal(value: string): string {
  if (!value.includes('.')) return value;
  const trimmed = value.replace(/0+$/, '');
  return trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed;
}

/** Compares two canonical non-negative decimal strings ("50000000", "0.002") as numbers. */
export function compareDecimal(a: string, b: string): number {
  const dotA = a.indexOf('.');
  const dotB = b.indexOf('.');
  const intA = dotA < 0 ? a : a.slice(0, dotA);
  const intB = dotB < 0 ? b : b.slice(0, dotB);
  if (intA.length !== intB.length) return intA.length - intB.length;
  if (intA !== intB) return intA < intB ? -1 : 1;
  const fracA = dotA < 0 ? '' : a.slice(dotA + 1);
  const fracB = dotB < 0 ? '' : b.slice(dotB + 1);
  if (fracA === fracB) return 0;
  return fracA < fracB ? -1 : 1; // no trailing zeros: plain string order is numeric order
}

export interface Exact {
  readonly units: bigint;
  /** digits after the point */
  readonly scale: number;
}

/** What the API and the candles accept as a decimal: digits with an optional fraction; no sign, exponent or spaces (leading and trailing zeros allowed). */
export const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const POWERS: bigint[] = [1n];
const power = (exponent: number): bigint => {
  while (POWERS.length <= exponent) POWERS.push(POWERS[POWERS.length - 1]! * 10n);
  return POWERS[exponent]!;
};

export function isDecimalText(text: unknown): text is string {
  return typeof text === 'string' && text.length <= 64 && PLAIN_DECIMAL.test(text);
}

/** Throws on anything but a plain non-negative decimal (`"50000000"`, `"0.002"`). */
export function parseExact(text: string): Exact {
  const match = PLAIN_DECIMAL.exec(text);
  if (!match) throw new RangeError(`not a plain decimal: ${JSON.stringify(text)}`);
  const fraction = match[2] ?? '';
  return { units: BigInt(match[1]! + fraction), scale: fraction.length };
}

function aligned(a: Exact, b: Exact): [bigint, bigint, number] {
  if (a.scale === b.scale) return [a.units, b.units, a.scale];
  return a.scale > b.scale
    ? [a.units, b.units * power(a.scale - b.scale), a.scale]
    : [a.units * power(b.scale - a.scale), b.units, b.scale];
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

/** Signed integer minor units (a bigint) at `scale` decimals as canonical text: "-1234.5", "0" (never "-0"). */
export function signedUnitsText(units: bigint, scale: number): string {
  const text = formatExact({ units: units < 0n ? -units : units, scale });
  return units < 0n ? `-${text}` : text;
}

/** A rate in 1e-8 with all eight decimals, as the contract writes rates ("0.00010000", "-0.00300000"). */
export function rate1e8Text(rate: bigint): string {
  const magnitude = (rate < 0n ? -rate : rate).toString().padStart(9, '0');
  return `${rate < 0n ? '-' : ''}${magnitude.slice(0, -8)}.${magnitude.slice(-8)}`;
}

/** What rate1e8Text writes: a sign only when negative, eight decimals always. */
export const RATE_PATTERN = '^-?(0|[1-9][0-9]*)\\.[0-9]{8}$';
