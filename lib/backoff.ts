/**
 * Exponential back-off with a cap and jitter (kafkajs src/retry's shape, without its NODE_ENV
 * branch): retry n (0-based) waits up to d = min(maxMs, initialMs · 2ⁿ); with the default jitter a
 * random time in [d/2, d], so clients that failed together do not retry together. The randomness
 * and the clock are injected so tests are exact.
 */

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 'upper-half' (default): a random point of [d/2, d]; 'none': d itself */
  readonly jitter?: 'upper-half' | 'none';
  /** the exponent stops growing here (default 30, where 2ⁿ is still exact); the cap usually stops growth first */
  readonly maxExponent?: number;
  /** whole milliseconds */
  readonly round?: boolean;
  /** a uniform number in [0, 1) (default Math.random) */
  readonly random?: () => number;
}

/** The delay before retry number `retry` (0 = after the first failure). */
export function backoffDelay(retry: number, policy: BackoffPolicy): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(retry, policy.maxExponent ?? 30));
  const delay = policy.jitter === 'none' ? ceiling : ceiling / 2 + ((policy.random ?? Math.random)() * ceiling) / 2;
  return policy.round ? Math.round(delay) : delay;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Consecutive failures of one thing and the delay each earns; a success starts the count again. */
export class Backoff {
  #failures = 0;

  constructor(
    readonly policy: BackoffPolicy,
    readonly clock: Clock = systemClock,
  ) {}

  /** failures since the last success */
  get failures(): number {
    return this.#failures;
  }

  /** Counts one more failure; returns how long to wait before trying again. */
  next(): number {
    return backoffDelay(this.#failures++, this.policy);
  }

  /** next(), slept on the clock; resolves to the delay waited */
  async wait(): Promise<number> {
    const delay = this.next();
    await this.clock.sleep(delay);
    return delay;
  }

  succeeded(): void {
    this.#failures = 0;
  }
}
