/**
 * The private channel `positions` (ARCHITECTURE.md "Perpetual futures" → "Messages"): the user's
 * PositionChanged, WalletChanged and FundingPaid envelopes, once per connection, in seq order,
 * resumable (`resume_from_seq`) like `executions`.
 *
 * Its live feed is the Redis stream `executions` (adapters/redis-stream-tail.ts), not RabbitMQ: the
 * contract gives WalletChanged and FundingPaid no RabbitMQ routing key, and the stream carries all
 * three in seq order, so one ordered source serves the channel with no chain to repair (docs/futures.md
 * "WebSocket `positions`"). A resume reads the history (PostgreSQL and the stream,
 * db/adapters/execution-history.ts with `feed: 'positions'`) while live envelopes wait; after the
 * tail lost Redis, the subscribers are swept from the history for what it may not have read.
 */
import type { Envelope } from '../contract/envelopes.ts';
import type { ExecutionHistory } from '../contract/ports/execution-history.ts';
import { errorFrame, WsError } from '../contract/ws-frames.ts';
import { asWsError, clientJson, type HubContext } from './hub-context.ts';
import type { PositionFrame, Session } from './session.ts';

/** The envelope types of the channel, by their type string (FundingPaid arrives with its envelope's branch). */
export const POSITIONS_TYPES: ReadonlySet<string> = new Set(['PositionChanged', 'WalletChanged', 'FundingPaid']);

export const POSITIONS = 'positions';

export class PositionsChannel {
  readonly #context: HubContext;
  readonly #history: ExecutionHistory;
  /** user id → its sessions subscribed to `positions` */
  readonly #sessions = new Map<number, Set<Session>>();
  /** the highest stream seq the tail has read (any type): a resume waits for the history to reach it */
  #highestSeq = 0;

  constructor(history: ExecutionHistory, context: HubContext) {
    this.#history = history;
    this.#context = context;
  }

  /** As ExecutionChannel.subscribe: resolves with the envelopes read for a resume, or undefined when the request ended here. */
  async subscribe(
    session: Session,
    resumeFrom: number | undefined,
    requestId: string | number | undefined,
  ): Promise<PositionFrame[] | undefined> {
    if (!session.channels.has(POSITIONS)) {
      session.channels.add(POSITIONS);
      let set = this.#sessions.get(session.userId!);
      if (!set) this.#sessions.set(session.userId!, (set = new Set()));
      set.add(session);
      session.positionsFrom = resumeFrom ?? this.#highestSeq;
    } else if (resumeFrom !== undefined) session.positionsFrom = Math.min(session.positionsFrom, resumeFrom);
    if (resumeFrom === undefined) return [];
    session.positionsCatchingUp ??= [];
    try {
      const replay = await this.#read(session.userId!, resumeFrom, this.#highestSeq, this.#context.limits.resumeWaitMs);
      if (session.closed) return undefined;
      this.#context.stats.resumes++;
      return replay;
    } catch (error) {
      session.positionsCatchingUp = undefined;
      this.unsubscribe(session);
      this.#context.stats.resumeFailures++;
      this.#context.send(session, errorFrame(asWsError(error, 'RESUME_UNAVAILABLE'), requestId));
      if (!(error instanceof WsError)) this.#context.onError?.('positions resume', error);
      return undefined;
    }
  }

  unsubscribe(session: Session): void {
    if (!session.channels.delete(POSITIONS)) return;
    session.positionsCatchingUp = undefined;
    const set = this.#sessions.get(session.userId!);
    set?.delete(session);
    if (set?.size === 0) this.#sessions.delete(session.userId!);
  }

  /** The history, then what arrived live meanwhile: each seq after `afterSeq` once, in seq order. */
  finishCatchUp(session: Session, afterSeq: number, replay: readonly PositionFrame[]): void {
    const waiting = session.positionsCatchingUp ?? [];
    session.positionsCatchingUp = undefined;
    const all = new Map<number, PositionFrame>();
    for (const frame of [...replay, ...waiting]) all.set(frame.seq, frame);
    for (const frame of [...all.values()].filter((frame) => frame.seq > afterSeq).sort((a, b) => a.seq - b.seq)) this.#send(session, frame);
  }

