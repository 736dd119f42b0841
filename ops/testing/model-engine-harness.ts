/**
 * The harness of ops/model-engine.differential.test.ts: runs engine commands through an in-process
 * Engine and the documentation-only reference model side by side and notes every disagreement
 * (what is checked is listed in the test file's header), plus the seeded random stream generator.
 */
import {
  DEFAULT_ENGINE_CONFIG,
  Engine,
  TICKER_INTERVAL_MS,
  type SpotCommand as Command,
  type EngineConfig,
  type EngineEvent,
  type FillReport,
  type OrderStatus,
  type OrderView,
  type PlaceOrderCommand,
  type SelfTradePrevention,
  type Side,
  type TickerEvent,
  type TimeInForce,
} from '../../engine/index.ts';
import { KNOWN_DISAGREEMENTS, ModelDriver, type KnownDisagreement } from './model-driver.ts';
import type { OrderState } from './reference-exchange.ts';
import { seededRandom as rng } from '../../sequencer/testing/command-mix.ts';

const CHECK_EVERY = 500;
const MAX_NOTES = 30;
const T0 = 1_767_225_600_000;

const OPEN: ReadonlySet<OrderStatus> = new Set(['Pending', 'PartiallyFilled', 'Untriggered']);

// ------------------------------------------------------------------ the checker

export interface RunResult {
  readonly notes: string[];
  /** index (0-based) of the first command after which a mismatch was seen, -1 if none */
  readonly firstBad: number;
  readonly ordersCompared: number;
  readonly trades: number;
  readonly tickers: number;
  readonly statuses: Record<string, number>;
  readonly rejects: Record<string, number>;
  readonly paths: Record<string, number>;
  readonly known: Record<string, number>;
}

export class Checker {
  readonly engine: Engine;
  readonly driver: ModelDriver;
  readonly notes: string[] = [];
  firstBad = -1;
  ordersCompared = 0;
  trades = 0;
  readonly rejects: Record<string, number> = {};
  /** how often each tolerated known disagreement came up */
  readonly known: Record<string, number> = {};
  private index = -1;
  private seq = 0;
  private readonly symbolSeq = new Map<string, number>();
  private readonly replicaBook = new Map<string, Map<string, number>>();
  private readonly replicaBalance = new Map<string, { available: number; locked: number }>();
  /** order id → the status its latest execution report said */
  private readonly lastReported = new Map<number, OrderStatus>();
  /** order id → cumulative filled lots its fill reports said */
  private readonly reportedFilled = new Map<number, number>();
  private readonly reportedFees = new Map<number, number>();
  private readonly touched = new Set<number>();
  readonly users = new Set<number>([0]);
  /** symbol → timestamp of its last Ticker */
  private readonly tickerAt = new Map<string, number>();
  tickers = 0;

  constructor(
    readonly config: EngineConfig,
    tolerate: ReadonlySet<KnownDisagreement> = new Set(),
  ) {
    this.engine = new Engine(config);
    this.driver = new ModelDriver(config, undefined, tolerate);
    for (const m of config.markets) {
      this.symbolSeq.set(m.symbol, 0);
      this.replicaBook.set(m.symbol, new Map());
    }
  }

  note(text: string): void {
    if (this.firstBad < 0) this.firstBad = this.index;
    if (this.notes.length < MAX_NOTES) this.notes.push(`#${this.index}: ${text}`);
  }

  private ownerOf(orderId: number): string | undefined {
    return this.driver.model.orders.get(String(orderId))?.user ?? this.driver.shapeRejected.get(String(orderId))?.user;
  }

  private report(orderId: number, userId: number, status: OrderStatus, what: string): void {
    const owner = this.ownerOf(orderId);
    if (owner !== String(userId)) this.note(`${what} about order ${orderId} addressed to user ${userId}, owner ${owner}`);
    this.lastReported.set(orderId, status);
    this.touched.add(orderId);
  }

