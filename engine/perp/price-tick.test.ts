/**
 * The journaled price tick (issue 19): the `spot` index source, staleness at a tick, premium samples
 * from the perpetual's book, funding settlement with its rounding dust, MarkPrice, replay. Hand-checked
 * numbers; BTC-KRW-PERP: 1 tick × 1 lot = 1 KRW, I = 0.01 % = 10,000 (1e-8).
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine.ts';
import { testConfig } from '../test-support.ts';
import type { EngineEvent, FundingPaidEvent, MarkPriceEvent } from '../types.ts';
import { withFundingIntervalMs } from './market-funding.ts';
import { PERP, PerpDriver } from './testing/perp-driver.ts';

/** 1,700,000,000,000 is not a multiple of a minute: the first funding time after it is … 040,000 */
const START = 1_700_000_000_000;
const FIRST_FUNDING = 1_700_000_040_000;
const MINUTE_FUNDING = withFundingIntervalMs(testConfig(), 60_000);

const fundingEvents = (events: EngineEvent[]) => events.filter((event): event is FundingPaidEvent => event.type === 'FundingPaid');
const markEvents = (events: EngineEvent[]) => events.filter((event): event is MarkPriceEvent => event.type === 'MarkPrice');

/** users 1 long 7 lots, 2 short 3, 3 short 4, all at 100,000 ticks; then the index moves to `index` */
function threePositions(index: number): PerpDriver {
  const d = new PerpDriver(MINUTE_FUNDING);
  for (const user of [1, 2, 3]) d.fund(user, 5_000_000);
  d.index(100_000);
  d.perp(2, 'Sell', 3, 100_000);
  d.perp(3, 'Sell', 4, 100_000);
  d.perp(1, 'Buy', 7);
  expect([d.position(1)?.size, d.position(2)?.size, d.position(3)?.size]).toEqual([7, -3, -4]);
  d.index(index);
  return d;
}

describe('funding settlement', () => {
  it('pays 3 positions at F = I: the long pays up, the shorts receive down, the fund takes the dust', () => {
    const d = threePositions(100_003);
    const wallets = [1, 2, 3].map((user) => d.wallet(user));
    d.priceTick(START + 100); // sets the next funding time; empty book: samples of 0
    expect(fundingEvents(d.events)).toEqual([]);
    expect(markEvents(d.events)).toMatchObject([
      { symbol: PERP, markPrice: 100_003, indexPrice: 100_003, estimatedFundingRate1e8: 10_000n, nextFundingTime: FIRST_FUNDING },
    ]);

    d.priceTick(FIRST_FUNDING);
    // 7 × 100,003 × 0.0001 = 70.0021 → pays 71; 3 × … = 30.0009 → gets 30; 4 × … = 40.0012 → gets 40; dust 1
    expect(fundingEvents(d.events).map((event) => [event.userId, event.size, event.markPrice, event.rate1e8, event.amountKrw])).toEqual([
      [1, 7, 100_003, 10_000n, -71n],
      [2, -3, 100_003, 10_000n, 30n],
      [3, -4, 100_003, 10_000n, 40n],
    ]);
    expect([1, 2, 3].map((user, index) => d.wallet(user) - wallets[index]!)).toEqual([-71n, 30n, 40n]);
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(1n);
    expect(d.walletEvents().map((event) => [event.userId, event.reason])).toEqual([
      [1, 'Funding'],
      [2, 'Funding'],
      [3, 'Funding'],
    ]);
    // (the Ticker the trades left waiting goes out at the tick: a tick lets time pass like a Tick)
    expect(d.types()).toEqual([
      'FundingPaid',
      'FundingPaid',
      'FundingPaid',
      'MarkPrice',
      'WalletChanged',
      'WalletChanged',
      'WalletChanged',
      'Ticker',
    ]);
    expect(markEvents(d.events)[0]!.nextFundingTime).toBe(FIRST_FUNDING + 60_000);
    expect(d.engine.markPrice(PERP)).toMatchObject({ lastFundingRate1e8: 10_000n, nextFundingTime: FIRST_FUNDING + 60_000 });

    // nothing changed at the next tick: no MarkPrice, no funding
    d.priceTick(FIRST_FUNDING + 1_000);
    expect(d.events).toEqual([]);
  });

  it("moves an isolated position's margin by its payment (PositionChanged)", () => {
    const d = new PerpDriver(MINUTE_FUNDING);
    for (const user of [1, 2]) d.fund(user, 5_000_000);
    d.marginType(1, 'ISOLATED');
    d.leverage(1, 10);
    d.index(100_000);
    d.perp(2, 'Sell', 100, 100_000);
    d.perp(1, 'Buy', 100); // isolated margin 10,000,000 / 10 = 1,000,000
    expect(d.position(1)?.isolatedMarginKrw).toBe(1_000_000n);
    d.priceTick(START + 100);
    d.priceTick(FIRST_FUNDING); // 100 × 100,000 × 0.0001 = 1,000 exactly
    expect(fundingEvents(d.events).map((event) => event.amountKrw)).toEqual([-1_000n, 1_000n]);
    expect(d.position(1)?.isolatedMarginKrw).toBe(999_000n);
    expect(d.positionEvents()).toMatchObject([{ userId: 1, isolatedMarginKrw: 999_000n }]);
    expect(d.engine.futures.insuranceFundKrw('KRW')).toBe(0n);
  });

  it('visits only open positions: a closed one is out of the index', () => {
    const d = threePositions(100_000);
    d.perp(2, 'Buy', 3, 100_000); // rests: nobody sells
    d.perp(1, 'Sell', 3); // user 1 sells 3 to user 2: user 2 is flat, user 1 long 4
    expect(d.position(2)).toBeUndefined();
    d.priceTick(START + 100);
    d.priceTick(FIRST_FUNDING);
    expect(fundingEvents(d.events).map((event) => [event.userId, event.amountKrw])).toEqual([
      [1, -40n],
      [3, 40n],
    ]);
  });
});

