/**
 * One order per (user, client order id) as engine state: scenarios, snapshots (current and
 * version 4, rebuilt from the orders it holds), and a seeded property test over random streams
 * with client order ids repeated within and across users, restarted through snapshot + restore at
 * random points.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { REJECT_CODES } from './reject-codes.ts';
import { Driver, fundedDriver, LOT, testConfig } from './test-support.ts';
import type { Command, EngineConfig, EngineEvent, EngineSnapshot, OrderRejectedEvent } from './types.ts';

const refusal = (events: EngineEvent[]): OrderRejectedEvent | undefined =>
  events.find((event): event is OrderRejectedEvent => event.type === 'OrderRejected');

describe('client order ids', () => {
  it('refuse a second order with the same id from the same user, naming the original, and record nothing', () => {
    const d = fundedDriver();
    const original = d.buy(1, 10, 1000, { clientOrderId: 'c-1' });
    const balances = d.engine.balances(1);
    const retry = d.sell(1, 3, 1200, { clientOrderId: 'c-1' });
    expect(d.events).toEqual([
      expect.objectContaining({
        type: 'OrderRejected',
        reason: 'DUPLICATE_CLIENT_ORDER_ID',
        code: REJECT_CODES.DUPLICATE_CLIENT_ORDER_ID,
        orderId: retry,
        userId: 1,
        clientOrderId: 'c-1',
        duplicateOfOrderId: original,
        order: undefined,
      }),
    ]);
    expect(d.engine.getOrder(retry)).toBeUndefined(); // no record shadows the original
    expect(d.engine.getOrder(original)).toMatchObject({ status: 'Pending', clientOrderId: 'c-1', side: 'Buy' });
    expect(d.engine.balances(1)).toEqual(balances);
    expect(d.engine.orderForClientOrderId(1, 'c-1')).toBe(original);
    // Ids are per user.
    const other = d.buy(2, 1, 900, { clientOrderId: 'c-1' });
    expect(d.rejection()).toBeUndefined();
    expect(d.engine.orderForClientOrderId(2, 'c-1')).toBe(other);
  });

  it('stay taken while the order is open and while it is remembered finished, Rejected records included', () => {
    const d = new Driver(testConfig({}, 4));
    d.deposit(1, 'KRW', 100_000);
    d.deposit(2, 'BTC', 100 * LOT);
    const cancelled = d.buy(1, 10, 1000, { clientOrderId: 'cancelled' });
    d.cancel(1, cancelled);
    const filled = d.buy(1, 5, 1000, { clientOrderId: 'filled' });
    d.sell(2, 5, 1000);
    const poor = d.buy(1, 1000, 1000, { clientOrderId: 'poor' }); // INSUFFICIENT_FUNDS, kept answerable
    expect(d.engine.getOrder(poor)).toMatchObject({ status: 'Rejected', rejectReason: 'INSUFFICIENT_FUNDS' });
    const open = d.buy(1, 1, 900, { clientOrderId: 'open' });
    for (const [clientOrderId, orderId] of [
      ['cancelled', cancelled],
      ['filled', filled],
      ['poor', poor],
      ['open', open],
    ] as const) {
      d.buy(1, 1, 800, { clientOrderId });
      expect(refusal(d.events)).toMatchObject({ reason: 'DUPLICATE_CLIENT_ORDER_ID', duplicateOfOrderId: orderId });
    }
    // Four finished orders are remembered (limit 4: these three and user 2's sell): a fifth finishing
    // forgets 'cancelled' and frees its id.
    d.cancel(1, open);
    expect(d.engine.getOrder(cancelled)).toBeUndefined();
    expect(d.engine.orderForClientOrderId(1, 'cancelled')).toBeUndefined();
    expect(d.engine.orderForClientOrderId(1, 'open')).toBe(open);
    const again = d.buy(1, 1, 800, { clientOrderId: 'cancelled' });
    expect(d.rejection()).toBeUndefined();
    expect(d.engine.getOrder(again)).toMatchObject({ status: 'Pending', clientOrderId: 'cancelled' });
  });

  it('an open order never loses its id, however many orders finish', () => {
    const d = new Driver(testConfig({}, 2));
    d.deposit(1, 'KRW', 1_000_000);
    const resting = d.buy(1, 1, 500, { clientOrderId: 'resting' });
    for (let index = 0; index < 10; index++) d.buy(1, 1, 600, { clientOrderId: `ioc-${index}`, tif: 'IOC' });
    d.buy(1, 1, 500, { clientOrderId: 'resting' });
    expect(refusal(d.events)).toMatchObject({ reason: 'DUPLICATE_CLIENT_ORDER_ID', duplicateOfOrderId: resting });
  });

  it('keep nothing of a finished order with recentFinishedLimit 0', () => {
    const d = new Driver(testConfig({}, 0));
    d.deposit(1, 'KRW', 1_000_000);
    const first = d.buy(1, 1, 600, { clientOrderId: 'x', tif: 'IOC' });
    expect(d.engine.getOrder(first)).toBeUndefined();
    d.buy(1, 1, 600, { clientOrderId: 'x' });
    expect(d.rejection()).toBeUndefined();
  });

  it('a shape refusal with a taken id keeps its reason and leaves no record', () => {
    const d = fundedDriver();
    const original = d.buy(1, 10, 1000, { clientOrderId: 'c-1' });
    const bad = d.buy(1, 10, 1_000_000_001, { clientOrderId: 'c-1' });
    expect(d.rejection()).toBe('PRICE_ABOVE_MAX');
    expect(d.engine.getOrder(bad)).toBeUndefined();
    expect(d.engine.orderForClientOrderId(1, 'c-1')).toBe(original);
  });

  it('come back from a snapshot, and from a version 4 one (rebuilt from its open and remembered orders)', () => {
    const d = new Driver(testConfig({}, 2));
    d.deposit(1, 'KRW', 1_000_000);
    d.deposit(2, 'BTC', 100 * LOT);
    const forgotten = d.buy(1, 1, 600, { clientOrderId: 'forgotten', tif: 'IOC' });
    const finished = d.buy(1, 1, 600, { clientOrderId: 'finished', tif: 'IOC' });
    const rejected = d.buy(1, 100_000, 1000, { clientOrderId: 'rejected' });
    const open = d.sell(2, 1, 2000, { clientOrderId: 'open' });
    expect(d.engine.getOrder(forgotten)).toBeUndefined();
    const snapshot = JSON.parse(JSON.stringify(d.engine.snapshot())) as EngineSnapshot & { clientOrderIds: unknown[] };
    expect(snapshot.clientOrderIds).toEqual([1, 'finished', finished, 1, 'rejected', rejected, 2, 'open', open]);
    const { clientOrderIds: _ids, ...v4 } = { ...snapshot, version: 4 };
    for (const restored of [Engine.restore(d.engine.config, snapshot), Engine.restore(d.engine.config, v4 as EngineSnapshot)]) {
      expect(restored.stateHash()).toBe(d.engine.stateHash());
      expect(restored.orderForClientOrderId(1, 'finished')).toBe(finished);
      expect(restored.orderForClientOrderId(1, 'rejected')).toBe(rejected);
      expect(restored.orderForClientOrderId(2, 'open')).toBe(open);
      expect(restored.orderForClientOrderId(1, 'forgotten')).toBeUndefined();
    }
  });

  it('are in the state hash', () => {
    const config = testConfig();
    const place = (clientOrderId: string): Command => ({
      type: 'PlaceOrder',
      orderId: 2,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Buy',
      orderType: 'Limit',
      price: 10,
      quantity: 1,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      clientOrderId,
      timestamp: 2,
    });
    const hashes = ['a', 'b'].map((clientOrderId) => {
      const engine = new Engine(config);
      engine.apply({ type: 'Deposit', userId: 1, asset: 'KRW', amount: 1_000, timestamp: 1 });
      engine.apply(place(clientOrderId));
      return engine.stateHash();
    });
    expect(hashes[0]).not.toBe(hashes[1]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random streams, ids repeated within and across users, restarts in the middle.

const CONFIG: EngineConfig = testConfig({}, 6);
const USERS = [1, 2, 3];
const IDS = ['a', 'b', 'c', 'd', 'e'];

type Op =
  | { kind: 'limit'; user: number; side: 'Buy' | 'Sell'; price: number; quantity: number; tif: 'GTC' | 'IOC'; id?: string }
  | { kind: 'market'; user: number; side: 'Buy' | 'Sell'; quantity: number; id?: string }
  | { kind: 'cancel'; pick: number }
  | { kind: 'restart' };

const clientId = fc.option(fc.constantFrom(...IDS), { nil: undefined, freq: 5 });
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('limit' as const),
      user: fc.constantFrom(...USERS),
      side: fc.constantFrom('Buy' as const, 'Sell' as const),
      price: fc.integer({ min: 98, max: 102 }),
      quantity: fc.integer({ min: 1, max: 5 }),
      tif: fc.constantFrom('GTC' as const, 'GTC' as const, 'IOC' as const),
      id: clientId,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('market' as const),
      user: fc.constantFrom(...USERS),
      side: fc.constantFrom('Buy' as const, 'Sell' as const),
      quantity: fc.integer({ min: 1, max: 8 }),
      id: clientId,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** (user, client order id) → order ids among the open and remembered orders, read from the orders themselves. */
