/**
 * The `ws` adapter — the only file importing `ws`. Attaches to an HTTP server at `/ws`, admits
 * connections up to a bound (beyond it the upgrade is answered 503), hands text frames to the hub
 * and gives the hub a Peer whose send never lets a slow client grow this process's memory:
 * a send that would take the socket's unsent bytes past `sendBufferBytes` closes it with 4008.
 * Frames over `maxFrameBytes` are refused by `ws` itself with close code 1009. Protocol-level pings
 * every `pingIntervalMs`; a peer that has not answered the previous one is cut.
 *
 * Sends are coalesced per socket per event-loop turn: frames a socket gets in one turn (a book delta
 * and a trades batch whose windows end together, a burst of execution reports) are written under
 * one cork at `setImmediate`, so the kernel sees one write per socket per turn, not one per frame —
 * at thousands of connections the write syscalls, not the JavaScript, are the cost.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Hub } from '../hub.ts';
import type { Peer } from '../ports.ts';
import type { Session } from '../session.ts';

export interface WsTransportOptions {
  readonly path?: string;
  readonly maxConnections: number;
  readonly maxFrameBytes: number;
  readonly sendBufferBytes: number;
  readonly pingIntervalMs: number;
}

export interface WsTransportStats {
  connections: number;
  refusedConnections: number;
  slowClientsClosed: number;
  deadPeersCut: number;
}

interface Outgoing {
  readonly ws: WebSocket;
  frames: (Buffer | string)[];
  bytes: number;
}

export class WsTransport {
  readonly stats: WsTransportStats = { connections: 0, refusedConnections: 0, slowClientsClosed: 0, deadPeersCut: 0 };
  readonly #server: WebSocketServer;
  readonly #hub: Hub;
  readonly #options: WsTransportOptions;
  readonly #alive = new WeakMap<WebSocket, boolean>();
  readonly #pinger: NodeJS.Timeout;
  readonly #onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly #http: Server;
  /** sockets with frames waiting for this turn's flush */
  #dirty: Outgoing[] = [];
  #flushScheduled = false;

  constructor(http: Server, hub: Hub, options: WsTransportOptions) {
    this.#hub = hub;
    this.#options = options;
    this.#http = http;
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      clientTracking: true,
      perMessageDeflate: false,
    });
    const path = options.path ?? '/ws';
    this.#onUpgrade = (request, socket, head) => {
      const target = (request.url ?? '').split('?')[0];
      if (target !== path) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (this.#server.clients.size >= options.maxConnections) {
        this.stats.refusedConnections++;
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws));
    };
    http.on('upgrade', this.#onUpgrade);
    this.#pinger = setInterval(() => this.#heartbeat(), options.pingIntervalMs);
    this.#pinger.unref();
  }

  #accept(ws: WebSocket): void {
    this.stats.connections = this.#server.clients.size;
    this.#alive.set(ws, true);
    // TCP_NODELAY: small frames go out at once (ws sets it too; cheap to be sure)
    (ws as unknown as { _socket?: { setNoDelay?(on: boolean): void } })._socket?.setNoDelay?.(true);
    const holder: { session?: Session } = {};
    const bound = this.#options.sendBufferBytes;
    const outgoing: Outgoing = { ws, frames: [], bytes: 0 };
    const peer: Peer = {
      send: (frame) => {
        if (ws.readyState !== ws.OPEN) return;
        const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
        if (ws.bufferedAmount + outgoing.bytes + size > bound) {
          this.stats.slowClientsClosed++;
          outgoing.frames = [];
          outgoing.bytes = 0;
          ws.close(4008, 'send buffer full: the client does not read fast enough');
          // a client that does not read will not read the close frame either
          setTimeout(() => ws.terminate(), 1_000).unref();
          if (holder.session) this.#hub.close(holder.session);
          return;
        }
        if (outgoing.frames.length === 0) this.#dirty.push(outgoing);
        outgoing.frames.push(frame);
        outgoing.bytes += size;
        if (!this.#flushScheduled) {
          this.#flushScheduled = true;
          setImmediate(() => this.#flush());
        }
      },
      close: (code, reason) => {
        this.#flushOne(outgoing);
        ws.close(code, reason);
      },
    };
    const session = (holder.session = this.#hub.open(peer));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const text = isBinary ? '' : rawText(data);
      this.#hub.message(session, isBinary ? '\u0000binary' : text);
    });
    ws.on('pong', () => this.#alive.set(ws, true));
    ws.on('error', () => {}); // a protocol error closes the socket; 'close' follows
    ws.on('close', () => {
      this.#hub.close(session);
      this.stats.connections = this.#server.clients.size;
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const outgoing of dirty) this.#flushOne(outgoing);
  }

  /** the socket's waiting frames in one write (ws frames each; the cork makes them one writev) */
  #flushOne(outgoing: Outgoing): void {
    const { ws, frames } = outgoing;
    if (frames.length === 0) return;
    outgoing.frames = [];
    outgoing.bytes = 0;
    if (ws.readyState !== ws.OPEN) return;
    const socket = (ws as unknown as { _socket?: Duplex })._socket;
    if (frames.length === 1 || !socket) {
      for (const frame of frames) ws.send(frame, { binary: false });
      return;
    }
    socket.cork();
    for (const frame of frames) ws.send(frame, { binary: false });
    socket.uncork();
  }

  #heartbeat(): void {
    for (const ws of this.#server.clients) {
      if (this.#alive.get(ws) === false) {
        this.stats.deadPeersCut++;
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }

  get connections(): number {
    return this.#server.clients.size;
  }

  /** Closes every connection (1001 going away) and stops accepting. */
  async close(): Promise<void> {
    clearInterval(this.#pinger);
    this.#http.off('upgrade', this.#onUpgrade);
    for (const ws of this.#server.clients) ws.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.#server.clients) ws.terminate();
        resolve();
      }, 1_000);
      timer.unref();
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
