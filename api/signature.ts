import { createHmac, timingSafeEqual } from 'node:crypto';

/** hex HMAC-SHA256(secret, timestamp + method + path_with_query + body) — ARCHITECTURE.md "Signed requests". */
export function signRequest(secret: string | Buffer, timestamp: string, method: string, pathWithQuery: string, body: string): string {
  return createHmac('sha256', secret)
    .update(timestamp + method + pathWithQuery + body)
    .digest('hex');
}

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/** Constant-time check of a hex signature (either case, as hex is); anything not 64 hex characters fails. */
export function signatureMatches(
  key: Buffer,
  signature: string,
  timestamp: string,
  method: string,
  pathWithQuery: string,
  body: string,
): boolean {
  if (!HEX_SIGNATURE.test(signature)) return false;
  const expected = createHmac('sha256', key)
    .update(timestamp + method + pathWithQuery + body)
    .digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/**
 * Refuses a signature seen before inside the validity window. Signatures are filed in one set per
 * second of their X-TIMESTAMP, so expiry drops whole seconds at once, and a replay (same
 * timestamp) is looked up only among that second's signatures. Each entry is the signature's first
 * 52 bits as a number (~20 B); a false "replayed" needs two signatures of the same second to agree
 * on 52 bits. Bounded: past `maxEntries` live signatures, new ones are refused ('full') rather than
 * accepted unchecked; at the default 4,000,000 that is > 60 s of 60,000 signed requests/s.
 */
export class ReplayCache {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #bySecond = new Map<number, Set<number>>();
  #size = 0;
  #oldestSecond = Number.POSITIVE_INFINITY;

  constructor(windowMs: number, maxEntries = 4_000_000) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#size;
  }

  /** Records the signature; 'replayed' when already present, 'full' when the bound is reached. */
  remember(signature: string, timestampMs: number, now: number): 'fresh' | 'replayed' | 'full' {
    this.#expire(now);
    const second = Math.floor(timestampMs / 1000);
    const fingerprint = Number.parseInt(signature.slice(0, 13), 16);
    let bucket = this.#bySecond.get(second);
    if (bucket?.has(fingerprint)) return 'replayed';
    if (this.#size >= this.#maxEntries) return 'full';
    if (!bucket) {
      bucket = new Set();
      this.#bySecond.set(second, bucket);
      if (second < this.#oldestSecond) this.#oldestSecond = second;
    }
    bucket.add(fingerprint);
    this.#size++;
    return 'fresh';
  }

  #expire(now: number): void {
    // A timestamp t is accepted while |now − t| ≤ window, so its second can go once
    // (second + 1) × 1000 + window < now.
    const keepFrom = Math.floor((now - this.#windowMs) / 1000) - 1;
    if (this.#oldestSecond >= keepFrom) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [second, bucket] of this.#bySecond) {
      if (second < keepFrom) {
        this.#size -= bucket.size;
        this.#bySecond.delete(second);
      } else if (second < oldest) {
        oldest = second;
      }
    }
    this.#oldestSecond = oldest;
  }
}
