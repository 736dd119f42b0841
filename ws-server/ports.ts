/**
 * What the hub needs from outside, as ports: the connection (adapters/ws-transport.ts), the API-key
 * check and the REST depth (ops/ws-server.ts), the clock. The execution history's port is shared
 * with db/ and lives in the contract (contract/ports/execution-history.ts).
 */
import type { DepthSnapshot } from './book-feed.ts';

/** What the hub needs of a connection. `send` never blocks; the transport enforces the send-buffer bound. */
export interface Peer {
  send(frame: Buffer | string): void;
  close(code: number, reason: string): void;
}

export interface AuthenticatedKey {
  readonly userId: number;
  readonly apiKey: string;
}

export interface Authenticator {
  /** verifies hex HMAC-SHA256(secret, timestamp + "GET" + "/ws"), the window and replays; throws WsError */
  authenticate(apiKey: string, timestamp: string, signature: string): Promise<AuthenticatedKey>;
}

export interface DepthSource {
  depth(symbol: string): Promise<DepthSnapshot>;
}

export interface HubTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}
