/**
 * The private channel `executions`: each execution report goes to the sessions of its owner only,
 * once per connection, in seq order. A resume (`resume_from_seq`) reads the history while live
 * reports wait; a hole in a routing key's `prev_seq` chain holds every subscriber's live reports
 * while the missing ones are read from the history; after a feed reconnect the subscribers are
 * swept from the history for what the feed never brought.
 */
import type { Envelope, ExecutionEnvelope, ExecutionReport } from '../contract/envelopes.ts';
import type { ExecutionHistory } from '../contract/ports/execution-history.ts';
import { errorFrame, WsError } from '../contract/ws-frames.ts';
import { asWsError, clientJson, type HubContext } from './hub-context.ts';
import type { ExecutionFrame, Session } from './session.ts';

/** how long live execution reports wait for a chain hole to be filled from the history before they go out anyway */
const REPAIR_HOLD_MS = 2_000;
/** after a feed reconnect, how long live execution reports wait before the first sweep of the history */
const SWEEP_HOLD_MS = 2_000;
/** history reads at once while live reports are held for a repair */
const REPAIR_CONCURRENCY = 16;

/** The feed and the history hand over JSON as read, unchecked: a report without its fields is skipped, not thrown on. */
function reportOf(envelope: ExecutionEnvelope): Partial<ExecutionReport> | undefined {
  return envelope.execution_report as Partial<ExecutionReport> | undefined;
}

export class ExecutionChannel {
  readonly #context: HubContext;
  readonly #history: ExecutionHistory;
  /** user id → its sessions subscribed to `executions` */
  readonly #sessions = new Map<number, Set<Session>>();
  /** the highest execution seq this instance has handled: a resume waits for the history to reach it */
  #highestExecutionSeq = 0;
  /** the highest execution seq handled when the feed went down, until the sweeps after its reconnect */
  #feedLostAtSeq: number | undefined;

  constructor(history: ExecutionHistory, context: HubContext) {
    this.#history = history;
    this.#context = context;
  }

  // ---- subscriptions ----

  /**
   * Subscribes an authenticated session (or resumes one already subscribed): live reports from now
   * on wait in `catchingUp` until the history has been read. Resolves with the reports read for a
   * resume (send them with `finishCatchUp` once the subscribe is answered), or undefined when the
   * request ended here (the resume failed and was answered, or the session closed meanwhile).
   */
  async subscribe(
    session: Session,
    resumeFrom: number | undefined,
    requestId: string | number | undefined,
  ): Promise<ExecutionFrame[] | undefined> {
    if (!session.channels.has('executions')) {
      this.#add(session);
      session.executionsFrom = resumeFrom ?? this.#highestExecutionSeq;
    } else if (resumeFrom !== undefined) session.executionsFrom = Math.min(session.executionsFrom, resumeFrom);
    if (resumeFrom === undefined) return [];
    session.catchingUp ??= [];
    let replay: ExecutionFrame[];
    try {
      replay = await this.#read(session.userId!, resumeFrom, this.#highestExecutionSeq);
    } catch (error) {
      session.catchingUp = undefined;
      this.unsubscribe(session);
      this.#context.stats.resumeFailures++;
      this.#context.send(session, errorFrame(asWsError(error, 'RESUME_UNAVAILABLE'), requestId));
      if (!(error instanceof WsError)) this.#context.onError?.('resume', error);
      return undefined;
    }
    if (session.closed) return undefined;
    this.#context.stats.resumes++;
    return replay;
  }

