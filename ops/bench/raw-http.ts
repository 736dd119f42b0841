/**
 * The load generators' HTTP/1.1 client on raw sockets (api.bench.ts, open-loop.ts): one keep-alive
 * connection with at most one request in flight, like wrk. It costs far less CPU than fetch or
 * node:http, which matters on a 2-core machine shared with the server.
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';

export interface SignedRequest {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly method: string;
  /** path with query, e.g. `/v1/order` or `/v1/order/42` */
  readonly path: string;
  /** JSON body, '' for none */
  readonly body: string;
}

/** The bytes of one request signed as the API checks it (X-API-KEY, X-TIMESTAMP, HMAC X-SIGNATURE). */
export function encodeSignedRequest(host: string, port: string | number, request: SignedRequest, timestamp: string): Buffer {
  const signature = createHmac('sha256', request.apiSecret)
    .update(`${timestamp}${request.method}${request.path}${request.body}`)
    .digest('hex');
  const contentType = request.body === '' ? '' : 'Content-Type: application/json\r\n';
  return Buffer.from(
    `${request.method} ${request.path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${contentType}Content-Length: ${Buffer.byteLength(request.body)}\r\n` +
      `X-API-KEY: ${request.apiKey}\r\nX-TIMESTAMP: ${timestamp}\r\nX-SIGNATURE: ${signature}\r\n\r\n${request.body}`,
    'latin1',
  );
}

/** One keep-alive HTTP/1.1 connection with at most one request (its `Pending` record) in flight. */
export class RawHttpConnection<Pending> {
  readonly #socket: net.Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #inFlight: Pending | undefined;
  constructor(
    host: string,
    port: number,
    /** `body`: the answer's bytes, a view into the read buffer (decode it only when needed) */
    private readonly onResponse: (pending: Pending, status: number, body: Buffer, connection: RawHttpConnection<Pending>) => void,
    private readonly onClose: (pending: Pending | undefined, connection: RawHttpConnection<Pending>) => void,
  ) {
    this.#socket = net.connect({ host, port, noDelay: true });
    this.#socket.on('data', (chunk) => this.#read(chunk));
    this.#socket.on('error', () => {});
    this.#socket.on('close', () => this.onClose(this.#inFlight, this));
  }

  send(request: Buffer, pending: Pending): void {
    this.#inFlight = pending;
    this.#socket.write(request);
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const headerEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = this.#buffer.toString('latin1', 0, headerEnd);
      const status = Number(head.slice(9, 12));
      const lengthMatch = /\r\ncontent-length: *(\d+)/i.exec(head);
      const total = headerEnd + 4 + (lengthMatch ? Number(lengthMatch[1]) : 0);
      if (this.#buffer.length < total) return;
      const body = this.#buffer.subarray(headerEnd + 4, total);
      this.#buffer = this.#buffer.subarray(total);
      const pending = this.#inFlight;
      this.#inFlight = undefined;
      if (pending) this.onResponse(pending, status, body, this);
    }
  }
}
