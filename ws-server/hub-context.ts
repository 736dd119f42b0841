/**
 * What the parts of the hub share: its bounds, its counters, its clock and the one way a frame
 * reaches a session. hub.ts (connections, the client protocol, the feed's chains),
 * public-channels.ts (books, trades, tickers) and execution-channel.ts (private execution reports)
 * each get the same context.
 */
import type { Envelope } from '../contract/envelopes.ts';
import { WsError } from '../contract/ws-frames.ts';
import type { HubTimers } from './ports.ts';
import type { Session } from './session.ts';

export interface HubLimits {
  /** channels per connection */
  readonly maxSubscriptions: number;
  /** authenticated connections per API key on this instance */
  readonly maxConnectionsPerKey: number;
  /** client frames per second per connection (a burst of twice that is allowed) */
  readonly framesPerSecond: number;
  /** execution reports one resume sends at most */
  readonly maxResumeReports: number;
  /** how long a resume waits for the history to reach what this instance has already pushed */
  readonly resumeWaitMs: number;
  /**
   * live execution reports one connection may hold while its resume reads the history; one more
   * closes it with 1013 (try again later: reconnect and resume from the last seq it has)
   */
  readonly maxCatchUpReports: number;
  /** the window that merges trades into one `Trades` frame (≤ 100 ms) */
  readonly tradesWindowMs: number;
  /** the window that merges book deltas into one `OrderBook` frame */
  readonly bookWindowMs: number;
}

export const DEFAULT_LIMITS: HubLimits = {
  maxSubscriptions: 50,
  maxConnectionsPerKey: 50,
  framesPerSecond: 50,
  maxResumeReports: 10_000,
  resumeWaitMs: 10_000,
  maxCatchUpReports: 10_000,
  tradesWindowMs: 50,
  bookWindowMs: 20,
};

export interface HubStats {
  sessions: number;
  authenticated: number;
  framesSent: number;
  executionsPushed: number;
  /** `positions` envelopes pushed to their owners */
  positionsPushed: number;
  duplicatesDropped: number;
  chainGaps: number;
  resumes: number;
  resumeFailures: number;
  /** connections closed (1013) because more live reports arrived during their resume than maxCatchUpReports */
  catchUpOverflows: number;
  sweeps: number;
}

export interface HubContext {
  readonly limits: HubLimits;
  readonly stats: HubStats;
  readonly timers: HubTimers;
  readonly onError: ((where: string, error: unknown) => void) | undefined;
  /** one frame to one session: counted, and dropped once the session is closed */
  send(session: Session, frame: Buffer | string): void;
  /** ends a session: its subscriptions, its key's connection count */
  close(session: Session): void;
}

/** The envelope as a client sees it: `prev_seq` chains broker routing keys, not a client's stream, so it is left out. */
export function clientJson(envelope: Envelope): string {
  const { prev_seq: _chain, ...rest } = envelope;
  return JSON.stringify(rest);
}

export function withId(frame: Record<string, unknown>, id: string | number | undefined): Record<string, unknown> {
  return id === undefined ? frame : { ...frame, id };
}

export function asWsError(error: unknown, fallback: 'STORE_UNAVAILABLE' | 'RESUME_UNAVAILABLE'): WsError {
  return error instanceof WsError ? error : new WsError(fallback);
}
