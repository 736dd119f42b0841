import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows a burst up to the per-second order budget, then refills at that rate', () => {
    const limiter = new RateLimiter({ ordersPerSecond: 10, requestsPerMinute: 1000 });
    const t = 1_000_000;
    for (let n = 0; n < 10; n++) expect(limiter.take('k', true, t).allowed).toBe(true);
    expect(limiter.take('k', true, t)).toEqual({ allowed: false, limit: 'orders', retryAfterSeconds: 1 });
    expect(limiter.take('k', false, t).allowed).toBe(true); // reads are not orders
    expect(limiter.take('k', true, t + 99).allowed).toBe(false);
    expect(limiter.take('k', true, t + 100).allowed).toBe(true);
    expect(limiter.take('other', true, t).allowed).toBe(true); // per key
  });

  it('limits all signed requests per minute, with Retry-After in whole seconds', () => {
    const limiter = new RateLimiter({ ordersPerSecond: 100, requestsPerMinute: 2 });
    const t = 5_000_000;
    expect(limiter.take('k', false, t).allowed).toBe(true);
    expect(limiter.take('k', true, t).allowed).toBe(true);
    expect(limiter.take('k', false, t)).toEqual({ allowed: false, limit: 'requests', retryAfterSeconds: 30 });
    expect(limiter.take('k', false, t + 30_000).allowed).toBe(true);
  });

  it('takes no token from a refused request', () => {
    const limiter = new RateLimiter({ ordersPerSecond: 1, requestsPerMinute: 3 });
    const t = 9_000_000;
    expect(limiter.take('k', true, t).allowed).toBe(true);
    expect(limiter.take('k', true, t).allowed).toBe(false);
    expect(limiter.take('k', true, t).allowed).toBe(false);
    expect(limiter.take('k', false, t).allowed).toBe(true);
    expect(limiter.take('k', false, t).allowed).toBe(true);
    expect(limiter.take('k', false, t).allowed).toBe(false);
  });
});
