/**
 * What HTTP clients can make the core hold for them, bounded.
 *
 * node:http parses every pipelined request in a chunk it reads and queues the answers in order
 * behind the first unanswered one; it stops reading a connection only once answers pile up
 * unwritten, by which time a 64 KiB chunk of small GETs has produced ~1,700 answers in the heap.
 * A client that pipelines without reading (unauthenticated: GET /openapi.json is 32 KB) grew the
 * heap by 300–480 MiB per connection, and 24 such connections killed the core (out of memory;
 * ops/limits.test.ts). So:
 *
 * - at most `perConnection` requests of one connection may be unanswered at a time; one more and
 *   the connection is closed (HTTP/1.1 gives no way to refuse a pipelined request in order);
 * - at most `total` requests across all connections; one more gets 503 OVERLOADED when its
 *   connection has nothing else pending (a client sending one request at a time), or closes the
 *   connection when it is pipelining;
 * - node:http's `maxConnections`: connections beyond it are closed as they arrive.
 *
 * Worst case held: `total` answers (the largest, /docs and a 1,000-trade list, ~100 KB).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
      outgoing.writeHead(refusal.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Retry-After': '1' });
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
