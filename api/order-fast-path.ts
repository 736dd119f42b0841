/**
 * POST /v1/order without the Hono and @hono/node-server layers: the order path is most of the
 * core's traffic, and per request those layers (Request/Response objects, Context, the middleware
 * chain and its promises) cost as much CPU as the API's own checks. The fast path runs the very
 * same steps as the app — the Content-Length limit, SignedRequestVerifier, the shared PlaceOrder
 * and the shared error mapping — so answers are identical (api/order-fast-path.int.test.ts compares
 * both paths request by request). It takes only requests whose transport details are unremarkable:
 * `POST /v1/order` exactly, a plain Host, a Content-Length within the limit, no Transfer-Encoding,
 * and header values the adapter would pass through unchanged; everything else returns false
 * untouched and goes to the app.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SignedRequestVerifier } from './auth.ts';
import { MAX_BODY_BYTES } from './body.ts';
import { ApiError } from './errors.ts';
import type { PlaceOrder } from './routes-orders.ts';

export type OrderFastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

export type ErrorAnswerFn = (
  error: unknown,
  method: string,
  path: string,
) => { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: unknown };

/** Hosts @hono/node-server takes as they are (anything else goes through `new URL`, which may refuse it). */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
/** Header values the adapter returns unchanged: printable ASCII, no surrounding whitespace. */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
const DIGITS = /^\d+$/;
const PATH = '/v1/order';
const decoder = new TextDecoder();

const plain = (value: string | string[] | undefined): boolean =>
  value === undefined || (typeof value === 'string' && PLAIN_VALUE.test(value));

export function createOrderFastPath(verifier: SignedRequestVerifier, placeOrder: PlaceOrder, errorAnswer: ErrorAnswerFn): OrderFastPath {
  const answer = (outgoing: ServerResponse, status: number, headers: Readonly<Record<string, string>> | undefined, body: unknown): void => {
    if (outgoing.headersSent || outgoing.destroyed) return;
    const text = JSON.stringify(body);
    const head: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
    if (headers) for (const name in headers) head[name] = headers[name]!;
    outgoing.writeHead(status, head);
    outgoing.end(text);
  };
  const fail = (outgoing: ServerResponse, error: unknown): void => {
    const refusal = errorAnswer(error, 'POST', PATH);
    answer(outgoing, refusal.status, refusal.headers, refusal.body);
  };

  const handle = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer): void => {
    const headers = incoming.headers;
    try {
      const caller = verifier.verify(
        headers['x-api-key'] as string | undefined,
        headers['x-timestamp'] as string | undefined,
        headers['x-signature'] as string | undefined,
        'POST',
        PATH,
        PATH,
        () => {
          // as the app's bodyText: the text as decoded (TextDecoder, like the adapter), then its length
          const text = decoder.decode(body);
          if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError('BODY_TOO_LARGE');
          return text;
        },
      );
      const contentType = headers['content-type'];
      const placed =
        caller instanceof Promise
          ? caller.then((verified) => placeOrder(verified.userId, contentType, verified.body))
          : placeOrder(caller.userId, contentType, caller.body);
      placed.then(
        (ack) => answer(outgoing, 200, undefined, ack),
        (error: unknown) => fail(outgoing, error),
      );
    } catch (error) {
      fail(outgoing, error);
    }
  };

  return (incoming, outgoing) => {
    if (incoming.method !== 'POST' || incoming.url !== PATH) return false;
    const headers = incoming.headers;
    const length = headers['content-length'];
    if (length === undefined || !DIGITS.test(length) || Number(length) > MAX_BODY_BYTES) return false;
    if (headers['transfer-encoding'] !== undefined) return false;
    const host = headers.host;
    if (host === undefined || !PLAIN_HOST.test(host)) return false;
    if (!plain(headers['x-api-key']) || !plain(headers['x-timestamp']) || !plain(headers['x-signature']) || !plain(headers['content-type']))
      return false;

    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    incoming.on('data', (chunk: Buffer) => {
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    });
    incoming.once('end', () => handle(incoming, outgoing, chunks ? Buffer.concat(chunks) : (first ?? Buffer.alloc(0))));
    return true;
  };
}
