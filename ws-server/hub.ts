/**
 * The ws-server's protocol, without sockets or brokers: sessions (one per connection), their
 * subscriptions, the books, and the fan-out of the RabbitMQ feed to them. The transport
 * (adapters/ws-transport.ts) hands it frames and peers; the feed (adapters/rabbit-feed.ts) hands it
 * envelopes; ports do the I/O (auth, execution history, REST depth, timers).
 *
 * Public data is serialized once per frame and the same Buffer is sent to every subscriber.
 * Execution reports go to the sessions of their owner only. Duplicates (a publisher's resend) are
 * dropped by `seq` per routing key; a hole in a routing key's `prev_seq` chain is repaired: a book
 * is bootstrapped again, each executions subscriber is caught up from the history.
 */
import { BookFeed, type BookDelta, type DepthSnapshot } from './book-feed.ts';
import { errorFrame, parseChannel, parseClientFrame, WsError, type AuthRequest, type Channel, type SubscribeRequest, type UnsubscribeRequest } from '../contract/ws-frames.ts';

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

export interface StoredReport {
  readonly seq: number;
  /** the envelope's JSON as stored (prev_seq included; the hub strips it) */
  readonly json: string;
}

export interface ExecutionHistory {
  /**
   * The user's execution reports with seq > afterSeq, seq order, at most `limit`, from PostgreSQL
   * and the Redis stream; `completeThrough`: every report with seq ≤ it is in what was read.
   */
  after(userId: number, afterSeq: number, limit: number): Promise<{ reports: StoredReport[]; completeThrough: number }>;
}

export interface DepthSource {
  depth(symbol: string): Promise<DepthSnapshot>;
}

export interface HubTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

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

/** how long live execution reports wait for a chain hole to be filled from the history before they go out anyway */
const REPAIR_HOLD_MS = 2_000;
/** after a feed reconnect, how long live execution reports wait before the first sweep of the history */
const SWEEP_HOLD_MS = 2_000;
/** history reads at once while live reports are held for a repair */
const REPAIR_CONCURRENCY = 16;

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

export interface HubOptions {
  readonly symbols: readonly string[];
  readonly auth: Authenticator;
  readonly history: ExecutionHistory;
  readonly depth: DepthSource;
  readonly limits?: Partial<HubLimits>;
  readonly timers?: HubTimers;
  readonly onError?: (where: string, error: unknown) => void;
}

export interface HubStats {
  sessions: number;
  authenticated: number;
  framesSent: number;
  executionsPushed: number;
  duplicatesDropped: number;
  chainGaps: number;
  resumes: number;
  resumeFailures: number;
  /** connections closed (1013) because more live reports arrived during their resume than maxCatchUpReports */
  catchUpOverflows: number;
  sweeps: number;
}

interface ExecutionFrame {
  readonly seq: number;
  readonly symbol: string;
  readonly bytes: Buffer;
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

const realTimers: HubTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

type Envelope = Record<string, unknown> & { type: string; seq: number; prev_seq?: number };

/** The envelope as a client sees it: `prev_seq` chains broker routing keys, not a client's stream, so it is left out. */
function clientJson(envelope: Envelope): string {
  const { prev_seq: _chain, ...rest } = envelope;
  return JSON.stringify(rest);
}

export class Hub {
  readonly symbols: ReadonlySet<string>;
  readonly limits: HubLimits;
  readonly stats: HubStats = { sessions: 0, authenticated: 0, framesSent: 0, executionsPushed: 0, duplicatesDropped: 0, chainGaps: 0, resumes: 0, resumeFailures: 0, catchUpOverflows: 0, sweeps: 0 };
  readonly books = new Map<string, BookFeed>();
  readonly #options: HubOptions;
  readonly #timers: HubTimers;
  readonly #sessions = new Set<Session>();
  /** channel name → subscribed sessions (public channels) */
  readonly #subscribers = new Map<string, Set<Session>>();
  /** user id → its sessions subscribed to `executions` */
  readonly #executionSessions = new Map<number, Set<Session>>();
  readonly #connectionsPerKey = new Map<string, number>();
  /** routing key → the highest seq handled under it (duplicates and holes are found with it) */
  readonly #chains = new Map<string, number>();
  /** the highest execution seq this instance has handled: a resume waits for the history to reach it */
  #highestExecutionSeq = 0;
  /** the highest execution seq handled when the feed went down, until the sweeps after its reconnect */
  #feedLostAtSeq: number | undefined;
  readonly #trades = new Map<string, { envelopes: string[]; timer: unknown }>();
  readonly #bookTimers = new Map<string, unknown>();
  #nextSessionId = 1;

