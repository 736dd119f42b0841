/** Signed decimals of the futures messages and reads: the text signedUnitsText writes is what SIGNED_DECIMAL_PATTERN accepts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECIMAL_PATTERN, SIGNED_DECIMAL_PATTERN, signedUnitsText } from './decimal-text.ts';

const signed = new RegExp(SIGNED_DECIMAL_PATTERN);

describe('signed decimals', () => {
  it('writes minor units at a scale in canonical form, with a sign only below zero', () => {
    expect(signedUnitsText(0n, 0)).toBe('0');
    expect(signedUnitsText(-10_000n, 0)).toBe('-10000');
    expect(signedUnitsText(-1_000_000n, 8)).toBe('-0.01');
    expect(signedUnitsText(1_500n, 3)).toBe('1.5');
    expect(signedUnitsText(-5n, 3)).toBe('-0.005');
  });

  it('accepts exactly the canonical signed forms', () => {
    for (const text of ['0', '1', '-1', '0.5', '-0.5', '-123.0405', '50000000']) expect(signed.test(text), text).toBe(true);
    for (const text of ['-0', '+1', '01', '-01', '1.', '1.0', '-0.50', '1e3', '', '-', ' 1']) expect(signed.test(text), text).toBe(false);
  });

  it('round-trips every bigint at every scale; non-negative results are plain canonical decimals too', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 12 }), (units, scale) => {
        const text = signedUnitsText(units, scale);
        if (!signed.test(text)) return false;
        if (units >= 0n && !new RegExp(DECIMAL_PATTERN).test(text)) return false;
        const [whole, fraction = ''] = text.replace('-', '').split('.');
        const back = BigInt(whole! + fraction.padEnd(scale, '0'));
        return (text.startsWith('-') ? -back : back) === units;
      }),
    );
  });
});
