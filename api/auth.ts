import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, ApiDeps } from './context.ts';
import type { ApiCredential } from './credentials.ts';
import { bodyText } from './body.ts';
import { ApiError } from './errors.ts';
import { RateLimiter } from './rate-limit.ts';
import { ReplayCache, signatureMatches } from './signature.ts';

const TIMESTAMP = /^\d{1,15}$/;

/**
 * Signed requests (ARCHITECTURE.md): X-API-KEY, X-TIMESTAMP (ms), X-SIGNATURE = hex
 * HMAC-SHA256(secret, timestamp + method + path_with_query + body). Checks, in order: headers
 * present, timestamp inside the window, key known, signature right, the key's rate limit (checked),
 * signature not seen before, then the rate limit counted — so bad or replayed requests never use up
 * the owner's quota, and a rate-limited key never fills the replay cache every key shares.
 */
/** What a verified signed request carries on. */
export interface SignedCaller {
  readonly userId: number;
  readonly apiKey: string;
  readonly body: string;
}

/**
 * The checks of a signed request, shared by the Hono middleware and the POST /v1/order fast path
 * (api/order-fast-path.ts), so both answer exactly alike. `readBody` is called only once the key
 * is known, as before.
 */
export class SignedRequestVerifier {
  readonly #deps: ApiDeps;
  readonly #windowMs: number;
  readonly #replays: ReplayCache;
  readonly #limiter: RateLimiter;
  readonly #now: () => number;
  readonly #notBefore: number;

  constructor(deps: ApiDeps) {
    this.#deps = deps;
    this.#windowMs = deps.signatureWindowMs ?? 60_000;
    this.#replays = new ReplayCache(this.#windowMs, deps.replayCacheEntries);
    this.#limiter = new RateLimiter(deps.rateLimits);
    this.#now = deps.now ?? Date.now;
    // The replay cache starts empty in a new process: a request signed before this process existed
    // may have been served by the previous one, so it is refused rather than risk a replay.
    this.#notBefore = this.#now();
  }

  /**
   * Headers present, timestamp inside the window, key known, signature right, rate limit checked,
   * signature not seen before, rate limit counted. Returns a promise only when the key is not cached or the
   * body is not read yet.
   */
  verify(
    apiKey: string | undefined,
    timestamp: string | undefined,
    signature: string | undefined,
    method: string,
    path: string,
    pathWithQuery: string,
    readBody: () => string | Promise<string>,
  ): SignedCaller | Promise<SignedCaller> {
    if (!apiKey || !timestamp || !signature) throw new ApiError('MISSING_CREDENTIALS');
    if (!TIMESTAMP.test(timestamp)) throw new ApiError('INVALID_TIMESTAMP_HEADER');
    const timestampMs = Number(timestamp);
    const clock = this.#now();
    if (Math.abs(clock - timestampMs) > this.#windowMs) throw new ApiError('STALE_TIMESTAMP');
    if (timestampMs < this.#notBefore)
      throw new ApiError('STALE_TIMESTAMP', 'X-TIMESTAMP is older than this server process; sign the request afresh');
    const cached = this.#deps.credentials.cached(apiKey);
    if (cached) {
      const body = readBody();
      if (typeof body === 'string')
        return this.#check(cached, apiKey, timestamp, timestampMs, signature, clock, method, path, pathWithQuery, body);
      return body.then((text) => this.#check(cached, apiKey, timestamp, timestampMs, signature, clock, method, path, pathWithQuery, text));
    }
    return (async () => {
      const credential = apiKey.length <= 128 ? await this.#deps.credentials.lookup(apiKey) : undefined;
      if (!credential) throw new ApiError('INVALID_API_KEY');
      const body = await readBody();
      return this.#check(credential, apiKey, timestamp, timestampMs, signature, clock, method, path, pathWithQuery, body);
    })();
  }

  #check(
    credential: ApiCredential,
    apiKey: string,
    timestamp: string,
    timestampMs: number,
    signature: string,
    clock: number,
    method: string,
    path: string,
    pathWithQuery: string,
    body: string,
  ): SignedCaller {
    if (!signatureMatches(credential.hmacKey, signature, timestamp, method, pathWithQuery, body)) {
      throw new ApiError('INVALID_SIGNATURE');
    }
    // The key's rate limit is checked before the signature is recorded: a key refused for its rate
    // must not fill the replay cache every key shares (full, it refuses everyone with 503). The
    // token is taken only after the replay check, so replayed requests cost no quota.
    // placing, amending and cancelling draw on the orders-per-second bucket (DELETE /v1/orders: one token)
    const isOrder = method === 'DELETE' || method === 'PATCH' || (method === 'POST' && path === '/v1/order');
    const decision = this.#limiter.decide(apiKey, isOrder, clock);
    if (!decision.allowed) {
      throw new ApiError('RATE_LIMITED', `${decision.limit === 'orders' ? 'orders per second' : 'requests per minute'} limit exceeded`, {
        'Retry-After': String(decision.retryAfterSeconds),
      });
    }
    const seen = this.#replays.remember(signature, timestampMs, clock);
    if (seen === 'replayed') throw new ApiError('REPLAYED_SIGNATURE');
    if (seen === 'full')
      throw new ApiError('OVERLOADED', 'too many signed requests inside the signature window; retry shortly', { 'Retry-After': '1' });
    this.#limiter.take(apiKey, isOrder, clock);
    return { userId: credential.userId, apiKey, body };
  }
}

export function signedRequests(verifier: SignedRequestVerifier): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // Hono's '/v1/order/*' also matches '/v1/order': authenticate (and count) a request once.
    if (c.get('userId') !== undefined) return next();
    // Sign over the request target exactly as the client sent it (node's raw request line); the
    // parsed URL percent-encodes characters such as '"' and collapses dot segments, so a correctly
    // signed request would not verify. app.request() (no node request) falls back to the URL.
    const rawTarget = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url;
    const url = c.req.url;
    const caller = await verifier.verify(
      c.req.header('x-api-key'),
      c.req.header('x-timestamp'),
      c.req.header('x-signature'),
      c.req.method,
      c.req.path,
      rawTarget ?? url.slice(url.indexOf('/', url.indexOf('//') + 2)),
      () => bodyText(c),
    );
    c.set('userId', caller.userId);
    c.set('apiKey', caller.apiKey);
    c.set('body', caller.body);
    await next();
  };
}

/** Authorization: Bearer <ADMIN_TOKEN>, compared in constant time (over hashes, so lengths may differ). */
export function adminOnly(adminToken: string): MiddlewareHandler<AppEnv> {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header); // the scheme is case-insensitive (RFC 7235)
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (!match || !timingSafeEqual(given, expected)) throw new ApiError('ADMIN_UNAUTHORIZED');
    await next();
  };
}
