/**
 * Exact decimal strings, as the API sends them ("50000000", "0.002": no exponent, no sign). Checks
 * on what a trader types (a multiple of the tick or lot, below a bound) are done on scaled BigInts,
 * never on floats; Number() is used only to draw (chart, depth bars).
 */
const PLAIN = /^\d+(\.\d+)?$/;

export function isPlainDecimal(text: string): boolean {
  return PLAIN.test(text);
}

/** Digits after the point that matter (trailing zeros do not). */
export function decimalsOf(text: string): number {
  const fraction = text.split('.')[1] ?? '';
  return fraction.replace(/0+$/, '').length;
}

/** `text` × 10^scale as a BigInt; undefined when it is not plain or has more significant decimals. */
export function toScaled(text: string, scale: number): bigint | undefined {
  if (!PLAIN.test(text)) return undefined;
  const [whole = '', fraction = ''] = text.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > scale) return undefined;
  return BigInt(whole + trimmed.padEnd(scale, '0'));
}

/** Canonical form of a scaled BigInt: no trailing zeros, no trailing point. */
export function fromScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? digits.slice(digits.length - scale).replace(/0+$/, '') : '';
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

export function compareDecimal(a: string, b: string): number {
  const scale = Math.max(decimalsOf(a), decimalsOf(b));
  const left = toScaled(a, scale)!;
  const right = toScaled(b, scale)!;
  return left === right ? 0 : left < right ? -1 : 1;
}

/** True when `value` is a whole multiple of `step` (both plain decimals). */
export function isMultipleOf(value: string, step: string): boolean {
  const scale = Math.max(decimalsOf(value), decimalsOf(step));
  const scaledValue = toScaled(value, scale);
  const scaledStep = toScaled(step, scale);
  if (scaledValue === undefined || scaledStep === undefined || scaledStep === 0n) return false;
  return scaledValue % scaledStep === 0n;
}

/** a × b, exactly. */
export function multiply(a: string, b: string): string {
  const scaleA = decimalsOf(a);
  const scaleB = decimalsOf(b);
  return fromScaled(toScaled(a, scaleA)! * toScaled(b, scaleB)!, scaleA + scaleB);
}

/** a ± n steps, never below zero; for the step buttons beside price and quantity. */
export function addSteps(value: string, step: string, steps: number): string {
  const base = PLAIN.test(value) ? value : '0';
  const scale = Math.max(decimalsOf(base), decimalsOf(step));
  const next = toScaled(base, scale)! + toScaled(step, scale)! * BigInt(steps);
  return fromScaled(next < 0n ? 0n : next, scale);
}

/** Thousands separators for reading (the text stays exact). */
export function group(text: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return text;
  const [whole = '', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction !== undefined ? `${grouped}.${fraction}` : grouped;
}
