/**
 * Property tests: seeded random command sequences, invariants checked after every command
 * (STYLE §16), and replay / snapshot-restore equivalence. Commands come 0 ms to a day apart (most
 * within a second, some minutes, now and then a day) with Tick commands among them, so Tickers are
 * emitted, held back and flushed, and the 24 h window drops buckets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { isOpenStatus, type OrderNode } from './matching/order.ts';
import { testConfig } from './test-support.ts';
import {
  TICKER_INTERVAL_MS,
  type Command,
  type EngineConfig,
  type EngineEvent,
  type OrderType,
  type SelfTradePrevention,
  type Side,
  type TimeInForce,
} from './types.ts';

/** 50 remembered orders, at most 6 open orders per user and market (both reached by the streams) */
const CONFIG: EngineConfig = { ...testConfig({}, 50), maxOpenOrdersPerUserMarket: 6 };
const SYMBOLS = ['BTC-KRW', 'ETH-KRW'] as const;
const ASSETS = ['BTC', 'ETH', 'KRW'] as const;
const USERS = [1, 2, 3, 4];
const LOT = 100_000;

type Op =
  | {
      kind: 'limit';
      user: number;
      symbol: number;
      side: Side;
      price: number;
      quantity: number;
      tif: TimeInForce;
      postOnly: boolean;
      stp: SelfTradePrevention;
    }
  | {
      kind: 'market';
      user: number;
      symbol: number;
      side: Side;
      quantity?: number;
      quoteAmount?: number;
      tif: TimeInForce;
      stp: SelfTradePrevention;
    }
  | { kind: 'stop'; user: number; symbol: number; side: Side; stopPrice: number; price?: number; quantity: number; quoteAmount?: number }
  | { kind: 'cancel'; pick: number; user?: number }
  | { kind: 'amend'; pick: number; reduceBy: number }
  | { kind: 'deposit'; user: number; asset: number; amount: number }
  | { kind: 'withdraw'; user: number; asset: number; amount: number }
  | { kind: 'tick' };

