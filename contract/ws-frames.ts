/**
 * Client → server frames of ARCHITECTURE.md "WebSocket", parsed and checked without sockets.
 * Every refusal is an error frame `{"type":"error","code","message","id"?}` with one of the stable
 * codes below; the connection stays open (only a frame over the size limit closes it, with 1009).
 * Pure (zod and lib/strict-json.ts only): api/asyncapi.ts describes the protocol from it.
 */
import { z } from 'zod';
import { DuplicateKeyError, parseStrictJson } from '../lib/strict-json.ts';

export const WS_ERROR_CODES = {
  BAD_FRAME: 'not a JSON object (text frames of JSON only)',
  DUPLICATE_KEY: 'a key appears twice in one JSON object',
  UNKNOWN_OP: 'op is not one of auth, subscribe, unsubscribe, ping',
  BAD_REQUEST: 'a field is missing or has the wrong type',
  UNKNOWN_CHANNEL:
    'channel is not executions, positions, orderbook.{SYMBOL}, trades.{SYMBOL}, ticker.{SYMBOL}, markprice.{SYMBOL} or liquidations.{SYMBOL}',
  UNKNOWN_SYMBOL: 'no such market (markprice and liquidations: no such perpetual market)',
  AUTH_REQUIRED: 'the executions and positions channels need an authenticated connection (op auth first)',
  ALREADY_AUTHENTICATED: 'this connection is authenticated already (with another key)',
  INVALID_API_KEY: 'unknown API key',
  INVALID_SIGNATURE: 'signature is not hex HMAC-SHA256(secret, timestamp + "GET" + "/ws")',
  STALE_TIMESTAMP: 'timestamp outside the signature window',
  REPLAYED_SIGNATURE: 'this signature was used already',
  TOO_MANY_SUBSCRIPTIONS: 'subscription limit per connection reached',
  TOO_MANY_CONNECTIONS: 'connection limit for this API key reached',
  RATE_LIMITED: 'too many frames per second on this connection',
  RESUME_UNAVAILABLE: 'execution history is not reachable or still catching up; retry shortly',
  RESUME_TOO_FAR:
    'more missed execution reports than one resume sends; read GET /v1/fills and GET /v1/orders/history, then resume from a later seq',
  STORE_UNAVAILABLE: 'credential store not reachable; retry shortly',
} as const;

export type WsErrorCode = keyof typeof WS_ERROR_CODES;

export class WsError extends Error {
  readonly code: WsErrorCode;
  constructor(code: WsErrorCode, message: string = WS_ERROR_CODES[code]) {
    super(message);
    this.code = code;
  }
}

const requestId = z.union([z.string().max(64), z.number().int().safe()]).optional();
const channels = z.array(z.string().max(64)).min(1).max(100);

const authFrame = z.object({
  op: z.literal('auth'),
  id: requestId,
  api_key: z.string().min(1).max(128),
  timestamp: z.union([z.number().int().nonnegative().safe(), z.string().regex(/^\d{1,15}$/)]),
  signature: z.string().min(1).max(128),
});
const subscribeFrame = z.object({
  op: z.literal('subscribe'),
  id: requestId,
  channels,
  resume_from_seq: z.number().int().nonnegative().safe().optional(),
});
const unsubscribeFrame = z.object({ op: z.literal('unsubscribe'), id: requestId, channels });
const pingFrame = z.object({ op: z.literal('ping'), id: requestId });

export type AuthRequest = z.infer<typeof authFrame>;
export type SubscribeRequest = z.infer<typeof subscribeFrame>;
export type UnsubscribeRequest = z.infer<typeof unsubscribeFrame>;
export type ClientRequest = AuthRequest | SubscribeRequest | UnsubscribeRequest | z.infer<typeof pingFrame>;

/** The client frames' zod schemas (also the AsyncAPI document's, generated from these). */
export const CLIENT_FRAME_SCHEMAS = { auth: authFrame, subscribe: subscribeFrame, unsubscribe: unsubscribeFrame, ping: pingFrame } as const;
const SCHEMAS = CLIENT_FRAME_SCHEMAS;

