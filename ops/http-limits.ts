/**
 * What HTTP clients can make the core hold for them, bounded.
 *
 * node:http parses every pipelined request in a chunk it reads and queues the answers in order
 * behind the first unanswered one; it stops reading a connection only once answers pile up
 * unwritten, by which time a 64 KiB chunk of small GETs has produced ~1,700 answers in the heap.
 * A client that pipelines without reading (unauthenticated: GET /openapi.json is 32 KB) grew the
 * heap by 300–480 MiB per connection, and 24 such connections killed the core (out of memory;
 * ops/limits.int.test.ts). So:
 *
 * - at most `perConnection` requests of one connection may be unanswered at a time; one more and
 *   the connection is closed (HTTP/1.1 gives no way to refuse a pipelined request in order);
 * - at most `total` requests across all connections; one more gets 503 OVERLOADED when its
 *   connection has nothing else pending (a client sending one request at a time), or closes the
 *   connection when it is pipelining;
 * - node:http's `maxConnections`: connections beyond it are closed as they arrive.
 *
 * Worst case held: `total` answers (the largest, /docs and a 1,000-trade list, ~100 KB).
 *
 * And what a client can hold without sending a request (issue 22: two connections sending one
 * header line every 5 s were held 78.5 s; one client renewing ~10,000 such sockets a minute could
 * fill `maxConnections` and shut everyone out): configureHttpServer() below sets a header timeout,
 * a whole-request timeout and a cap of connections per client address on any node:http server —
 * the core's today, a gateway's tomorrow.
 */
import { isIPv6 } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ApiError } from '../api/errors.ts';

export interface HttpLimits {
  readonly perConnection: number;
  readonly total: number;
  readonly maxConnections: number;
}

export const HTTP_LIMITS: HttpLimits = { perConnection: 32, total: 8_192, maxConnections: 10_000 };

interface SocketState {
  /** one release per unanswered request of this connection */
  readonly releases: Set<() => void>;
}

export interface RequestAdmission {
  /** For the request listener, first thing: false means the request was answered or its connection closed here. */
  readonly admit: (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;
  /** unanswered requests held now */
  readonly pending: () => number;
}

/** Installs the connection cap on `server` and returns the admission check for its request listener. */
export function admitRequests(server: Server, limits: HttpLimits = HTTP_LIMITS): RequestAdmission {
  server.maxConnections = limits.maxConnections;
  const sockets = new WeakMap<Socket, SocketState>();
  let pending = 0;

  const stateOf = (socket: Socket): SocketState => {
    let state = sockets.get(socket);
    if (state === undefined) {
      const created: SocketState = { releases: new Set() };
      // A response of a closed connection may never finish: count them all out when it closes.
      socket.once('close', () => {
        for (const release of [...created.releases]) release();
      });
      sockets.set(socket, created);
      state = created;
    }
    return state;
  };

  const admit = (incoming: IncomingMessage, outgoing: ServerResponse): boolean => {
    const socket = incoming.socket;
    const state = stateOf(socket);
    if (state.releases.size >= limits.perConnection) {
      socket.destroy();
      return false;
    }
    if (pending >= limits.total) {
      if (state.releases.size > 0) {
        socket.destroy();
        return false;
      }
      const refusal = new ApiError('OVERLOADED', 'the server holds too many unanswered requests; retry shortly');
      const text = JSON.stringify(refusal.body());
      outgoing.writeHead(refusal.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        'Retry-After': '1',
      });
      outgoing.end(text);
      incoming.resume();
      return false;
    }
    pending++;
    const release = (): void => {
      if (!state.releases.delete(release)) return;
      pending--;
    };
    state.releases.add(release);
    outgoing.once('finish', release);
    outgoing.once('close', release);
    return true;
  };
  return { admit, pending: () => pending };
}

/** What one client may hold on a server before and between requests (env: HTTP_* in ops/config.ts). */
export interface HttpServerSettings {
  /** a request head not complete this long after its first byte (or the connection's start) → 408 and closed */
  readonly headersTimeoutMs: number;
  /** a whole request (head and body) not received this long after it began → 408 and closed; ≥ headersTimeoutMs */
  readonly requestTimeoutMs: number;
  /** an idle keep-alive connection is closed after this */
  readonly keepAliveTimeoutMs: number;
  /** open connections per client address (IPv6: per /64); one more is answered 429 TOO_MANY_CONNECTIONS and closed. 0 = no cap */
  readonly maxConnectionsPerClient: number;
  readonly limits: HttpLimits;
}