  constructor(options: HubOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.symbols = new Set(options.symbols);
    for (const symbol of options.symbols) {
      const feed: BookFeed = new BookFeed(symbol, {
        resynced: () => this.#sendSnapshots(feed),
        delta: (frame) => this.#broadcast(`orderbook.${symbol}`, Buffer.from(frame)),
        requestDepth: (delayMs) => this.#requestDepth(feed, delayMs),
      });
      this.books.set(symbol, feed);
    }
  }

  /** Bootstraps every book; call once the feed's queue is bound and consuming (and again after it reconnects). */
  bootstrapBooks(): void {
    for (const feed of this.books.values()) {
      if (feed.state === 'live') feed.restart();
      else this.#requestDepth(feed, 0);
    }
  }

  // ---- connections ----

  open(peer: Peer): Session {
    const session = new Session(this.#nextSessionId++, peer, this.#timers.now(), this.limits.framesPerSecond * 2);
    this.#sessions.add(session);
    this.stats.sessions = this.#sessions.size;
    return session;
  }

  close(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    this.#sessions.delete(session);
    for (const channel of session.channels) this.#unsubscribe(session, channel);
    if (session.apiKey !== undefined) {
      const count = (this.#connectionsPerKey.get(session.apiKey) ?? 1) - 1;
      if (count <= 0) this.#connectionsPerKey.delete(session.apiKey);
      else this.#connectionsPerKey.set(session.apiKey, count);
      this.stats.authenticated--;
    }
    this.stats.sessions = this.#sessions.size;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** One text frame from a client. Never throws: every refusal is an error frame. */
  message(session: Session, text: string): void {
    if (session.closed) return;
    if (!session.takeFrame(this.#timers.now(), this.limits.framesPerSecond, this.limits.framesPerSecond * 2)) {
      this.#send(session, errorFrame(new WsError('RATE_LIMITED')));
      return;
    }
    const parsed = parseClientFrame(text);
    if (!parsed.ok) {
      this.#send(session, errorFrame(parsed.error, parsed.id));
      return;
    }
    const request = parsed.request;
    switch (request.op) {
      case 'ping':
        this.#send(session, JSON.stringify(request.id === undefined ? { type: 'pong' } : { type: 'pong', id: request.id }));
        return;
      case 'auth':
        void this.#auth(session, request);
        return;
      case 'subscribe':
        void this.#subscribe(session, request);
        return;
      case 'unsubscribe':
        this.#unsubscribeRequest(session, request);
        return;
    }
  }

  async #auth(session: Session, request: AuthRequest): Promise<void> {
    try {
      const key = await this.#options.auth.authenticate(request.api_key, String(request.timestamp), request.signature);
      if (session.closed) return;
      if (session.apiKey !== undefined && session.apiKey !== key.apiKey) throw new WsError('ALREADY_AUTHENTICATED');
      if (session.apiKey === undefined) {
        const count = this.#connectionsPerKey.get(key.apiKey) ?? 0;
        if (count >= this.limits.maxConnectionsPerKey) throw new WsError('TOO_MANY_CONNECTIONS', `at most ${this.limits.maxConnectionsPerKey} authenticated connections per API key on one instance`);
        this.#connectionsPerKey.set(key.apiKey, count + 1);
        session.apiKey = key.apiKey;
        session.userId = key.userId;
        this.stats.authenticated++;
      }
      this.#send(session, JSON.stringify(withId({ type: 'auth', ok: true }, request.id)));
    } catch (error) {
      this.#send(session, errorFrame(asWsError(error, 'STORE_UNAVAILABLE'), request.id));
      if (!(error instanceof WsError)) this.#options.onError?.('auth', error);
    }
  }

  async #subscribe(session: Session, request: SubscribeRequest): Promise<void> {
    const parsed: Channel[] = [];
    for (const name of new Set(request.channels)) {
      const channel = parseChannel(name, this.symbols);
      if (channel instanceof WsError) {
        this.#send(session, errorFrame(channel, request.id));
        return;
      }
      if (channel.kind === 'executions' && session.userId === undefined) {
        this.#send(session, errorFrame(new WsError('AUTH_REQUIRED'), request.id));
        return;
      }
      parsed.push(channel);
    }
    const adding = parsed.filter((channel) => !session.channels.has(channel.name));
    if (session.channels.size + adding.length > this.limits.maxSubscriptions) {
      this.#send(session, errorFrame(new WsError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.limits.maxSubscriptions} channels per connection`), request.id));
      return;
    }
    const executions = parsed.find((channel) => channel.kind === 'executions');
    const resumeFrom = request.resume_from_seq;
    if (executions && resumeFrom !== undefined && session.catchingUp) {
      this.#send(session, errorFrame(new WsError('BAD_REQUEST', 'a resume of executions is in progress on this connection; wait for its answer'), request.id));
      return;
    }
    let replay: ExecutionFrame[] = [];
    if (executions && (resumeFrom !== undefined || !session.channels.has('executions'))) {
      // live reports from now on wait in `catchingUp` until the history has been sent
      if (!session.channels.has('executions')) {
        this.#addExecutionSession(session);
        session.executionsFrom = resumeFrom ?? this.#highestExecutionSeq;
      } else if (resumeFrom !== undefined) session.executionsFrom = Math.min(session.executionsFrom, resumeFrom);
      if (resumeFrom !== undefined) {
        session.catchingUp ??= [];
        try {
          replay = await this.#history(session.userId!, resumeFrom, this.#highestExecutionSeq);
        } catch (error) {
          session.catchingUp = undefined;
          this.#unsubscribe(session, 'executions');
          this.stats.resumeFailures++;
          this.#send(session, errorFrame(asWsError(error, 'RESUME_UNAVAILABLE'), request.id));
          if (!(error instanceof WsError)) this.#options.onError?.('resume', error);
          return;
        }
        if (session.closed) return;
        this.stats.resumes++;
      }
    }
    // pending book changes go out to the present subscribers first: the newcomer's snapshot includes them
    // (a resubscribe too: its fresh snapshot must be where the next delta starts)
    for (const channel of parsed) if (channel.kind === 'orderbook') this.books.get(channel.symbol)!.flush();
    for (const channel of parsed) {
      if (channel.kind === 'executions' || session.channels.has(channel.name)) continue;
      session.channels.add(channel.name);
      let set = this.#subscribers.get(channel.name);
      if (!set) this.#subscribers.set(channel.name, (set = new Set()));
      set.add(session);
    }
    this.#send(session, JSON.stringify(withId({ type: 'subscribed', channels: [...new Set(request.channels)] }, request.id)));
    // the books' snapshots after the answer; deltas follow from the snapshot's symbol_seq
    for (const channel of parsed) {
      if (channel.kind !== 'orderbook') continue;
      const feed = this.books.get(channel.symbol)!;
      if (feed.state !== 'live') continue; // the snapshot goes out when the bootstrap ends
      this.#send(session, feed.snapshotFrame());
    }
    if (executions && resumeFrom !== undefined) this.#finishCatchUp(session, resumeFrom, replay);
  }

  #unsubscribeRequest(session: Session, request: UnsubscribeRequest): void {
    const names = [...new Set(request.channels)];
    for (const name of names) {
      const channel = parseChannel(name, this.symbols);
      if (channel instanceof WsError) {
        this.#send(session, errorFrame(channel, request.id));
        return;
      }
    }
    for (const name of names) this.#unsubscribe(session, name);
    this.#send(session, JSON.stringify(withId({ type: 'unsubscribed', channels: names }, request.id)));
  }

  #addExecutionSession(session: Session): void {
    session.channels.add('executions');
    let set = this.#executionSessions.get(session.userId!);
    if (!set) this.#executionSessions.set(session.userId!, (set = new Set()));
    set.add(session);
  }

