/**
 * Bounded per user: at most maxOpenOrdersPerUserMarket open orders (resting or untriggered) per
 * user and market, and a paged query of a user's open orders that builds only the views it returns.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine } from './engine.ts';
import { buildEngineConfig, DEFAULT_ENGINE_CONFIG, DEFAULT_RAW_CONFIG } from './markets.ts';
import { OrderNode } from './matching/order.ts';
import { REJECT_CODES } from './reject-codes.ts';
import { Driver, LOT, testConfig } from './test-support.ts';
import type { EngineConfig, EngineSnapshot } from './types.ts';

const CAPPED: EngineConfig = { ...testConfig(), maxOpenOrdersPerUserMarket: 3 };

function driver(): Driver {
  const d = new Driver(CAPPED);
  for (const user of [1, 2]) {
    d.deposit(user, 'KRW', 1_000_000);
    d.deposit(user, 'BTC', 100 * LOT);
    d.deposit(user, 'ETH', 100 * LOT);
  }
  return d;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('open orders per user and market', () => {
  it('refuse an order that could rest beyond the cap, GTC limits and stops alike, keeping it answerable', () => {
    const d = driver();
    d.buy(1, 1, 900);
    d.place(1, 'Sell', { type: 'StopMarket', stopPrice: 800, quantity: 1 });
    d.sell(1, 1, 1100, { postOnly: true });
    const balances = d.engine.balances(1);
    const refused = d.buy(1, 1, 901, { clientOrderId: 'fourth' });
    expect(d.events).toEqual([
      expect.objectContaining({
        type: 'OrderRejected',
        reason: 'TOO_MANY_OPEN_ORDERS',
        code: REJECT_CODES.TOO_MANY_OPEN_ORDERS,
        orderId: refused,
      }),
    ]);
    expect(d.engine.getOrder(refused)).toMatchObject({ status: 'Rejected', rejectReason: 'TOO_MANY_OPEN_ORDERS', clientOrderId: 'fourth' });
    expect(d.engine.balances(1)).toEqual(balances); // nothing held
    d.place(1, 'Buy', { type: 'StopLimit', stopPrice: 1200, price: 1200, quantity: 1 });
    expect(d.rejection()).toBe('TOO_MANY_OPEN_ORDERS');
    expect(d.engine.openOrders(1, 'BTC-KRW')).toHaveLength(3);
  });

  it('count per user and per market, and leave orders that cannot rest alone', () => {
    const d = driver();
    for (const price of [900, 901, 902]) d.buy(1, 1, price);
    // Another market, another user: room of their own.
    d.buy(1, 1, 900, { symbol: 'ETH-KRW' });
    d.buy(2, 1, 800);
    expect(d.rejection()).toBeUndefined();
    // IOC, FOK and market orders never rest: not refused at the cap (they trade or expire).
    d.sell(2, 1, 1000, { symbol: 'BTC-KRW' });
    d.buy(1, 1, 1000, { tif: 'IOC' });
    expect(d.rejection()).toBeUndefined();
    expect(d.trades()).toHaveLength(1);
    d.buy(1, 1, 1000, { tif: 'FOK' });
    d.place(1, 'Sell', { type: 'Market', quantity: 1 });
    expect(d.rejection()).toBeUndefined();
  });

  it('give room back when an order finishes: cancelled, filled, or a stop that fired and traded', () => {
    const d = driver();
    const a = d.buy(1, 1, 900);
    d.buy(1, 1, 901);
    const stop = d.place(1, 'Buy', { type: 'StopLimit', stopPrice: 1000, price: 1000, quantity: 1 });
    d.buy(1, 1, 903);
    expect(d.rejection()).toBe('TOO_MANY_OPEN_ORDERS');
    d.cancel(1, a);
    d.buy(1, 1, 903);
    expect(d.rejection()).toBeUndefined();
    // A trade at 1000 (user 1's IOC, which needs no room): the stop fires and rests — still one
    // open order of user 1 …
    d.sell(2, 1, 1000);
    d.buy(1, 1, 1000, { tif: 'IOC' });
    expect(d.engine.getOrder(stop)?.status).toBe('Pending');
    d.buy(1, 1, 904);
    expect(d.rejection()).toBe('TOO_MANY_OPEN_ORDERS');
    // … and once it fills, there is room again.
    d.sell(2, 1, 1000);
    expect(d.engine.getOrder(stop)?.status).toBe('Filled');
    d.buy(1, 1, 904);
    expect(d.rejection()).toBeUndefined();
  });

  it('come back from a snapshot with the same counts (derived from the open orders)', () => {
    const d = driver();
    for (const price of [900, 901, 902]) d.buy(1, 1, price);
    const restored = Engine.restore(CAPPED, JSON.parse(JSON.stringify(d.engine.snapshot())) as EngineSnapshot);
    expect(restored.stateHash()).toBe(d.engine.stateHash());
    const events = restored.apply({
      type: 'PlaceOrder',
      orderId: 99,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Buy',
      orderType: 'Limit',
      price: 903,
      quantity: 1,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: 2e12,
    });
    expect(events[0]).toMatchObject({ type: 'OrderRejected', reason: 'TOO_MANY_OPEN_ORDERS' });
  });

  it('default to 1,000 and refuse a config without a positive cap', () => {
    expect(DEFAULT_ENGINE_CONFIG.maxOpenOrdersPerUserMarket).toBe(1_000);
    expect(() => buildEngineConfig({ ...DEFAULT_RAW_CONFIG, maxOpenOrdersPerUserMarket: 0 })).toThrow(/maxOpenOrdersPerUserMarket/);
  });
});

describe('openOrdersPage', () => {
  it('pages a user’s open orders by id, per market or all, building only the views it returns', () => {
    const d = new Driver({ ...testConfig(), maxOpenOrdersPerUserMarket: 100 });
    d.deposit(1, 'KRW', 10_000_000);
    const ids: number[] = [];
    for (let index = 0; index < 30; index++) ids.push(d.buy(1, 1, 500 + index, { symbol: index % 3 === 0 ? 'ETH-KRW' : 'BTC-KRW' }));
    d.cancel(1, ids[4]!);
    const open = ids.filter((id) => id !== ids[4]);
    const views = vi.spyOn(OrderNode.prototype, 'view');
    const first = d.engine.openOrdersPage(1, undefined, 0, 10);
    expect(views).toHaveBeenCalledTimes(10);
    expect(first.orders.map((order) => order.orderId)).toEqual(open.slice(0, 10));
    expect(first.more).toBe(true);
    const rest = d.engine.openOrdersPage(1, undefined, first.orders.at(-1)!.orderId, 100);
    expect(rest.orders.map((order) => order.orderId)).toEqual(open.slice(10));
    expect(rest.more).toBe(false);
    const eth = d.engine.openOrdersPage(1, 'ETH-KRW', 0, 100);
    expect(eth.orders.map((order) => order.orderId)).toEqual(ids.filter((_, index) => index % 3 === 0));
    expect(eth.orders).toEqual(d.engine.openOrders(1, 'ETH-KRW'));
    expect(d.engine.openOrdersPage(2, undefined, 0, 10)).toEqual({ orders: [], more: false });
    expect(d.engine.openOrdersPage(1, 'BTC-KRW', open.at(-1)!, 10)).toEqual({ orders: [], more: false });
  });
});
