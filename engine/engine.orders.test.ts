import { beforeEach, describe, expect, it } from 'vitest';
import { book, Driver, fundedDriver, LOT } from './test-support.ts';
import type { PlaceOrderCommand, Side } from './types.ts';

// Test market (test-support.ts): 1 tick × 1 lot = 1 KRW, a lot = 100,000 satoshi,
// maker fee 0.1 %, taker fee 0.2 %, fees charged on each order's cumulative fill (rounded down).
let d: Driver;

beforeEach(() => {
  d = fundedDriver();
});

describe('limit orders', () => {
  it('rest in price levels, best prices at the touch', () => {
    d.sell(1, 5, 1020);
    d.sell(1, 3, 1010);
    d.sell(1, 2, 1010);
    d.buy(2, 4, 990);
    expect(d.table()).toBe(
      book(`
        bid | price | ask
            | 1020  | 5
            | 1010  | 5
          4 |  990  |
      `),
    );
    expect(d.engine.bestBidAsk('BTC-KRW')).toEqual({ bid: { price: 990, quantity: 4 }, ask: { price: 1010, quantity: 5 } });
  });

  it('cross at the makers’ prices, best price first and FIFO within a level', () => {
    const a = d.sell(1, 5, 1020);
    const b = d.sell(1, 3, 1010);
    const c = d.sell(1, 2, 1010);
    d.buy(2, 4, 990);
    const taker = d.buy(3, 7, 1020);
    expect(d.trades()).toEqual([
      [1010, 3, b, taker],
      [1010, 2, c, taker],
      [1020, 2, a, taker],
    ]);
    expect(d.table()).toBe(
      book(`
        bid | price | ask
            | 1020  | 3
          4 |  990  |
      `),
    );
    // Notionals 3030 + 2020 + 2040 = 7090; taker fees 6 + 4 + 4 = 14; maker fees 3 + 2 + 2 = 7.
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000 - 7090 - 14, locked: 0 });
    expect(d.balance(3, 'BTC')).toEqual({ available: 107 * LOT, locked: 0 });
    expect(d.balance(1, 'BTC')).toEqual({ available: 90 * LOT, locked: 3 * LOT });
    expect(d.balance(1, 'KRW')).toEqual({ available: 1_000_000 + 7090 - 7, locked: 0 });
    expect(d.balance(0, 'KRW')).toEqual({ available: 21, locked: 0 });
    expect(d.types()).toEqual([
      'OrderAccepted',
      'Trade',
      'Trade',
      'Trade',
      'BookDelta',
      'BookDelta',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
      'BalanceChanged',
    ]);
    const last = d.events.filter((event) => event.type === 'Trade').at(-1);
    expect(last).toMatchObject({
      tradeId: 3,
      quoteQuantity: 2040,
      takerSide: 'Buy',
      maker: { orderId: a, isMaker: true, filledQuantity: 2, remainingQuantity: 3, fee: 2, status: 'PartiallyFilled' },
      taker: { orderId: taker, isMaker: false, filledQuantity: 7, remainingQuantity: 0, fee: 4, status: 'Filled' },
    });
    expect(d.engine.getOrder(taker)).toMatchObject({ status: 'Filled', filledQuote: 7090, feesPaid: 14 });
  });

  it('free the hold difference when a buy fills below its limit', () => {
    d.sell(1, 5, 990);
    const buy = d.buy(2, 10, 1000);
    // Hold 10 × 1000 + fee 20 = 10020. Fill 5 @ 990 = 4950 + taker fee 9.
    // Remaining 5 @ 1000 needs 5000 + 10; the other 51 returns to available at once.
    expect(d.balance(2, 'KRW')).toEqual({ available: 1_000_000 - 4950 - 9 - 5010, locked: 5010 });
    expect(d.engine.getOrder(buy)).toMatchObject({ status: 'PartiallyFilled', filledQuantity: 5, remainingQuantity: 5 });
    expect(d.table()).toBe(book(`bid | price | ask\n5 | 1000 |`));
  });

  it('lists open orders and cancels them, releasing the hold', () => {
    const first = d.buy(2, 5, 1000);
    const second = d.sell(2, 3, 1100);
    expect(d.engine.openOrders(2).map((order) => order.orderId)).toEqual([first, second]);
    d.cancel(2, first);
    expect(d.types()).toEqual(['OrderCancelled', 'BookDelta', 'BalanceChanged']);
    expect(d.events[1]).toMatchObject({ side: 'Buy', price: 1000, quantity: 0 });
    expect(d.balance(2, 'KRW')).toEqual({ available: 1_000_000, locked: 0 });
    expect(d.engine.getOrder(first)?.status).toBe('Cancelled');
    expect(d.engine.openOrders(2).map((order) => order.orderId)).toEqual([second]);
  });
});