  #unsubscribe(session: Session, name: string): void {
    if (!session.channels.delete(name)) return;
    if (name === 'executions') {
      session.catchingUp = undefined;
      const set = this.#executionSessions.get(session.userId!);
      set?.delete(session);
      if (set?.size === 0) this.#executionSessions.delete(session.userId!);
      return;
    }
    const set = this.#subscribers.get(name);
    set?.delete(session);
    if (set?.size === 0) this.#subscribers.delete(name);
  }

  /**
   * The user's reports after `afterSeq` from the history, once it holds every report up to `needed`
   * (for a resume: the highest this instance has handled — the Redis publisher may trail the
   * RabbitMQ one by a few ms; during a Redis outage the resume gives up after resumeWaitMs).
   * Together with the reports that arrive live meanwhile (kept in `catchingUp`), nothing is missed.
   */
  async #history(userId: number, afterSeq: number, needed: number, waitMs = this.limits.resumeWaitMs): Promise<ExecutionFrame[]> {
    const deadline = this.#timers.now() + waitMs;
    for (;;) {
      const answer = await this.#options.history.after(userId, afterSeq, this.limits.maxResumeReports + 1);
      if (answer.reports.length > this.limits.maxResumeReports) {
        throw new WsError('RESUME_TOO_FAR', `more than ${this.limits.maxResumeReports} execution reports after seq ${afterSeq}; read GET /v1/fills and GET /v1/orders/history, then resume from a later seq`);
      }
      if (answer.completeThrough >= needed) {
        return answer.reports.map((report) => {
          const envelope = JSON.parse(report.json) as Envelope;
          const symbol = String((envelope.execution_report as { symbol?: string } | undefined)?.symbol);
          return { seq: report.seq, symbol, bytes: Buffer.from(clientJson(envelope)) };
        });
      }
      if (this.#timers.now() >= deadline) {
        throw new WsError('RESUME_UNAVAILABLE', `execution history holds reports up to seq ${answer.completeThrough}, this instance has pushed ${needed}; retry shortly`);
      }
      await new Promise<void>((resolve) => this.#timers.setTimeout(resolve, 50));
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
    if (session.catchingUp.length >= this.limits.maxCatchUpReports) {
      this.stats.catchUpOverflows++;
      session.peer.close(1013, 'too many execution reports during the resume: reconnect and resume from your last seq');
      this.close(session);
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
        else this.#sendExecution(session, frame);
      }
      return;
    }
    session.catchingUp = undefined;
    for (const frame of [...repaired, ...list].sort((a, b) => a.seq - b.seq)) this.#sendExecution(session, frame);
  }