export const HTTP_SERVER_SETTINGS: HttpServerSettings = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnectionsPerClient: 256,
  limits: HTTP_LIMITS,
};

/**
 * node:http checks the two timeouts on a timer (30 s by default: the 78.5 s of the probe were its
 * 60 s default plus up to one period); checked this often, a slow head is closed within
 * headersTimeoutMs + this. The check walks only connections with a request in progress.
 */
const TIMEOUT_CHECK_MS = 500;

export interface ConfiguredServer extends RequestAdmission {
  /** open connections of one client address (its /64 for IPv6) */
  readonly connectionsOf: (address: string) => number;
}

/**
 * Applies every HTTP bound of this file to `server`, before it listens: timeouts, the connection
 * caps (all clients, each client), and returns the admission check its request listener must
 * call first. Refusals by the per-client cap are counted in `xtrader_http_connections_refused_total`
 * on `registry`.
 */
export function configureHttpServer(
  server: Server,
  settings: HttpServerSettings = HTTP_SERVER_SETTINGS,
  registry?: Registry,
): ConfiguredServer {
  if (server.listening)
    throw new Error('configureHttpServer: configure the server before it listens (node:http starts its timeout check on listen)');
  if (settings.requestTimeoutMs < settings.headersTimeoutMs)
    throw new Error('the request timeout (HTTP_REQUEST_TIMEOUT_MS) must not be below the header timeout (HTTP_HEADERS_TIMEOUT_MS)');
  server.headersTimeout = settings.headersTimeoutMs;
  server.requestTimeout = settings.requestTimeoutMs;
  server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  // read by node:http when the server starts listening (Server 'listening' → setupConnectionsTracking)
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    TIMEOUT_CHECK_MS,
    settings.headersTimeoutMs,
  );

  const refused = new Counter({
    name: 'xtrader_http_connections_refused_total',
    help: 'connections refused on arrival because their client address already held HTTP_MAX_CONNECTIONS_PER_CLIENT',
    registers: registry ? [registry] : [],
  });
  const perClient = new Map<string, number>();
  new Gauge({
    name: 'xtrader_http_connections_busiest_client',
    help: 'open connections of the client address holding the most (how close the busiest client is to HTTP_MAX_CONNECTIONS_PER_CLIENT)',
    registers: registry ? [registry] : [],
    collect() {
      let most = 0;
      for (const open of perClient.values()) if (open > most) most = open;
      this.set(most);
    },
  });
  const cap = settings.maxConnectionsPerClient;
  if (cap > 0) {
    server.on('connection', (socket: Socket) => {
      const client = clientOf(socket.remoteAddress);
      const open = perClient.get(client) ?? 0;
      if (open >= cap) {
        refused.inc();
        refuseConnection(socket, cap);
        return;
      }
      perClient.set(client, open + 1);
      socket.once('close', () => {
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      });
    });
  }
  const admission = admitRequests(server, settings.limits);
  return { ...admission, connectionsOf: (address) => perClient.get(clientOf(address)) ?? 0 };
}

/**
 * The refusal is written before any request is read (HTTP lets a server answer and close at any
 * time), and the socket destroyed at once: the bytes reach the kernel in the write itself (a fresh
 * socket has nothing queued), so a client that reads gets the reason, and one that does not costs
 * nothing more — no request of this connection is ever parsed.
 */
function refuseConnection(socket: Socket, cap: number): void {
  const refusal = new ApiError(
    'TOO_MANY_CONNECTIONS',
    `this address already holds ${cap} connections; reuse them (keep-alive) or close some`,
  );
  const text = JSON.stringify(refusal.body());
  socket.on('error', () => {});
  socket.write(
    `HTTP/1.1 ${refusal.status} Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${text}`,
  );
  socket.destroy();
}

/**
 * The key a client's connections are counted under: its IPv4 address (an IPv4-mapped IPv6 address
 * counts as the IPv4 one), or the /64 of an IPv6 address — one subscriber is normally given a whole
 * /64, so counting single IPv6 addresses would give one client 2^64 caps.
 */
export function clientOf(address: string | undefined): string {
  if (address === undefined) return '';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const tailGroups = tail === '' ? [] : tail.split(':');
    while (groups.length + tailGroups.length < 8) groups.push('0');
    groups.push(...tailGroups);
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