describe('market orders', () => {
  beforeEach(() => {
    d.buy(2, 5, 1000);
    d.buy(2, 3, 990);
    d.sell(1, 5, 1010);
    d.sell(1, 5, 1020);
  });

  it('sell by quantity sweeps the bids and expires what finds no liquidity', () => {
    const order = d.sell(3, 10);
    expect(d.trades().map(([price, quantity]) => [price, quantity])).toEqual([
      [1000, 5],
      [990, 3],
    ]);
    expect(d.events.find((event) => event.type === 'OrderExpired')).toMatchObject({
      reason: 'MarketNoLiquidity',
      order: { orderId: order, filledQuantity: 8, remainingQuantity: 2, status: 'Expired' },
    });
    // Proceeds 5000 − 10 + 2970 − 5.
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000 + 4990 + 2965, locked: 0 });
    expect(d.balance(3, 'BTC')).toEqual({ available: 92 * LOT, locked: 0 });
  });

  it('buy by quote amount spends at most the amount, fee included, and is Filled when it cannot afford another lot', () => {
    const order = d.place(3, 'Buy', { quoteAmount: 8000 });
    // 5 @ 1010 = 5050 + fee 10 = 5060; budget left 2940 → 2 @ 1020 = 2040 + 4 = 2044; left 896 < one lot.
    expect(d.trades().map(([price, quantity]) => [price, quantity])).toEqual([
      [1010, 5],
      [1020, 2],
    ]);
    expect(d.engine.getOrder(order)).toMatchObject({
      status: 'Filled',
      quantity: 7,
      filledQuantity: 7,
      remainingQuantity: 0,
      quoteAmount: 8000,
      filledQuote: 7090,
      feesPaid: 14,
    });
    // The execution reports say so too: the last one (the taker side of the last trade) is Filled.
    const reports = d.events.flatMap((event) => (event.type === 'Trade' ? [event.taker] : []));
    expect(reports.map((report) => [report.filledQuantity, report.status])).toEqual([
      [5, 'PartiallyFilled'],
      [7, 'Filled'],
    ]);
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000 - 7104, locked: 0 });
    expect(d.table()).toBe(
      book(`
        bid | price | ask
            | 1020  | 3
          5 | 1000  |
          3 |  990  |
      `),
    );
  });

  it('buy by quote amount that cannot afford one lot expires (QuoteAmountExhausted) having bought nothing', () => {
    // The best ask is 1010: one lot costs 1010 + fee 2 = 1012 > 1000.
    const order = d.place(3, 'Buy', { quoteAmount: 1000 });
    expect(d.trades()).toEqual([]);
    expect(d.events.find((event) => event.type === 'OrderExpired')).toMatchObject({
      reason: 'QuoteAmountExhausted',
      order: { orderId: order, quantity: 0, filledQuantity: 0, status: 'Expired' },
    });
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000, locked: 0 });
  });

  it('a rejected buy by quote amount shows quantity 0 (lots bought), not the market cap', () => {
    d.deposit(4, 'KRW', 500);
    const order = d.place(4, 'Buy', { quoteAmount: 8000 });
    expect(d.rejection()).toBe('INSUFFICIENT_FUNDS');
    expect(d.engine.getOrder(order)).toMatchObject({ status: 'Rejected', quantity: 0, filledQuantity: 0, remainingQuantity: 0 });
  });

  it('buy by quantity alone may use the whole available balance, never more', () => {
    d.deposit(4, 'KRW', 7000);
    const order = d.buy(4, 8);
    // 5 @ 1010 costs 5060; 1940 left buys 1 @ 1020 (1022); 918 left.
    expect(d.trades().map(([price, quantity]) => [price, quantity])).toEqual([
      [1010, 5],
      [1020, 1],
    ]);
    expect(d.events.find((event) => event.type === 'OrderExpired')).toMatchObject({
      reason: 'QuoteAmountExhausted',
      order: { orderId: order, filledQuantity: 6, remainingQuantity: 2 },
    });
    expect(d.balance(4, 'KRW')).toEqual({ available: 918, locked: 0 });
  });

  it('buy by quantity with a quote cap stops at whichever comes first', () => {
    d.place(3, 'Buy', { quantity: 6, quoteAmount: 100_000 });
    expect(d.trades().map(([price, quantity]) => [price, quantity])).toEqual([
      [1010, 5],
      [1020, 1],
    ]);
    expect(d.balance(3, 'KRW')).toEqual({ available: 1_000_000 - 5060 - 1022, locked: 0 });
  });

  it('with an empty opposite side expires at once', () => {
    const fresh = new Driver();
    fresh.deposit(1, 'BTC', LOT);
    const order = fresh.sell(1, 1);
    expect(fresh.types()).toEqual(['OrderAccepted', 'OrderExpired', 'BalanceChanged']);
    expect(fresh.engine.getOrder(order)?.status).toBe('Expired');
    expect(fresh.balance(1, 'BTC')).toEqual({ available: LOT, locked: 0 });
  });
});

