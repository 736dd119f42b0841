/**
 * The ws-server's protocol, without sockets or brokers: sessions (one per connection), the client
 * frames (auth, subscribe, unsubscribe, ping), and the feed's routing keys. The transport
 * (adapters/ws-transport.ts) hands it frames and peers; the feed (adapters/rabbit-feed.ts) hands it
 * envelopes; ports do the I/O (auth, execution history, REST depth, timers).
 *
 * The channels are served by two parts: public-channels.ts (books, trades, tickers, mark prices and
 * liquidations of perpetuals: serialized
 * once, the same Buffer to every subscriber) and execution-channel.ts (execution reports to their
 * owner's sessions only, resume, repairs). Duplicates (a publisher's resend) are dropped here by
 * `seq` per routing key; a hole in a routing key's `prev_seq` chain is repaired: a book is
 * bootstrapped again, each executions subscriber is caught up from the history. The private channel
 * `positions` (positions-channel.ts) is fed apart, from the Redis stream (`onStreamEntries`).
 */
import type { Envelope } from '../contract/envelopes.ts';
import type { ExecutionHistory } from '../contract/ports/execution-history.ts';
import {
  errorFrame,
  parseChannel,
  parseClientFrame,
  WsError,
  type AuthRequest,
  type Channel,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from '../contract/ws-frames.ts';
import type { BookFeed } from './book-feed.ts';
import { ExecutionChannel } from './execution-channel.ts';
import { asWsError, DEFAULT_LIMITS, withId, type HubContext, type HubLimits, type HubStats } from './hub-context.ts';
import type { Authenticator, DepthSource, HubTimers, Peer } from './ports.ts';
import { POSITIONS, PositionsChannel } from './positions-channel.ts';
import { PublicChannels } from './public-channels.ts';
import { Session, type ExecutionFrame, type PositionFrame } from './session.ts';

export interface HubOptions {
  readonly symbols: readonly string[];
  /** the perpetual markets among `symbols`: only they have `markprice.{SYMBOL}` and `liquidations.{SYMBOL}` */
  readonly perpetualSymbols?: readonly string[];
  readonly auth: Authenticator;
  readonly history: ExecutionHistory;
  /** the `positions` channel's history (the same store with `feed: 'positions'`); without it, its resumes find nothing */
  readonly positionsHistory?: ExecutionHistory;
  readonly depth: DepthSource;
  readonly limits?: Partial<HubLimits>;
  readonly timers?: HubTimers;
  readonly onError?: (where: string, error: unknown) => void;
}

const NO_HISTORY: ExecutionHistory = { after: () => Promise.resolve({ reports: [], completeThrough: Number.MAX_SAFE_INTEGER }) };

const realTimers: HubTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

export class Hub {
  readonly symbols: ReadonlySet<string>;
  readonly perpetualSymbols: ReadonlySet<string>;
  readonly limits: HubLimits;
  readonly stats: HubStats = {
    sessions: 0,
    authenticated: 0,
    framesSent: 0,
    executionsPushed: 0,
    positionsPushed: 0,
    duplicatesDropped: 0,
    chainGaps: 0,
    resumes: 0,
    resumeFailures: 0,
    catchUpOverflows: 0,
    sweeps: 0,
  };
  readonly #options: HubOptions;
  readonly #timers: HubTimers;
  readonly #sessions = new Set<Session>();
  readonly #public: PublicChannels;
  readonly #executions: ExecutionChannel;
  readonly #positions: PositionsChannel;
  readonly #connectionsPerKey = new Map<string, number>();
  /** routing key → the highest seq handled under it (duplicates and holes are found with it) */
  readonly #chains = new Map<string, number>();
  #nextSessionId = 1;

  constructor(options: HubOptions) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.symbols = new Set(options.symbols);
    this.perpetualSymbols = new Set(options.perpetualSymbols);
    const context: HubContext = {
      limits: this.limits,
      stats: this.stats,
      timers: this.#timers,
      onError: options.onError,
      send: (session, frame) => this.#send(session, frame),
      close: (session) => this.close(session),
    };
    this.#public = new PublicChannels(options.symbols, options.depth, context);
    this.#executions = new ExecutionChannel(options.history, context);
    this.#positions = new PositionsChannel(options.positionsHistory ?? NO_HISTORY, context);
  }

  /** symbol → its book as this instance serves it */
  get books(): ReadonlyMap<string, BookFeed> {
    return this.#public.books;
  }

  /** Bootstraps every book; call once the feed's queue is bound and consuming (and again after it reconnects). */
  bootstrapBooks(): void {
    this.#public.bootstrapBooks();
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
        if (count >= this.limits.maxConnectionsPerKey)
          throw new WsError(
            'TOO_MANY_CONNECTIONS',
            `at most ${this.limits.maxConnectionsPerKey} authenticated connections per API key on one instance`,
          );
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
      const channel = parseChannel(name, this.symbols, this.perpetualSymbols);
      if (channel instanceof WsError) {
        this.#send(session, errorFrame(channel, request.id));
        return;
      }
      if ((channel.kind === 'executions' || channel.kind === 'positions') && session.userId === undefined) {
        this.#send(session, errorFrame(new WsError('AUTH_REQUIRED'), request.id));
        return;
      }
      parsed.push(channel);
    }
    const adding = parsed.filter((channel) => !session.channels.has(channel.name));
    if (session.channels.size + adding.length > this.limits.maxSubscriptions) {
      this.#send(
        session,
        errorFrame(new WsError('TOO_MANY_SUBSCRIPTIONS', `at most ${this.limits.maxSubscriptions} channels per connection`), request.id),
      );
      return;
    }
    const executions = parsed.find((channel) => channel.kind === 'executions');
    const resumeFrom = request.resume_from_seq;
    if (executions && resumeFrom !== undefined && session.catchingUp) {
      this.#send(
        session,
        errorFrame(new WsError('BAD_REQUEST', 'a resume of executions is in progress on this connection; wait for its answer'), request.id),
      );
      return;
    }
    const positions = parsed.some((channel) => channel.kind === 'positions');
    if (positions && resumeFrom !== undefined && session.positionsCatchingUp) {
      this.#send(
        session,
        errorFrame(new WsError('BAD_REQUEST', 'a resume of positions is in progress on this connection; wait for its answer'), request.id),
      );
      return;
    }
    let replay: ExecutionFrame[] = [];
    if (executions && (resumeFrom !== undefined || !session.channels.has('executions'))) {
      const read = await this.#executions.subscribe(session, resumeFrom, request.id);
      if (read === undefined) return; // the resume failed (answered) or the session closed
      replay = read;
    }
    let positionsReplay: PositionFrame[] = [];
    if (positions && (resumeFrom !== undefined || !session.channels.has(POSITIONS))) {
      const read = await this.#positions.subscribe(session, resumeFrom, request.id);
      if (read === undefined) return;
      positionsReplay = read;
    }
    this.#public.flushBooksOf(parsed);
    for (const channel of parsed) {
      if (channel.kind === 'executions' || channel.kind === 'positions' || session.channels.has(channel.name)) continue;
      this.#public.add(session, channel.name);
    }
    this.#send(session, JSON.stringify(withId({ type: 'subscribed', channels: [...new Set(request.channels)] }, request.id)));
    this.#public.sendSnapshotsTo(session, parsed);
    if (executions && resumeFrom !== undefined) this.#executions.finishCatchUp(session, resumeFrom, replay);
    if (positions && resumeFrom !== undefined) this.#positions.finishCatchUp(session, resumeFrom, positionsReplay);
  }

  #unsubscribeRequest(session: Session, request: UnsubscribeRequest): void {
    const names = [...new Set(request.channels)];
    for (const name of names) {
      const channel = parseChannel(name, this.symbols, this.perpetualSymbols);
      if (channel instanceof WsError) {
        this.#send(session, errorFrame(channel, request.id));
        return;
      }
    }
    for (const name of names) this.#unsubscribe(session, name);
    this.#send(session, JSON.stringify(withId({ type: 'unsubscribed', channels: names }, request.id)));
  }

  #unsubscribe(session: Session, name: string): void {
    if (name === 'executions') {
      this.#executions.unsubscribe(session);
      return;
    }
    if (name === POSITIONS) {
      this.#positions.unsubscribe(session);
      return;
    }
    if (!session.channels.delete(name)) return;
    this.#public.remove(session, name);
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
      // the feed's JSON is not validated: an envelope without a numeric prev_seq shows no hole
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
        if (gap) this.#executions.holdForRepair(routingKey.slice(dot + 1), gap.after, gap.through);
        this.#executions.onExecutions(fresh);
        return;
      case 'orderbook':
        // a hole here shows as a symbol_seq gap in the BookFeed, which bootstraps again
        this.#public.onBookDeltas(fresh);
        return;
      case 'trade':
        this.#public.onTrades(fresh);
        return;
      case 'ticker':
        this.#public.onTickers(fresh);
        return;
      // as trades and tickers: a hole is counted (chainGaps), not repaired; the next tick brings a fresh mark
      case 'markprice':
      case 'liquidation':
        this.#public.onPerpetualEvents(fresh);
        return;
    }
  }

  /**
   * The feed (re)connected. The chains are kept: if the queue survived, its unacknowledged messages
   * come again and are dropped as repeats; if it did not (a broker restart), the first message of
   * each routing key shows the hole in its prev_seq and it is repaired. Books bootstrap again; the
   * executions subscribers are swept from the history (execution-channel.ts `onFeedConnected`).
   */
  onFeedConnected(): void {
    this.bootstrapBooks();
    this.#executions.onFeedConnected();
  }

  /** The feed went down (or a connect attempt failed). */
  onFeedDisconnected(): void {
    this.#executions.onFeedDisconnected();
  }

  /** Envelopes the Redis stream tail read, in seq order (the `positions` channel's feed); `throughSeq`: the last seq read. */
  onStreamEntries(envelopes: readonly Envelope[], throughSeq: number): void {
    this.#positions.onStream(envelopes, throughSeq);
  }

  /** The stream tail reads again after losing Redis: its subscribers are swept from the history after `afterSeq`. */
  onStreamResumed(afterSeq: number): void {
    void this.#positions.sweep(afterSeq);
  }

  /** Sends every pending merged frame now (shutdown, tests). */
  flushAll(): void {
    this.#public.flushAll();
  }

  #send(session: Session, frame: Buffer | string): void {
    if (session.closed) return;
    this.stats.framesSent++;
    session.peer.send(frame);
  }
}
