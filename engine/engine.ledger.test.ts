import { describe, expect, it } from 'vitest';
import { affordableLots, feeOf } from './arithmetic.ts';
import { Engine } from './engine.ts';
import { RECORD_FIELDS } from './snapshot.ts';
import { Driver, fundedDriver, testConfig } from './test-support.ts';
import type { Command, EngineSnapshot } from './types.ts';

const LOT = 100_000;

describe('fees', () => {
  it('of a notional on its own round down, exactly, even for notionals near 2^53', () => {
    expect(feeOf(1000, 1000)).toBe(1);
    expect(feeOf(999, 1000)).toBe(0);
    expect(feeOf(999, 2000)).toBe(1);
    expect(feeOf(0, 2000)).toBe(0);
    expect(feeOf(Number.MAX_SAFE_INTEGER, 1_000_000)).toBe(Number.MAX_SAFE_INTEGER);
    // 9007199254740991 × 0.002 = 18014398509481.982 → 18014398509481
    expect(feeOf(Number.MAX_SAFE_INTEGER, 2000)).toBe(18_014_398_509_481);
    expect(feeOf(123_456_789_012_345, 1)).toBe(123_456_789);
  });

  it('agree with bigint arithmetic on random notionals', () => {
    let x = 12345;
    for (let index = 0; index < 10_000; index++) {
      x = (x * 1_103_515_245 + 12345) % 2_147_483_648;
      const notional = (x * 4_194_301 + index) % Number.MAX_SAFE_INTEGER;
      const ppm = x % 1_000_001;
      expect(feeOf(notional, ppm)).toBe(Number((BigInt(notional) * BigInt(ppm)) / 1_000_000n));
    }
  });

  it('find the most lots a budget affords, fee included', () => {
    expect(affordableLots(3000, 1000, 2000, 5)).toBe(2); // 3 lots cost 3006
    expect(affordableLots(3006, 1000, 2000, 5)).toBe(3);
    expect(affordableLots(1_000_000, 1000, 2000, 5)).toBe(5);
    expect(affordableLots(999, 1000, 0, 5)).toBe(0);
  });

  it('credit maker and taker fees in the quote asset to the fee account', () => {
    const d = new Driver(testConfig({ makerFeePpm: 0, takerFeePpm: 2500 }));
    d.deposit(1, 'BTC', 10 * LOT);
    d.deposit(2, 'KRW', 100_000);
    d.sell(1, 10, 1001); // maker, 0 %
    d.buy(2, 3, 1001); // taker, 0.25 % of 3003 = 7.5075 → 7
    expect(d.balance(0, 'KRW')).toEqual({ available: 7, locked: 0 });
    expect(d.balance(1, 'KRW')).toEqual({ available: 3003, locked: 0 });
    expect(d.balance(2, 'KRW')).toEqual({ available: 100_000 - 3010, locked: 0 });
    expect(d.balance(2, 'BTC')).toEqual({ available: 3 * LOT, locked: 0 });
  });

  it('charge a resting buy the maker rate while its hold covers the larger one', () => {
    const d = new Driver();
    d.deposit(1, 'KRW', 20_000);
    d.deposit(2, 'BTC', 10 * LOT);
    d.buy(1, 10, 1000); // hold 10000 + max fee 20
    expect(d.balance(1, 'KRW')).toEqual({ available: 9980, locked: 10_020 });
    d.sell(2, 4, 1000); // maker buy pays 0.1 % of 4000 = 4
    // Hold 10020 − 4004 paid = 6016; the rest needs 6 × 1000 + 12 = 6012, so 4 returns.
    expect(d.balance(1, 'KRW')).toEqual({ available: 9984, locked: 6012 });
    expect(d.balance(0, 'KRW').available).toBe(4 + 8);
    expect(d.balance(2, 'KRW').available).toBe(4000 - 8);
  });
});

