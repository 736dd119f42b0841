/**
 * TP/SL on perpetuals (issue 19, README decisions 50–53), scenario by scenario with hand-checked
 * numbers. BTC-KRW-PERP: 1 tick × 1 lot = 1 KRW; taker 500 ppm; default leverage 20 (cross).
 * Users 1 and 2 trade, user 3 provides the liquidity a fired market order takes.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine.ts';
import type { EngineEvent, OrderTriggeredEvent, OrderView } from '../types.ts';
import { PERP, PerpDriver, type PerpOrderOptions } from './testing/perp-driver.ts';

function traders(): PerpDriver {
  const d = new PerpDriver();
  d.fund(1, 5_000_000, 10_000_000);
  d.fund(2, 5_000_000, 10_000_000);
  d.fund(3, 5_000_000, 10_000_000);
  d.index(100_000);
  return d;
}

/** user 1 long (side Buy) or short 10 lots at 100,000 against user 2 */
function withPosition(side: 'Buy' | 'Sell'): PerpDriver {
  const d = traders();
  d.perp(2, side === 'Buy' ? 'Sell' : 'Buy', 10, 100_000);
  d.perp(1, side, 10);
  expect(d.position(1)).toMatchObject({ size: side === 'Buy' ? 10 : -10, entryPrice: 100_000 });
  return d;
}

const mark = (options: PerpOrderOptions = {}): PerpOrderOptions => ({ workingType: 'MARK_PRICE', ...options });

function triggered(events: EngineEvent[]): number[] {
  return events.filter((event): event is OrderTriggeredEvent => event.type === 'OrderTriggered').map((event) => event.order.orderId);
}

function order(d: PerpDriver, orderId: number): OrderView {
  return d.engine.getOrder(orderId)!;
}

describe('close position', () => {
  it('a mark-price StopMarket sell closes a long when the mark falls to its stop', () => {
    const d = withPosition('Buy');
    const stop = d.perp(1, 'Sell', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true }));
    expect(order(d, stop)).toMatchObject({
      status: 'Untriggered',
      quantity: 0,
      remainingQuantity: 0,
      stopPrice: 95_000,
      workingType: 'MARK_PRICE',
      closePosition: true,
    });
    // reserves nothing: user 1's order margin stays 0
    expect(d.engine.futuresAccount(1)).toMatchObject({ orderMarginKrw: 0n });
    d.perp(3, 'Buy', 20, 94_000); // the bid it will sell into
    d.index(95_001);
    expect(triggered(d.events)).toEqual([]);
    d.index(95_000);
    expect(triggered(d.events)).toEqual([stop]);
    expect(d.trades().map(([price, lots, , taker]) => [price, lots, taker])).toEqual([[94_000, 10, stop]]);
    expect(order(d, stop)).toMatchObject({ status: 'Filled', quantity: 10, filledQuantity: 10 });
    // flat; wallet 5,000,000 − open fee 500 − close fee 470 (940,000 × 500 ppm) − (100,000 − 94,000) × 10
    expect(d.position(1)?.size ?? 0).toBe(0);
    expect(d.wallet(1)).toBe(4_939_030n);
  });

  it('a mark-price TakeProfitMarket buy closes a short when the mark falls to its stop', () => {
    const d = withPosition('Sell');
    const tp = d.perp(1, 'Buy', undefined, undefined, mark({ type: 'TakeProfitMarket', stopPrice: 90_000, closePosition: true }));
    d.perp(3, 'Sell', 20, 91_000);
    d.index(90_001);
    expect(triggered(d.events)).toEqual([]);
    d.index(90_000);
    expect(triggered(d.events)).toEqual([tp]);
    expect(d.trades().map(([price, lots]) => [price, lots])).toEqual([[91_000, 10]]);
    // wallet 5,000,000 − open fee 500 − close fee 455 (910,000 × 500 ppm) + (100,000 − 91,000) × 10
    expect(d.position(1)?.size ?? 0).toBe(0);
    expect(d.wallet(1)).toBe(5_089_045n);
  });

  it('closes the leg as it is when it fires, not as it was placed', () => {
    const d = withPosition('Buy');
    const stop = d.perp(1, 'Sell', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true }));
    // the long grows to 15 after placement
    d.perp(2, 'Sell', 5, 100_000);
    d.perp(1, 'Buy', 5);
    d.perp(3, 'Buy', 20, 94_000);
    d.index(94_500);
    expect(order(d, stop)).toMatchObject({ status: 'Filled', quantity: 15 });
    expect(d.position(1)?.size ?? 0).toBe(0);
  });

  it('expires (ReduceOnly) when it fires with no position, or with a position on its own side', () => {
    const d = traders();
    const flat = d.perp(1, 'Sell', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true }));
    expect(d.rejection()).toBeUndefined();
    d.index(94_000);
    expect(d.types()).toEqual(['OrderTriggered', 'OrderExpired']);
    expect(order(d, flat)).toMatchObject({ status: 'Expired', expireReason: 'ReduceOnly', quantity: 0, filledQuantity: 0 });

    // a Buy close-position order cannot close a long: nothing to reduce from its side
    const long = withPosition('Buy');
    const wrongSide = long.perp(1, 'Buy', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 101_000, closePosition: true }));
    long.index(101_000);
    expect(order(long, wrongSide)).toMatchObject({ status: 'Expired', expireReason: 'ReduceOnly' });
    expect(long.position(1)).toMatchObject({ size: 10 });
  });

  it('is refused with a quantity, with reduce-only, on a limit type, and on the opening side in hedge mode', () => {
    const d = traders();
    const base = mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true });
    d.perp(1, 'Sell', 5, undefined, base);
    expect(d.rejection()).toBe('CLOSE_POSITION_NOT_ALLOWED');
    d.perp(1, 'Sell', undefined, undefined, { ...base, reduceOnly: true });
    expect(d.rejection()).toBe('CLOSE_POSITION_NOT_ALLOWED');
    d.perp(1, 'Sell', undefined, 95_000, { ...base, type: 'StopLimit' });
    expect(d.rejection()).toBe('CLOSE_POSITION_NOT_ALLOWED');
    d.hedge(1, true);
    d.perp(1, 'Sell', undefined, undefined, { ...base, positionSide: 'SHORT' });
    expect(d.rejection()).toBe('CLOSE_POSITION_NOT_ALLOWED');
    d.perp(1, 'Sell', undefined, undefined, { ...base, positionSide: 'LONG' });
    expect(d.rejection()).toBeUndefined();
  });

  it('is not cut by the reduce-only tidy-up while it waits', () => {
    const d = withPosition('Buy');
    const stop = d.perp(1, 'Sell', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true }));
    const reduce = d.perp(1, 'Sell', 10, 110_000, { reduceOnly: true });
    d.perp(3, 'Buy', 4, 100_000);
    d.perp(1, 'Sell', 4); // the long shrinks to 6: the reduce-only order is cut to 6, the close-position order stays
    expect(order(d, reduce)).toMatchObject({ status: 'Pending', quantity: 6 });
    expect(order(d, stop)).toMatchObject({ status: 'Untriggered', quantity: 0 });
  });
});

