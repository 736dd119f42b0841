import { REJECT_CODES, REJECT_MESSAGES, type RejectReason } from '../engine/reject-codes.ts';
import type { ErrorKind } from '../sequencer/index.ts';

/**
 * Error words the API answers with, `{error, message}`, beside the engine's own reject words
 * (engine/reject-codes.ts) which it reuses for order validation. Stable: never rename one.
 * The number is for documentation and metrics; the word is the contract.
 */
export const API_ERRORS = {
  // 4xxx: auth, permissions, limits (the range engine/reject-codes.ts reserves for the API)
  MISSING_CREDENTIALS: { code: 4001, status: 401, message: 'X-API-KEY, X-TIMESTAMP and X-SIGNATURE headers are required' },
  INVALID_API_KEY: { code: 4002, status: 401, message: 'unknown API key' },
  INVALID_TIMESTAMP_HEADER: { code: 4003, status: 401, message: 'X-TIMESTAMP must be milliseconds since the epoch' },
  STALE_TIMESTAMP: { code: 4004, status: 401, message: 'X-TIMESTAMP is more than 60 s away from the server clock' },
  INVALID_SIGNATURE: {
    code: 4005,
    status: 401,
    message: 'X-SIGNATURE does not match hex HMAC-SHA256(secret, timestamp + method + path_with_query + body)',
  },
  REPLAYED_SIGNATURE: { code: 4006, status: 401, message: 'this signature was already used; sign every request afresh' },
  ADMIN_UNAUTHORIZED: { code: 4007, status: 401, message: 'Authorization: Bearer <admin token> required' },
  RATE_LIMITED: { code: 4029, status: 429, message: 'rate limit exceeded; retry after the Retry-After seconds' },
  TOO_MANY_CONNECTIONS: {
    code: 4030,
    status: 429,
    message: 'this client address holds as many connections as it may (HTTP_MAX_CONNECTIONS_PER_CLIENT); reuse them',
  },
  // 5xxx: request shape
  MALFORMED_JSON: { code: 5001, status: 400, message: 'body is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: { code: 5002, status: 415, message: 'Content-Type must be application/json' },
  BODY_TOO_LARGE: { code: 5003, status: 413, message: 'body larger than 16 KiB' },
  INVALID_BODY: { code: 5004, status: 400, message: 'body must be a JSON object' },
  UNKNOWN_FIELD: { code: 5005, status: 400, message: 'unknown field' },
  INVALID_FIELD: { code: 5006, status: 400, message: 'a field has the wrong type or format' },
  MISSING_FIELD: { code: 5007, status: 400, message: 'a required field is missing' },
  INVALID_QUERY: { code: 5009, status: 400, message: 'a query parameter is invalid' },
  UNKNOWN_USER: { code: 5010, status: 400, message: 'no such user' },
  INVALID_TIME_RANGE: { code: 5011, status: 400, message: 'start and end must be ms since the epoch, start not after end' },
  INVALID_INTERVAL: { code: 5012, status: 400, message: 'interval must be one of 1m, 5m, 15m, 1h, 4h, 1d' },
  DUPLICATE_KEY: { code: 5013, status: 400, message: 'a key appears twice in one JSON object' },
  UNSUPPORTED_CHARSET: { code: 5014, status: 415, message: 'Content-Type charset must be utf-8 (or absent)' },
  FEE_ACCOUNT_DEPOSIT: {
    code: 5015,
    status: 400,
    message: 'the fee account (user 0) takes no deposits: it holds only the fees the engine charged',
  },
  INVALID_TRANSFER_DIRECTION: { code: 5016, status: 400, message: "direction must be 'spot_to_futures' or 'futures_to_spot'" },
  INVALID_MARGIN_ACTION: { code: 5017, status: 400, message: "action must be 'add' or 'remove'" },
  INVALID_INDEX_PRICES: {
    code: 5018,
    status: 400,
    message:
      "prices must list 1 to 100 {symbol, source, price} of perpetual markets, one per symbol and source, not the built-in 'spot' source",
  },
  NOT_A_SETTLEMENT_ASSET: { code: 5019, status: 400, message: 'no perpetual market settles in this asset' },
  // 6xxx: resources and service state
  NOT_FOUND: { code: 6001, status: 404, message: 'no such route' },
  ORDER_NOT_FOUND: { code: 6002, status: 404, message: 'no such order (or not yours)' },
  USER_NOT_FOUND: { code: 6007, status: 404, message: 'no such user' },
  OVERLOADED: { code: 6003, status: 503, message: 'the order queue is full; retry shortly' },
  NOT_READY: { code: 6004, status: 503, message: 'the core is recovering or shutting down; retry shortly' },
  OUTCOME_UNKNOWN: {
    code: 6005,
    status: 503,
    message: 'the journal failed; the command may or may not have been recorded — retry with the same client_order_id',
  },
  STORE_UNAVAILABLE: { code: 6006, status: 503, message: 'the user store (PostgreSQL) is unavailable; retry shortly' },
  INTERNAL: { code: 6500, status: 500, message: 'internal error' },
} as const satisfies Record<string, { code: number; status: number; message: string }>;

export type ApiErrorWord = keyof typeof API_ERRORS;

/** Every word a client can receive in `error`: API words and engine reject words. */
export type ErrorWord = ApiErrorWord | RejectReason;

export interface ErrorBody {
  readonly error: ErrorWord;
  readonly message: string;
}

/** Thrown inside handlers; the app's error handler turns it into `{error, message}` with its status. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly word: ErrorWord;
  readonly headers: Readonly<Record<string, string>>;

  constructor(word: ErrorWord, message?: string, headers: Record<string, string> = {}) {
    const known = (API_ERRORS as Record<string, { status: number; message: string }>)[word];
    super(message ?? known?.message ?? REJECT_MESSAGES[word as RejectReason]);
    this.word = word;
    this.status = known?.status ?? 400;
    this.headers = headers;
  }

  body(): ErrorBody {
    return { error: this.word, message: this.message };
  }
}

/**
 * The one mapping of error kinds (sequencer/errors.ts) to answers, whoever raised the error: the
 * word fixes the status (API_ERRORS; INVALID_COMMAND is the engine's 400 word). `ownMessage`: the
 * error's own message is answered (the sequencer's and the event log's say what is full or failed);
 * otherwise the word's catalogue message (a store error's would show PostgreSQL's text).
 */
const ANSWER_BY_KIND: Readonly<Record<ErrorKind, { word: ErrorWord; ownMessage: boolean; headers?: Readonly<Record<string, string>> }>> = {
  // A full queue or event log drains within moments: say when to come back, as a 429 does.
  overloaded: { word: 'OVERLOADED', ownMessage: true, headers: { 'Retry-After': '1' } },
  not_ready: { word: 'NOT_READY', ownMessage: true },
  outcome_unknown: { word: 'OUTCOME_UNKNOWN', ownMessage: true },
  invalid_command: { word: 'INVALID_COMMAND', ownMessage: true },
  unavailable: { word: 'STORE_UNAVAILABLE', ownMessage: false },
};

/** The answer to an error that says its kind (any Error with a `kind` of ErrorKind); undefined for any other. */
export function apiErrorOfKind(error: unknown): ApiError | undefined {
  if (!(error instanceof Error)) return undefined;
  const kind = (error as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(ANSWER_BY_KIND, kind)) return undefined;
  const answer = ANSWER_BY_KIND[kind as ErrorKind];
  return new ApiError(answer.word, answer.ownMessage ? error.message : undefined, { ...answer.headers });
}

/** All error words with HTTP status, number and default message (for OpenAPI and the uniqueness test). */
export function errorCatalogue(): Array<{ error: ErrorWord; code: number; status: number; message: string }> {
  const api = Object.entries(API_ERRORS).map(([error, entry]) => ({ error: error as ErrorWord, ...entry }));
  const engine = (Object.keys(REJECT_CODES) as RejectReason[])
    .filter((word) => !(word in API_ERRORS))
    .map((error) => ({
      error,
      code: REJECT_CODES[error] as number,
      status: 400,
      message: REJECT_MESSAGES[error],
    }));
  return [...api, ...engine];
}
