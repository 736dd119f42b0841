import { describe, expect, it } from 'vitest';
import { REJECT_CODES, REJECT_MESSAGES, rejectDomain, rejectReason, type RejectReason } from './reject-codes.ts';

describe('reject codes', () => {
  const words = Object.keys(REJECT_CODES) as RejectReason[];
  const codes = words.map((word) => REJECT_CODES[word]);

  it('gives every code to exactly one word', () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const word of words) expect(rejectReason(REJECT_CODES[word])).toBe(word);
  });

  it('keeps words in SCREAMING_SNAKE_CASE with a message each', () => {
    for (const word of words) {
      expect(word).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(REJECT_MESSAGES[word].length).toBeGreaterThan(0);
    }
  });

  it('puts each code in a known domain range', () => {
    for (const code of codes) expect(rejectDomain(code)).toBeDefined();
    expect(rejectDomain(REJECT_CODES.INSUFFICIENT_FUNDS)).toBe('funds');
    expect(rejectDomain(REJECT_CODES.OFF_TICK)).toBe('validation');
    expect(rejectDomain(REJECT_CODES.DUPLICATE_ORDER_ID)).toBe('matching');
  });
});