  apply(cmd: Command): EngineEvent[] {
    this.index++;
    this.mark();
    const model = this.driver.model;
    if (cmd.type !== 'Tick') this.users.add(cmd.userId);
    const modelSymSeq = new Map(this.config.markets.map((m) => [m.symbol, model.symbolSeq.get(m.symbol) ?? 0n]));
    const modelTrades = new Map(this.config.markets.map((m) => [m.symbol, model.trades.get(m.symbol)?.length ?? 0]));
    const wasKnown = cmd.type === 'PlaceOrder' && this.driver.known(cmd.orderId);
    const events = this.engine.apply(cmd);
    const expected = this.driver.apply(cmd);
    const what = `${JSON.stringify(cmd)}`;

    // Rejection word.
    const rejected = events.filter((e) => e.type === 'OrderRejected');
    const got = rejected[0]?.reason ?? null;
    if (rejected.length > 1) this.note(`${what}: ${rejected.length} OrderRejected events`);
    if (got !== expected.reject && (expected.alt === null || got !== expected.alt))
      this.note(
        `${what}: engine ${got ?? 'accepted'}, model ${expected.reject ?? 'accepted'}${expected.alt ? ` (or ${expected.alt})` : ''}`,
      );
    if (expected.known) this.known[expected.known] = (this.known[expected.known] ?? 0) + 1;
    if (got !== null) this.rejects[`${cmd.type} ${got}`] = (this.rejects[`${cmd.type} ${got}`] ?? 0) + 1;
    if (cmd.type === 'PlaceOrder') this.touched.add(cmd.orderId);
    if (cmd.type === 'CancelOrder') this.touched.add(cmd.orderId);

    // Event stream: seq, timestamps, phase order, report owners, trades, deltas, balances.
    let phase = 0;
    const levels = new Set<string>();
    const balanceKeys = new Set<string>();
    const deltasPerSymbol = new Map<string, number>();
    const newTrades = new Map<string, number>();
    for (const e of events) {
      this.seq++;
      if (e.seq !== this.seq) this.note(`${what}: event ${e.type} seq ${e.seq}, expected ${this.seq} (gap-free)`);
      if (e.type === 'Trade') {
        // engine/README "Events": a trade takes three seqs, its own, its maker report's, its taker report's.
        if (e.maker.seq !== this.seq + 1 || e.taker.seq !== this.seq + 2)
          this.note(
            `${what}: trade ${e.tradeId} seq ${e.seq}, maker report ${e.maker.seq}, taker report ${e.taker.seq} (expected the next two)`,
          );
        this.seq += 2;
      }
      if (e.timestamp !== cmd.timestamp) this.note(`${what}: event ${e.type} timestamp ${e.timestamp} ≠ command ${cmd.timestamp}`);
      const p = e.type === 'BookDelta' ? 1 : e.type === 'BalanceChanged' ? 2 : e.type === 'Ticker' ? 3 : 0;
      if (p < phase)
        this.note(`${what}: ${e.type} after a later-phase event (reports, then book deltas, then balance changes, then tickers)`);
      phase = Math.max(phase, p);
      switch (e.type) {
        case 'OrderAccepted':
        case 'OrderCancelled':
        case 'OrderExpired':
        case 'OrderTriggered':
        case 'OrderAmended':
          this.report(e.order.orderId, e.order.userId, e.order.status, e.type);
          if (e.type === 'OrderExpired' && e.order.expireReason !== e.reason)
            this.note(`${what}: OrderExpired reason ${e.reason}, its order view says ${e.order.expireReason}`);
          break;
        case 'OrderRejected':
          if (cmd.type === 'Tick' || e.userId !== cmd.userId) this.note(`${what}: OrderRejected addressed to ${e.userId}`);
          // A refused command never shadows a known id's record: only a new id's refusal is its order's report.
          if (cmd.type === 'PlaceOrder' && !wasKnown) {
            this.lastReported.set(cmd.orderId, 'Rejected');
            if (e.orderId !== cmd.orderId) this.note(`${what}: OrderRejected names order ${e.orderId}`);
            // The order the engine keeps answerable comes with its refusal (the view getOrder gives).
            const recorded = this.engine.getOrder(cmd.orderId);
            if (JSON.stringify(e.order) !== JSON.stringify(recorded))
              this.note(`${what}: OrderRejected order ${JSON.stringify(e.order)}, getOrder ${JSON.stringify(recorded)}`);
          } else if (e.order !== undefined)
            this.note(`${what}: OrderRejected of a ${cmd.type}${wasKnown ? ' with a known id' : ''} carries an order view`);
          break;
        case 'Trade':
          this.trade(e, what, newTrades);
          break;
        case 'BookDelta': {
          const last = this.symbolSeq.get(e.symbol) ?? 0;
          if (e.symbolSeq !== last + 1) this.note(`${what}: BookDelta ${e.symbol} symbolSeq ${e.symbolSeq} after ${last}`);
          this.symbolSeq.set(e.symbol, e.symbolSeq);
          const key = `${e.symbol}:${e.side}:${e.price}`;
          if (levels.has(key)) this.note(`${what}: two BookDeltas for ${key} in one command`);
          levels.add(key);
          deltasPerSymbol.set(e.symbol, (deltasPerSymbol.get(e.symbol) ?? 0) + 1);
          const book = this.replicaBook.get(e.symbol);
          if (e.quantity === 0) book?.delete(`${e.side}:${e.price}`);
          else book?.set(`${e.side}:${e.price}`, e.quantity);
          break;
        }
        case 'Ticker':
          this.ticker(e, what);
          break;
        case 'BalanceChanged': {
          const key = `${e.userId}:${e.asset}`;
          if (balanceKeys.has(key)) this.note(`${what}: two BalanceChanged for ${key} in one command`);
          balanceKeys.add(key);
          this.replicaBalance.set(key, { available: e.available, locked: e.locked });
          this.users.add(e.userId);
          const b = model.balance(String(e.userId), e.asset);
          if (BigInt(e.available) !== b.available || BigInt(e.locked) !== b.locked)
            this.note(`${what}: BalanceChanged ${key} ${e.available}/${e.locked}, model ${b.available}/${b.locked}`);
          break;
        }
      }
    }
    // Book deltas: one per level the model touched (engine/README "one BookDelta per touched price level").
    for (const m of this.config.markets) {
      const want = (model.symbolSeq.get(m.symbol) ?? 0n) - (modelSymSeq.get(m.symbol) ?? 0n);
      const gotDeltas = deltasPerSymbol.get(m.symbol) ?? 0;
      if (BigInt(gotDeltas) !== want) this.note(`${what}: ${gotDeltas} BookDeltas on ${m.symbol}, model touched ${want} levels`);
      const before = modelTrades.get(m.symbol) ?? 0;
      const modelNew = (model.trades.get(m.symbol)?.length ?? 0) - before;
      const engineNew = newTrades.get(m.symbol) ?? 0;
      if (modelNew !== engineNew) this.note(`${what}: ${engineNew} trades on ${m.symbol}, model ${modelNew}`);
    }
    if (this.engine.lastEventSeq() !== this.seq) this.note(`${what}: lastEventSeq ${this.engine.lastEventSeq()} ≠ ${this.seq} events seen`);
    if (cmd.type === 'Tick' && events.some((e) => e.type !== 'Ticker'))
      this.note(`${what}: a Tick emitted ${events.map((e) => e.type).join(', ')}`);
    return events;
  }

