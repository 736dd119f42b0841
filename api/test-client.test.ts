/** The shared test client's exact decimal units (its conservation check, on a real API: test-client.int.test.ts). */
import { describe, expect, it } from 'vitest';
import { units } from './test-client.ts';

describe('units', () => {
  it('turns decimals of every asset into exact 10^-8 units', () => {
    expect(units('100000000000')).toBe(10_000_000_000_000_000_000n);
    expect(units('0.00000001')).toBe(1n);
    expect(units('1.5')).toBe(150_000_000n);
    expect(units('-2.25')).toBe(-225_000_000n);
    expect(() => units('0.000000001')).toThrow(/more than 8 decimals/);
  });
});
