import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './errors.ts';
import { NUMBER_MARK, quoteJsonNumbers } from './json-numbers.ts';
import { duplicateKeyOf } from '../lib/strict-json.ts';

export const MAX_BODY_BYTES = 16 * 1024;

const chunkedLimit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ApiError('BODY_TOO_LARGE');
  },
});

/**
 * 413 past 16 KiB. With a Content-Length (every normal client) the header decides and the body
 * is later read on @hono/node-server's fast path; only chunked bodies go through hono's streaming
 * bodyLimit (slower, but it never buffers more than the limit).
 */
export const limitBody: MiddlewareHandler = async (c, next) => {
  const length = c.req.header('content-length');
  if (length !== undefined) {
    if (!/^\d+$/.test(length) || Number(length) > MAX_BODY_BYTES) throw new ApiError('BODY_TOO_LARGE');
    return next();
  }
  if (c.req.header('transfer-encoding') !== undefined) return chunkedLimit(c, next);
  return next();
};

/** Reads the body once as text (signing needs the exact bytes); '' for GET/HEAD. */
export async function bodyText(c: Context): Promise<string> {
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD') return '';
  const text = await c.req.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError('BODY_TOO_LARGE');
  return text;
}

/** Refuses anything but application/json, in UTF-8 (no charset, or charset=utf-8). */
export function requireJson(c: Context): void {
  requireJsonType(c.req.header('content-type'));
}

const JSON_TYPE = /^application\/json[ \t]*(?:;|$)/i;
/** `application/json; charset=utf-8` in its usual spellings, accepted without taking the parameters apart */
const JSON_UTF8 = /^application\/json[ \t]*;[ \t]*charset=(?:utf-8|"utf-8")$/i;

/**
 * The same check on the Content-Type value itself: 415 UNSUPPORTED_MEDIA_TYPE for another type,
 * 415 UNSUPPORTED_CHARSET for a charset other than UTF-8 (any case, quoted or not) — bodies are
 * always decoded as UTF-8, so `charset=utf-16` or `latin1` would be read as something the client
 * did not mean. A charset given twice is refused too (which one would a proxy believe?).
 */
export function requireJsonType(type: string | undefined): void {
  if (type === 'application/json' || JSON_UTF8.test(type ?? '')) return; // the usual cases first: the order path runs this
  if (!type || !JSON_TYPE.test(type)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
  const parameters = type.split(';');
  let charsets = 0;
  for (let index = 1; index < parameters.length; index++) {
    const parameter = parameters[index]!;
    const equals = parameter.indexOf('=');
    const name = (equals < 0 ? parameter : parameter.slice(0, equals)).trim().toLowerCase();
    if (name !== 'charset') continue;
    let value = equals < 0 ? '' : parameter.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (++charsets > 1 || value.toLowerCase() !== 'utf-8')
      throw new ApiError(
        'UNSUPPORTED_CHARSET',
        `Content-Type charset must be utf-8 (or absent), not ${JSON.stringify(value.slice(0, 40))}`,
      );
  }
}

/**
 * JSON.parse that answers MALFORMED_JSON instead of throwing a SyntaxError; objects only. Number
 * literals arrive as strings of the client's exact characters (see json-numbers.ts), so a decimal
 * sent as a JSON number is never rounded by a float on its way to validation. A key repeated in
 * any object is DUPLICATE_KEY (lib/strict-json.ts): what a log or a proxy reads must be what executes.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(quoteJsonNumbers(text));
  } catch {
    throw new ApiError('MALFORMED_JSON');
  }
  const duplicate = duplicateKeyOf(text, value);
  if (duplicate) throw new ApiError('DUPLICATE_KEY', duplicate.message);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('INVALID_BODY');
  const body = value as Record<string, unknown>;
  for (const key of Object.keys(body)) body[key] = restoreNumbers(body[key], DECIMAL_FIELDS.has(key));
  return body;
}

/**
 * Decimal fields keep the client's exact characters as a string; anywhere else a JSON number is a
 * number again, so the field's validator refuses it where a string belongs (`"client_order_id": 123`
 * is INVALID_FIELD, not the string "123"), and an unknown field is still UNKNOWN_FIELD.
 */
function restoreNumbers(value: unknown, decimal: boolean, depth = 0): unknown {
  // no field of any body nests; past this depth the value is refused by validation anyway (and a
  // recursion as deep as the client's nesting would overflow the stack)
  if (depth > MAX_NESTING) return value;
  if (typeof value === 'string') {
    if (!value.startsWith(NUMBER_MARK)) return value;
    const literal = value.slice(NUMBER_MARK.length);
    return decimal ? literal : Number(literal);
  }
  if (Array.isArray(value)) return value.map((item) => restoreNumbers(item, false, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    // a decimal field inside a list item (POST /admin/index-prices `prices[].price`) keeps its characters too
    for (const key of Object.keys(object)) object[key] = restoreNumbers(object[key], DECIMAL_FIELDS.has(key), depth + 1);
  }
  return value;
}

const MAX_NESTING = 32;

/** the body fields that are decimals: a JSON number or a string, the same rules either way */
const DECIMAL_FIELDS: ReadonlySet<string> = new Set(['price', 'quantity', 'stop_price', 'quote_amount', 'amount']);