describe('ledger', () => {
  it('rejects an order it cannot fund and changes nothing', () => {
    const d = new Driver();
    d.deposit(1, 'KRW', 10_019);
    d.deposit(2, 'BTC', LOT);
    const before = { balances: d.engine.balances(1), depth: d.engine.depth('BTC-KRW', 10) };
    const order = d.buy(1, 10, 1000); // needs 10020
    expect(d.types()).toEqual(['OrderRejected']);
    expect(d.events[0]).toMatchObject({ code: 2001, reason: 'INSUFFICIENT_FUNDS', orderId: order, userId: 1 });
    expect({ balances: d.engine.balances(1), depth: d.engine.depth('BTC-KRW', 10) }).toEqual(before);
    expect(d.engine.getOrder(order)).toMatchObject({ status: 'Rejected', rejectCode: 2001, rejectReason: 'INSUFFICIENT_FUNDS' });
    d.sell(2, 2, 1000);
    expect(d.rejection()).toBe('INSUFFICIENT_FUNDS');
  });

  it('withdraws only what is available, never what is held', () => {
    const d = new Driver();
    d.deposit(1, 'BTC', 5 * LOT);
    d.sell(1, 3, 1000);
    d.withdraw(1, 'BTC', 2 * LOT + 1);
    expect(d.events[0]).toMatchObject({ code: 2002, reason: 'INSUFFICIENT_AVAILABLE' });
    d.withdraw(1, 'BTC', 2 * LOT);
    expect(d.events).toEqual([expect.objectContaining({ type: 'BalanceChanged', userId: 1, asset: 'BTC', available: 0, locked: 3 * LOT })]);
  });

  it('refuses deposits that would push an asset total above 2^53 − 1', () => {
    const d = new Driver();
    d.deposit(1, 'KRW', Number.MAX_SAFE_INTEGER - 10);
    d.deposit(2, 'KRW', 10);
    expect(d.types()).toEqual(['BalanceChanged']);
    d.deposit(3, 'KRW', 1);
    expect(d.events[0]).toMatchObject({ code: 2003, reason: 'ASSET_SUPPLY_LIMIT' });
    d.withdraw(2, 'KRW', 5);
    d.deposit(3, 'KRW', 5);
    expect(d.types()).toEqual(['BalanceChanged']);
  });

  it('keeps finished orders answerable in a bounded FIFO, rejected ones included', () => {
    const d = new Driver(testConfig({}, 2));
    d.deposit(1, 'BTC', 10 * LOT);
    const a = d.sell(1, 1);
    const b = d.sell(1, 1, 1000, { clientOrderId: 'mine' });
    d.cancel(1, b);
    const c = d.sell(1, 100 * LOT);
    expect(d.engine.getOrder(a)).toBeUndefined();
    expect(d.engine.getOrder(b)).toMatchObject({ status: 'Cancelled', clientOrderId: 'mine' });
    expect(d.engine.getOrder(c)).toMatchObject({ status: 'Rejected', rejectReason: 'QUANTITY_ABOVE_MAX' });
  });
});