  /**
   * A Ticker against the model: at most one per symbol per TICKER_INTERVAL_MS; last price and best
   * bid / ask as the model has them after the command; 24 h figures over every model trade (the
   * stream spans minutes, well inside one 24 h window).
   */
  private ticker(e: TickerEvent, what: string): void {
    this.tickers++;
    const last = this.tickerAt.get(e.symbol);
    if (last !== undefined && e.timestamp - last < TICKER_INTERVAL_MS)
      this.note(`${what}: Ticker ${e.symbol} ${e.timestamp - last} ms after the previous one`);
    this.tickerAt.set(e.symbol, e.timestamp);
    const model = this.driver.model;
    const book = model.book(e.symbol, 1);
    const p = model.projection(e.symbol, 0n);
    const want: Record<string, bigint | undefined> = {
      lastPrice: model.last(e.symbol),
      bestBid: book.bids[0]?.[0],
      bestAsk: book.asks[0]?.[0],
      open24h: p.open,
      high24h: p.high,
      low24h: p.low,
      volume24h: p.volumeLots,
      quoteVolume24h: p.quoteVolume,
    };
    const problems = Object.entries(want).flatMap(([field, value]) => {
      const got = e[field as keyof TickerEvent] as number | undefined;
      return (got === undefined ? undefined : BigInt(got)) === value ? [] : [`${field} ${got}, model ${value}`];
    });
    if (problems.length > 0) this.note(`${what}: Ticker ${e.symbol}: ${problems.join('; ')}`);
  }

  private fillReport(r: FillReport, isMaker: boolean, quantity: number, expectedFee: bigint, what: string): void {
    this.report(r.orderId, r.userId, r.status, isMaker ? 'maker fill report' : 'taker fill report');
    if (r.isMaker !== isMaker) this.note(`${what}: fill report of order ${r.orderId} isMaker ${r.isMaker}`);
    if (BigInt(r.fee) !== expectedFee)
      this.note(`${what}: ${isMaker ? 'maker' : 'taker'} fee ${r.fee}, model ${expectedFee} (fee on the cumulative fill)`);
    const filled = (this.reportedFilled.get(r.orderId) ?? 0) + quantity;
    this.reportedFilled.set(r.orderId, filled);
    this.reportedFees.set(r.orderId, (this.reportedFees.get(r.orderId) ?? 0) + r.fee);
    if (r.filledQuantity !== filled)
      this.note(`${what}: fill report of order ${r.orderId} filledQuantity ${r.filledQuantity}, Σ trades ${filled}`);
    if (r.status !== 'Filled' && r.status !== 'PartiallyFilled') this.note(`${what}: fill report of order ${r.orderId} status ${r.status}`);
    const o = this.driver.model.orders.get(String(r.orderId));
    if (r.status === 'Filled' && r.remainingQuantity !== 0)
      this.note(`${what}: Filled report of order ${r.orderId} remainingQuantity ${r.remainingQuantity}`);
    if (r.status === 'PartiallyFilled' && o?.req.lots != null && BigInt(r.remainingQuantity) !== o.req.lots - BigInt(filled))
      this.note(
        `${what}: fill report of order ${r.orderId} remainingQuantity ${r.remainingQuantity}, quantity ${o.req.lots} − filled ${filled}`,
      );
    if (o && r.side !== o.req.side) this.note(`${what}: fill report of order ${r.orderId} side ${r.side}`);
  }