describe('time in force and post-only', () => {
  beforeEach(() => {
    d.sell(1, 5, 1000);
    d.sell(1, 3, 1010);
  });

  it('IOC fills what it can and expires the rest', () => {
    const order = d.buy(2, 10, 1000, { tif: 'IOC' });
    expect(d.trades()).toHaveLength(1);
    expect(d.events.find((event) => event.type === 'OrderExpired')).toMatchObject({
      reason: 'IOC',
      order: { orderId: order, filledQuantity: 5, remainingQuantity: 5 },
    });
    expect(d.balance(2, 'KRW')).toEqual({ available: 1_000_000 - 5000 - 10, locked: 0 });
    expect(d.table()).toBe(book(`bid | price | ask\n| 1010 | 3`));
  });

  it('FOK that cannot fill completely expires without touching the book', () => {
    const before = d.table();
    d.buy(2, 9, 1010, { tif: 'FOK' });
    expect(d.types()).toEqual(['OrderAccepted', 'OrderExpired', 'BalanceChanged']);
    expect(d.events[1]).toMatchObject({ reason: 'FOK' });
    expect(d.table()).toBe(before);
    expect(d.balance(2, 'KRW')).toEqual({ available: 1_000_000, locked: 0 });
  });

  it('FOK that can fill completely trades across levels', () => {
    const order = d.buy(2, 8, 1010, { tif: 'FOK' });
    expect(d.trades().map(([price, quantity]) => [price, quantity])).toEqual([
      [1000, 5],
      [1010, 3],
    ]);
    expect(d.engine.getOrder(order)?.status).toBe('Filled');
  });

  it('FOK market sell by quantity', () => {
    d.buy(2, 4, 990);
    d.sell(3, 5, undefined, { tif: 'FOK' });
    expect(d.events[1]).toMatchObject({ type: 'OrderExpired', reason: 'FOK' });
    d.sell(3, 4, undefined, { tif: 'FOK' });
    expect(d.trades()).toEqual([[990, 4, expect.any(Number), expect.any(Number)]]);
  });

  it('post-only is rejected when it would take and rests when it would not', () => {
    d.buy(2, 1, 1000, { postOnly: true });
    expect(d.rejection()).toBe('POST_ONLY_WOULD_TAKE');
    expect(d.types()).toEqual(['OrderRejected']);
    const resting = d.buy(2, 1, 999, { postOnly: true });
    expect(d.engine.getOrder(resting)?.status).toBe('Pending');
    expect(d.table()).toBe(
      book(`
        bid | price | ask
            | 1010  | 3
            | 1000  | 5
          1 |  999  |
      `),
    );
  });
});

