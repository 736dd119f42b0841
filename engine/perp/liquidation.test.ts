/**
 * Liquidation (issue 19): the three worked examples with hand-checked numbers, then the stages'
 * edges (orders cancelled first, cross accounts, the index's exactness).
 *
 * BTC-KRW-PERP: 1 tick × 1 lot = 1 KRW; maker 200 ppm, taker 500 ppm; tier 1 MMR 0.40 %.
 * The position liquidated in (a)–(c): user 1, 10× ISOLATED, long 100 lots bought at 100,000 ticks
 * from user 2's ask — cost 10,000,000, isolated margin 1,000,000, taker fee 5,000 (wallet
 * 5,000,000 → 4,995,000).
 *  - bankruptcy price (decision 5, up for a long): ceil((10,000,000 − 1,000,000) / 100) = 90,000
 *  - liquidation price (decision 6): highest t with 1,000,000 + 100 t − 10,000,000 ≤ ceil(0.004 × 100 t):
 *    t = 90,361 → 36,100 ≤ ceil(36,144.4) = 36,145 yes; t = 90,362 → 36,200 ≤ 36,145 no. So 90,361.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent, LiquidationEvent, TradeEvent } from '../types.ts';
import { LIQUIDATION_ORDER_ID_BASE } from './futures-state.ts';
import { PerpDriver } from './testing/perp-driver.ts';

function isolatedLong(shorts: [userId: number, lots: number, futures: number][] = [[2, 100, 5_000_000]]): PerpDriver {
  const d = new PerpDriver();
  d.fund(1, 5_000_000, 10_000_000);
  for (const [userId, , futures] of shorts) d.fund(userId, futures, 10_000_000);
  d.fund(3, 5_000_000, 10_000_000);
  d.index(100_000);
  d.marginType(1, 'ISOLATED');
  d.leverage(1, 10);
  for (const [userId, lots] of shorts) d.perp(userId, 'Sell', lots, 100_000);
  d.perp(1, 'Buy', 100, 100_000);
  expect(d.position(1)).toMatchObject({ size: 100, isolatedMarginKrw: 1_000_000n, liquidationPrice: 90_361, bankruptcyPrice: 90_000 });
  expect(d.wallet(1)).toBe(4_995_000n);
  return d;
}

const liquidations = (events: EngineEvent[]) =>
  events
    .filter((event): event is LiquidationEvent => event.type === 'Liquidation')
    .map(({ side, price, quantity, stage }) => ({ side, price, quantity, stage }));
const tradesOf = (events: EngineEvent[]) => events.filter((event): event is TradeEvent => event.type === 'Trade');

describe('worked example (a): into a resting bid above bankruptcy', () => {
  it('sells at the bid with no taker fee; the fund gains what the fill beat bankruptcy by', () => {
    const d = isolatedLong();
    const bid = d.perp(3, 'Buy', 100, 90_200);
    // one tick above the liquidation price: nothing happens
    expect(d.index(90_362).some((event) => event.type === 'Liquidation')).toBe(false);
    const events = d.index(90_300);
    const [trade] = tradesOf(events);
    expect(trade).toMatchObject({ price: 90_200, quantity: 100, liquidation: true, takerSide: 'Sell' });
    expect(trade!.maker).toMatchObject({ orderId: bid, userId: 3, fee: 1_804 }); // 200 ppm × 9,020,000
    expect(trade!.taker).toMatchObject({ userId: 1, orderType: 'Liquidation', fee: 0, orderPrice: 90_000, status: 'Filled' });
    expect(trade!.taker.orderId).toBe(LIQUIDATION_ORDER_ID_BASE + 1);
    expect(liquidations(events)).toEqual([{ side: 'Sell', price: 90_200, quantity: 100, stage: 'book' }]);
    // realized 100 × 90,200 − 10,000,000 = −980,000; surplus (90,200 − 90,000) × 100 = 20,000 to the fund
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(20_000n);
    expect(d.wallet(1)).toBe(4_995_000n - 980_000n - 20_000n); // the whole isolated margin lost: 3,995,000
    expect(d.position(1)).toBeUndefined();
    expect(d.position(3)).toMatchObject({ size: 100, entryPrice: 90_200 });
    expect(d.engine.getOrder(trade!.taker.orderId)).toMatchObject({ orderType: 'Liquidation', status: 'Filled' });
  });
});

describe('worked example (b): into an empty book above bankruptcy with a funded insurance fund', () => {
  it('offers the rest down to what the fund covers; the fund pays the loss beyond bankruptcy', () => {
    const d = isolatedLong();
    // the fund as earlier liquidations left it: 1,000,000 KRW reaches 1,000,000 / 100 lots = 10,000 ticks
    d.engine.futures.insuranceFunds.set('KRW', 1_000_000n);
    d.perp(3, 'Buy', 100, 89_500);
    const events = d.index(90_300);
    // stage 2 at 90,000 finds no bid and expires; stage 3 sells limited at 80,000 and fills at 89,500
    const expired = events.filter((event) => event.type === 'OrderExpired');
    expect(expired).toHaveLength(1);
    const [trade] = tradesOf(events);
    expect(trade).toMatchObject({ price: 89_500, quantity: 100, liquidation: true });
    expect(trade!.taker).toMatchObject({ orderType: 'Liquidation', orderPrice: 80_000, fee: 0 });
    expect(liquidations(events)).toEqual([{ side: 'Sell', price: 89_500, quantity: 100, stage: 'insurance' }]);
    // the fund pays (90,000 − 89,500) × 100 = 50,000; user 1 loses exactly its margin
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(950_000n);
    expect(d.wallet(1)).toBe(4_995_000n - 1_050_000n + 50_000n);
  });
});

describe('worked example (c): empty book, empty fund', () => {
  it('auto-deleverages the most profitable shorts first, at the bankruptcy price, no fees', () => {
    // user 2 short 60 with 5,000,000; user 4 short 40 with 1,000,000 (both 20× cross, entry 100,000)
    const d = isolatedLong([
      [2, 60, 5_000_000],
      [4, 40, 1_000_000],
    ]);
    const events = d.index(90_300);
    // ranks at 90,300 (PnL % × notional / margin balance):
    //  user 2: 582,000 / 6,000,000 × 5,418,000 / (4,998,800 + 582,000) = 0.0942
    //  user 4: 388,000 / 4,000,000 × 3,612,000 / (999,200 + 388,000) = 0.2526 → first
    const trades = tradesOf(events);
    expect(trades.map((trade) => [trade.maker.userId, trade.price, trade.quantity])).toEqual([
      [4, 90_000, 40],
      [2, 90_000, 60],
    ]);
    for (const trade of trades) {
      expect(trade.liquidation).toBe(true);
      expect(trade.maker).toMatchObject({ execType: 'ADL', fee: 0, side: 'Buy', status: 'Filled' });
      expect(trade.taker).toMatchObject({ execType: 'ADL', fee: 0, side: 'Sell', orderType: 'Liquidation', userId: 1 });
    }
    expect(trades[1]!.taker).toMatchObject({ filledQuantity: 100, remainingQuantity: 0, status: 'Filled' });
    expect(liquidations(events)).toEqual([{ side: 'Sell', price: 90_000, quantity: 100, stage: 'adl' }]);
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(0n);
    // user 1: realized 100 × 90,000 − 10,000,000 = −1,000,000 (its margin, exactly)
    expect(d.wallet(1)).toBe(3_995_000n);
    // user 4: 1,000,000 − 800 maker fee + 40 × 10,000; user 2: 5,000,000 − 1,200 + 60 × 10,000
    expect(d.wallet(4)).toBe(1_399_200n);
    expect(d.wallet(2)).toBe(5_598_800n);
    for (const userId of [1, 2, 4]) expect(d.position(userId)).toBeUndefined();
  });
});

describe('liquidation stages and checks', () => {
  it('cancels the account’s open orders in the market first, and a position above MM is never touched', () => {
    const d = isolatedLong();
    const resting = d.perp(1, 'Sell', 10, 120_000, { reduceOnly: true });
    d.index(90_362);
    expect(d.engine.getOrder(resting)?.status).toBe('Pending');
    d.perp(3, 'Buy', 100, 90_200);
    const events = d.index(90_361);
    expect(events.findIndex((event) => event.type === 'OrderCancelled')).toBeLessThan(events.findIndex((event) => event.type === 'Trade'));
    expect(d.engine.getOrder(resting)?.status).toBe('Cancelled');
    expect(d.position(1)).toBeUndefined();
  });

  it('liquidates in the command whose fill leaves the account at or below its MM', () => {
    const d = new PerpDriver();
    d.fund(1, 600_000, 1_000_000);
    d.fund(2, 5_000_000, 10_000_000);
    d.index(100_000);
    // user 1 (20× cross) bids 100 lots at 110,000, far above the mark: reserve 550,000 + 5,500 fee
    d.perp(1, 'Buy', 100, 110_000);
    d.perp(2, 'Sell', 100);
    const events = d.events;
    // filled at 110,000 (maker fee 2,200): balance 597,800 − 1,000,000 at the mark ≤ MM → liquidated at once;
    // bankruptcy ceil((11,000,000 − 597,800) / 100) = 104,022; empty book, empty fund → ADL of user 2's short
    const trades = tradesOf(events);
    expect(trades.map((trade) => [trade.price, trade.quantity, trade.liquidation ?? false])).toEqual([
      [110_000, 100, false],
      [104_022, 100, true],
    ]);
    expect(liquidations(events)).toEqual([{ side: 'Sell', price: 104_022, quantity: 100, stage: 'adl' }]);
    expect(d.wallet(1)).toBe(0n); // 597,800 + 100 × 104,022 − 11,000,000
    expect(d.wallet(2)).toBe(5_000_000n - 5_500n + 597_800n);
    expect(d.engine.futuresPositions(2)).toEqual([]);
  });

  it('liquidates a cross account whose balance falls to its MM, at its shared bankruptcy price', () => {
    const d = new PerpDriver();
    d.fund(1, 600_000, 1_000_000);
    d.fund(2, 5_000_000, 10_000_000);
    d.fund(3, 5_000_000, 10_000_000);
    d.index(100_000);
    d.perp(2, 'Sell', 100, 100_000);
    d.perp(1, 'Buy', 100, 100_000); // 20× cross: IM 500,000 + fee 5,000; wallet 595,000
    // cross balance 595,000 + 100 (t − 100,000) ≤ ceil(0.4 t): t = 94,072 → 2,200 ≤ 37,629 … the threshold is
    // the highest t with 100 t − 9,405,000 ≤ ceil(0.4 t): 99.6 t ≤ 9,405,000 → t ≤ 94,427.7 → 94,427
    expect(d.position(1)?.liquidationPrice).toBe(94_427);
    d.perp(3, 'Buy', 100, 94_100);
    expect(d.index(94_428).some((event) => event.type === 'Liquidation')).toBe(false);
    const events = d.index(94_427);
    // bankruptcy: ceil((10,000,000 − 595,000) / 100) = 94,050; the bid at 94,100 beats it by 50 × 100
    expect(liquidations(events)).toEqual([{ side: 'Sell', price: 94_100, quantity: 100, stage: 'book' }]);
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(5_000n);
    expect(d.wallet(1)).toBe(595_000n - 590_000n - 5_000n);
  });

  it('checks an account with cross positions in two markets when either mark moves', () => {
    const d = new PerpDriver();
    const ETH = 'ETH-KRW-PERP';
    d.fund(1, 1_000_000, 2_000_000);
    d.fund(2, 20_000_000, 30_000_000);
    d.fund(3, 20_000_000, 30_000_000);
    d.index(100_000);
    d.index(5_000, ETH);
    d.perp(2, 'Sell', 100, 100_000);
    d.perp(1, 'Buy', 100, 100_000);
    d.perp(2, 'Sell', 1_000, 5_000, { symbol: ETH });
    d.perp(1, 'Buy', 1_000, 5_000, { symbol: ETH });
    const account = d.engine.futures.account(1);
    expect(d.engine.liquidation.index.isWatched(account)).toBe(true);
    d.perp(3, 'Buy', 100, 95_900);
    d.perp(3, 'Buy', 1_000, 4_449, { symbol: ETH });
    // wallet 1,000,000 − 5,000 − 2,500 fees = 992,500. BTC at 96,000: balance 592,500, MM 38,400 + 25,000
    expect(d.index(96_000).some((event) => event.type === 'Liquidation')).toBe(false);
    // ETH at 4,450 (nothing about ETH alone): balance 42,500 ≤ MM 38,400 + 22,250 → the whole cross account goes.
    // BTC first: share floor(42,500 × 38,400 / 60,650) = 26,907 → bankruptcy ceil((10,000,000 − 426,907) / 100) = 95,731,
    // filled at 95,900 (16,900 to the fund); then ETH owns the whole balance 565,600 − 550,000 = 15,600 →
    // bankruptcy ceil((5,000,000 − 565,600) / 1,000) = 4,435, filled at 4,449 (14,000 to the fund)
    const events = d.index(4_450, ETH);
    expect(liquidations(events)).toEqual([
      { side: 'Sell', price: 95_900, quantity: 100, stage: 'book' },
      { side: 'Sell', price: 4_449, quantity: 1_000, stage: 'book' },
    ]);
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(30_900n);
    expect(d.wallet(1)).toBe(992_500n - 410_000n - 16_900n - 551_000n - 14_000n);
    expect(d.engine.futuresPositions(1)).toEqual([]);
    expect(d.engine.liquidation.index.isWatched(account)).toBe(false);
  });
});