describe('premium samples from the book', () => {
  it('a bid above the index gives P = +0.1 %: F = P̄ + clamp(I − P̄) = 0.1 % − 0.05 %', () => {
    const d = new PerpDriver(MINUTE_FUNDING);
    d.fund(1, 50_000_000);
    d.index(100_000);
    // bids: 200 lots at 100,100 = 20,020,000 KRW ≥ 10,000,000: impact bid 100,100 exactly
    d.perp(1, 'Buy', 200, 100_100);
    // asks: 50 lots at 100,150 (5,007,500 KRW) then 100 at 100,250: impact ask above the index, adds 0
    d.perp(1, 'Sell', 50, 100_150);
    d.perp(1, 'Sell', 100, 100_250);
    d.priceTick(START + 100);
    // P = (100,100 − 100,000) / 100,000 = 0.001 = 100,000; I − P̄ = −90,000 → −50,000; F = 50,000
    expect(markEvents(d.events)).toMatchObject([{ estimatedFundingRate1e8: 50_000n }]);
    expect(d.engine.futures.funding.get(PERP)).toMatchObject({ sampleSum1e8: 100_000n, sampleCount: 1 });
  });

  it('an impact ask below the index is the weighted average of the levels it takes', () => {
    const d = new PerpDriver(MINUTE_FUNDING);
    d.fund(1, 50_000_000);
    d.index(100_000);
    // asks: 50 lots at 99,800 (4,990,000 KRW) whole, then 5,010,000 KRW of the 99,900 level:
    // average = 10,000,000 × 99,900 / (50 × 99,900 + 5,010,000) = 999,000,000,000 / 10,005,000 = 99,850.07…
    // P = −(100,000 − 99,850.07…) / 100,000 = −0.0014992… → −149,925 (1e-8, truncated toward 0)
    d.perp(1, 'Sell', 50, 99_800, { postOnly: true });
    d.perp(1, 'Sell', 100, 99_900, { postOnly: true });
    d.priceTick(START + 100);
    expect(d.engine.futures.funding.get(PERP)).toMatchObject({ sampleSum1e8: -149_925n, sampleCount: 1 });
    // F = −149,925 + clamp(159,925 → 50,000) = −99,925
    expect(markEvents(d.events)).toMatchObject([{ estimatedFundingRate1e8: -99_925n }]);
  });

  it('a side thinner than 10,000,000 KRW adds 0, and a stale index takes no sample', () => {
    const d = new PerpDriver(MINUTE_FUNDING);
    d.fund(1, 50_000_000);
    d.index(100_000);
    d.perp(1, 'Buy', 99, 100_100); // 9,909,900 KRW: no impact bid
    d.priceTick(START + 100);
    expect(d.engine.futures.funding.get(PERP)).toMatchObject({ sampleSum1e8: 0n, sampleCount: 1 });
    d.priceTick(START + 100 + 61_000); // the only source is 61 s old: stale, no sample (and a funding time passed)
    expect(d.engine.markPrice(PERP)).toMatchObject({ indexStale: true, markPrice: 100_000 });
    expect(d.engine.futures.funding.get(PERP)).toMatchObject({ sampleSum1e8: 0n, sampleCount: 0 });
  });
});