export type ParseResult = { ok: true; request: ClientRequest } | { ok: false; error: WsError; id?: string | number };

export function parseClientFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (error) {
    return {
      ok: false,
      error: error instanceof DuplicateKeyError ? new WsError('DUPLICATE_KEY', error.message) : new WsError('BAD_FRAME'),
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: new WsError('BAD_FRAME') };
  const record = value as Record<string, unknown>;
  const id =
    typeof record.id === 'string' || (typeof record.id === 'number' && Number.isSafeInteger(record.id))
      ? (record.id as string | number)
      : undefined;
  const withId = (error: WsError): ParseResult => (id === undefined ? { ok: false, error } : { ok: false, error, id });
  const op = record.op;
  if (typeof op !== 'string' || !Object.hasOwn(SCHEMAS, op))
    return withId(new WsError('UNKNOWN_OP', `op ${JSON.stringify(op ?? null)} is not one of auth, subscribe, unsubscribe, ping`));
  const parsed = SCHEMAS[op as keyof typeof SCHEMAS].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return withId(new WsError('BAD_REQUEST', `${op}: ${issue ? `${issue.path.join('.') || 'frame'}: ${issue.message}` : 'invalid'}`));
  }
  return { ok: true, request: parsed.data as ClientRequest };
}

export type Channel =
  | { readonly kind: 'executions'; readonly name: 'executions' }
  | { readonly kind: 'positions'; readonly name: 'positions' }
  | { readonly kind: 'orderbook' | 'trades' | 'ticker'; readonly name: string; readonly symbol: string }
  | { readonly kind: PerpetualChannelKind; readonly name: string; readonly symbol: string };

/** The public channels only a perpetual market has (ARCHITECTURE.md "Perpetual futures → Messages"). */
export type PerpetualChannelKind = 'markprice' | 'liquidations';
const PERPETUAL_KINDS: ReadonlySet<string> = new Set<PerpetualChannelKind>(['markprice', 'liquidations']);

/**
 * `executions`, `positions`, `orderbook.{SYMBOL}`, `trades.{SYMBOL}`, `ticker.{SYMBOL}`,
 * `markprice.{SYMBOL}`, `liquidations.{SYMBOL}` → a channel, or the error to answer. The last two
 * take only a symbol of `perpetuals` (a spot market has no mark price and no liquidations).
 */
export function parseChannel(name: string, symbols: ReadonlySet<string>, perpetuals: ReadonlySet<string> = new Set()): Channel | WsError {
  if (name === 'executions') return { kind: 'executions', name };
  if (name === 'positions') return { kind: 'positions', name };
  const dot = name.indexOf('.');
  const kind = dot < 0 ? name : name.slice(0, dot);
  const symbol = name.slice(dot + 1);
  if (dot >= 0 && PERPETUAL_KINDS.has(kind)) {
    if (!perpetuals.has(symbol)) {
      return new WsError('UNKNOWN_SYMBOL', `unknown perpetual symbol ${JSON.stringify(symbol)} in ${JSON.stringify(name)}`);
    }
    return { kind: kind as PerpetualChannelKind, name, symbol };
  }
  if (dot < 0 || (kind !== 'orderbook' && kind !== 'trades' && kind !== 'ticker')) {
    return new WsError(
      'UNKNOWN_CHANNEL',
      `unknown channel ${JSON.stringify(name)}: executions, positions, orderbook.{SYMBOL}, trades.{SYMBOL}, ticker.{SYMBOL}, markprice.{SYMBOL} or liquidations.{SYMBOL}`,
    );
  }
  if (!symbols.has(symbol)) return new WsError('UNKNOWN_SYMBOL', `unknown symbol ${JSON.stringify(symbol)} in ${JSON.stringify(name)}`);
  return { kind, name, symbol };
}

export function errorFrame(error: WsError, id?: string | number): string {
  return JSON.stringify(
    id === undefined
      ? { type: 'error', code: error.code, message: error.message }
      : { type: 'error', code: error.code, message: error.message, id },
  );
}