describe('trigger direction (Binance: stops fire through the stop, take-profits towards it)', () => {
  it('mark price: Stop buy / TakeProfit sell on a rise, Stop sell / TakeProfit buy on a fall, nearest first', () => {
    const d = traders();
    const stopBuy = d.perp(1, 'Buy', 1, undefined, mark({ type: 'StopMarket', stopPrice: 102_000 }));
    const tpSell = d.perp(1, 'Sell', 1, 103_000, mark({ type: 'TakeProfitLimit', stopPrice: 103_000 }));
    const stopSell = d.perp(1, 'Sell', 1, 97_000, mark({ type: 'StopLimit', stopPrice: 98_000 }));
    const tpBuy = d.perp(1, 'Buy', 1, 96_000, mark({ type: 'TakeProfitLimit', stopPrice: 97_000 }));
    expect(d.engine.openOrders(1).map((view) => view.status)).toEqual(['Untriggered', 'Untriggered', 'Untriggered', 'Untriggered']);
    d.index(101_999);
    expect(triggered(d.events)).toEqual([]);
    d.index(103_000);
    expect(triggered(d.events)).toEqual([stopBuy, tpSell]);
    d.index(98_001);
    expect(triggered(d.events)).toEqual([]);
    d.index(90_000);
    expect(triggered(d.events)).toEqual([stopSell, tpBuy]);
    // the market one found no liquidity; the limit ones rest
    expect(order(d, stopBuy)).toMatchObject({ status: 'Expired', expireReason: 'MarketNoLiquidity' });
    expect(order(d, tpSell)).toMatchObject({ status: 'Pending', price: 103_000 });
    expect(order(d, stopSell)).toMatchObject({ status: 'Pending', price: 97_000 });
    expect(order(d, tpBuy)).toMatchObject({ status: 'Pending', price: 96_000 });
  });

  it('last price: a TakeProfitLimit sell fires on a trade at or above its stop; a mark move does not fire it', () => {
    const d = traders();
    const tp = d.perp(1, 'Sell', 2, 101_000, { type: 'TakeProfitLimit', stopPrice: 101_000, workingType: 'LAST_PRICE' });
    expect(order(d, tp)).toMatchObject({ status: 'Untriggered', workingType: 'LAST_PRICE' });
    d.index(105_000);
    expect(triggered(d.events)).toEqual([]);
    d.perp(2, 'Sell', 1, 100_000);
    d.perp(3, 'Buy', 1, 100_000); // last 100,000: below its stop, nothing
    expect(triggered(d.events)).toEqual([]);
    d.perp(2, 'Sell', 1, 101_000);
    d.perp(3, 'Buy', 1, 101_000); // last 101,000: fires, rests as a limit sell at 101,000
    expect(triggered(d.events)).toEqual([tp]);
    expect(order(d, tp)).toMatchObject({ status: 'Pending', remainingQuantity: 2 });
  });

  it('a mark-price order is not fired by trades, a last-price one by marks', () => {
    const d = traders();
    const markStop = d.perp(1, 'Sell', 1, undefined, mark({ type: 'StopMarket', stopPrice: 99_000 }));
    const lastStop = d.perp(1, 'Sell', 1, undefined, { type: 'StopMarket', stopPrice: 99_500 });
    expect(order(d, lastStop).workingType).toBe('LAST_PRICE'); // the engine's default (the API's is MARK_PRICE)
    d.perp(2, 'Sell', 1, 98_000);
    d.perp(3, 'Buy', 1, 98_000); // last 98,000: only the last-price stop fires
    expect(triggered(d.events)).toEqual([lastStop]);
    expect(order(d, markStop).status).toBe('Untriggered');
    d.index(99_000);
    expect(triggered(d.events)).toEqual([markStop]);
  });

  it('a mark-price order placed already through the mark fires at once', () => {
    const d = traders();
    d.perp(3, 'Buy', 5, 99_000);
    const stop = d.perp(1, 'Sell', 1, undefined, mark({ type: 'StopMarket', stopPrice: 100_500 }));
    expect(d.types().slice(0, 2)).toEqual(['OrderAccepted', 'OrderTriggered']);
    expect(order(d, stop)).toMatchObject({ status: 'Filled', filledQuantity: 1 });
  });
});

