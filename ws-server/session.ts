/**
 * One WebSocket connection as the hub sees it: its peer, its key once authenticated, its channels,
 * its frame budget, and what its executions channel holds (reports sent lately; live reports held
 * while a resume or a repair reads the history).
 */
import type { Peer } from './ports.ts';

/** One execution report, serialized once for clients (prev_seq left out). */
export interface ExecutionFrame {
  readonly seq: number;
  readonly symbol: string;
  readonly bytes: Buffer;
}

/** One envelope of the `positions` channel (positions-channel.ts), serialized once for clients. */
export interface PositionFrame {
  readonly seq: number;
  readonly bytes: Buffer;
}

/** execution seqs remembered per connection (≥ one resume's worth plus what arrives meanwhile) */
const RECENT_EXECUTIONS = 16_384;

/** A bounded set of seqs: past `capacity`, the oldest added is forgotten. */
export class RecentSeqs {
  readonly #set = new Set<number>();
  readonly #ring: number[];
  #next = 0;
  constructor(readonly capacity: number) {
    this.#ring = [];
  }
  has(seq: number): boolean {
    return this.#set.has(seq);
  }
  add(seq: number): void {
    if (this.#set.has(seq)) return;
    if (this.#ring.length < this.capacity) this.#ring.push(seq);
    else {
      this.#set.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = seq;
      this.#next = (this.#next + 1) % this.capacity;
    }
    this.#set.add(seq);
  }
}

export class Session {
  readonly id: number;
  readonly peer: Peer;
  userId: number | undefined;
  apiKey: string | undefined;
  readonly channels = new Set<string>();
  /** set while the session's executions are being caught up from the history: live reports wait here */
  catchingUp: ExecutionFrame[] | undefined;
  /** the execution seqs sent on this connection lately: a report that comes again (live after the history, a sweep) is not sent twice */
  readonly sentExecutions = new RecentSeqs(RECENT_EXECUTIONS);
  /** reports after this seq are this session's to get (its resume_from_seq, or what the instance had handled when it subscribed) */
  executionsFrom = 0;
  /** the `positions` channel's own three: live envelopes held during its resume, seqs sent lately, where it starts */
  positionsCatchingUp: PositionFrame[] | undefined;
  readonly sentPositions = new RecentSeqs(RECENT_EXECUTIONS);
  positionsFrom = 0;
  #tokens: number;
  #refilledAt: number;
  closed = false;

  constructor(id: number, peer: Peer, now: number, burst: number) {
    this.id = id;
    this.peer = peer;
    this.#tokens = burst;
    this.#refilledAt = now;
  }

  /** token bucket: `rate` frames per second, bursts up to `burst` */
  takeFrame(now: number, rate: number, burst: number): boolean {
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) * rate) / 1000);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