  private trade(e: Extract<EngineEvent, { type: 'Trade' }>, what: string, newTrades: Map<string, number>): void {
    this.trades++;
    const m = this.driver.markets.get(e.symbol);
    const k = newTrades.get(e.symbol) ?? 0;
    newTrades.set(e.symbol, k + 1);
    const t = this.modelTradeAt(e.symbol, k);
    if (!m) return this.note(`${what}: trade on unknown market ${e.symbol}`);
    if (!t)
      return this.note(
        `${what}: engine trade ${e.tradeId} ${e.quantity}@${e.price} (maker ${e.maker.orderId}, taker ${e.taker.orderId}) the model does not have`,
      );
    const problems: string[] = [];
    if (BigInt(e.tradeId) !== t.id) problems.push(`tradeId ${e.tradeId} ≠ ${t.id}`);
    if (BigInt(e.price) !== t.priceTicks) problems.push(`price ${e.price} ≠ ${t.priceTicks}`);
    if (BigInt(e.quantity) !== t.lots) problems.push(`quantity ${e.quantity} ≠ ${t.lots}`);
    if (BigInt(e.quoteQuantity) !== t.quote) problems.push(`quote ${e.quoteQuantity} ≠ ${t.quote}`);
    if (e.takerSide !== t.takerSide) problems.push(`takerSide ${e.takerSide} ≠ ${t.takerSide}`);
    if (String(e.maker.orderId) !== t.makerOrder) problems.push(`maker ${e.maker.orderId} ≠ ${t.makerOrder}`);
    if (String(e.taker.orderId) !== t.takerOrder) problems.push(`taker ${e.taker.orderId} ≠ ${t.takerOrder}`);
    if (problems.length > 0)
      this.note(
        `${what}: trade ${e.tradeId} ${e.quantity}@${e.price} maker ${e.maker.orderId} taker ${e.taker.orderId}: ${problems.join('; ')}`,
      );
    this.fillReport(e.maker, true, e.quantity, t.makerFee, what);
    this.fillReport(e.taker, false, e.quantity, t.takerFee, what);
  }

  /** The k-th trade the model made during the current command on `symbol`. */
  private tradeStart = new Map<string, number>();
  private modelTradeAt(symbol: string, k: number) {
    return this.driver.model.trades.get(symbol)?.[(this.tradeStart.get(symbol) ?? 0) + k];
  }

  /** Remembers where the model's trade lists stand before a command. */
  private mark(): void {
    for (const m of this.config.markets) this.tradeStart.set(m.symbol, this.driver.model.trades.get(m.symbol)?.length ?? 0);
  }