describe('cancel', () => {
  it('takes a waiting mark-price order off the book: a later mark move does not fire it', () => {
    const d = traders();
    const first = d.perp(1, 'Sell', 1, 90_000, mark({ type: 'StopLimit', stopPrice: 99_000 }));
    const second = d.perp(1, 'Sell', 1, 90_000, mark({ type: 'StopLimit', stopPrice: 99_000 }));
    d.cancel(1, first);
    expect(order(d, first)).toMatchObject({ status: 'Cancelled', workingType: 'MARK_PRICE' });
    d.index(98_000);
    expect(triggered(d.events)).toEqual([second]);
  });
});

describe('trigger order when several fire in one mark move', () => {
  it('is nearest stop first, equal stops in placement order (stop sells and take-profit buys both fire on a fall)', () => {
    const d = traders();
    const a = d.perp(1, 'Sell', 1, 90_000, mark({ type: 'StopLimit', stopPrice: 99_000 }));
    const b = d.perp(1, 'Sell', 1, 90_000, mark({ type: 'StopLimit', stopPrice: 98_000 }));
    const c = d.perp(1, 'Sell', 1, 90_000, mark({ type: 'StopLimit', stopPrice: 99_000 }));
    const tp = d.perp(2, 'Buy', 1, 89_000, mark({ type: 'TakeProfitLimit', stopPrice: 98_500 }));
    d.index(97_000);
    expect(triggered(d.events)).toEqual([a, c, tp, b]);
  });
});

describe('reserves (decision 18 for take-profits)', () => {
  it('a TakeProfitLimit at its limit, a TakeProfitMarket at max(stop, mark), a close-position order nothing', () => {
    const d = traders();
    // 5 lots at 99,000: notional 495,000; IM 24,750 + fee floor(247.5) = 24,997
    d.perp(1, 'Buy', 5, 99_000, mark({ type: 'TakeProfitLimit', stopPrice: 99_500 }));
    expect(d.engine.futuresAccount(1)).toMatchObject({ orderMarginKrw: 24_997n });
    // 5 lots at max(105,000, 100,000): notional 525,000; IM 26,250 + fee floor(262.5) = 26,512
    d.perp(1, 'Sell', 5, undefined, mark({ type: 'TakeProfitMarket', stopPrice: 105_000 }));
    expect(d.engine.futuresAccount(1)).toMatchObject({ orderMarginKrw: 51_509n });
    d.perp(1, 'Sell', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true }));
    expect(d.engine.futuresAccount(1)).toMatchObject({ orderMarginKrw: 51_509n });
  });
});

