/**
 * Property tests: seeded random command sequences, invariants checked after every command
 * (STYLE §16), and replay / snapshot-restore equivalence.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { isOpenStatus, type OrderNode } from './order.ts';
import { testConfig } from './test-support.ts';
import type { Command, EngineConfig, EngineEvent, OrderType, SelfTradePrevention, Side, TimeInForce } from './types.ts';

const CONFIG: EngineConfig = testConfig({}, 50);
const SYMBOLS = ['BTC-KRW', 'ETH-KRW'] as const;
const ASSETS = ['BTC', 'ETH', 'KRW'] as const;
const USERS = [1, 2, 3, 4];
const LOT = 100_000;

type Op =
  | { kind: 'limit'; user: number; symbol: number; side: Side; price: number; quantity: number; tif: TimeInForce; postOnly: boolean; stp: SelfTradePrevention }
  | { kind: 'market'; user: number; symbol: number; side: Side; quantity?: number; quoteAmount?: number; tif: TimeInForce; stp: SelfTradePrevention }
  | { kind: 'stop'; user: number; symbol: number; side: Side; stopPrice: number; price?: number; quantity: number; quoteAmount?: number }
  | { kind: 'cancel'; pick: number; user?: number }
  | { kind: 'amend'; pick: number; reduceBy: number }
  | { kind: 'deposit'; user: number; asset: number; amount: number }
  | { kind: 'withdraw'; user: number; asset: number; amount: number };

const user = fc.constantFrom(...USERS);
const symbol = fc.constantFrom(0, 1);
const side = fc.constantFrom<Side>('Buy', 'Sell');
const price = fc.integer({ min: 97, max: 103 });
const quantity = fc.integer({ min: 1, max: 12 });
const stp = fc.constantFrom<SelfTradePrevention>('ExpireTaker', 'ExpireMaker', 'ExpireBoth');

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('limit' as const), user, symbol, side, price, quantity, tif: fc.constantFrom<TimeInForce>('GTC', 'GTC', 'GTC', 'IOC', 'FOK'), postOnly: fc.boolean(), stp }) },
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
      { kind: fc.constant('stop' as const), user, symbol, side, stopPrice: price, price, quantity, quoteAmount: fc.integer({ min: 100, max: 3000 }) },
      { requiredKeys: ['kind', 'user', 'symbol', 'side', 'stopPrice', 'quantity'] },
    ),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(), user: fc.option(user, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amend' as const), pick: fc.nat(), reduceBy: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deposit' as const), user, asset: fc.constantFrom(0, 1, 2), amount: fc.integer({ min: 1, max: 2_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), user, asset: fc.constantFrom(0, 1, 2), amount: fc.integer({ min: 1, max: 2_000_000 }) }) },
);

/** Turns abstract ops into commands the way the sequencer would (order id = command seq). */
function toCommands(ops: Op[]): Command[] {
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
  for (const op of ops) {
    seq++;
    time += 1;
    const timestamp = time;
    switch (op.kind) {
      case 'limit':
      case 'market':
      case 'stop': {
        const orderType: OrderType = op.kind === 'limit' ? 'Limit' : op.kind === 'market' ? 'Market' : op.price === undefined ? 'StopMarket' : 'StopLimit';
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
        commands.push({ type: 'AmendOrder', orderId: target?.orderId ?? 999_999, userId: target?.userId ?? 1, newQuantity: Math.max(1, (target?.quantity ?? 1) - op.reduceBy), timestamp });
        break;
      }
      case 'deposit':
      case 'withdraw':
        commands.push({ type: op.kind === 'deposit' ? 'Deposit' : 'Withdraw', userId: op.user, asset: ASSETS[op.asset]!, amount: op.amount, timestamp });
        break;
    }
  }
  return commands;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invariant broken: ${what}`);
}

/** Checks every invariant of the engine's state; `supply` is deposits − withdrawals per asset. */
function checkInvariants(engine: Engine, supply: number[]): void {
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
  for (const order of engine.orders.values()) {
    if (typeof order === 'number') {
      rememberedInIndex++;
      check(!isOpenStatus(engine.recent.statusAt(order)), 'remembered orders are finished');
      continue;
    }
    check(order.listed, 'indexed records are open');
    openCount++;
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
  // Conservation: all available + locked (fee account included) = deposits − withdrawals.
  for (let asset = 0; asset < ASSETS.length; asset++) {
    check(totals[asset] === supply[asset], `asset ${ASSETS[asset]} conserved`);
    check(engine.ledger.supply[asset] === supply[asset], `asset ${ASSETS[asset]} supply tracked`);
  }
}

function checkEvents(events: EngineEvent[], state: { seq: number; tradeId: number; symbolSeq: Map<string, number> }): void {
  for (const event of events) {
    check(event.seq === ++state.seq, 'event.seq === ++state.seq');
    if (event.type === 'Trade') {
      check(event.tradeId === ++state.tradeId, 'event.tradeId === ++state.tradeId');
      check(event.maker.userId !== event.taker.userId, 'no self-trade');
      check(event.maker.filledQuantity + event.maker.remainingQuantity > 0, 'event.maker.filledQuantity + event.maker.remainingQuantity > 0');
    }
    if (event.type === 'BookDelta') {
      const next = (state.symbolSeq.get(event.symbol) ?? 0) + 1;
      check(event.symbolSeq === next, 'event.symbolSeq === next');
      state.symbolSeq.set(event.symbol, next);
    }
    if ('order' in event) check(event.order.filledQuantity + event.order.remainingQuantity === event.order.quantity, 'event.order.filledQuantity + event.order.remainingQuantity === event.order.quantity');
  }
}

function runAll(commands: Command[]): { events: EngineEvent[][]; hash: string } {
  const engine = new Engine(CONFIG);
  const events = commands.map((command) => engine.apply(command));
  return { events, hash: engine.stateHash() };
}

const SEQUENCE = fc.array(opArbitrary, { minLength: 10, maxLength: 150, size: 'max' });

describe('engine properties', () => {
  it('keeps every invariant after every command', () => {
    fc.assert(
      fc.property(SEQUENCE, (ops) => {
        const engine = new Engine(CONFIG);
        const supply = ASSETS.map(() => 0);
        const state = { seq: 0, tradeId: 0, symbolSeq: new Map<string, number>() };
        // FIFO: the order in which orders first appear in a level never changes.
        const arrival = new Map<number, number>();
        let arrivals = 0;
        for (const command of toCommands(ops)) {
          const events = engine.apply(command);
          checkEvents(events, state);
          if ((command.type === 'Deposit' || command.type === 'Withdraw') && events[0]?.type === 'BalanceChanged') {
            const index = ASSETS.indexOf(command.asset as (typeof ASSETS)[number]);
            supply[index]! += command.type === 'Deposit' ? command.amount : -command.amount;
          }
          checkInvariants(engine, supply);
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
      }),
      { seed: 20261123, numRuns: 2000 },
    );
  });

  it('replays to identical events and state hash, and snapshot + rest equals the uninterrupted run', () => {
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
        const rest = commands.slice(cut).map((command) => restored.apply(command));
        expect(rest).toEqual(first.events.slice(cut));
        expect(restored.stateHash()).toBe(first.hash);
        expect(restored.lastEventSeq()).toBe(first.events.flat().length);
      }),
      { seed: 7, numRuns: 2000 },
    );
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