  compareOrder(o: OrderState, v: OrderView | undefined): void {
    this.ordersCompared++;
    const id = Number(o.id);
    if (!v) return this.note(`order ${o.id}: getOrder undefined, model ${o.status}`);
    const problems: string[] = [];
    if (v.status !== o.status) problems.push(`status ${v.status} ≠ ${o.status}`);
    if (BigInt(v.quantity) !== o.lots) problems.push(`quantity ${v.quantity} ≠ ${o.lots}`);
    if (BigInt(v.filledQuantity) !== o.filledLots) problems.push(`filled ${v.filledQuantity} ≠ ${o.filledLots}`);
    // ASSUMPTION (as ops/outside-in): remaining = quantity − filled, finished orders included.
    if (BigInt(v.remainingQuantity) !== o.lots - o.filledLots) problems.push(`remaining ${v.remainingQuantity} ≠ ${o.lots - o.filledLots}`);
    if (BigInt(v.filledQuote) !== o.filledQuote) problems.push(`filledQuote ${v.filledQuote} ≠ ${o.filledQuote}`);
    if (BigInt(v.feesPaid) !== o.fees) problems.push(`feesPaid ${v.feesPaid} ≠ ${o.fees}`);
    if (o.status === 'Rejected' && v.rejectReason !== o.rejectReason && v.rejectReason !== o.altRejectReason)
      problems.push(`rejectReason ${v.rejectReason} ≠ ${o.rejectReason}`);
    if ((v.expireReason ?? null) !== (o.status === 'Expired' ? o.expireReason : null))
      problems.push(`expireReason ${v.expireReason} ≠ ${o.expireReason}`);
    if (String(v.userId) !== o.user || v.symbol !== o.req.symbol || v.side !== o.req.side || v.orderType !== o.req.type)
      problems.push('owner/symbol/side/type differ');
    const reported = this.lastReported.get(id);
    if (reported !== v.status) problems.push(`last execution report said ${reported}, view ${v.status}`);
    const fees = this.reportedFees.get(id) ?? 0;
    if (fees !== v.feesPaid) problems.push(`Σ fill report fees ${fees} ≠ feesPaid ${v.feesPaid}`);
    if ((this.reportedFilled.get(id) ?? 0) !== v.filledQuantity)
      problems.push(`Σ fill reports ${this.reportedFilled.get(id) ?? 0} ≠ filled ${v.filledQuantity}`);
    if (problems.length > 0)
      this.note(
        `order ${o.id} (user ${o.user} ${o.req.symbol} ${o.req.side} ${o.req.type} ${o.req.tif}${o.req.postOnly ? ' post-only' : ''} ${o.req.stp} lots ${o.req.lots} quote ${o.req.quoteAmount}): ${problems.join('; ')}`,
      );
  }

  /** Full comparison of state (orders: touched since the last check and open ones, or all). */
  check(all: boolean): void {
    const model = this.driver.model;
    const engine = this.engine;
    const openByUser = new Map<string, string[]>();
    for (const o of model.orders.values()) {
      const open = OPEN.has(o.status);
      if (open) {
        const list = openByUser.get(o.user) ?? [];
        list.push(o.id);
        openByUser.set(o.user, list);
      }
      if (all || open || this.touched.has(Number(o.id))) this.compareOrder(o, engine.getOrder(Number(o.id)));
    }
    for (const [id, r] of this.driver.shapeRejected) {
      if (!all && !this.touched.has(Number(id))) continue;
      this.ordersCompared++;
      const v = engine.getOrder(Number(id));
      if (v?.status !== 'Rejected' || v.rejectReason !== r.reason || String(v.userId) !== r.user)
        this.note(`order ${id} refused by validation (${r.reason}): view ${JSON.stringify(v)}`);
    }
    this.touched.clear();
    // Balances, fee account included; engine, model and the balances replayed from events.
    for (const u of [...this.users, ...model.users().map(Number)]) {
      const rows = new Map(engine.balances(u).map((b) => [b.asset, b]));
      for (const asset of ['BTC', 'ETH', 'KRW']) {
        const e = rows.get(asset) ?? { available: 0, locked: 0 };
        const b = model.balance(String(u), asset);
        const r = this.replicaBalance.get(`${u}:${asset}`) ?? { available: 0, locked: 0 };
        if (BigInt(e.available) !== b.available || BigInt(e.locked) !== b.locked)
          this.note(`balance ${u} ${asset}: engine ${e.available}/${e.locked}, model ${b.available}/${b.locked}`);
        if (r.available !== e.available || r.locked !== e.locked)
          this.note(`balance ${u} ${asset}: engine ${e.available}/${e.locked}, replayed BalanceChanged ${r.available}/${r.locked}`);
      }
      const open = engine
        .openOrders(u)
        .map((o) => o.orderId)
        .sort((a, b) => a - b)
        .join(',');
      const want = (openByUser.get(String(u)) ?? [])
        .map(Number)
        .sort((a, b) => a - b)
        .join(',');
      if (open !== want) this.note(`open orders of ${u}: engine [${open}], model [${want}]`);
    }
    for (const m of this.config.markets) {
      const depth = engine.depth(m.symbol, 1_000_000);
      const book = model.book(m.symbol, 1_000_000);
      const fmt = (levels: readonly { price: number; quantity: number }[]) => levels.map((l) => `${l.quantity}@${l.price}`).join(' ');
      const fmtModel = (levels: [bigint, bigint][]) => levels.map(([p, q]) => `${q}@${p}`).join(' ');
      const replica = this.replicaBook.get(m.symbol) ?? new Map<string, number>();
      const replicaSide = (side: Side) =>
        [...replica.entries()]
          .filter(([k]) => k.startsWith(`${side}:`))
          .map(([k, q]) => ({ price: Number(k.slice(side.length + 1)), quantity: q }))
          .sort((a, b) => (side === 'Buy' ? b.price - a.price : a.price - b.price));
      for (const [side, name] of [
        ['Buy', 'bids'],
        ['Sell', 'asks'],
      ] as const) {
        const got = fmt(depth[name]);
        if (got !== fmtModel(book[name]))
          this.note(`${m.symbol} ${name}: engine [${got.slice(0, 300)}], model [${fmtModel(book[name]).slice(0, 300)}]`);
        if (got !== fmt(replicaSide(side))) this.note(`${m.symbol} ${name}: engine depth ≠ book replayed from BookDelta`);
      }
      if (depth.symbolSeq !== (this.symbolSeq.get(m.symbol) ?? 0))
        this.note(`${m.symbol}: depth symbolSeq ${depth.symbolSeq}, last BookDelta ${this.symbolSeq.get(m.symbol)}`);
      if (BigInt(depth.symbolSeq) !== (model.symbolSeq.get(m.symbol) ?? 0n))
        this.note(`${m.symbol}: symbolSeq ${depth.symbolSeq}, model ${model.symbolSeq.get(m.symbol)}`);
      const last = engine.lastTradePrice(m.symbol);
      const modelLast = model.last(m.symbol);
      if ((last === undefined ? undefined : BigInt(last)) !== modelLast)
        this.note(`${m.symbol}: lastTradePrice ${last}, model ${modelLast}`);
    }
    if (engine.pendingTickers() < 0 || engine.pendingTickers() > this.config.markets.length)
      this.note(`pendingTickers ${engine.pendingTickers()}`);
  }

