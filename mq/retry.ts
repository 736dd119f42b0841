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