describe('self-trade prevention', () => {
  let own: number;
  let other: number;
  beforeEach(() => {
    own = d.sell(1, 5, 1000);
    other = d.sell(2, 5, 1000);
  });

  it('ExpireTaker (the default) expires the incoming order and leaves the book alone', () => {
    const taker = d.buy(1, 8, 1000);
    expect(d.trades()).toEqual([]);
    expect(d.events.find((event) => event.type === 'OrderExpired')).toMatchObject({
      reason: 'SelfTradePrevention',
      order: { orderId: taker },
    });
    expect(d.table()).toBe(book(`bid | price | ask\n| 1000 | 10`));
    expect(d.balance(1, 'KRW')).toEqual({ available: 1_000_000, locked: 0 });
  });

  it('ExpireMaker expires the resting own order and keeps matching', () => {
    const taker = d.buy(1, 8, 1000, { stp: 'ExpireMaker' });
    expect(d.events.find((event) => event.type === 'OrderExpired')).toMatchObject({
      reason: 'SelfTradePrevention',
      order: { orderId: own },
    });
    expect(d.trades()).toEqual([[1000, 5, other, taker]]);
    expect(d.table()).toBe(book(`bid | price | ask\n3 | 1000 |`));
    expect(d.balance(1, 'BTC')).toEqual({ available: 105 * LOT, locked: 0 });
  });

  it('ExpireBoth expires both and trades nothing', () => {
    const taker = d.buy(1, 8, 1000, { stp: 'ExpireBoth' });
    const expired = d.events
      .filter((event) => event.type === 'OrderExpired')
      .map((event) => (event.type === 'OrderExpired' ? event.order.orderId : 0));
    expect(expired).toEqual([own, taker]);
    expect(d.trades()).toEqual([]);
    expect(d.table()).toBe(book(`bid | price | ask\n| 1000 | 5`));
  });
});

describe('events', () => {
  it('number events, book deltas per symbol and trades without gaps', () => {
    d.deposit(1, 'ETH', 10 * LOT);
    d.sell(1, 5, 1000);
    d.sell(1, 5, 1000, { symbol: 'ETH-KRW' });
    d.buy(2, 7, 1000);
    d.buy(2, 2, 1000, { symbol: 'ETH-KRW' });
    d.cancel(1, 999);
    // Gap-free, a Trade taking three seqs: its own, then its maker's report's, then its taker's.
    const seqs = d.log.flatMap((event) => (event.type === 'Trade' ? [event.seq, event.maker.seq, event.taker.seq] : [event.seq]));
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    expect(
      d.log
        .filter((event) => event.type === 'Trade')
        .map((trade) => trade.seq + 1 === trade.maker.seq && trade.seq + 2 === trade.taker.seq),
    ).toEqual([true, true]);
    for (const symbol of ['BTC-KRW', 'ETH-KRW']) {
      const symbolSeqs = d.log.flatMap((event) => (event.type === 'BookDelta' && event.symbol === symbol ? [event.symbolSeq] : []));
      expect(symbolSeqs).toEqual(symbolSeqs.map((_, index) => index + 1));
      expect(d.engine.depth(symbol, 10).symbolSeq).toBe(symbolSeqs.length);
    }
    expect(d.log.flatMap((event) => (event.type === 'Trade' ? [event.tradeId] : []))).toEqual([1, 2]);
    expect(d.engine.lastEventSeq()).toBe(seqs.length);
    expect(d.engine.lastTradePrice('BTC-KRW')).toBe(1000);
  });
});

