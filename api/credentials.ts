import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { ErrorKind } from '../sequencer/index.ts';
import type { SecretBox } from './secret-box.ts';

export interface ApiCredential {
  readonly userId: number;
  /** HMAC key: the UTF-8 bytes of the api_secret string handed to the user. */
  readonly hmacKey: Buffer;
}

export interface NewUser {
  readonly userId: number;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** PostgreSQL could not be reached or failed: the API answers 503 (never 500) and nothing changed. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  readonly kind: ErrorKind = 'unavailable';
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StoreUnavailableError(`user store unavailable: ${(error as Error).message}`, { cause: error });
  }
}

const NEGATIVE_TTL_MS = 5_000;
const NEGATIVE_LIMIT = 10_000;
/**
 * Uncached keys looked up at once. A flood of random keys is a flood of distinct queries (the
 * negative cache only helps with repeats): beyond this many in flight, a new unknown key is
 * answered 503 STORE_UNAVAILABLE at once instead of queueing behind the flood on the small pool,
 * where it would also delay new users' first requests and admin calls.
 */
export const MAX_UNCACHED_LOOKUPS = 32;

/**
 * Users and API keys in PostgreSQL, secrets sealed with AES-256-GCM. Lookups are cached in memory
 * after the first hit so the order path never queries PostgreSQL; unknown keys are cached briefly
 * (bounded) so a flood of bad keys cannot become a flood of queries. Keys are never revoked yet,
 * so positive entries need no expiry.
 */
export class CredentialStore {
  readonly #pool: pg.Pool;
  readonly #box: SecretBox;
  readonly #known = new Map<string, ApiCredential>();
  readonly #unknownUntil = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<ApiCredential | undefined>>();
  readonly #userIds = new Set<number>();

  /**
   * `onUnsealFailure` hears of a key that exists but whose secret does not open under this
   * process's encryption key (a different or lost SECRET_ENCRYPTION_KEY / secret-key file): the
   * client only sees 401 INVALID_API_KEY, so the operator needs to hear it (at most once per key
   * per negative-cache period).
   */
  constructor(
    pool: pg.Pool,
    box: SecretBox,
    private readonly onUnsealFailure?: (apiKey: string, userId: number) => void,
  ) {
    this.#pool = pool;
    this.#box = box;
  }

  async createUser(name: string): Promise<NewUser> {
    const apiKey = `xk_${randomBytes(16).toString('hex')}`;
    const apiSecret = randomBytes(32).toString('hex');
    const sealed = this.#box.encrypt(apiSecret);
    const userId = await guarded(async () => {
      const client = await this.#pool.connect();
      try {
        await client.query('BEGIN');
        const user = await client.query<{ id: string }>('INSERT INTO users (name) VALUES ($1) RETURNING id', [name]);
        const id = Number(user.rows[0]!.id);
        await client.query('INSERT INTO api_keys (api_key, user_id, secret_encrypted) VALUES ($1, $2, $3)', [apiKey, id, sealed]);
        await client.query('COMMIT');
        return id;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    });
    this.#known.set(apiKey, { userId, hmacKey: Buffer.from(apiSecret, 'utf8') });
    this.#unknownUntil.delete(apiKey);
    this.#userIds.add(userId);
    return { userId, apiKey, apiSecret };
  }

  /** The cached credential, without touching PostgreSQL (the hot path tries this first). */
  cached(apiKey: string): ApiCredential | undefined {
    return this.#known.get(apiKey);
  }

  async lookup(apiKey: string, now: number = Date.now()): Promise<ApiCredential | undefined> {
    const hit = this.#known.get(apiKey);
    if (hit) return hit;
    const until = this.#unknownUntil.get(apiKey);
    if (until !== undefined && until > now) return undefined;
    let pending = this.#inFlight.get(apiKey);
    if (!pending) {
      if (this.#inFlight.size >= MAX_UNCACHED_LOOKUPS)
        throw new StoreUnavailableError('too many API keys being looked up at once; retry shortly');
      pending = this.#load(apiKey, now).finally(() => this.#inFlight.delete(apiKey));
      this.#inFlight.set(apiKey, pending);
    }
    return pending;
  }

  async #load(apiKey: string, now: number): Promise<ApiCredential | undefined> {
    const result = await guarded(() =>
      this.#pool.query<{ user_id: string; secret_encrypted: Buffer }>(
        'SELECT user_id, secret_encrypted FROM api_keys WHERE api_key = $1 AND revoked_at IS NULL',
        [apiKey],
      ),
    );
    const row = result.rows[0];
    let credential: ApiCredential | undefined;
    if (row) {
      try {
        credential = { userId: Number(row.user_id), hmacKey: Buffer.from(this.#box.decrypt(row.secret_encrypted), 'utf8') };
      } catch {
        // Sealed under another encryption key (e.g. a different DATA_DIR): unusable here.
        credential = undefined;
        this.onUnsealFailure?.(apiKey, Number(row.user_id));
      }
    }
    if (credential) {
      this.#known.set(apiKey, credential);
      this.#userIds.add(credential.userId);
      return credential;
    }
    if (this.#unknownUntil.size >= NEGATIVE_LIMIT) {
      for (const [key, expiry] of this.#unknownUntil) if (expiry <= now) this.#unknownUntil.delete(key);
      if (this.#unknownUntil.size >= NEGATIVE_LIMIT) this.#unknownUntil.clear();
    }
    this.#unknownUntil.set(apiKey, now + NEGATIVE_TTL_MS);
    return undefined;
  }

  async userExists(userId: number): Promise<boolean> {
    if (this.#userIds.has(userId)) return true;
    const result = await guarded(() => this.#pool.query('SELECT 1 FROM users WHERE id = $1', [userId]));
    if (result.rowCount) this.#userIds.add(userId);
    return Boolean(result.rowCount);
  }
}