const user = fc.constantFrom(...USERS);
const symbol = fc.constantFrom(0, 1);
const side = fc.constantFrom<Side>('Buy', 'Sell');
const price = fc.integer({ min: 97, max: 103 });
const quantity = fc.integer({ min: 1, max: 12 });
const stp = fc.constantFrom<SelfTradePrevention>('ExpireTaker', 'ExpireMaker', 'ExpireBoth');

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('limit' as const),
      user,
      symbol,
      side,
      price,
      quantity,
      tif: fc.constantFrom<TimeInForce>('GTC', 'GTC', 'GTC', 'IOC', 'FOK'),
      postOnly: fc.boolean(),
      stp,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('market' as const),
        user,
        symbol,
        side,
        quantity,
        quoteAmount: fc.integer({ min: 50, max: 3000 }),
        tif: fc.constantFrom<TimeInForce>('IOC', 'FOK', 'GTC'),
        stp,
      },
      { requiredKeys: ['kind', 'user', 'symbol', 'side', 'tif', 'stp'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('stop' as const),
        user,
        symbol,
        side,
        stopPrice: price,
        price,
        quantity,
        quoteAmount: fc.integer({ min: 100, max: 3000 }),
      },
      { requiredKeys: ['kind', 'user', 'symbol', 'side', 'stopPrice', 'quantity'] },
    ),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(), user: fc.option(user, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), pick: fc.nat(), reduceBy: fc.integer({ min: 0, max: 6 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deposit' as const),
      user,
      asset: fc.constantFrom(0, 1, 2),
      amount: fc.integer({ min: 1, max: 2_000_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('withdraw' as const),
      user,
      asset: fc.constantFrom(0, 1, 2),
      amount: fc.integer({ min: 1, max: 2_000_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
);

/** ms from one command to the next: mostly under a second (Tickers held back), some minutes, now and then about a day. */
const gapArbitrary: fc.Arbitrary<number> = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 400 }) },
  { weight: 10, arbitrary: fc.integer({ min: 400, max: 2_500 }) },
  { weight: 4, arbitrary: fc.integer({ min: 30_000, max: 45 * 60_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 23 * 3_600_000, max: 25 * 3_600_000 }) },
);

type Step = [Op, number];

/** Turns abstract ops into commands the way the sequencer would (order id = command seq). */
function toCommands(steps: Step[]): Command[] {
  const commands: Command[] = [];
  const placed: { orderId: number; userId: number; quantity: number }[] = [];
  let seq = 0;
  let time = 1_000;
  const funding = USERS.flatMap((userId) =>
    ASSETS.map((asset) => ({ type: 'Deposit' as const, userId, asset, amount: asset === 'KRW' ? 200_000 : 40 * LOT, timestamp: 0 })),
  );
  for (const deposit of funding) {
    seq++;
    commands.push({ ...deposit, timestamp: ++time });
  }
  for (const [op, gap] of steps) {
    seq++;
    time += gap;
    const timestamp = time;
    switch (op.kind) {
      case 'limit':
      case 'market':
      case 'stop': {
        const orderType: OrderType =
          op.kind === 'limit' ? 'Limit' : op.kind === 'market' ? 'Market' : op.price === undefined ? 'StopMarket' : 'StopLimit';
        const isMarketType = orderType === 'Market' || orderType === 'StopMarket';
        const quoteAmount = 'quoteAmount' in op && op.side === 'Buy' && isMarketType ? op.quoteAmount : undefined;
        const stopMarketBuy = orderType === 'StopMarket' && op.side === 'Buy';
        commands.push({
          type: 'PlaceOrder',
          orderId: seq,
          userId: op.user,
          symbol: SYMBOLS[op.symbol]!,
          side: op.side,
          orderType,
          price: op.kind === 'market' ? undefined : op.kind === 'limit' ? op.price : op.price,
          stopPrice: op.kind === 'stop' ? op.stopPrice : undefined,
          quantity: op.kind === 'market' && op.quantity === undefined && quoteAmount !== undefined ? undefined : (op.quantity ?? 1),
          quoteAmount: stopMarketBuy ? (('quoteAmount' in op ? op.quoteAmount : undefined) ?? 1000) : quoteAmount,
          timeInForce: op.kind === 'stop' ? 'GTC' : op.tif,
          postOnly: op.kind === 'limit' ? op.postOnly && op.tif === 'GTC' : false,
          stp: op.kind === 'stop' ? 'ExpireTaker' : op.stp,
          timestamp,
        });
        placed.push({ orderId: seq, userId: op.user, quantity: op.kind === 'market' ? (op.quantity ?? 1) : op.quantity });
        break;
      }
      case 'cancel': {
        const target = placed[op.pick % Math.max(1, placed.length)];
        commands.push({ type: 'CancelOrder', orderId: target?.orderId ?? 999_999, userId: op.user ?? target?.userId ?? 1, timestamp });
        break;
      }
      case 'amend': {
        const target = placed[op.pick % Math.max(1, placed.length)];
        commands.push({
          type: 'AmendOrder',
          orderId: target?.orderId ?? 999_999,
          userId: target?.userId ?? 1,
          newQuantity: Math.max(1, (target?.quantity ?? 1) - op.reduceBy),
          timestamp,
        });
        break;
      }
      case 'deposit':
      case 'withdraw':
        commands.push({
          type: op.kind === 'deposit' ? 'Deposit' : 'Withdraw',
          userId: op.user,
          asset: ASSETS[op.asset]!,
          amount: op.amount,
          timestamp,
        });
        break;
      case 'tick':
        commands.push({ type: 'Tick', timestamp });
        break;
    }
  }
  return commands;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invariant broken: ${what}`);
}

/** Checks every invariant of the engine's state; `supply` is deposits − withdrawals per asset. */
function checkInvariants(engine: Engine, supply: number[], now: number): void {
  const lockedByOrders = new Map<string, number>();
  for (const book of engine.books.values()) {
    const bestBid = book.bids.best();
    const bestAsk = book.asks.best();
    if (bestBid !== undefined && bestAsk !== undefined) check(bestBid.price < bestAsk.price, 'bestBid.price < bestAsk.price');
    for (const side of [book.bids, book.asks]) {
      let previousPrice = side.isBid ? -Infinity : Infinity;
      check(side.byPrice.size === side.sorted.length, 'side.byPrice.size === side.sorted.length');
      for (const level of side.sorted) {
        // worst → best
        if (side.isBid) check(level.price > previousPrice, 'level.price > previousPrice');
        else check(level.price < previousPrice, 'level.price < previousPrice');
        previousPrice = level.price;
        check(side.byPrice.get(level.price) === level, 'side.byPrice.get(level.price) === level');
        let total = 0;
        let count = 0;
        let previous: OrderNode | null = null;
        for (let order = level.head; order !== null; order = order.next) {
          check(order.prev === previous, 'order.prev === previous');
          check(order.level === level, 'order.level === level');
          check(order.isBuy === side.isBid, 'order.isBuy === side.isBid');
          check(order.price === level.price, 'order.price === level.price');
          check(order.quantity - order.filled > 0, 'order.quantity - order.filled > 0');
          check(order.status === 'Pending' || order.status === 'PartiallyFilled', 'resting order status');
          check(engine.orders.get(order.orderId) === order, 'engine.orders.get(order.orderId) === order');
          total += order.quantity - order.filled;
          count++;
          previous = order;
        }
        check(level.tail === previous, 'level.tail === previous');
        check(level.total === total, 'level.total === total');
        check(level.count === count, 'level.count === count');
        check(count > 0, 'count > 0');
      }
    }
  }
  let openCount = 0;
  let rememberedInIndex = 0;
  const openPerUserMarket = new Map<string, number>();
  for (const order of engine.orders.values()) {
    if (typeof order === 'number') {
      rememberedInIndex++;
      check(!isOpenStatus(engine.recent.statusAt(order)), 'remembered orders are finished');
      continue;
    }
    check(order.listed, 'indexed records are open');
    openCount++;
    const userMarket = `${order.userId}:${engine.books.get(order.symbol)!.index}`;
    openPerUserMarket.set(userMarket, (openPerUserMarket.get(userMarket) ?? 0) + 1);
    const view = order.view();
    check(view.filledQuantity + view.remainingQuantity === view.quantity, 'filled + remaining = quantity');
    check(order.filled < order.quantity, 'order.filled < order.quantity');
    check(order.locked >= 0, 'order.locked >= 0');
    const book = engine.books.get(order.symbol)!;
    const asset = order.isBuy ? book.quoteIndex : book.baseIndex;
    const key = `${order.userId}:${asset}`;
    lockedByOrders.set(key, (lockedByOrders.get(key) ?? 0) + order.locked);
    if (order.status === 'Untriggered') check(order.level === null, 'order.level === null');
    else check(order.level !== null, 'order.level !== null');
  }
  let listed = 0;
  const totals = ASSETS.map(() => 0);
  for (const account of engine.ledger.accounts.values()) {
    listed += account.openCount;
    account.openByMarket.forEach((count, market) => {
      check(count === (openPerUserMarket.get(`${account.userId}:${market}`) ?? 0), 'open orders counted per user and market');
      check(count <= CONFIG.maxOpenOrdersPerUserMarket, 'open orders per user and market within the cap');
    });
    ASSETS.forEach((_, asset) => {
      const available = account.balances[asset * 2]!;
      const locked = account.balances[asset * 2 + 1]!;
      check(available >= 0, 'available >= 0');
      check(locked >= 0, 'locked >= 0');
      // Everything locked belongs to some open order.
      check(locked === (lockedByOrders.get(`${account.userId}:${asset}`) ?? 0), 'locked equals the holds of open orders');
      totals[asset]! += available + locked;
    });
  }
  check(listed === openCount, 'listed === openCount');
  let remembered = 0;
  for (const slot of engine.recent.slots()) {
    remembered++;
    const view = engine.recent.view(slot);
    check(engine.orders.get(view.orderId) === slot, 'finished order findable');
    check(view.filledQuantity + view.remainingQuantity === view.quantity, 'finished: filled + remaining = quantity');
    check(view.filledQuantity <= view.quantity, 'finished: filled ≤ quantity');
    check(!isOpenStatus(view.status), 'finished status');
  }
  check(remembered === rememberedInIndex, 'every remembered order indexed once');
  check(engine.orders.size === openCount + remembered, 'index holds open and remembered orders only');
  // Tickers: a symbol is pending exactly while its changed figures wait, and only while its last
  // Ticker is under TICKER_INTERVAL_MS old; one that is not pending shows the best prices its last
  // Ticker carried.
  let dirty = 0;
  for (const book of engine.books.values()) {
    const ticker = book.ticker;
    if (ticker.dirty) {
      dirty++;
      check(ticker.lastAt >= 0 && now - ticker.lastAt < TICKER_INTERVAL_MS, 'a pending Ticker is not yet due');
    } else {
      check(
        (book.bids.best()?.price ?? 0) === ticker.bid && (book.asks.best()?.price ?? 0) === ticker.ask,
        'no pending Ticker: best prices as the last Ticker said',
      );
    }
  }
  check(engine.pendingTickers() === dirty, 'pendingTickers() counts the dirty symbols');
  // Conservation: all available + locked (fee account included) = deposits − withdrawals.
  for (let asset = 0; asset < ASSETS.length; asset++) {
    check(totals[asset] === supply[asset], `asset ${ASSETS[asset]} conserved`);
    check(engine.ledger.supply[asset] === supply[asset], `asset ${ASSETS[asset]} supply tracked`);
  }
}

interface EventState {
  seq: number;
  tradeId: number;
  symbolSeq: Map<string, number>;
  /** symbol → timestamp of its last Ticker */
  tickerAt: Map<string, number>;
  tickers: number;
}

/** seqs an event takes: a Trade three (its own, the maker's report, the taker's report), others one */
const seqWidth = (event: EngineEvent): number => (event.type === 'Trade' ? 3 : 1);

function checkEvents(engine: Engine, command: Command, events: EngineEvent[], state: EventState): void {
  let phase = 0;
  for (const event of events) {
    check(event.seq === ++state.seq, 'event.seq === ++state.seq');
    const eventPhase = event.type === 'BookDelta' ? 1 : event.type === 'BalanceChanged' ? 2 : event.type === 'Ticker' ? 3 : 0;
    check(eventPhase >= phase, 'reports, then book deltas, then balance changes, then tickers');
    phase = eventPhase;
    if (event.type === 'Trade') {
      check(
        event.maker.seq === ++state.seq && event.taker.seq === ++state.seq,
        'maker report seq = trade seq + 1, taker report seq = trade seq + 2',
      );
      check(event.tradeId === ++state.tradeId, 'event.tradeId === ++state.tradeId');
      for (const report of [event.maker, event.taker]) {
        const view = engine.getOrder(report.orderId); // undefined once forgotten (recentFinishedLimit 50)
        if (view !== undefined)
          check(report.orderType === view.orderType && report.orderPrice === view.price, 'fill report: the order type and price');
        check(
          report.orderQuantity >= report.filledQuantity && report.orderQuantity === report.filledQuantity + report.remainingQuantity,
          'fill report: order quantity = filled + remaining',
        );
        check(report.filledQuote >= event.quoteQuantity, 'fill report: cumulative filledQuote');
      }
      check(event.maker.userId !== event.taker.userId, 'no self-trade');
      check(
        event.maker.filledQuantity + event.maker.remainingQuantity > 0,
        'event.maker.filledQuantity + event.maker.remainingQuantity > 0',
      );
    }
    if (event.type === 'BookDelta') {
      const next = (state.symbolSeq.get(event.symbol) ?? 0) + 1;
      check(event.symbolSeq === next, 'event.symbolSeq === next');
      state.symbolSeq.set(event.symbol, next);
    }
    if (event.type === 'OrderRejected' && event.order !== undefined) {
      check(
        event.order.status === 'Rejected' && event.order.orderId === event.orderId && event.order.rejectReason === event.reason,
        'a Rejected order view matches its event',
      );
      check(
        JSON.stringify(engine.getOrder(event.order.orderId)) === JSON.stringify(event.order),
        'the Rejected event carries the record getOrder answers',
      );
    }
    if (event.type === 'Ticker') {
      state.tickers++;
      const last = state.tickerAt.get(event.symbol);
      check(last === undefined || event.timestamp - last >= TICKER_INTERVAL_MS, 'at most one Ticker per symbol per TICKER_INTERVAL_MS');
      state.tickerAt.set(event.symbol, event.timestamp);
      const best = engine.bestBidAsk(event.symbol);
      check(
        event.bestBid === best.bid?.price && event.bestAsk === best.ask?.price && event.lastPrice === engine.lastTradePrice(event.symbol),
        'Ticker: best prices and last price at the end of the command',
      );
      check(
        JSON.stringify(engine.ticker(event.symbol, event.timestamp)) ===
          JSON.stringify({ ...event, type: undefined, seq: undefined, timestamp: undefined }),
        'Ticker figures = ticker(symbol, its timestamp)',
      );
    }
    if ('order' in event && event.order !== undefined)
      check(
        event.order.filledQuantity + event.order.remainingQuantity === event.order.quantity,
        'event.order.filledQuantity + event.order.remainingQuantity === event.order.quantity',
      );
  }
  if (command.type === 'Tick')
    check(
      events.every((event) => event.type === 'Ticker'),
      'a Tick emits Tickers only',
    );
}

function runAll(commands: Command[]): { events: EngineEvent[][]; hash: string; engine: Engine } {
  const engine = new Engine(CONFIG);
  const events = commands.map((command) => engine.apply(command));
  return { events, hash: engine.stateHash(), engine };
}

const SEQUENCE = fc.array(fc.tuple(opArbitrary, gapArbitrary), { minLength: 10, maxLength: 150, size: 'max' });

describe('engine properties', () => {
  it('keeps every invariant after every command', () => {
    let tickers = 0;
    let ticksThatEmitted = 0;
    let capped = 0;
    fc.assert(
      fc.property(SEQUENCE, (ops) => {
        const engine = new Engine(CONFIG);
        const supply = ASSETS.map(() => 0);
        const state: EventState = { seq: 0, tradeId: 0, symbolSeq: new Map(), tickerAt: new Map(), tickers: 0 };
        // FIFO: the order in which orders first appear in a level never changes.
        const arrival = new Map<number, number>();
        let arrivals = 0;
        for (const command of toCommands(ops)) {
          const events = engine.apply(command);
          checkEvents(engine, command, events, state);
          if ((command.type === 'Deposit' || command.type === 'Withdraw') && events[0]?.type === 'BalanceChanged') {
            const index = ASSETS.indexOf(command.asset as (typeof ASSETS)[number]);
            supply[index]! += command.type === 'Deposit' ? command.amount : -command.amount;
          }
          checkInvariants(engine, supply, command.timestamp);
          if (command.type === 'Tick' && events.length > 0) ticksThatEmitted++;
          if (events.some((event) => event.type === 'OrderRejected' && event.reason === 'TOO_MANY_OPEN_ORDERS')) capped++;
          for (const book of engine.books.values()) {
            for (const side of [book.bids, book.asks]) {
              for (const level of side.sorted) {
                let last = -1;
                for (let order = level.head; order !== null; order = order.next) {
                  if (!arrival.has(order.orderId)) arrival.set(order.orderId, arrivals++);
                  const at = arrival.get(order.orderId)!;
                  check(at > last, 'FIFO within a level');
                  last = at;
                }
              }
            }
          }
        }
        tickers += state.tickers;
      }),
      { seed: 20261123, numRuns: 2000 },
    );
    expect(tickers).toBeGreaterThan(1000); // 32,011
    expect(ticksThatEmitted).toBeGreaterThan(100); // 479 with seed 20261123
    expect(capped).toBeGreaterThan(30); // refused at the open-order cap: 72 with seed 20261123
  });

  it('replays to identical events and state hash, and snapshot + rest equals the uninterrupted run', () => {
    const coverage = { cutsWithPendingTicker: 0, tickersAfterCut: 0, tickersFromTick: 0 };
    fc.assert(
      fc.property(SEQUENCE, fc.nat(), (ops, cutSeed) => {
        const commands = toCommands(ops);
        const first = runAll(commands);
        const second = runAll(commands);
        expect(second.events).toEqual(first.events);
        expect(second.hash).toBe(first.hash);

        const cut = cutSeed % (commands.length + 1);
        const head = new Engine(CONFIG);
        for (const command of commands.slice(0, cut)) head.apply(command);
        const snapshot = JSON.parse(JSON.stringify(head.snapshot()));
        const restored = Engine.restore(CONFIG, snapshot);
        expect(restored.stateHash()).toBe(head.stateHash());
        if (head.pendingTickers() > 0) coverage.cutsWithPendingTicker++;
        const rest = commands.slice(cut).map((command) => restored.apply(command));
        expect(rest).toEqual(first.events.slice(cut));
        expect(restored.stateHash()).toBe(first.hash);
        expect(restored.lastEventSeq()).toBe(first.events.flat().reduce((sum, event) => sum + seqWidth(event), 0));
        expect(restored.pendingTickers()).toBe(first.engine.pendingTickers());
        const end = commands.at(-1)!.timestamp;
        for (const symbol of SYMBOLS) expect(restored.ticker(symbol, end)).toEqual(first.engine.ticker(symbol, end));
        const tickers = first.events
          .slice(cut)
          .flat()
          .filter((event) => event.type === 'Ticker');
        coverage.tickersAfterCut += tickers.length;
        coverage.tickersFromTick += commands
          .slice(cut)
          .filter((command, index) => command.type === 'Tick' && first.events[cut + index]!.length > 0).length;
      }),
      { seed: 7, numRuns: 2000 },
    );
    // The streams did exercise the Ticker state across a snapshot: Tickers waiting at the cut,
    // Tickers after it, some of them flushed by a Tick.
    expect(coverage.cutsWithPendingTicker).toBeGreaterThan(50); // 122 with seed 7
    expect(coverage.tickersAfterCut).toBeGreaterThan(1000); // 19,768
    expect(coverage.tickersFromTick).toBeGreaterThan(100); // 265
  });

  it('gives different hashes to different states', () => {
    const a = new Engine(CONFIG);
    const b = new Engine(CONFIG);
    a.apply({ type: 'Deposit', userId: 1, asset: 'KRW', amount: 10, timestamp: 1 });
    b.apply({ type: 'Deposit', userId: 1, asset: 'KRW', amount: 11, timestamp: 1 });
    expect(a.stateHash()).not.toBe(b.stateHash());
    b.apply({ type: 'Withdraw', userId: 1, asset: 'KRW', amount: 1, timestamp: 2 });
    expect(a.stateHash()).not.toBe(b.stateHash()); // the event counter differs
  });
});
