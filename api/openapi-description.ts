/** The OpenAPI document's introduction (info.description): signing, decimals, idempotency, rate limits, the order status and error word tables. */
import { rejectDomain } from '../engine/index.ts';
import type { errorCatalogue } from './errors.ts';
import { ORDER_STATUSES } from './openapi-shared.ts';

/** Engine reject words the API also answers itself, before anything is sequenced. */
const ANSWERED_BY_API: Readonly<Record<string, string>> = {
  ORDER_NOT_FOUND: 'HTTP 404 (GET/PATCH/DELETE /v1/order/{id}); order reject_reason',
  ORDER_NOT_OPEN: 'HTTP 400 (PATCH/DELETE /v1/order/{id} of a finished order); order reject_reason',
  AMEND_NOT_REDUCING: 'HTTP 400 (PATCH /v1/order/{id}); 409 when the engine refuses it',
  AMEND_BELOW_FILLED: 'HTTP 400 (PATCH /v1/order/{id}); 409 when the engine refuses it (filled in between)',
  AMEND_NOT_ALLOWED: 'HTTP 400 (PATCH /v1/order/{id} of a buy by quote amount)',
  INSUFFICIENT_AVAILABLE: 'HTTP 400 (POST /admin/withdrawals beyond the available balance); reject reason',
};

/** Markdown: how to sign and what the words mean, with both tables built from the catalogues. */
export function apiDescription(catalogue: ReturnType<typeof errorCatalogue>): string {
  const errorList = catalogue
    .map((entry) => {
      const where =
        entry.code >= 4000
          ? `HTTP ${entry.status}`
          : rejectDomain(entry.code) === 'validation'
            ? 'HTTP 400'
            : (ANSWERED_BY_API[entry.error] ?? 'order reject_reason');
      return `| \`${entry.error}\` | ${entry.code} | ${where} | ${entry.message} |`;
    })
    .join('\n');
  const statusList = Object.entries(ORDER_STATUSES)
    .map(([status, meaning]) => `| \`${status}\` | ${meaning} |`)
    .join('\n');
  return [
    'Spot exchange API. An order is answered `200 {order_id, status: "ACCEPTED"}` as soon as it is durable in the journal (fsync) and applied by the engine; matching outcome is read with GET /v1/order/{order_id}.',
    '',
    '**Signing.** Headers `X-API-KEY`, `X-TIMESTAMP` (ms since the epoch) and `X-SIGNATURE` = hex HMAC-SHA256(api_secret, timestamp + METHOD + path_with_query + body). The timestamp must be within 60 s of the server clock; a signature already used inside that window is refused (401 REPLAYED_SIGNATURE) — sign every request afresh. Two requests with the same method, path and body signed in the same millisecond have the same signature and are one request to the server: the second is REPLAYED_SIGNATURE; give each its own timestamp or a distinct client_order_id.',
    '',
    '**Decimals** are strings in responses; requests accept strings or JSON numbers, a number being read by the exact characters sent (never via a float) under the same rules as a string. More significant decimals than the asset has (trailing zeros do not count; KRW has 0, BTC and ETH 8) is 400 TOO_MANY_DECIMALS; within that but not a multiple of the tick or lot is OFF_TICK / OFF_LOT. Times are integer ms since the epoch. Ids are decimal strings.',
    '',
    '**Idempotency.** `client_order_id` is unique per user among open and recent orders: a retry with the same id returns the original `order_id` (`duplicate: true`) and places nothing, whatever the rest of the body says.',
    '',
    '**Rate limits** per API key: orders per second (POST /v1/order, PATCH and DELETE /v1/order/{id}, DELETE /v1/orders — one token for the whole cancel-all) and signed requests per minute; 429 with `Retry-After`.',
    '',
    '**Order statuses**',
    '',
    '| status | meaning |',
    '| --- | --- |',
    statusList,
    '',
    '**Error words** (`{"error": WORD, "message": text}`; the word is stable, the message is for people)',
    '',
    '| error | code | where | meaning |',
    '| --- | --- | --- | --- |',
    errorList,
  ].join('\n');
}