  result(): RunResult {
    const statuses: Record<string, number> = {};
    for (const o of this.driver.model.orders.values())
      statuses[`${o.req.type}:${o.status}`] = (statuses[`${o.req.type}:${o.status}`] ?? 0) + 1;
    return {
      notes: this.notes,
      firstBad: this.firstBad,
      ordersCompared: this.ordersCompared,
      trades: this.trades,
      tickers: this.tickers,
      statuses,
      rejects: this.rejects,
      paths: this.driver.model.stats,
      known: { ...this.known },
    };
  }
}

/** Runs a command list with every check (after every command, every CHECK_EVERY, and at the end). */
export function runCommands(
  commands: readonly Command[],
  tolerate: ReadonlySet<KnownDisagreement> = new Set(),
  every = CHECK_EVERY,
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
): RunResult {
  const checker = new Checker(config, tolerate);
  commands.forEach((cmd, i) => {
    checker.apply(cmd);
    if ((i + 1) % every === 0) checker.check(false);
  });
  checker.check(true);
  return checker.result();
}

// ------------------------------------------------------------------ the random stream

/**
 * A stream of engine commands. It looks at the engine only to pick targets (whose orders are open,
 * what a user holds), never to decide what should happen.
 */
export function generate(
  seed: number,
  count: number,
  config: EngineConfig = DEFAULT_ENGINE_CONFIG,
): { commands: Command[]; checker: Checker } {
  const random = rng(seed);
  const checker = new Checker(config, new Set(Object.keys(KNOWN_DISAGREEMENTS) as KnownDisagreement[]));
  const engine = checker.engine;
  const commands: Command[] = [];
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;
  const markets = config.markets;
  const mid = new Map<string, number>([
    ['BTC-KRW', 50_000],
    ['ETH-KRW', 3_000],
  ]);
  // Users 1..40; 1..8 are poor (deposits that buy a few lots at most); 0 is the fee account, which trades now and then.
  const USERS = 40;
  const POOR = 8;
  const placed: { id: number; user: number }[] = [];
  let seqNo = 0;
  const stpOf = (): SelfTradePrevention => pick(['ExpireTaker', 'ExpireTaker', 'ExpireMaker', 'ExpireBoth']);
  const push = (cmd: Command) => {
    commands.push(cmd);
    checker.apply(cmd);
    if (commands.length % CHECK_EVERY === 0) checker.check(false);
  };
  const place = (
    fields: Omit<PlaceOrderCommand, 'type' | 'orderId' | 'timestamp' | 'postOnly' | 'stp' | 'timeInForce'> &
      Partial<Pick<PlaceOrderCommand, 'postOnly' | 'stp' | 'timeInForce'>>,
    id?: number,
  ) => {
    const orderId = id ?? seqNo;
    const cmd: PlaceOrderCommand = {
      type: 'PlaceOrder',
      orderId,
      timestamp: T0 + seqNo,
      postOnly: false,
      stp: stpOf(),
      timeInForce: 'GTC',
      ...fields,
    };
    if (id === undefined) placed.push({ id: orderId, user: fields.userId });
    push(cmd);
  };
  // Opening deposits.
  for (let u = 0; u <= USERS; u++) {
    const poor = u >= 1 && u <= POOR;
    for (const [asset, amount] of [
      ['KRW', poor ? int(20_000, 200_000) : int(20_000_000, 400_000_000)],
      ['BTC', poor ? int(1, 5) * 100_000 : int(50, 2_000) * 100_000],
      ['ETH', poor ? int(2, 20) * 100_000 : int(200, 20_000) * 100_000],
    ] as const) {
      seqNo++;
      push({ type: 'Deposit', userId: u, asset, amount, timestamp: T0 + seqNo });
    }
  }
  while (commands.length < count) {
    if (commands.length % 97 === 0) {
      // Lets time pass (the core submits one after a quiet second): sends the Tickers that wait.
      // Draws nothing from the random stream, so the other commands are what they were without it.
      push({ type: 'Tick', timestamp: T0 + seqNo });
      continue;
    }
    seqNo += chance(0.05) ? int(2, 4) : 1; // ids are unique, not necessarily dense
    const m = pick(markets);
    const sym = m.symbol;
    const center = mid.get(sym) ?? 1000;
    // Price walk: small steps, now and then a jump that sweeps the book and sets off stops.
    const step = chance(0.01) ? int(-60, 60) : int(-2, 2);
    mid.set(sym, Math.max(50, center + step));
    const spread = sym === 'BTC-KRW' ? 10 : 4;
    const maxLots = sym === 'BTC-KRW' ? 30 : 80;
    const minLots = sym === 'BTC-KRW' ? 1 : 2;
    const userId = chance(0.02) ? 0 : int(1, USERS);
    const lots = () => (chance(0.05) ? int(minLots, maxLots * 6) : int(minLots, maxLots));
    const side: Side = chance(0.5) ? 'Buy' : 'Sell';
    const roll = random();
    if (roll < 0.4) {
      // Limit
      let price = side === 'Buy' ? center + int(-spread, Math.ceil(spread / 2)) : center + int(-Math.ceil(spread / 2), spread);
      if (chance(0.12)) {
        const own = engine.openOrders(userId, sym).filter((o) => o.side !== side && o.price !== undefined);
        if (own.length > 0) price = pick(own).price ?? price;
      }
      if (chance(0.04)) price = side === 'Buy' ? center + int(10, 80) : Math.max(1, center - int(10, 80)); // deep sweep
      const tif: TimeInForce = chance(0.75) ? 'GTC' : pick(['IOC', 'FOK']);
      place({
        userId,
        symbol: sym,
        side,
        orderType: 'Limit',
        price,
        quantity: lots(),
        timeInForce: tif,
        postOnly: tif === 'GTC' && chance(0.12),
      });
    } else if (roll < 0.53) {
      // Market: sell by quantity; buy by quantity (whole balance as budget), by amount, or both.
      const how = side === 'Sell' ? 'qty' : pick(['qty', 'quote', 'both'] as const);
      const tif: TimeInForce = how === 'quote' ? pick(['IOC', 'GTC']) : pick(['IOC', 'IOC', 'FOK', 'GTC']);
      const quoteAmount = chance(0.1) ? int(5_000, 60_000) : int(5_000, center * maxLots * 2);
      place({
        userId,
        symbol: sym,
        side,
        orderType: 'Market',
        timeInForce: tif,
        ...(how !== 'quote' ? { quantity: lots() } : {}),
        ...(how !== 'qty' ? { quoteAmount } : {}),
      });
    } else if (roll < 0.65) {
      // Stops around the last price (some already through it), in chains.
      const last = engine.lastTradePrice(sym) ?? center;
      const stopPrice = Math.max(1, side === 'Buy' ? last + int(-3, spread * 2) : last - int(-3, spread * 2));
      if (chance(0.5)) {
        const price = Math.max(1, side === 'Buy' ? stopPrice + int(-2, 8) : stopPrice - int(-2, 8));
        place({
          userId,
          symbol: sym,
          side,
          orderType: 'StopLimit',
          stopPrice,
          price,
          quantity: lots(),
          timeInForce: pick(['GTC', 'GTC', 'IOC', 'FOK']),
        });
      } else if (side === 'Sell')
        place({
          userId,
          symbol: sym,
          side,
          orderType: 'StopMarket',
          stopPrice,
          quantity: lots(),
          timeInForce: pick(['IOC', 'GTC', 'FOK']),
        });
      else {
        const quoteAmount = int(5_000, center * maxLots);
        place({
          userId,
          symbol: sym,
          side,
          orderType: 'StopMarket',
          stopPrice,
          quoteAmount,
          ...(chance(0.3) ? { quantity: lots() } : {}),
          timeInForce: 'IOC',
        });
      }
    } else if (roll < 0.8) {
      // Cancels: own open (mostly), own finished or refused, another user's, unknown.
      const r = random();
      let orderId: number;
      let by = userId;
      const open = engine.openOrders(userId);
      if (r < 0.65 && open.length > 0) orderId = pick(open).orderId;
      else if (r < 0.8 && placed.length > 0) {
        const p = pick(placed);
        orderId = p.id;
        by = p.user;
      } else if (r < 0.92 && placed.length > 0) {
        const p = pick(placed);
        orderId = p.id;
        by = p.user === userId ? (userId % USERS) + 1 : userId;
      } else orderId = seqNo + 1_000_000;
      push({ type: 'CancelOrder', orderId, userId: by, timestamp: T0 + seqNo });
    } else if (roll < 0.84) {
      // One fault each, refused by the stateless checks.
      // One fault only: the documents do not give the order of the stateless checks.
      const price = center;
      const q = Math.max(int(minLots, maxLots), Math.ceil(m.minNotional / (price * m.quotePerTickLot)));
      const faults: (() => void)[] = [
        () => place({ userId, symbol: sym, side, orderType: 'Limit', price: m.maxPrice + 1, quantity: q }),
        () => place({ userId, symbol: sym, side, orderType: 'Limit', price, quantity: m.maxQuantity + 1 }),
        () => place({ userId, symbol: sym, side, orderType: 'Limit', price: 1, quantity: 1 }),
        () => place({ userId, symbol: sym, side, orderType: 'Limit', quantity: q }),
        () => place({ userId, symbol: sym, side: 'Sell', orderType: 'Market', price, quantity: q, timeInForce: 'IOC' }),
        () => place({ userId, symbol: sym, side, orderType: 'Limit', price, stopPrice: price, quantity: q }),
        () => place({ userId, symbol: sym, side, orderType: 'StopLimit', price, quantity: q }),
        () => place({ userId, symbol: sym, side, orderType: 'Limit', price, quantity: q, timeInForce: 'IOC', postOnly: true }),
        () => place({ userId, symbol: sym, side, orderType: 'StopLimit', price, stopPrice: price, quantity: q, postOnly: true }),
        () => place({ userId, symbol: sym, side: 'Buy', orderType: 'Market', quoteAmount: 100_000, timeInForce: 'FOK' }),
        () => place({ userId, symbol: sym, side: 'Sell', orderType: 'Market', quantity: q, quoteAmount: 100_000, timeInForce: 'IOC' }),
        () => place({ userId, symbol: sym, side: 'Buy', orderType: 'Limit', price, quantity: q, quoteAmount: 100_000 }),
        () => place({ userId, symbol: sym, side: 'Buy', orderType: 'StopMarket', stopPrice: price, quantity: q, timeInForce: 'IOC' }),
        () => place({ userId, symbol: sym, side: 'Sell', orderType: 'Market', timeInForce: 'IOC' }),
        () => place({ userId, symbol: 'DOGE-KRW', side, orderType: 'Limit', price, quantity: q }),
        () => place({ userId, symbol: sym, side: 'Buy', orderType: 'Market', quoteAmount: 4_999, timeInForce: 'IOC' }),
        () => place({ userId, symbol: sym, side, orderType: 'StopLimit', price, stopPrice: m.maxPrice + 1, quantity: q }),
        () => place({ userId, symbol: sym, side: 'Sell', orderType: 'Limit', price }),
      ];
      pick(faults)();
    } else if (roll < 0.86) {
      // A duplicate order id (open, finished or refused order), with a valid body.
      const p = placed.length > 0 ? pick(placed) : undefined;
      if (p)
        place(
          { userId: chance(0.5) ? p.user : userId, symbol: sym, side, orderType: 'Limit', price: center, quantity: int(minLots, maxLots) },
          p.id,
        );
    } else if (roll < 0.93) {
      const asset = pick([m.quote, m.base]);
      const poor = userId >= 1 && userId <= POOR;
      const amount =
        asset === 'KRW'
          ? poor
            ? int(1_000, 60_000)
            : int(100_000, 20_000_000)
          : int(1, poor ? 3 : 50) * 100_000 + (chance(0.2) ? int(1, 99_999) : 0);
      push({ type: 'Deposit', userId, asset, amount, timestamp: T0 + seqNo });
    } else {
      // Withdrawals: over the available (refused), all of it, or a part.
      const asset = pick([m.quote, m.base]);
      const available = engine.balances(userId).find((b) => b.asset === asset)?.available ?? 0;
      const r = random();
      const amount = r < 0.3 ? available + int(1, 1000) : r < 0.55 && available > 0 ? available : Math.floor(available / int(2, 10)) + 1;
      push({ type: 'Withdraw', userId, asset, amount, timestamp: T0 + seqNo });
    }
  }
  checker.check(true);
  return { commands, checker };
}