describe('the spot index source and staleness at a tick', () => {
  it('takes the spot mid at each tick; a stale index refuses opening orders, not reducing ones', () => {
    const d = new PerpDriver(MINUTE_FUNDING);
    for (const user of [1, 2]) d.fund(user, 5_000_000);
    d.index(100_000);
    d.perp(2, 'Sell', 10, 100_000);
    d.perp(1, 'Buy', 10);
    d.priceTick(START + 61_000); // the oracle source is 60.98 s old: stale; no spot price yet
    expect(d.engine.markPrice(PERP)).toMatchObject({ markPrice: 100_000, indexStale: true });
    d.perp(1, 'Buy', 1, 100_000);
    expect(d.rejection()).toBe('INDEX_STALE');
    d.perp(1, 'Sell', 1, 200_000, { reduceOnly: true });
    expect(d.types()[0]).toBe('OrderAccepted');

    // a spot book: bid 99,000, ask 101,001 → mid floor(200,001 / 2) = 100,000; then 100,500 after a trade moves it
    d.deposit(3, 'KRW', 1_000_000_000);
    d.deposit(3, 'BTC', 100_000_000);
    d.place(3, 'Buy', { symbol: 'BTC-KRW', price: 99_000, quantity: 1 });
    d.place(3, 'Sell', { symbol: 'BTC-KRW', price: 101_001, quantity: 1 });
    const moved: string[][] = [];
    d.engine['futuresCommands'].markListeners.push((symbols) => moved.push([...symbols]));
    d.priceTick(d.time + 1);
    expect(d.engine.markPrice(PERP)).toMatchObject({ markPrice: 100_000, indexStale: false });
    expect(d.engine.markPrice(PERP)!.sources.map((source) => [source.source, source.price])).toEqual([
      ['spot', 100_000],
      ['test', 100_000],
    ]);
    expect(moved).toEqual([]); // fresh again, but the mark did not move
    d.perp(1, 'Buy', 1, 100_000);
    expect(d.types()[0]).toBe('OrderAccepted');

    d.deposit(4, 'KRW', 1_000_000_000);
    d.place(4, 'Buy', { symbol: 'BTC-KRW', price: 102_000, quantity: 1 }); // takes the ask: no asks left
    d.priceTick(d.time + 1); // last trade 101,001
    expect(d.engine.markPrice(PERP)).toMatchObject({ markPrice: 101_001 });
    expect(moved).toEqual([[PERP]]);
  });

  it("refuses an oracle feeding the built-in source's name", () => {
    const d = new PerpDriver();
    d.index(100_000, PERP, 'spot');
    expect(d.rejection()).toBe('INVALID_COMMAND');
  });
});

describe('replay', () => {
  it('a journal with ticks and funding replays to the same events and state, from the start and from a snapshot', () => {
    const d = threePositions(100_003);
    d.priceTick(START + 100);
    const snapshot = d.engine.snapshot();
    const cut = d.commands.length;
    d.perp(1, 'Buy', 5, 100_100);
    d.perp(2, 'Sell', 5, 100_200);
    d.index(100_007);
    d.priceTick(FIRST_FUNDING);
    d.priceTick(FIRST_FUNDING + 60_000);
    expect(d.log.filter((event) => event.type === 'FundingPaid')).toHaveLength(6);

    const fresh = new Engine(MINUTE_FUNDING);
    const replayed = d.commands.flatMap((command) => fresh.apply(command));
    expect(replayed).toEqual(d.log);
    expect(fresh.stateHash()).toBe(d.engine.stateHash());

    const restored = Engine.restore(MINUTE_FUNDING, JSON.parse(JSON.stringify(snapshot)));
    const tail = d.commands.slice(cut).flatMap((command) => restored.apply(command));
    expect(tail).toEqual(d.log.slice(d.log.length - tail.length));
    expect(restored.stateHash()).toBe(d.engine.stateHash());
  });
});
