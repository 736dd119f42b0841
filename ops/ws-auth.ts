/**
 * The ws-server's Authenticator (ws-server/ports.ts): the same check as a signed HTTP request
 * (api/auth.ts) over the message timestamp + "GET" + "/ws" — key known (api/credentials.ts,
 * PostgreSQL, cached), hex HMAC-SHA256 right, timestamp within the window — and replays refused
 * across every ws-server instance: a signature is claimed in Redis (SET NX PX, twice the window).
 * Without Redis the claim falls back to this process's own replay cache, refusing signatures older
 * than the process (as HTTP does), so an outage never lets a captured auth frame in twice here.
 */
import { Redis } from 'ioredis';
import type { CredentialStore } from '../api/credentials.ts';
import { ReplayCache, signatureMatches } from '../api/signature.ts';
import type { AuthenticatedKey, Authenticator } from '../ws-server/ports.ts';
import { WsError } from '../contract/ws-frames.ts';

export interface WsAuthOptions {
  readonly credentials: CredentialStore;
  readonly redisUrl: string;
  /** Redis key prefix of claimed signatures (namespaced like the brokers) */
  readonly keyPrefix: string;
  readonly windowMs?: number;
  readonly now?: () => number;
}

export class WsAuthenticator implements Authenticator {
  readonly #options: WsAuthOptions;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #local: ReplayCache;
  readonly #startedAt: number;
  readonly #redis: Redis;

  constructor(options: WsAuthOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#local = new ReplayCache(this.#windowMs, 1_000_000);
    this.#startedAt = this.#now();
    this.#redis = new Redis(options.redisUrl, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1_000,
      connectTimeout: 2_000,
    });
    this.#redis.on('error', () => {});
  }

  async authenticate(apiKey: string, timestamp: string, signature: string): Promise<AuthenticatedKey> {
    const timestampMs = Number(timestamp);
    const now = this.#now();
    if (!Number.isSafeInteger(timestampMs) || Math.abs(now - timestampMs) > this.#windowMs)
      throw new WsError(
        'STALE_TIMESTAMP',
        `timestamp must be within ${this.#windowMs / 1000} s of the server's clock (ms since the epoch)`,
      );
    let credential;
    try {
      credential =
        this.#options.credentials.cached(apiKey) ?? (apiKey.length <= 128 ? await this.#options.credentials.lookup(apiKey) : undefined);
    } catch {
      throw new WsError('STORE_UNAVAILABLE');
    }
    if (!credential) throw new WsError('INVALID_API_KEY');
    if (!/^[0-9a-fA-F]{64}$/.test(signature) || !signatureMatches(credential.hmacKey, signature.toLowerCase(), timestamp, 'GET', '/ws', ''))
      throw new WsError('INVALID_SIGNATURE');
    if (!(await this.#claim(signature.toLowerCase(), timestampMs, now))) throw new WsError('REPLAYED_SIGNATURE');
    return { userId: credential.userId, apiKey };
  }

  async #claim(signature: string, timestampMs: number, now: number): Promise<boolean> {
    const local = this.#local.remember(signature, timestampMs, now);
    if (local !== 'fresh') return false;
    try {
      const set = await this.#redis.set(`${this.#options.keyPrefix}ws-auth:${signature}`, '1', 'PX', this.#windowMs * 2, 'NX');
      return set === 'OK';
    } catch {
      // Redis away: this process's cache alone, which cannot know what another instance (or an
      // earlier run of this one) accepted before it started
      return timestampMs >= this.#startedAt;
    }
  }

  close(): void {
    this.#redis.disconnect();
  }
}
