/**
 * Token buckets per API key, in the memory of the single core process (documented in docs/api.md "Rate limits";
 * a Redis-backed limiter is the option when several API processes share keys). Each key has two
 * buckets: orders per second (POST /v1/order and DELETE /v1/order/{id}) and requests per minute
 * (every signed request). Idle keys are swept so memory stays bounded by active keys.
 */
export interface RateLimits {
  readonly ordersPerSecond: number;
  readonly requestsPerMinute: number;
}

interface Buckets {
  orders: number;
  requests: number;
  refilledAt: number;
}

export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number; readonly limit: 'orders' | 'requests' };

const ALLOWED: RateDecision = { allowed: true };
const SWEEP_EVERY_MS = 60_000;

export class RateLimiter {
  readonly #limits: RateLimits;
  readonly #byKey = new Map<string, Buckets>();
  #sweptAt = 0;

  constructor(limits: RateLimits) {
    this.#limits = limits;
  }

  /** Takes one request token, and one order token when `isOrder`; refuses without taking any. */
  take(apiKey: string, isOrder: boolean, now: number): RateDecision {
    const decision = this.decide(apiKey, isOrder, now);
    if (decision.allowed) {
      const buckets = this.#byKey.get(apiKey)!;
      buckets.requests -= 1;
      if (isOrder) buckets.orders -= 1;
    }
    return decision;
  }

  /** What take() would answer now, taking nothing (the buckets are refilled to `now`). */
  decide(apiKey: string, isOrder: boolean, now: number): RateDecision {
    const { ordersPerSecond, requestsPerMinute } = this.#limits;
    if (now - this.#sweptAt > SWEEP_EVERY_MS) this.#sweep(now);
    let buckets = this.#byKey.get(apiKey);
    if (!buckets) {
      buckets = { orders: ordersPerSecond, requests: requestsPerMinute, refilledAt: now };
      this.#byKey.set(apiKey, buckets);
    } else if (now > buckets.refilledAt) {
      const elapsed = now - buckets.refilledAt;
      buckets.orders = Math.min(ordersPerSecond, buckets.orders + (elapsed * ordersPerSecond) / 1000);
      buckets.requests = Math.min(requestsPerMinute, buckets.requests + (elapsed * requestsPerMinute) / 60_000);
      buckets.refilledAt = now;
    }
    if (buckets.requests < 1) {
      return {
        allowed: false,
        limit: 'requests',
        retryAfterSeconds: Math.max(1, Math.ceil(((1 - buckets.requests) * 60) / requestsPerMinute)),
      };
    }
    if (isOrder && buckets.orders < 1) {
      return { allowed: false, limit: 'orders', retryAfterSeconds: Math.max(1, Math.ceil((1 - buckets.orders) / ordersPerSecond)) };
    }
    return ALLOWED;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    // A key idle for a full minute has both buckets full again: forgetting it changes nothing.
    for (const [key, buckets] of this.#byKey) if (now - buckets.refilledAt >= 60_000) this.#byKey.delete(key);
  }
}
