/**
 * Exact conversion between decimal strings (the API and database edges) and integer units
 * (the engine). No floating point: digits are accumulated one by one, and the result is refused
 * once it passes Number.MAX_SAFE_INTEGER, so every number returned is exact.
 */

/** The last two come from engine/markets.ts, where a value must also be a multiple of a tick or lot. */
export type DecimalErrorCode = 'NOT_A_DECIMAL' | 'TOO_MANY_DECIMALS' | 'OUT_OF_BOUNDS' | 'OFF_TICK' | 'OFF_LOT';

export interface DecimalError {
  readonly kind: 'DecimalError';
  readonly code: DecimalErrorCode;
  readonly message: string;
}

export function decimalError(code: DecimalErrorCode, message: string): DecimalError {
  return { kind: 'DecimalError', code, message };
}

export function isDecimalError(value: unknown): value is DecimalError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'DecimalError';
}

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_DOT = 46;

/**
 * Parses a plain non-negative decimal (`digits[.digits]`) into an integer number of units of
 * 10^-decimals: parseUnits('1.5', 8) = 150000000.
 *
 * Refused: empty text, whitespace, signs (including '+'), exponents ('1e3'), a lone or trailing
 * dot ('.5', '5.'), separators, and any value above 2^53 − 1 units. Digits beyond `decimals`
 * are accepted only when they are zeros ('1.500000000' with 8 decimals is exactly 150000000).
 */
export function parseUnits(text: string, decimals: number): number | DecimalError {
  if (typeof text !== 'string') return decimalError('NOT_A_DECIMAL', 'expected a decimal string');
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 18) {
    throw new RangeError(`decimals must be an integer in 0..18, got ${String(decimals)}`);
  }
  const length = text.length;
  if (length === 0) return decimalError('NOT_A_DECIMAL', 'empty');
  let units = 0;
  let index = 0;
  let integerDigits = 0;
  for (; index < length; index++) {
    const char = text.charCodeAt(index);
    if (char === CHAR_DOT) break;
    if (char < CHAR_0 || char > CHAR_9) return decimalError('NOT_A_DECIMAL', `not a plain decimal: '${text}'`);
    units = units * 10 + (char - CHAR_0);
    // Once the running value passes 2^53 − 1 it only grows; float rounding is monotonic, so the
    // comparison is exact enough to refuse (and everything accepted was computed exactly).
    if (units > Number.MAX_SAFE_INTEGER) return decimalError('OUT_OF_BOUNDS', `too large: '${text}'`);
    integerDigits++;
  }
  if (integerDigits === 0) return decimalError('NOT_A_DECIMAL', `not a plain decimal: '${text}'`);
  let fractionDigits = 0;
  if (index < length) {
    index++; // the dot
    if (index === length) return decimalError('NOT_A_DECIMAL', `not a plain decimal: '${text}'`);
    for (; index < length; index++) {
      const char = text.charCodeAt(index);
      if (char < CHAR_0 || char > CHAR_9) return decimalError('NOT_A_DECIMAL', `not a plain decimal: '${text}'`);
      fractionDigits++;
      if (fractionDigits > decimals) {
        if (char !== CHAR_0) return decimalError('TOO_MANY_DECIMALS', `more than ${decimals} decimals: '${text}'`);
        continue;
      }
      units = units * 10 + (char - CHAR_0);
      if (units > Number.MAX_SAFE_INTEGER) return decimalError('OUT_OF_BOUNDS', `too large: '${text}'`);
    }
  }
  for (let pad = Math.min(fractionDigits, decimals); pad < decimals; pad++) {
    units *= 10;
    if (units > Number.MAX_SAFE_INTEGER) return decimalError('OUT_OF_BOUNDS', `too large: '${text}'`);
  }
  return units;
}

/** Number of digits after the dot of a plain decimal string ('0.001' → 3, '1000' → 0). */
export function fractionDigits(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * Formats integer units as a decimal string without trailing fraction zeros:
 * formatUnits(150000000, 8) = '1.5', formatUnits(100, 0) = '100', formatUnits(-5, 2) = '-0.05'.
 */
export function formatUnits(units: number, decimals: number): string {
  if (!Number.isSafeInteger(units)) throw new RangeError(`units must be a safe integer, got ${String(units)}`);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 18) {
    throw new RangeError(`decimals must be an integer in 0..18, got ${String(decimals)}`);
  }
  const negative = units < 0;
  let digits = String(negative ? -units : units);
  if (decimals > 0) {
    if (digits.length <= decimals) digits = '0'.repeat(decimals - digits.length + 1) + digits;
    const split = digits.length - decimals;
    let fraction = digits.slice(split);
    let end = fraction.length;
    while (end > 0 && fraction.charCodeAt(end - 1) === CHAR_0) end--;
    fraction = fraction.slice(0, end);
    digits = fraction.length > 0 ? `${digits.slice(0, split)}.${fraction}` : digits.slice(0, split);
  }
  return negative ? `-${digits}` : digits;
}