describe('execution reports of trades and rejections', () => {
  it('give a trade three seqs (trade, maker report, taker report) and each report its order’s figures', () => {
    const a = d.sell(1, 5, 1010, { clientOrderId: 'ask-a' });
    const b = d.sell(1, 3, 1020);
    expect(d.table()).toBe(
      book(`
        bid | price | ask
            | 1020  | 3
            | 1010  | 5
      `),
    );
    const before = d.engine.lastEventSeq();
    const taker = d.buy(2, 7, 1020);
    expect(d.table()).toBe(
      book(`
        bid | price | ask
            | 1020  | 1
      `),
    );
    const S = before + 1; // OrderAccepted
    const trades = d.events.filter((event) => event.type === 'Trade');
    // 5 @ 1010 = 5,050 (maker fee 5, taker fee 10); 2 @ 1020 = 2,040 (maker fee 2, taker fee 4).
    expect(trades).toEqual([
      {
        type: 'Trade',
        seq: S + 1,
        timestamp: d.time,
        symbol: 'BTC-KRW',
        tradeId: 1,
        price: 1010,
        quantity: 5,
        quoteQuantity: 5050,
        takerSide: 'Buy',
        maker: {
          seq: S + 2,
          orderId: a,
          userId: 1,
          clientOrderId: 'ask-a',
          side: 'Sell',
          isMaker: true,
          filledQuantity: 5,
          remainingQuantity: 0,
          fee: 5,
          status: 'Filled',
          orderType: 'Limit',
          orderPrice: 1010,
          orderQuantity: 5,
          filledQuote: 5050,
        },
        taker: {
          seq: S + 3,
          orderId: taker,
          userId: 2,
          side: 'Buy',
          isMaker: false,
          filledQuantity: 5,
          remainingQuantity: 2,
          fee: 10,
          status: 'PartiallyFilled',
          orderType: 'Limit',
          orderPrice: 1020,
          orderQuantity: 7,
          filledQuote: 5050,
        },
      },
      {
        type: 'Trade',
        seq: S + 4,
        timestamp: d.time,
        symbol: 'BTC-KRW',
        tradeId: 2,
        price: 1020,
        quantity: 2,
        quoteQuantity: 2040,
        takerSide: 'Buy',
        maker: {
          seq: S + 5,
          orderId: b,
          userId: 1,
          side: 'Sell',
          isMaker: true,
          filledQuantity: 2,
          remainingQuantity: 1,
          fee: 2,
          status: 'PartiallyFilled',
          orderType: 'Limit',
          orderPrice: 1020,
          orderQuantity: 3,
          filledQuote: 2040,
        },
        taker: {
          seq: S + 6,
          orderId: taker,
          userId: 2,
          side: 'Buy',
          isMaker: false,
          filledQuantity: 7,
          remainingQuantity: 0,
          fee: 4,
          status: 'Filled',
          orderType: 'Limit',
          orderPrice: 1020,
          orderQuantity: 7,
          filledQuote: 7090,
        },
      },
    ]);
    // The events after the trades go on from the taker report's seq; lastEventSeq is the last one's.
    const after = d.events.slice(d.events.indexOf(trades[1]!) + 1).map((event) => event.seq);
    expect(after).toEqual(after.map((_, index) => S + 7 + index));
    expect(d.engine.lastEventSeq()).toBe(d.events.at(-1)!.seq);
    expect(d.engine.getOrder(taker)).toMatchObject({ quantity: 7, filledQuote: 7090, price: 1020, orderType: 'Limit' });
  });

  it('give a buy by quote amount no order price and, as its quantity, the lots bought so far', () => {
    d.sell(1, 1, 1020);
    d.sell(3, 4, 1030);
    // Budget 3,000: 1 @ 1020 (+ fee 2) leaves 1,978; 1 @ 1030 (+ fee 2) leaves 946, not one more lot.
    const buy = d.buy(2, 0, undefined, { quantity: undefined, quoteAmount: 3000 });
    const reports = d.events.flatMap((event) => (event.type === 'Trade' ? [event.taker] : []));
    expect(reports).toEqual([
      {
        seq: reports[0]!.seq,
        orderId: buy,
        userId: 2,
        side: 'Buy',
        isMaker: false,
        filledQuantity: 1,
        remainingQuantity: 0,
        fee: 2,
        status: 'PartiallyFilled',
        orderType: 'Market',
        orderQuantity: 1,
        filledQuote: 1020,
      },
      {
        seq: reports[0]!.seq + 3,
        orderId: buy,
        userId: 2,
        side: 'Buy',
        isMaker: false,
        filledQuantity: 2,
        remainingQuantity: 0,
        fee: 2,
        status: 'Filled',
        orderType: 'Market',
        orderQuantity: 2,
        filledQuote: 2050,
      },
    ]);
    expect(reports.every((report) => 'orderPrice' in report && report.orderPrice === undefined)).toBe(true);
    expect(d.engine.getOrder(buy)).toMatchObject({ status: 'Filled', quantity: 2, filledQuote: 2050 });
  });

  it('carry the Rejected order view on the reject of a PlaceOrder the engine records, and nothing else changes', () => {
    const before = d.engine.lastEventSeq();
    const id = d.buy(1, 2000, 1000, { clientOrderId: 'too-big' }); // 2,000,000 KRW + fee > 1,000,000
    const view = d.engine.getOrder(id);
    expect(view).toMatchObject({
      orderId: id,
      status: 'Rejected',
      rejectCode: 2001,
      rejectReason: 'INSUFFICIENT_FUNDS',
      quantity: 2000,
      filledQuantity: 0,
      price: 1000,
    });
    expect(d.events).toEqual([
      {
        type: 'OrderRejected',
        seq: before + 1,
        timestamp: d.time,
        code: 2001,
        reason: 'INSUFFICIENT_FUNDS',
        commandType: 'PlaceOrder',
        userId: 1,
        orderId: id,
        clientOrderId: 'too-big',
        symbol: 'BTC-KRW',
        order: view,
      },
    ]);
    expect(d.events[0]).toHaveProperty('order', view);
    // A refusal the engine keeps no record of carries no view: a duplicate id (the id keeps its own
    // record), a cancel, a shape too broken to record.
    d.buy(1, 1, 1000);
    const duplicate = d.apply({ ...(d.commands.at(-1) as PlaceOrderCommand), timestamp: ++d.time });
    expect(duplicate).toMatchObject([{ type: 'OrderRejected', reason: 'DUPLICATE_ORDER_ID', order: undefined }]);
    expect(d.cancel(1, 999_999)).toMatchObject([{ type: 'OrderRejected', reason: 'ORDER_NOT_FOUND', order: undefined }]);
    const broken = d.apply({ ...(d.commands.at(-2) as PlaceOrderCommand), orderId: 77_777, side: 'Long' as Side, timestamp: ++d.time });
    expect(broken).toMatchObject([{ type: 'OrderRejected', reason: 'INVALID_SIDE', order: undefined }]);
    // A refusal by the stateless checks is recorded (and carries the view) too.
    const offTick = d.buy(1, 1, 0);
    expect(d.events).toMatchObject([{ type: 'OrderRejected', reason: 'INVALID_PRICE', order: d.engine.getOrder(offTick) }]);
    expect(d.engine.getOrder(offTick)?.status).toBe('Rejected');
  });
});