describe('spot keeps its stops', () => {
  it('refuses take-profit types, a working type and close position on spot; spot stops carry no working type', () => {
    const d = traders();
    const spot = (patch: Record<string, unknown>): void => {
      d.apply({
        type: 'PlaceOrder',
        orderId: ++d.commandSeq,
        userId: 1,
        symbol: 'BTC-KRW',
        side: 'Sell',
        orderType: 'StopLimit',
        price: 1000,
        stopPrice: 1000,
        quantity: 10,
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireTaker',
        timestamp: ++d.time,
        ...patch,
      } as never);
    };
    spot({ orderType: 'TakeProfitMarket', price: undefined });
    expect(d.rejection()).toBe('NOT_A_PERPETUAL');
    spot({ workingType: 'LAST_PRICE' });
    expect(d.rejection()).toBe('NOT_A_PERPETUAL');
    spot({ orderType: 'StopMarket', price: undefined, quantity: undefined, closePosition: true });
    expect(d.rejection()).toBe('NOT_A_PERPETUAL');
    d.deposit(1, 'BTC', 1_000_000_000_000);
    spot({});
    expect(d.rejection()).toBeUndefined();
    const view = d.engine.openOrders(1, 'BTC-KRW')[0]!;
    expect(view.workingType).toBeUndefined();
    expect(view.closePosition).toBeUndefined();
  });
});

describe('replay and snapshot of waiting TP/SL', () => {
  it('a restored engine holds the same untriggered orders, hash and later events', () => {
    const d = withPosition('Buy');
    d.perp(1, 'Sell', undefined, undefined, mark({ type: 'StopMarket', stopPrice: 95_000, closePosition: true }));
    d.perp(1, 'Sell', 5, 112_000, mark({ type: 'TakeProfitLimit', stopPrice: 110_000 }));
    d.perp(1, 'Sell', 3, 96_000, { type: 'StopLimit', stopPrice: 97_000, workingType: 'LAST_PRICE' });
    d.perp(1, 'Buy', 2, undefined, mark({ type: 'TakeProfitMarket', stopPrice: 96_000 }));
    d.perp(2, 'Buy', 2, undefined, { type: 'TakeProfitMarket', stopPrice: 99_000, workingType: 'LAST_PRICE', reduceOnly: true });
    d.perp(3, 'Buy', 30, 94_000);
    const config = d.engine.config;
    const snapshot = JSON.parse(JSON.stringify(d.engine.snapshot())) as ReturnType<Engine['snapshot']>;
    const restored = Engine.restore(config, snapshot);
    expect(restored.stateHash()).toBe(d.engine.stateHash());
    expect(restored.openOrders(1)).toEqual(d.engine.openOrders(1));
    expect(restored.openOrders(1).filter((view) => view.workingType === 'MARK_PRICE')).toHaveLength(3);

    // the state hash sees a waiting order's working type
    const flipped = JSON.parse(JSON.stringify(snapshot)) as { books: { symbol: string; sellStops: number[] }[] };
    const book = flipped.books.find((record) => record.symbol === PERP)!;
    book.sellStops[18] = book.sellStops[18]! ^ (3 << 8); // LAST_PRICE ↔ MARK_PRICE of the first falling stop
    expect(Engine.restore(config, flipped as never).stateHash()).not.toBe(d.engine.stateHash());

    // replay of the same commands from the start gives the same state
    const replay = new Engine(config);
    for (const command of d.commands) replay.apply(command);
    expect(replay.stateHash()).toBe(d.engine.stateHash());

    // the mark falls through two of them and the last price follows: both engines say the same
    const later = { type: 'SetIndexPrices' as const, prices: [{ symbol: PERP, source: 'test', price: 95_000 }], timestamp: d.time + 10 };
    const events = d.apply(later);
    expect(triggered(events).length).toBeGreaterThanOrEqual(2);
    expect(restored.apply(later)).toEqual(events);
    expect(restored.stateHash()).toBe(d.engine.stateHash());
  });
});
