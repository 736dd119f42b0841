/**
 * Exponential back-off with full jitter and a cap (kafkajs src/retry's shape, without its
 * NODE_ENV branch): attempt n waits a random time in [base·2ⁿ / 2, base·2ⁿ], never more than the
 * cap. Randomness is injected so tests are exact.
 */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** An error a publisher should not retry blindly: the broker says the data is gone, resend from `seq`. */
export class RewindRequired extends Error {
  override name = 'RewindRequired';
  constructor(
    readonly heldSeq: number,
    message: string,
  ) {
    super(message);
  }
}

export class PublishTimeoutError extends Error {
  override name = 'PublishTimeoutError';
}

/** Rejects after `ms` unless `promise` settled first (a hung broker must not hold a publisher forever). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PublishTimeoutError(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