describe('order ids', () => {
  it('works with ids anywhere in the safe range and forgets finished orders at once when the limit is 0', () => {
    const d = new Driver(testConfig({}, 0));
    d.deposit(1, 'BTC', 10 * LOT);
    const place = (orderId: number, quantity: number) =>
      d.apply({
        type: 'PlaceOrder',
        orderId,
        userId: 1,
        symbol: 'BTC-KRW',
        side: 'Sell',
        orderType: 'Limit',
        price: 1000,
        quantity,
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireTaker',
        timestamp: 5,
      });
    place(Number.MAX_SAFE_INTEGER, 1);
    place(1, 1);
    place(2 ** 40 + 3, 1);
    expect(d.engine.openOrders(1).map((order) => order.orderId)).toEqual([1, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]);
    place(Number.MAX_SAFE_INTEGER, 1);
    expect(d.rejection()).toBe('DUPLICATE_ORDER_ID');
    d.cancel(1, Number.MAX_SAFE_INTEGER);
    expect(d.engine.getOrder(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    d.cancel(1, Number.MAX_SAFE_INTEGER);
    expect(d.rejection()).toBe('ORDER_NOT_FOUND');
    // Forgotten, so the id may be used again.
    place(Number.MAX_SAFE_INTEGER, 2);
    expect(d.engine.getOrder(Number.MAX_SAFE_INTEGER)).toMatchObject({ quantity: 2, status: 'Pending' });
  });

  it('forgets evicted ids (stale index entries count as absent) and lets them be placed and remembered again', () => {
    const d = new Driver(testConfig({}, 2));
    d.deposit(1, 'BTC', 10 * LOT);
    const place = (orderId: number, price = 1000) =>
      d.apply({
        type: 'PlaceOrder',
        orderId,
        userId: 1,
        symbol: 'BTC-KRW',
        side: 'Sell',
        orderType: 'Limit',
        price,
        quantity: 1,
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireTaker',
        timestamp: 5,
      });
    const finish = (orderId: number) => d.cancel(1, orderId);
    for (const id of [10, 11, 12]) {
      place(id);
      finish(id);
    }
    // Ring of 2: 10 was evicted by 12.
    expect(d.engine.getOrder(10)).toBeUndefined();
    expect(d.engine.orders.size).toBe(2);
    finish(10);
    expect(d.rejection()).toBe('ORDER_NOT_FOUND');
    // Reused while its stale entry points at a ring row now holding another order.
    place(10);
    expect(d.engine.getOrder(10)).toMatchObject({ status: 'Pending' });
    expect(d.engine.orders.size).toBe(3);
    finish(10); // remembered again, evicting 11
    expect(d.engine.getOrder(10)).toMatchObject({ status: 'Cancelled' });
    expect(d.engine.getOrder(11)).toBeUndefined();
    // A rejected command with a known id does not shadow that order's record.
    place(12, 0);
    expect(d.rejection()).toBe('INVALID_PRICE');
    expect(d.engine.getOrder(12)).toMatchObject({ status: 'Cancelled' });
    // Rejected records of forgotten ids land on reused rows and stay consistent.
    for (const id of [11, 13, 11, 13]) place(id, 0);
    expect(d.engine.getOrder(11)).toMatchObject({ status: 'Rejected' });
    expect(d.engine.getOrder(13)).toMatchObject({ status: 'Rejected' });
    expect(d.engine.getOrder(10)).toBeUndefined();
    expect(d.engine.orders.size).toBe(2);
    expect([...d.engine.orders.values()].length).toBe(2);
  });

  it('restores a snapshot taken with resting orders, stops and remembered orders on both markets', () => {
    const d = new Driver();
    d.deposit(1, 'BTC', 10 * LOT);
    d.deposit(1, 'ETH', 10 * LOT);
    d.deposit(2, 'KRW', 1_000_000);
    d.sell(1, 3, 1010);
    d.sell(1, 2, 1000, { symbol: 'ETH-KRW', clientOrderId: 'eth-1' });
    d.buy(2, 1, 1010);
    d.place(2, 'Buy', { type: 'StopLimit', stopPrice: 1020, price: 1030, quantity: 1 });
    d.place(1, 'Sell', { type: 'StopMarket', stopPrice: 900, quantity: 1 });
    d.buy(2, 5, 999, { postOnly: true, symbol: 'ETH-KRW' });
    const restored = Engine.restore(d.engine.config, JSON.parse(JSON.stringify(d.engine.snapshot())));
    expect(restored.stateHash()).toBe(d.engine.stateHash());
    for (const userId of [0, 1, 2]) {
      expect(restored.openOrders(userId)).toEqual(d.engine.openOrders(userId));
      expect(restored.balances(userId)).toEqual(d.engine.balances(userId));
    }
    for (let orderId = 1; orderId <= d.commandSeq; orderId++) expect(restored.getOrder(orderId)).toEqual(d.engine.getOrder(orderId));
    expect(restored.depth('ETH-KRW', 5)).toEqual(d.engine.depth('ETH-KRW', 5));
    const next: Command = {
      type: 'PlaceOrder',
      orderId: 99,
      userId: 2,
      symbol: 'BTC-KRW',
      side: 'Buy',
      orderType: 'Limit',
      price: 1020,
      quantity: 2,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: 9,
    };
    expect(restored.apply(next)).toEqual(d.engine.apply(next));
  });
});

describe('expiry reasons', () => {
  it('are part of the order: live, remembered, and through snapshots (version 2 ones read as none)', () => {
    const d = fundedDriver();
    d.sell(1, 5, 1010);
    d.sell(1, 3, 1020);
    const ioc = d.buy(2, 10, 1010, { tif: 'IOC' }); // 5 @ 1010, the rest expires
    const fok = d.buy(2, 50, 1020, { tif: 'FOK' }); // 3 on offer: cannot fill completely
    const maker = d.sell(3, 1, 1030);
    const stp = d.buy(3, 5, 1030, { stp: 'ExpireMaker' }); // 3 @ 1020, then its own ask: that one expires
    d.sell(1, 10, 1040);
    const budget = d.place(2, 'Buy', { quoteAmount: 500 }); // one lot costs 1040 + fee: none affordable
    const bought = d.place(2, 'Buy', { quoteAmount: 5000 }); // 4 lots, then out of budget: Filled
    const expected: Array<[number, string | undefined]> = [
      [ioc, 'IOC'],
      [fok, 'FOK'],
      [maker, 'SelfTradePrevention'],
      [budget, 'QuoteAmountExhausted'],
      [bought, undefined],
    ];
    for (const [orderId, reason] of expected) expect(d.engine.getOrder(orderId)?.expireReason, `order ${orderId}`).toBe(reason);
    expect(d.engine.getOrder(stp)?.status).not.toBe('Expired');

    const snapshot = JSON.parse(JSON.stringify(d.engine.snapshot())) as EngineSnapshot;
    const restored = Engine.restore(d.engine.config, snapshot);
    expect(restored.stateHash()).toBe(d.engine.stateHash());
    for (const [orderId, reason] of expected) expect(restored.getOrder(orderId)?.expireReason).toBe(reason);

    // A version 2 snapshot (before expiry reasons) is the same with the status field's high bits clear.
    const v2 = JSON.parse(JSON.stringify(snapshot, (key, value: unknown) => (key === 'version' ? 2 : value))) as EngineSnapshot & {
      recent: (number | string | null)[];
    };
    for (let offset = 0; offset < v2.recent.length; offset += RECORD_FIELDS)
      v2.recent[offset + 18] = (v2.recent[offset + 18] as number) & 7;
    const old = Engine.restore(d.engine.config, v2);
    expect(old.getOrder(ioc)).toMatchObject({ status: 'Expired', expireReason: undefined });
  });
});
