import { beforeEach, describe, expect, it } from 'vitest';
import { book, fundedDriver, LOT, type Driver } from './test-support.ts';

let d: Driver;

beforeEach(() => {
  d = fundedDriver();
  // Last trade price 1000.
  d.sell(1, 1, 1000);
  d.buy(2, 1, 1000);
});

describe('stop orders', () => {
  it('a stop-limit buy waits, holding funds, and fires when a trade reaches its stop price', () => {
    const stop = d.place(3, 'Buy', { type: 'StopLimit', stopPrice: 1010, price: 1020, quantity: 3 });
    expect(d.types()).toEqual(['OrderAccepted', 'BalanceChanged']);
    expect(d.engine.getOrder(stop)?.status).toBe('Untriggered');
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000 - 3066, locked: 3066 }); // 3 × 1020 + 6
    const low = d.sell(1, 1, 1010);
    const high = d.sell(1, 5, 1020);
    expect(d.engine.getOrder(stop)?.status).toBe('Untriggered');
    const taker = d.buy(2, 1, 1010);
    expect(d.types()).toEqual([
      'OrderAccepted',
      'Trade',
      'OrderTriggered',
      'Trade',
      'BookDelta',
      'BookDelta',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
    ]);
    expect(d.trades()).toEqual([
      [1010, 1, low, taker],
      [1020, 3, high, stop],
    ]);
    expect(d.engine.getOrder(stop)).toMatchObject({ status: 'Filled', orderType: 'StopLimit' });
    expect(d.table()).toBe(book(`bid | price | ask\n| 1020 | 2`));
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000 - 3060 - 6, locked: 0 });
  });

  it('stop-market sells cascade in trigger order: nearest stop first, whatever the arrival order', () => {
    d.buy(2, 2, 990);
    d.buy(2, 2, 980);
    d.buy(2, 5, 970);
    const far = d.place(3, 'Sell', { type: 'StopMarket', stopPrice: 980, quantity: 2 });
    const near = d.place(3, 'Sell', { type: 'StopMarket', stopPrice: 990, quantity: 2 });
    d.sell(1, 2);
    const triggered = d.events.flatMap((event) => (event.type === 'OrderTriggered' ? [event.order.orderId] : []));
    expect(triggered).toEqual([near, far]);
    expect(d.trades().map(([price, quantity, , taker]) => [price, quantity, taker])).toEqual([
      [990, 2, expect.any(Number)],
      [980, 2, near],
      [970, 2, far],
    ]);
    expect(d.table()).toBe(book(`bid | price | ask\n3 | 970 |`));
    expect(d.engine.lastTradePrice('BTC-KRW')).toBe(970);
  });

  it('stops with the same stop price fire in arrival order', () => {
    d.sell(1, 10, 1010);
    const first = d.place(3, 'Buy', { type: 'StopMarket', stopPrice: 1005, quoteAmount: 2000 });
    const second = d.place(2, 'Buy', { type: 'StopMarket', stopPrice: 1005, quoteAmount: 2000 });
    d.buy(3, 1, 1010);
    expect(d.events.flatMap((event) => (event.type === 'OrderTriggered' ? [event.order.orderId] : []))).toEqual([first, second]);
    // Each 2000 budget buys one lot at 1010 (1012 with fee) and cannot afford a second.
    expect(d.engine.getOrder(first)).toMatchObject({ status: 'Filled', quantity: 1 });
    expect(d.engine.getOrder(second)).toMatchObject({ status: 'Filled', quantity: 1 });
  });

  it('a stop already through the last price fires at once', () => {
    d.sell(1, 2, 1000);
    const stop = d.place(3, 'Buy', { type: 'StopLimit', stopPrice: 990, price: 1000, quantity: 2 });
    expect(d.types().slice(0, 4)).toEqual(['OrderAccepted', 'OrderTriggered', 'Trade', 'BookDelta']);
    expect(d.engine.getOrder(stop)?.status).toBe('Filled');
  });

  it('an untriggered stop can be cancelled, releasing its hold', () => {
    const stop = d.place(3, 'Sell', { type: 'StopLimit', stopPrice: 900, price: 890, quantity: 4 });
    expect(d.balance(3, 'BTC')).toEqual({ available: 96 * LOT, locked: 4 * LOT });
    d.cancel(3, stop);
    expect(d.types()).toEqual(['OrderCancelled', 'BalanceChanged']);
    expect(d.balance(3, 'BTC')).toEqual({ available: 100 * LOT, locked: 0 });
    d.sell(1, 1, 800);
    d.buy(2, 1, 800);
    expect(d.types()).not.toContain('OrderTriggered');
  });
});

describe('amend', () => {
  it('reduces the quantity, keeps queue priority and releases the hold', () => {
    const first = d.buy(2, 5, 1000);
    const second = d.buy(3, 5, 1000);
    d.amend(2, first, 3);
    expect(d.types()).toEqual(['OrderAmended', 'BookDelta', 'BalanceChanged']);
    expect(d.events[0]).toMatchObject({ order: { orderId: first, quantity: 3, remainingQuantity: 3 } });
    expect(d.events[1]).toMatchObject({ side: 'Buy', price: 1000, quantity: 8 });
    // Hold 5010 → 3006.
    expect(d.balance(2, 'KRW').locked).toBe(3006);
    const seller = d.sell(1, 4, 1000);
    expect(d.trades()).toEqual([
      [1000, 3, first, seller],
      [1000, 1, second, seller],
    ]);
  });

  it('refuses to grow, to go to or below the filled quantity, and other users', () => {
    const order = d.sell(1, 5, 1010);
    d.buy(2, 2, 1010);
    d.amend(1, order, 5);
    expect(d.rejection()).toBe('AMEND_NOT_REDUCING');
    d.amend(1, order, 2);
    expect(d.rejection()).toBe('AMEND_BELOW_FILLED');
    d.amend(2, order, 4);
    expect(d.rejection()).toBe('NOT_ORDER_OWNER');
    d.amend(1, order, 4);
    expect(d.events[0]).toMatchObject({
      type: 'OrderAmended',
      order: { quantity: 4, filledQuantity: 2, remainingQuantity: 2, status: 'PartiallyFilled' },
    });
    expect(d.balance(1, 'BTC').locked).toBe(2 * LOT);
  });

  it('amends an untriggered stop', () => {
    const stop = d.place(3, 'Sell', { type: 'StopMarket', stopPrice: 900, quantity: 4 });
    d.amend(3, stop, 1);
    expect(d.balance(3, 'BTC')).toEqual({ available: 99 * LOT, locked: LOT });
  });
});
