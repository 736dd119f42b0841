import { describe, expect, it } from 'vitest';
import { formatUnits, isDecimalError, parseUnits } from './decimal.ts';

const code = (value: number | { code: string }) => (typeof value === 'number' ? value : value.code);

describe('parseUnits', () => {
  it.each([
    ['1.5', 8, 150_000_000],
    ['0', 8, 0],
    ['0.00000001', 8, 1],
    ['123000', 0, 123_000],
    ['1.50000000000', 8, 150_000_000],
    ['007', 0, 7],
    ['90071992.54740991', 8, Number.MAX_SAFE_INTEGER],
    ['9007199254740991', 0, Number.MAX_SAFE_INTEGER],
  ])('%s with %i decimals is %i', (text, decimals, units) => {
    expect(parseUnits(text, decimals)).toBe(units);
  });

  it.each([
    ['', 'NOT_A_DECIMAL'],
    [' 1', 'NOT_A_DECIMAL'],
    ['1 ', 'NOT_A_DECIMAL'],
    ['+1', 'NOT_A_DECIMAL'],
    ['-1', 'NOT_A_DECIMAL'],
    ['1e3', 'NOT_A_DECIMAL'],
    ['.5', 'NOT_A_DECIMAL'],
    ['5.', 'NOT_A_DECIMAL'],
    ['1,5', 'NOT_A_DECIMAL'],
    ['1.2.3', 'NOT_A_DECIMAL'],
    ['0x10', 'NOT_A_DECIMAL'],
    ['Infinity', 'NOT_A_DECIMAL'],
    ['NaN', 'NOT_A_DECIMAL'],
    ['1.000000001', 'TOO_MANY_DECIMALS'],
    ['90071992.54740992', 'OUT_OF_BOUNDS'],
    ['9007199254740992', 'OUT_OF_BOUNDS'],
    ['99999999999999999999999', 'OUT_OF_BOUNDS'],
  ])('refuses %j as %s', (text, expected) => {
    const result = parseUnits(text, text.startsWith('9007199254740992') || text.startsWith('9999') ? 0 : 8);
    expect(isDecimalError(result)).toBe(true);
    expect(code(result as never)).toBe(expected);
  });
});

describe('formatUnits', () => {
  it.each([
    [150_000_000, 8, '1.5'],
    [1, 8, '0.00000001'],
    [0, 8, '0'],
    [100, 0, '100'],
    [-5, 2, '-0.05'],
    [Number.MAX_SAFE_INTEGER, 8, '90071992.54740991'],
  ])('%i with %i decimals is %s', (units, decimals, text) => {
    expect(formatUnits(units, decimals)).toBe(text);
  });

  it('round-trips every value it formats', () => {
    for (let units = 0; units < 5000; units += 7) {
      for (const decimals of [0, 2, 8]) expect(parseUnits(formatUnits(units, decimals), decimals)).toBe(units);
    }
  });
});