  /** Sends the history, then what arrived live meanwhile: each seq after `afterSeq` once, in seq order. */
  #finishCatchUp(session: Session, afterSeq: number, replay: readonly ExecutionFrame[]): void {
    const waiting = session.catchingUp ?? [];
    session.catchingUp = undefined;
    const all = new Map<number, ExecutionFrame>();
    for (const frame of replay) all.set(frame.seq, frame);
    for (const frame of waiting) all.set(frame.seq, frame);
    const ordered = [...all.values()].filter((frame) => frame.seq > afterSeq).sort((a, b) => a.seq - b.seq);
    // one sent from the history before this instance's feed brought it (the RabbitMQ publisher may
    // trail the Redis one) is skipped when it comes: sentExecutions
    for (const frame of ordered) this.#sendExecution(session, frame);
  }

  /**
   * A hole in the chain `execution.{symbol}`: the reports with seq in (after, through] never came.
   * Called before the frames that showed the hole are delivered: every executions subscriber's live
   * reports are held (the resume list, bounded the same way) while its missing ones are read from
   * the history, then both go out in seq order — so a client's reports stay in seq order and its
   * highest seq stays a safe resume point. If the history cannot fill the hole within
   * REPAIR_HOLD_MS (the Redis publisher or the persister behind after an outage), the held reports
   * go out and the missing ones follow when the history has them (out of order: the one exception).
   */
  #holdForRepair(symbol: string, after: number, through: number): void {
    void this.#repairExecutionGap(symbol, after, through, this.#holdAll());
  }

  /**
   * Every executions subscriber's live reports wait in a list of their own from now on (one already
   * resuming or held keeps its list). Returns each held session with the list this hold created.
   */
  #holdAll(): Map<Session, ExecutionFrame[]> {
    const held = new Map<Session, ExecutionFrame[]>();
    for (const sessions of this.#executionSessions.values()) {
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
  async #fillHeld(held: ReadonlyMap<Session, ExecutionFrame[]>, what: string, read: (userId: number, sessions: readonly Session[]) => Promise<ExecutionFrame[]>): Promise<Set<Session>> {
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
            this.#releaseHeld(session, held.get(session)!, found.filter((frame) => frame.seq > session.executionsFrom));
            filled.add(session);
          }
        } catch (error) {
          this.#options.onError?.(what, error);
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
      (await this.#history(userId, after, through, REPAIR_HOLD_MS)).filter((frame) => frame.symbol === symbol && frame.seq <= through),
    );
    for (const sessions of [...this.#executionSessions.values()]) {
      for (const session of [...sessions]) {
        if (repaired.has(session)) continue;
        // the history may trail a lot after a broker outage (the Redis publisher and the persister
        // catching up too): a live session keeps waiting for it, with back-off, for up to 10 minutes
        const deadline = this.#timers.now() + 600_000;
        for (let delay = 100; !session.closed && session.channels.has('executions'); delay = Math.min(delay * 2, 2_000)) {
          try {
            const missing = (await this.#history(session.userId!, after, through)).filter((frame) => frame.symbol === symbol && frame.seq <= through);
            if (session.closed || !session.channels.has('executions')) break;
            for (const frame of missing) {
              if (session.catchingUp) this.#holdForCatchUp(session, frame);
              else this.#sendExecution(session, frame);
            }
            break;
          } catch (error) {
            this.#options.onError?.('execution gap repair', error);
            if (this.#timers.now() > deadline) break;
            await new Promise<void>((resolve) => this.#timers.setTimeout(resolve, delay));
          }
        }
      }
    }
  }

  // ---- the feed ----

  /** One RabbitMQ message: one envelope or an array of them (seq order), all under `routingKey`. */
  onMessage(routingKey: string, envelopes: readonly Envelope[]): void {
    let last = this.#chains.get(routingKey);
    let gap: { after: number; through: number } | undefined;
    const fresh: Envelope[] = [];
    for (const envelope of envelopes) {
      if (last !== undefined && envelope.seq <= last) {
        this.stats.duplicatesDropped++;
        continue;
      }
      if (last !== undefined && typeof envelope.prev_seq === 'number' && envelope.prev_seq > last) {
        gap = { after: gap?.after ?? last, through: envelope.prev_seq };
        this.stats.chainGaps++;
      }
      last = envelope.seq;
      fresh.push(envelope);
    }
    if (last !== undefined) this.#chains.set(routingKey, last);
    if (fresh.length === 0) return;
    const dot = routingKey.indexOf('.');
    const kind = routingKey.slice(0, dot);
    switch (kind) {
      case 'execution':
        // the hold first: the frames that showed the hole must not overtake the missing ones
        if (gap) this.#holdForRepair(routingKey.slice(dot + 1), gap.after, gap.through);
        this.#onExecutions(fresh);
        return;
      case 'orderbook':
        // a hole here shows as a symbol_seq gap in the BookFeed, which bootstraps again
        this.#onBookDeltas(fresh);
        return;
      case 'trade':
        this.#onTrades(fresh);
        return;
      case 'ticker':
        for (const envelope of fresh) this.#broadcast(`ticker.${String(envelope.symbol)}`, Buffer.from(clientJson(envelope)));
        return;
    }
  }

  /**
   * The feed (re)connected. The chains are kept: if the queue survived, its unacknowledged messages
   * come again and are dropped as repeats; if it did not (a broker restart), the first message of
   * each routing key shows the hole in its prev_seq and it is repaired. A routing key that stays
   * quiet shows nothing, so after a reconnect the executions subscribers are also swept from the
   * history (2, 10 and 30 s later: the Redis publisher and the persister catch up too) for reports
   * after the last one handled before the feed went down; each is sent once per connection.
   * Books bootstrap again.
   */
  onFeedConnected(): void {
    this.bootstrapBooks();
    const from = this.#feedLostAtSeq;
    this.#feedLostAtSeq = undefined;
    if (from === undefined) return;
    // What the publisher sent while this instance had no queue bound never comes on the feed. The
    // live reports wait while the first sweep reads it from the history (2 s on, once the Redis
    // publisher and the persister have it), so each client still gets its reports in seq order;
    // the later sweeps catch what the history held only later (and send it when found).
    const held = this.#holdAll();
    this.#timers.setTimeout(() => void this.#sweepHeld(from, held), SWEEP_HOLD_MS);
    for (const delay of [10_000, 30_000]) this.#timers.setTimeout(() => void this.#sweepExecutions(from), delay);
  }

  async #sweepHeld(after: number, held: ReadonlyMap<Session, ExecutionFrame[]>): Promise<void> {
    const needed = this.#highestExecutionSeq;
    const filled = await this.#fillHeld(held, 'execution sweep after reconnect', (userId, sessions) =>
      this.#history(userId, Math.max(after, Math.min(...sessions.map((session) => session.executionsFrom))), needed, REPAIR_HOLD_MS),
    );
    // the sessions that joined meanwhile or could not be filled: the plain sweep
    await this.#sweepExecutions(after, filled);
  }

  /** The feed went down (or a connect attempt failed). */
  onFeedDisconnected(): void {
    if (this.#highestExecutionSeq > 0) this.#feedLostAtSeq ??= this.#highestExecutionSeq;
  }

  async #sweepExecutions(after: number, skip: ReadonlySet<Session> = new Set()): Promise<void> {
    this.stats.sweeps++;
    for (const sessions of [...this.#executionSessions.values()]) {
      for (const session of [...sessions]) {
        if (session.closed || skip.has(session)) continue;
        try {
          const reports = await this.#history(session.userId!, Math.max(after, session.executionsFrom), 0);
          if (session.closed || !session.channels.has('executions')) continue;
          for (const frame of reports) {
            if (session.catchingUp) this.#holdForCatchUp(session, frame);
            else this.#sendExecution(session, frame);
          }
        } catch (error) {
          this.#options.onError?.('execution sweep after reconnect', error);
        }
      }
    }
  }

  #onExecutions(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (envelope.type !== 'Execution') continue;
      if (envelope.seq > this.#highestExecutionSeq) this.#highestExecutionSeq = envelope.seq;
      const report = envelope.execution_report as { user_id?: string; symbol?: string } | undefined;
      const sessions = this.#executionSessions.get(Number(report?.user_id));
      if (!sessions) continue;
      const frame: ExecutionFrame = { seq: envelope.seq, symbol: String(report?.symbol), bytes: Buffer.from(clientJson(envelope)) };
      for (const session of sessions) {
        if (session.catchingUp) {
          this.#holdForCatchUp(session, frame);
          continue;
        }
        this.#sendExecution(session, frame);
      }
    }
  }

  #onBookDeltas(envelopes: readonly Envelope[]): void {
    const bySymbol = new Map<string, BookDelta[]>();
    for (const envelope of envelopes) {
      if (envelope.type !== 'BookDelta') continue;
      const symbol = String(envelope.symbol);
      let list = bySymbol.get(symbol);
      if (!list) bySymbol.set(symbol, (list = []));
      list.push(envelope as unknown as BookDelta);
    }
    for (const [symbol, deltas] of bySymbol) {
      const feed = this.books.get(symbol);
      if (!feed) continue;
      feed.onDeltas(deltas);
      if (feed.hasPending && !this.#bookTimers.has(symbol)) {
        this.#bookTimers.set(
          symbol,
          this.#timers.setTimeout(() => {
            this.#bookTimers.delete(symbol);
            feed.flush();
          }, this.#untilWindowEnds(this.limits.bookWindowMs)),
        );
      }
    }
  }

  #onTrades(envelopes: readonly Envelope[]): void {
    for (const envelope of envelopes) {
      if (envelope.type !== 'Trade') continue;
      const symbol = String(envelope.symbol);
      if (!this.#subscribers.has(`trades.${symbol}`)) continue;
      let pending = this.#trades.get(symbol);
      if (!pending) {
        const created: { envelopes: string[]; timer: unknown } = { envelopes: [], timer: undefined };
        created.timer = this.#timers.setTimeout(() => this.#flushTrades(symbol), this.#untilWindowEnds(this.limits.tradesWindowMs));
        this.#trades.set(symbol, (pending = created));
      }
      pending.envelopes.push(clientJson(envelope));
    }
  }

  #flushTrades(symbol: string): void {
    const pending = this.#trades.get(symbol);
    this.#trades.delete(symbol);
    if (!pending || pending.envelopes.length === 0) return;
    // the envelopes are JSON already: the frame is assembled, not re-serialized
    this.#broadcast(`trades.${symbol}`, Buffer.from(`{"type":"Trades","symbol":${JSON.stringify(symbol)},"trades":[${pending.envelopes.join(',')}]}`));
  }

  /** Sends every pending merged frame now (shutdown, tests). */
  flushAll(): void {
    for (const symbol of [...this.#trades.keys()]) {
      this.#timers.clearTimeout(this.#trades.get(symbol)!.timer);
      this.#flushTrades(symbol);
    }
    for (const [symbol, timer] of this.#bookTimers) {
      this.#timers.clearTimeout(timer);
      this.books.get(symbol)!.flush();
    }
    this.#bookTimers.clear();
  }

  /**
   * Merge windows end on a shared clock grid (multiples of the window since the epoch), not a window
   * after their first event: a book delta and a trades batch with equal windows leave in the same
   * turn, and the transport writes them to each socket at once (one syscall, not two).
   */
  #untilWindowEnds(windowMs: number): number {
    return windowMs <= 0 ? 0 : windowMs - (this.#timers.now() % windowMs);
  }

  // ---- books ----

  #requestDepth(feed: BookFeed, delayMs: number): void {
    const run = () => {
      this.#options.depth.depth(feed.symbol).then(
        (depth) => feed.onDepth(depth),
        (error: unknown) => {
          this.#options.onError?.(`depth ${feed.symbol}`, error);
          feed.onDepthFailed();
        },
      );
    };
    if (delayMs <= 0) run();
    else this.#timers.setTimeout(run, delayMs);
  }

  #sendSnapshots(feed: BookFeed): void {
    const sessions = this.#subscribers.get(`orderbook.${feed.symbol}`);
    if (!sessions || sessions.size === 0) return;
    const frame = Buffer.from(feed.snapshotFrame());
    for (const session of sessions) this.#send(session, frame);
  }

  // ---- sending ----

  #broadcast(channel: string, frame: Buffer): void {
    const sessions = this.#subscribers.get(channel);
    if (!sessions) return;
    for (const session of sessions) this.#send(session, frame);
  }

  /** An execution report to its owner's session, once per connection. */
  #sendExecution(session: Session, frame: ExecutionFrame): void {
    if (session.sentExecutions.has(frame.seq)) return;
    session.sentExecutions.add(frame.seq);
    this.#send(session, frame.bytes);
    this.stats.executionsPushed++;
  }

  #send(session: Session, frame: Buffer | string): void {
    if (session.closed) return;
    this.stats.framesSent++;
    session.peer.send(frame);
  }
}

function withId(frame: Record<string, unknown>, id: string | number | undefined): Record<string, unknown> {
  return id === undefined ? frame : { ...frame, id };
}

function asWsError(error: unknown, fallback: 'STORE_UNAVAILABLE' | 'RESUME_UNAVAILABLE'): WsError {
  return error instanceof WsError ? error : new WsError(fallback);
}
