/**
 * The REST client of the page: public GETs and signed requests (X-API-KEY, X-TIMESTAMP,
 * X-SIGNATURE = hex HMAC-SHA256(secret, timestamp + METHOD + path_with_query + body)), signed in the
 * browser with Web Crypto. The secret is imported once as a non-extractable HMAC key and the text is
 * dropped: nothing of it is stored, and a reload means logging in again.
 */
import { describeError } from './error-words.ts';

export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly word: string | undefined,
    readonly serverMessage: string | undefined,
  ) {
    super(describeError(word, serverMessage));
  }
}

export interface Signer {
  readonly apiKey: string;
  /** hex HMAC-SHA256 of `message` */
  sign(message: string): Promise<string>;
  /** a timestamp never given before by this signer: two requests alike in one ms would share a signature, which the server refuses as a replay */
  nextTimestamp(): number;
}

const encoder = new TextEncoder();

export async function createSigner(apiKey: string, apiSecret: string): Promise<Signer> {
  if (!globalThis.crypto?.subtle) throw new Error('Web Crypto is unavailable: open the page over https or on 127.0.0.1/localhost.');
  const key = await crypto.subtle.importKey('raw', encoder.encode(apiSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  let last = 0;
  return {
    apiKey,
    async sign(message) {
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
      let hex = '';
      for (const byte of mac) hex += byte.toString(16).padStart(2, '0');
      return hex;
    },
    nextTimestamp() {
      last = Math.max(Date.now(), last + 1);
      return last;
    },
  };
}

export class ApiClient {
  signer: Signer | undefined;

  constructor(private readonly base = '') {}

  get(path: string): Promise<unknown> {
    return this.#send('GET', path, undefined, {});
  }

  async signed(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', pathWithQuery: string, body?: unknown): Promise<unknown> {
    const signer = this.signer;
    if (!signer) throw new ApiRequestError(401, 'MISSING_CREDENTIALS', undefined);
    const text = body === undefined ? '' : JSON.stringify(body);
    const timestamp = String(signer.nextTimestamp());
    const signature = await signer.sign(`${timestamp}${method}${pathWithQuery}${text}`);
    const headers: Record<string, string> = { 'X-API-KEY': signer.apiKey, 'X-TIMESTAMP': timestamp, 'X-SIGNATURE': signature };
    if (text !== '') headers['Content-Type'] = 'application/json';
    return this.#send(method, pathWithQuery, text === '' ? undefined : text, headers);
  }

  async #send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(this.base + path, { method, headers, ...(body !== undefined ? { body } : {}), cache: 'no-store' });
    } catch {
      throw new ApiRequestError(0, undefined, 'The exchange cannot be reached.');
    }
    const answer: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const fields = (answer ?? {}) as { error?: unknown; message?: unknown; reject_reason?: unknown };
      const word = typeof fields.error === 'string' ? fields.error : undefined;
      throw new ApiRequestError(response.status, word, typeof fields.message === 'string' ? fields.message : `HTTP ${response.status}`);
    }
    return answer;
  }
}
