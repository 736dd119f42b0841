import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReplayCache, signatureMatches, signRequest } from './signature.ts';

/** Distinct, uniformly spread 64-hex strings, like real HMACs. */
const signature = (n: number) => createHash('sha256').update(String(n)).digest('hex');

describe('signRequest / signatureMatches', () => {
  it('matches hex HMAC-SHA256(secret, timestamp + method + path_with_query + body) and nothing else', () => {
    // Known answer, computed independently: printf '%s' '1700000000000GET/v1/orders?symbol=BTC-KRW' | openssl dgst -sha256 -hmac secret
    const expected = signRequest('secret', '1700000000000', 'GET', '/v1/orders?symbol=BTC-KRW', '');
    expect(expected).toBe('82459ded6d909f9c8ec79754485e491bbd71edda965617c886738c28ea90fffb');
    const key = Buffer.from('secret');
    expect(signatureMatches(key, expected, '1700000000000', 'GET', '/v1/orders?symbol=BTC-KRW', '')).toBe(true);
    expect(signatureMatches(key, expected, '1700000000001', 'GET', '/v1/orders?symbol=BTC-KRW', '')).toBe(false);
    expect(signatureMatches(key, expected, '1700000000000', 'GET', '/v1/orders', '')).toBe(false);
    // hex has no case: the same digest in upper case is the same signature
    expect(signatureMatches(key, expected.toUpperCase(), '1700000000000', 'GET', '/v1/orders?symbol=BTC-KRW', '')).toBe(true);
    expect(signatureMatches(Buffer.from('other'), expected, '1700000000000', 'GET', '/v1/orders?symbol=BTC-KRW', '')).toBe(false);
  });
});

describe('ReplayCache', () => {
  it('refuses a signature seen inside the window and forgets it once the window has passed', () => {
    const cache = new ReplayCache(60_000);
    const t = 1_700_000_000_000;
    expect(cache.remember(signature(1), t, t)).toBe('fresh');
    expect(cache.remember(signature(1), t, t + 59_000)).toBe('replayed');
    expect(cache.remember(signature(2), t, t + 59_000)).toBe('fresh');
    // Long after the window nothing of that second is kept (the auth check refuses such old timestamps anyway).
    expect(cache.remember(signature(3), t + 200_000, t + 200_000)).toBe('fresh');
    expect(cache.size).toBe(1);
  });

  it('refuses new signatures instead of accepting them unchecked when full', () => {
    const cache = new ReplayCache(60_000, 3);
    const t = 1_700_000_000_000;
    for (let n = 1; n <= 3; n++) expect(cache.remember(signature(n), t, t)).toBe('fresh');
    expect(cache.remember(signature(4), t, t)).toBe('full');
    expect(cache.remember(signature(1), t, t)).toBe('replayed');
    expect(cache.remember(signature(4), t + 70_000, t + 70_000)).toBe('fresh');
  });
});