  /** The user's envelopes after `afterSeq`, once the history holds everything up to `needed`. */
  async #read(userId: number, afterSeq: number, needed: number, waitMs: number): Promise<PositionFrame[]> {
    const { limits, timers } = this.#context;
    const deadline = timers.now() + waitMs;
    for (;;) {
      const answer = await this.#history.after(userId, afterSeq, limits.maxResumeReports + 1);
      if (answer.reports.length > limits.maxResumeReports)
        throw new WsError(
          'RESUME_TOO_FAR',
          `more than ${limits.maxResumeReports} positions events after seq ${afterSeq}; read GET /v1/futures/position-history, then resume from a later seq`,
        );
      if (answer.completeThrough >= needed)
        return answer.reports.map((report) => ({ seq: report.seq, bytes: Buffer.from(clientJson(JSON.parse(report.json) as Envelope)) }));
      if (timers.now() >= deadline)
        throw new WsError(
          'RESUME_UNAVAILABLE',
          `the history holds events up to seq ${answer.completeThrough}, this instance has read ${needed}; retry shortly`,
        );
      await new Promise<void>((resolve) => timers.setTimeout(resolve, 50));
    }
  }

  /**
   * Envelopes read from the stream (any type: the others only move the high-water mark), in seq
   * order; `throughSeq` is the last stream seq read.
   */
  onStream(envelopes: readonly Envelope[], throughSeq: number): void {
    if (throughSeq > this.#highestSeq) this.#highestSeq = throughSeq;
    for (const envelope of envelopes) {
      if (!POSITIONS_TYPES.has(envelope.type)) continue;
      const sessions = this.#sessions.get(Number((envelope as { user_id?: unknown }).user_id));
      if (!sessions) continue;
      const frame: PositionFrame = { seq: envelope.seq, bytes: Buffer.from(clientJson(envelope)) };
      for (const session of sessions) {
        if (session.positionsCatchingUp) this.#hold(session, frame);
        else this.#send(session, frame);
      }
    }
  }

  /** The tail read the stream again after losing it: what it may have missed (trimmed meanwhile) comes from the history. */
  async sweep(afterSeq: number): Promise<void> {
    this.#context.stats.sweeps++;
    for (const sessions of [...this.#sessions.values()]) {
      for (const session of [...sessions]) {
        if (session.closed) continue;
        try {
          const frames = await this.#read(session.userId!, Math.max(afterSeq, session.positionsFrom), 0, 0);
          if (session.closed || !session.channels.has(POSITIONS)) continue;
          for (const frame of frames) {
            if (session.positionsCatchingUp) this.#hold(session, frame);
            else this.#send(session, frame);
          }
        } catch (error) {
          this.#context.onError?.('positions sweep', error);
        }
      }
    }
  }

  /** Bounded like the executions channel's catch-up list: past it the connection is closed 1013. */
  #hold(session: Session, frame: PositionFrame): void {
    if (session.closed || !session.positionsCatchingUp || session.sentPositions.has(frame.seq)) return;
    if (session.positionsCatchingUp.length >= this.#context.limits.maxCatchUpReports) {
      this.#context.stats.catchUpOverflows++;
      session.peer.close(1013, 'too many positions events during the resume: reconnect and resume from your last seq');
      this.#context.close(session);
      return;
    }
    session.positionsCatchingUp.push(frame);
  }

  #send(session: Session, frame: PositionFrame): void {
    if (session.sentPositions.has(frame.seq)) return;
    session.sentPositions.add(frame.seq);
    this.#context.send(session, frame.bytes);
    this.#context.stats.positionsPushed++;
  }
}