  #add(session: Session): void {
    session.channels.add('executions');
    let set = this.#sessions.get(session.userId!);
    if (!set) this.#sessions.set(session.userId!, (set = new Set()));
    set.add(session);
  }

  unsubscribe(session: Session): void {
    if (!session.channels.delete('executions')) return;
    session.catchingUp = undefined;
    const set = this.#sessions.get(session.userId!);
    set?.delete(session);
    if (set?.size === 0) this.#sessions.delete(session.userId!);
  }

  /**
   * The user's reports after `afterSeq` from the history, once it holds every report up to `needed`
   * (for a resume: the highest this instance has handled — the Redis publisher may trail the
   * RabbitMQ one by a few ms; during a Redis outage the resume gives up after resumeWaitMs).
   * Together with the reports that arrive live meanwhile (kept in `catchingUp`), nothing is missed.
   */
  async #read(userId: number, afterSeq: number, needed: number, waitMs = this.#context.limits.resumeWaitMs): Promise<ExecutionFrame[]> {
    const { limits, timers } = this.#context;
    const deadline = timers.now() + waitMs;
    for (;;) {
      const answer = await this.#history.after(userId, afterSeq, limits.maxResumeReports + 1);
      if (answer.reports.length > limits.maxResumeReports) {
        throw new WsError(
          'RESUME_TOO_FAR',
          `more than ${limits.maxResumeReports} execution reports after seq ${afterSeq}; read GET /v1/fills and GET /v1/orders/history, then resume from a later seq`,
        );
      }
      if (answer.completeThrough >= needed) {
        return answer.reports.map((report) => {
          const envelope = JSON.parse(report.json) as ExecutionEnvelope;
          const symbol = String(reportOf(envelope)?.symbol);
          return { seq: report.seq, symbol, bytes: Buffer.from(clientJson(envelope)) };
        });
      }
      if (timers.now() >= deadline) {
        throw new WsError(
          'RESUME_UNAVAILABLE',
          `execution history holds reports up to seq ${answer.completeThrough}, this instance has pushed ${needed}; retry shortly`,
        );
      }
      await new Promise<void>((resolve) => timers.setTimeout(resolve, 50));
    }
  }

  /**
   * Keeps a live report for a connection whose resume is reading the history — up to
   * maxCatchUpReports of them: then the connection is closed (1013), so that no client, however
   * busy its account, makes this instance hold an unbounded list while its history is slow.
   */
  #holdForCatchUp(session: Session, frame: ExecutionFrame): void {
    if (session.closed || !session.catchingUp) return;
    // a report already on the socket (a sweep or a repair reading the history again) is not held, and not counted
    if (session.sentExecutions.has(frame.seq)) return;
    if (session.catchingUp.length >= this.#context.limits.maxCatchUpReports) {
      this.#context.stats.catchUpOverflows++;
      session.peer.close(1013, 'too many execution reports during the resume: reconnect and resume from your last seq');
      this.#context.close(session);
      return;
    }
    session.catchingUp.push(frame);
  }

  /**
   * Ends a hold: the held live reports and the repaired ones, merged in seq order — if the session
   * still holds the list this hold created. One unsubscribed and subscribed again meanwhile holds
   * another (a resume's, or another hold's): the repaired reports join that one, which its owner
   * releases in order; with none, they go out as they are.
   */
  #releaseHeld(session: Session, list: ExecutionFrame[], repaired: readonly ExecutionFrame[]): void {
    if (session.closed || !session.channels.has('executions')) return;
    if (session.catchingUp !== list) {
      for (const frame of repaired) {
        if (session.catchingUp) this.#holdForCatchUp(session, frame);
        else this.#send(session, frame);
      }
      return;
    }
    session.catchingUp = undefined;
    for (const frame of [...repaired, ...list].sort((a, b) => a.seq - b.seq)) this.#send(session, frame);
  }

  /** Sends the history, then what arrived live meanwhile: each seq after `afterSeq` once, in seq order. */
  finishCatchUp(session: Session, afterSeq: number, replay: readonly ExecutionFrame[]): void {
    const waiting = session.catchingUp ?? [];
    session.catchingUp = undefined;
    const all = new Map<number, ExecutionFrame>();
    for (const frame of replay) all.set(frame.seq, frame);
    for (const frame of waiting) all.set(frame.seq, frame);
    const ordered = [...all.values()].filter((frame) => frame.seq > afterSeq).sort((a, b) => a.seq - b.seq);
    // one sent from the history before this instance's feed brought it (the RabbitMQ publisher may
    // trail the Redis one) is skipped when it comes: sentExecutions
    for (const frame of ordered) this.#send(session, frame);
  }

  // ---- holes in the feed ----

  /**
   * A hole in the chain `execution.{symbol}`: the reports with seq in (after, through] never came.
   * Called before the frames that showed the hole are delivered: every executions subscriber's live
   * reports are held (the resume list, bounded the same way) while its missing ones are read from
   * the history, then both go out in seq order — so a client's reports stay in seq order and its
   * highest seq stays a safe resume point. If the history cannot fill the hole within
   * REPAIR_HOLD_MS (the Redis publisher or the persister behind after an outage), the held reports
   * go out and the missing ones follow when the history has them (out of order: the one exception).
   */
  holdForRepair(symbol: string, after: number, through: number): void {
    void this.#repairExecutionGap(symbol, after, through, this.#holdAll());
  }

  /**
   * Every executions subscriber's live reports wait in a list of their own from now on (one already
   * resuming or held keeps its list). Returns each held session with the list this hold created.
   */
  #holdAll(): Map<Session, ExecutionFrame[]> {
    const held = new Map<Session, ExecutionFrame[]>();
    for (const sessions of this.#sessions.values()) {
      for (const session of sessions) {
        if (session.closed || session.catchingUp) continue; // a resume or hold in progress: what is found joins its list
        const list: ExecutionFrame[] = [];
        session.catchingUp = list;
        held.set(session, list);
      }
    }
    return held;
  }

  /**
   * Fills the held sessions from the history, one read per user (`read`), 16 users at a time, and
   * releases each: its held live reports and what the read found, merged in seq order. A read that
   * fails (the history not there within its wait) releases the held reports alone. Resolves with
   * the sessions that were filled.
   */
  async #fillHeld(
    held: ReadonlyMap<Session, ExecutionFrame[]>,
    what: string,
    read: (userId: number, sessions: readonly Session[]) => Promise<ExecutionFrame[]>,
  ): Promise<Set<Session>> {
    const filled = new Set<Session>();
    const heldByUser = new Map<number, Session[]>();
    for (const session of held.keys()) heldByUser.set(session.userId!, [...(heldByUser.get(session.userId!) ?? []), session]);
    const users = [...heldByUser];
    const worker = async (): Promise<void> => {
      for (let next = users.shift(); next; next = users.shift()) {
        const [userId, sessions] = next;
        try {
          const found = await read(userId, sessions);
          for (const session of sessions) {
            this.#releaseHeld(
              session,
              held.get(session)!,
              found.filter((frame) => frame.seq > session.executionsFrom),
            );
            filled.add(session);
          }
        } catch (error) {
          this.#context.onError?.(what, error);
          for (const session of sessions) this.#releaseHeld(session, held.get(session)!, []); // live reports wait no longer
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REPAIR_CONCURRENCY, users.length) }, worker));
    return filled;
  }

  async #repairExecutionGap(symbol: string, after: number, through: number, held: ReadonlyMap<Session, ExecutionFrame[]>): Promise<void> {
    // first the held sessions — their live reports wait for this
    const repaired = await this.#fillHeld(held, 'execution gap repair', async (userId) =>
      (await this.#read(userId, after, through, REPAIR_HOLD_MS)).filter((frame) => frame.symbol === symbol && frame.seq <= through),
    );
    for (const sessions of [...this.#sessions.values()]) {
      for (const session of [...sessions]) {
        if (repaired.has(session)) continue;
        // the history may trail a lot after a broker outage (the Redis publisher and the persister
        // catching up too): a live session keeps waiting for it, with back-off, for up to 10 minutes
        const deadline = this.#context.timers.now() + 600_000;
        for (let delay = 100; !session.closed && session.channels.has('executions'); delay = Math.min(delay * 2, 2_000)) {
          try {
            const missing = (await this.#read(session.userId!, after, through)).filter(
              (frame) => frame.symbol === symbol && frame.seq <= through,
            );
            if (session.closed || !session.channels.has('executions')) break;
            for (const frame of missing) {
              if (session.catchingUp) this.#holdForCatchUp(session, frame);
              else this.#send(session, frame);
            }
            break;
          } catch (error) {
            this.#context.onError?.('execution gap repair', error);
            if (this.#context.timers.now() > deadline) break;
            await new Promise<void>((resolve) => this.#context.timers.setTimeout(resolve, delay));
          }
        }
      }
    }
  }

  // ---- feed outages ----

  /**
   * The feed (re)connected. A routing key that stays quiet shows no hole, so after a reconnect the
   * executions subscribers are swept from the history (2, 10 and 30 s later: the Redis publisher
   * and the persister catch up too) for reports after the last one handled before the feed went
   * down; each is sent once per connection.
   */
  onFeedConnected(): void {
    const from = this.#feedLostAtSeq;
    this.#feedLostAtSeq = undefined;
    if (from === undefined) return;
    // What the publisher sent while this instance had no queue bound never comes on the feed. The
    // live reports wait while the first sweep reads it from the history (2 s on, once the Redis
    // publisher and the persister have it), so each client still gets its reports in seq order;
    // the later sweeps catch what the history held only later (and send it when found).
    const held = this.#holdAll();
    this.#context.timers.setTimeout(() => void this.#sweepHeld(from, held), SWEEP_HOLD_MS);
    for (const delay of [10_000, 30_000]) this.#context.timers.setTimeout(() => void this.#sweepExecutions(from), delay);
  }

  async #sweepHeld(after: number, held: ReadonlyMap<Session, ExecutionFrame[]>): Promise<void> {
    const needed = this.#highestExecutionSeq;
    const filled = await this.#fillHeld(held, 'execution sweep after reconnect', (userId, sessions) =>
      this.#read(userId, Math.max(after, Math.min(...sessions.map((session) => session.executionsFrom))), needed, REPAIR_HOLD_MS),
    );
    // the sessions that joined meanwhile or could not be filled: the plain sweep
    await this.#sweepExecutions(after, filled);
  }

  /** The feed went down (or a connect attempt failed). */
  onFeedDisconnected(): void {
    if (this.#highestExecutionSeq > 0) this.#feedLostAtSeq ??= this.#highestExecutionSeq;
  }

  async #sweepExecutions(after: number, skip: ReadonlySet<Session> = new Set()): Promise<void> {
    this.#context.stats.sweeps++;
    for (const sessions of [...this.#sessions.values()]) {
      for (const session of [...sessions]) {
        if (session.closed || skip.has(session)) continue;
        try {
          const reports = await this.#read(session.userId!, Math.max(after, session.executionsFrom), 0);
          if (session.closed || !session.channels.has('executions')) continue;
          for (const frame of reports) {
            if (session.catchingUp) this.#holdForCatchUp(session, frame);
            else this.#send(session, frame);
          }
        } catch (error) {
          this.#context.onError?.('execution sweep after reconnect', error);
        }
      }
    }
  }

  // ---- live reports ----

  onExecutions(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (envelope.type !== 'Execution') continue;
      if (envelope.seq > this.#highestExecutionSeq) this.#highestExecutionSeq = envelope.seq;
      const report = reportOf(envelope);
      const sessions = this.#sessions.get(Number(report?.user_id));
      if (!sessions) continue;
      const frame: ExecutionFrame = { seq: envelope.seq, symbol: String(report?.symbol), bytes: Buffer.from(clientJson(envelope)) };
      for (const session of sessions) {
        if (session.catchingUp) {
          this.#holdForCatchUp(session, frame);
          continue;
        }
        this.#send(session, frame);
      }
    }
  }

  /** An execution report to its owner's session, once per connection. */
  #send(session: Session, frame: ExecutionFrame): void {
    if (session.sentExecutions.has(frame.seq)) return;
    session.sentExecutions.add(frame.seq);
    this.#context.send(session, frame.bytes);
    this.#context.stats.executionsPushed++;
  }
}
