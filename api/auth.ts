import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, ApiDeps } from './context.ts';
import { bodyText } from './body.ts';
import { ApiError } from './errors.ts';
import { RateLimiter } from './rate-limit.ts';
import { ReplayCache, signatureMatches } from './signature.ts';

const TIMESTAMP = /^\d{1,15}$/;

/**
 * Signed requests (ARCHITECTURE.md): X-API-KEY, X-TIMESTAMP (ms), X-SIGNATURE = hex
 * HMAC-SHA256(secret, timestamp + method + path_with_query + body). Checks, in order: headers
 * present, timestamp inside the window, key known, signature right, signature not seen before,
 * then the key's rate limit — so bad or replayed requests never use up the owner's quota.
 */
export function signedRequests(deps: ApiDeps): MiddlewareHandler<AppEnv> {
  const windowMs = deps.signatureWindowMs ?? 60_000;
  const replays = new ReplayCache(windowMs, deps.replayCacheEntries);
  const limiter = new RateLimiter(deps.rateLimits);
  const now = deps.now ?? Date.now;
  // The replay cache starts empty in a new process: a request signed before this process existed
  // may have been served by the previous one, so it is refused rather than risk a replay.
  const notBefore = now();
  return async (c, next) => {
    // Hono's '/v1/order/*' also matches '/v1/order': authenticate (and count) a request once.
    if (c.get('userId') !== undefined) return next();
    const apiKey = c.req.header('x-api-key');
    const timestamp = c.req.header('x-timestamp');
    const signature = c.req.header('x-signature');
    if (!apiKey || !timestamp || !signature) throw new ApiError('MISSING_CREDENTIALS');
    if (!TIMESTAMP.test(timestamp)) throw new ApiError('INVALID_TIMESTAMP_HEADER');
    const timestampMs = Number(timestamp);
    const clock = now();
    if (Math.abs(clock - timestampMs) > windowMs) throw new ApiError('STALE_TIMESTAMP');
    if (timestampMs < notBefore) throw new ApiError('STALE_TIMESTAMP', 'X-TIMESTAMP is older than this server process; sign the request afresh');
    const credential = deps.credentials.cached(apiKey) ?? (apiKey.length <= 128 ? await deps.credentials.lookup(apiKey) : undefined);
    if (!credential) throw new ApiError('INVALID_API_KEY');
    const body = await bodyText(c);
    const url = c.req.url;
    const pathWithQuery = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    if (!signatureMatches(credential.hmacKey, signature, timestamp, c.req.method, pathWithQuery, body)) {
      throw new ApiError('INVALID_SIGNATURE');
    }
    const seen = replays.remember(signature, timestampMs, clock);
    if (seen === 'replayed') throw new ApiError('REPLAYED_SIGNATURE');
    if (seen === 'full') throw new ApiError('OVERLOADED', 'too many signed requests inside the signature window; retry shortly');
    const method = c.req.method;
    const isOrder = method === 'DELETE' || (method === 'POST' && c.req.path === '/v1/order');
    const decision = limiter.take(apiKey, isOrder, clock);
    if (!decision.allowed) {
      throw new ApiError('RATE_LIMITED', `${decision.limit === 'orders' ? 'orders per second' : 'requests per minute'} limit exceeded`, {
        'Retry-After': String(decision.retryAfterSeconds),
      });
    }
    c.set('userId', credential.userId);
    c.set('apiKey', apiKey);
    c.set('body', body);
    await next();
  };
}

/** Authorization: Bearer <ADMIN_TOKEN>, compared in constant time (over hashes, so lengths may differ). */
export function adminOnly(adminToken: string): MiddlewareHandler<AppEnv> {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    const given = createHash('sha256').update(match?.[1] ?? '').digest();
    if (!match || !timingSafeEqual(given, expected)) throw new ApiError('ADMIN_UNAUTHORIZED');
    await next();
  };
}