function holders(engine: Engine): Map<string, number[]> {
  const held = new Map<string, number[]>();
  const add = (userId: number, clientOrderId: string | undefined, orderId: number) => {
    if (clientOrderId === undefined) return;
    const key = `${userId}:${clientOrderId}`;
    held.set(key, [...(held.get(key) ?? []), orderId]);
  };
  for (const account of engine.ledger.accounts.values())
    for (const order of account.open) if (order !== null) add(order.userId, order.clientOrderId, order.orderId);
  for (const view of engine.finishedOrders()) add(view.userId, view.clientOrderId, view.orderId);
  return held;
}

describe('client order id properties', () => {
  it('never let a second order in with a taken (user, id), across restarts; snapshot + rest equals the uninterrupted run', () => {
    let duplicatesRefused = 0;
    let restarts = 0;
    let reused = 0;
    fc.assert(
      fc.property(fc.array(opArbitrary, { minLength: 20, maxLength: 120 }), (ops) => {
        const commands: Command[] = USERS.flatMap((userId, index) => [
          { type: 'Deposit' as const, userId, asset: 'KRW', amount: 100_000, timestamp: index * 2 + 1 },
          { type: 'Deposit' as const, userId, asset: 'BTC', amount: 50 * LOT, timestamp: index * 2 + 2 },
        ]);
        const restartAt = new Set<number>();
        const placed: { orderId: number; userId: number }[] = [];
        for (const op of ops) {
          const seq = commands.length + 1;
          const timestamp = 100 + seq;
          if (op.kind === 'restart') restartAt.add(commands.length);
          else if (op.kind === 'cancel') {
            const target = placed[op.pick % Math.max(1, placed.length)];
            commands.push({ type: 'CancelOrder', orderId: target?.orderId ?? 999, userId: target?.userId ?? 1, timestamp });
          } else {
            const base = {
              type: 'PlaceOrder' as const,
              orderId: seq,
              userId: op.user,
              symbol: 'BTC-KRW',
              side: op.side,
              postOnly: false,
              stp: 'ExpireTaker' as const,
              timestamp,
              ...(op.id !== undefined ? { clientOrderId: op.id } : {}),
            };
            commands.push(
              op.kind === 'limit'
                ? { ...base, orderType: 'Limit', price: op.price, quantity: op.quantity, timeInForce: op.tif }
                : { ...base, orderType: 'Market', quantity: op.quantity, timeInForce: 'IOC' },
            );
            placed.push({ orderId: seq, userId: op.user });
          }
        }

        const uninterrupted = new Engine(CONFIG);
        const expected = commands.map((command) => uninterrupted.apply(command));

        let engine = new Engine(CONFIG);
        const freed = new Set<string>();
        commands.forEach((command, index) => {
          if (restartAt.has(index)) {
            engine = Engine.restore(CONFIG, JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot);
            restarts++;
          }
          const before = holders(engine);
          const events = engine.apply(command);
          expect(events).toEqual(expected[index]);
          if (command.type === 'PlaceOrder' && command.clientOrderId !== undefined) {
            const key = `${command.userId}:${command.clientOrderId}`;
            const holder = before.get(key);
            const rejected = refusal(events);
            if (holder !== undefined) {
              // Taken: refused, pointing at the order that has it, with no record of its own.
              expect(rejected).toMatchObject({ reason: 'DUPLICATE_CLIENT_ORDER_ID', duplicateOfOrderId: holder[0] });
              expect(engine.getOrder(command.orderId)).toBeUndefined();
              duplicatesRefused++;
            } else {
              expect(rejected?.reason).not.toBe('DUPLICATE_CLIENT_ORDER_ID');
              if (freed.has(key)) reused++;
            }
          }
          const after = holders(engine);
          for (const [key, orderIds] of after) {
            expect(orderIds, `at most one order holds ${key}`).toHaveLength(1);
            const [userId, clientOrderId] = key.split(':') as [string, string];
            expect(engine.orderForClientOrderId(Number(userId), clientOrderId)).toBe(orderIds[0]);
          }
          for (const key of before.keys()) if (!after.has(key)) freed.add(key);
          // The engine knows no id that no order holds.
          for (const account of engine.ledger.accounts.values())
            for (const clientOrderId of account.clientOrderIds?.keys() ?? [])
              expect(after.has(`${account.userId}:${clientOrderId}`)).toBe(true);
        });
        expect(engine.stateHash()).toBe(uninterrupted.stateHash());
      }),
      { seed: 13013, numRuns: 300 },
    );
    // The streams did go through the paths: duplicates refused, restarts, ids freed and placed again.
    expect(duplicatesRefused).toBeGreaterThan(1000);
    expect(restarts).toBeGreaterThan(200);
    expect(reused).toBeGreaterThan(100);
  });
});
