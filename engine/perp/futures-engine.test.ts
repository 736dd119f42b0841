/**
 * Perpetual futures in the engine (issue 18), scenario by scenario with hand-checked numbers.
 * BTC-KRW-PERP: tick 1,000 KRW, lot 0.001 BTC, so 1 tick × 1 lot = 1 KRW and a price of
 * 100,000 ticks is 100,000,000 KRW per BTC; maker 200 ppm, taker 500 ppm; tier 1 up to
 * 250,000,000 KRW at 50× and MMR 0.40 %.
 */
import { describe, expect, it } from 'vitest';
import { PERP, PerpDriver } from './testing/perp-driver.ts';

function twoTraders(): PerpDriver {
  const d = new PerpDriver();
  d.fund(1, 5_000_000, 10_000_000);
  d.fund(2, 5_000_000, 10_000_000);
  d.index(100_000);
  return d;
}

describe('futures transfers', () => {
  it('moves money between the spot balance and the futures wallet atomically', () => {
    const d = new PerpDriver();
    d.deposit(1, 'KRW', 1_000_000);
    d.transfer(1, 600_000);
    expect(d.types()).toEqual(['BalanceChanged', 'WalletChanged']);
    expect(d.walletEvents()[0]).toMatchObject({ userId: 1, asset: 'KRW', walletBalanceKrw: 600_000n, reason: 'Transfer' });
    expect(d.balance(1, 'KRW')).toEqual({ available: 400_000, locked: 0 });
    d.transfer(1, 400_001);
    expect(d.rejection()).toBe('INSUFFICIENT_AVAILABLE');
    d.transfer(1, 600_001, 'FuturesToSpot');
    expect(d.rejection()).toBe('INSUFFICIENT_MARGIN');
    d.transfer(1, 100_000, 'FuturesToSpot');
    expect(d.wallet(1)).toBe(500_000n);
    expect(d.balance(1, 'KRW').available).toBe(500_000);
    d.apply({ type: 'FuturesTransfer', userId: 1, asset: 'BTC', amount: 1, direction: 'SpotToFutures', timestamp: d.time + 1 });
    expect(d.rejection()).toBe('UNKNOWN_ASSET');
  });
});

describe('the worked example: transfer, open long 10× isolated, partial close', () => {
  it('gives the hand-checked position and account', () => {
    const d = twoTraders();
    d.marginType(1, 'ISOLATED');
    d.leverage(1, 10);
    expect(d.engine.leverageSettings(1, PERP)).toEqual({ leverage: 10, marginType: 'ISOLATED' });

    // user 2 offers 0.1 BTC at 100,000,000 KRW: notional 10,000,000; 20× cross reserve 500,000 + fee 5,000
    const ask = d.perp(2, 'Sell', 100, 100_000);
    expect(d.engine.futuresAccount(2)).toMatchObject({ orderMarginKrw: 505_000n, availableBalanceKrw: 4_495_000n });
    // user 1 takes it: long 100 lots, cost 10,000,000, isolated margin 10,000,000 / 10, taker fee 5,000
    d.perp(1, 'Buy', 100, 100_000);
    expect(d.trades()).toEqual([[100_000, 100, ask, ask + 1]]);
    // wallets then positions after the order events and book deltas, in first-touch order (maker first)
    expect(d.types()).toEqual([
      'OrderAccepted',
      'Trade',
      'BookDelta',
      'WalletChanged',
      'WalletChanged',
      'WalletChanged',
      'PositionChanged',
      'PositionChanged',
    ]);
    expect(d.walletEvents().map((event) => [event.userId, event.reason])).toEqual([
      [2, 'Trade'],
      [1, 'Trade'],
      [0, 'Fee'],
    ]);
    expect(d.position(1)).toMatchObject({
      size: 100,
      entryPrice: 100_000,
      isolatedMarginKrw: 1_000_000n,
      realizedPnlKrw: 0n,
      leverage: 10,
      marginType: 'ISOLATED',
    });
    expect(d.wallet(1)).toBe(4_995_000n);
    expect(d.wallet(2)).toBe(4_998_000n); // maker fee 200 ppm: 2,000
    expect(d.wallet(0)).toBe(7_000n);

    // the mark rises 10 %; user 1 sells 40 lots back to user 2 at 110,000
    d.index(110_000);
    d.perp(2, 'Buy', 40, 110_000);
    d.perp(1, 'Sell', 40, 110_000);
    // user 1: removed cost trunc(10,000,000 × 40 / 100) = 4,000,000; realized 4,400,000 − 4,000,000 = 400,000;
    // taker fee floor(4,400,000 × 0.0005) = 2,200; isolated margin released trunc(1,000,000 × 40 / 100) = 400,000
    const closing = d.positionEvents().find((event) => event.userId === 1)!;
    expect(closing).toMatchObject({
      size: 60,
      costKrw: 6_000_000n,
      entryPrice: 100_000,
      realizedPnlKrw: 400_000n,
      isolatedMarginKrw: 600_000n,
      leverage: 10,
      marginType: 'ISOLATED',
    });
    expect(d.walletEvents().find((event) => event.userId === 1)).toMatchObject({ walletBalanceKrw: 5_392_800n, reason: 'Trade' });
    expect(d.position(1)).toEqual({
      symbol: PERP,
      positionSide: 'BOTH',
      size: 60,
      entryPrice: 100_000,
      markPrice: 110_000,
      unrealizedPnlKrw: 600_000n, // 60 × 110,000 − 6,000,000
      realizedPnlKrw: 400_000n,
      leverage: 10,
      marginType: 'ISOLATED',
      isolatedMarginKrw: 600_000n,
      maintenanceMarginKrw: 26_400n, // ceil(6,600,000 × 0.40 %)
      liquidationPrice: 90_361, // highest t with 600,000 + 60 t − 6,000,000 ≤ ceil(60 t × 0.004)
      bankruptcyPrice: 90_000, // 600,000 + 60 t − 6,000,000 = 0
    });
    expect(d.engine.futuresAccount(1)).toEqual({
      asset: 'KRW',
      walletBalanceKrw: 5_392_800n, // 5,000,000 − 5,000 + 400,000 − 2,200
      unrealizedPnlKrw: 600_000n,
      marginBalanceKrw: 5_992_800n,
      maintenanceMarginKrw: 26_400n,
      initialMarginKrw: 660_000n, // 6,600,000 / 10
      orderMarginKrw: 0n,
      availableBalanceKrw: 4_792_800n, // wallet − isolated margin (no cross position, no order)
      positionMode: 'ONE_WAY',
      positions: [d.position(1)],
    });
    // user 2: short 100 → 60; realized 4,000,000 − 4,400,000 = −400,000; maker fee 880
    expect(d.position(2)).toMatchObject({ size: -60, entryPrice: 100_000, realizedPnlKrw: -400_000n, unrealizedPnlKrw: -600_000n });
    expect(d.wallet(2)).toBe(4_597_120n);
    expect(d.wallet(0)).toBe(10_080n);
    // money is conserved: Σ wallets − Σ cost (6,000,000 − 6,000,000) = Σ transfers in
    expect(d.wallet(1) + d.wallet(2) + d.wallet(0)).toBe(10_000_000n);

    // out of futures only up to the available balance
    d.transfer(1, 4_792_801, 'FuturesToSpot');
    expect(d.rejection()).toBe('INSUFFICIENT_MARGIN');
    d.transfer(1, 4_792_800, 'FuturesToSpot');
    expect(d.rejection()).toBeUndefined();
    expect(d.balance(1, 'KRW').available).toBe(5_000_000 + 4_792_800);
  });
});

describe('cross margin', () => {
  it('values a cross long at the mark: available, maintenance, bankruptcy and liquidation prices', () => {
    const d = twoTraders();
    d.perp(2, 'Sell', 100, 100_000);
    d.perp(1, 'Buy', 100, 100_000);
    // IM at the mark 10,000,000 / 20 = 500,000; wallet 5,000,000 − fee 5,000
    expect(d.engine.futuresAccount(1)).toMatchObject({
      walletBalanceKrw: 4_995_000n,
      initialMarginKrw: 500_000n,
      availableBalanceKrw: 4_495_000n,
    });
    d.index(95_000);
    // PnL −500,000; IM 9,500,000 / 20 = 475,000; MM ceil(9,500,000 × 0.4 %) = 38,000
    expect(d.engine.futuresAccount(1)).toMatchObject({
      unrealizedPnlKrw: -500_000n,
      marginBalanceKrw: 4_495_000n,
      initialMarginKrw: 475_000n,
      maintenanceMarginKrw: 38_000n,
      availableBalanceKrw: 4_020_000n,
    });
    // bankruptcy: 4,995,000 + 100 t − 10,000,000 = 0 → 50,050; liquidation: highest t with 4,995,000 + 100 t − 10,000,000 ≤ ceil(100 t × 0.004)
    expect(d.position(1)).toMatchObject({
      size: 100,
      marginType: 'CROSS',
      leverage: 20,
      bankruptcyPrice: 50_050,
      liquidationPrice: 50_251,
      isolatedMarginKrw: 0n,
    });
  });

  it('refuses an order the available balance cannot cover, and takes the reserve of one it can', () => {
    const d = twoTraders();
    // 100,000 ticks × 1,000 lots = 100,000,000 KRW: IM 5,000,000 + fee 50,000 > 5,000,000
    d.perp(1, 'Buy', 1000, 100_000);
    expect(d.rejection()).toBe('INSUFFICIENT_MARGIN');
    d.perp(1, 'Buy', 990, 100_000); // 4,950,000 + 49,500 = 4,999,500
    expect(d.engine.futuresAccount(1)).toMatchObject({ orderMarginKrw: 4_999_500n, availableBalanceKrw: 500n });
    d.transfer(1, 501, 'FuturesToSpot');
    expect(d.rejection()).toBe('INSUFFICIENT_MARGIN');
  });
});

describe('hedge mode', () => {
  it('keeps a LONG and a SHORT leg in one market; orders name their leg', () => {
    const d = twoTraders();
    d.hedge(1, true);
    expect(d.engine.futuresAccount(1)!.positionMode).toBe('HEDGE');
    d.perp(1, 'Buy', 10, 100_000);
    expect(d.rejection()).toBe('POSITION_SIDE_MISMATCH');
    d.perp(2, 'Sell', 10, 100_000);
    d.perp(1, 'Buy', 10, 100_000, { positionSide: 'LONG' });
    d.perp(2, 'Buy', 5, 100_000);
    d.perp(1, 'Sell', 5, 100_000, { positionSide: 'SHORT' });
    expect(d.engine.futuresPositions(1).map((view) => [view.positionSide, view.size])).toEqual([
      ['LONG', 10],
      ['SHORT', -5],
    ]);
    expect(d.position(2)).toMatchObject({ positionSide: 'BOTH', size: -5 });
    // selling on the LONG leg closes it (never opens a short), up to its size
    d.perp(1, 'Sell', 11, 100_000, { positionSide: 'LONG' });
    expect(d.rejection()).toBe('REDUCE_ONLY_WOULD_INCREASE');
    d.perp(2, 'Buy', 4, 101_000);
    d.perp(1, 'Sell', 4, 101_000, { positionSide: 'LONG' });
    expect(d.position(1, 'LONG')).toMatchObject({ size: 6, realizedPnlKrw: 4_000n });
    expect(d.position(1, 'SHORT')).toMatchObject({ size: -5 });
    d.hedge(1, false);
    expect(d.rejection()).toBe('POSITION_OR_ORDERS_OPEN');
  });
});

describe('reduce-only', () => {
  function longTen(): PerpDriver {
    const d = twoTraders();
    d.fund(3, 5_000_000, 10_000_000);
    d.perp(2, 'Sell', 10, 100_000);
    d.perp(1, 'Buy', 10, 100_000);
    return d;
  }

  it('cuts the newest reduce-only orders first when the position shrinks below them', () => {
    const d = longTen();
    const older = d.perp(1, 'Sell', 4, 101_000, { reduceOnly: true });
    const newer = d.perp(1, 'Sell', 5, 102_000, { reduceOnly: true });
    expect(d.engine.futuresAccount(1)!.orderMarginKrw).toBe(0n); // reduce-only reserves nothing
    d.perp(1, 'Sell', 2, 101_000, { reduceOnly: true });
    expect(d.rejection()).toBe('REDUCE_ONLY_WOULD_INCREASE'); // 4 + 5 + 2 > 10
    d.perp(3, 'Buy', 3, 99_000);
    d.perp(1, 'Sell', 3, 99_000); // long 10 → 7: reduce-only 9 > 7, the newer one loses 2
    expect(d.types()).toContain('OrderAmended');
    expect(d.engine.getOrder(newer)).toMatchObject({ quantity: 3, status: 'Pending' });
    d.perp(3, 'Buy', 5, 99_000);
    d.perp(1, 'Sell', 5, 99_000); // long 7 → 2: the newer (3) goes, the older 4 → 2
    expect(d.engine.getOrder(newer)).toMatchObject({ status: 'Cancelled' });
    expect(d.engine.getOrder(older)).toMatchObject({ quantity: 2, status: 'Pending' });
    expect(d.table(PERP)).toBe(['bid | price | ask', '| 101000 | 2'].join('\n'));
  });

  it('never flips a position, even when one sweep fills a plain order and a reduce-only one', () => {
    const d = longTen();
    d.perp(1, 'Sell', 7, 100_000); // plain: reduces and could flip
    const reduceOnly = d.perp(1, 'Sell', 5, 100_000, { reduceOnly: true });
    d.perp(3, 'Buy', 15, 100_000); // takes 7, then only 3 of the reduce-only 5
    expect(d.trades().map(([price, lots]) => [price, lots])).toEqual([
      [100_000, 7],
      [100_000, 3],
    ]);
    expect(d.engine.getOrder(reduceOnly)).toMatchObject({ status: 'Expired', expireReason: 'ReduceOnly', filledQuantity: 3 });
    expect(d.position(1)).toBeUndefined(); // flat: "0" rows omitted
    expect(d.engine.futuresPositions(3)).toEqual([expect.objectContaining({ size: 10 })]);
  });
});

describe('leverage and margin type', () => {
  it('takes the tier maximum for the notional at the mark, the edge inclusive', () => {
    const d = new PerpDriver();
    d.fund(1, 20_000_000);
    d.fund(2, 20_000_000);
    d.index(100_000);
    d.perp(2, 'Sell', 2_500, 100_000);
    d.perp(1, 'Buy', 2_500, 100_000); // 250,000,000 KRW: the last notional of tier 1
    d.leverage(1, 50);
    expect(d.rejection()).toBeUndefined();
    expect(d.positionEvents()).toEqual([expect.objectContaining({ userId: 1, leverage: 50 })]);
    d.index(100_001); // 250,002,500: tier 2, at most 25×
    d.leverage(1, 26);
    expect(d.rejection()).toBe('LEVERAGE_ABOVE_TIER_MAX');
    d.leverage(1, 25);
    expect(d.engine.leverageSettings(1, PERP)).toEqual({ leverage: 25, marginType: 'CROSS' });
    d.leverage(1, 0);
    expect(d.rejection()).toBe('INVALID_LEVERAGE');
  });

  it('refuses a margin type change while an order is open in that market', () => {
    const d = twoTraders();
    const open = d.perp(1, 'Buy', 10, 99_000);
    d.marginType(1, 'ISOLATED');
    expect(d.rejection()).toBe('POSITION_OR_ORDERS_OPEN');
    d.marginType(1, 'ISOLATED', 'ETH-KRW-PERP'); // another market is free
    expect(d.rejection()).toBeUndefined();
    d.cancel(1, open);
    d.marginType(1, 'ISOLATED');
    expect(d.engine.leverageSettings(1, PERP)).toEqual({ leverage: 20, marginType: 'ISOLATED' });
  });

  it('adds isolated margin from the available balance and removes it down to the initial margin', () => {
    const d = twoTraders();
    d.marginType(1, 'ISOLATED');
    d.leverage(1, 10);
    d.perp(2, 'Sell', 100, 100_000);
    d.perp(1, 'Buy', 100, 100_000); // isolated margin 1,000,000
    d.index(99_000); // PnL −100,000, IM at the mark 990,000: removable 1,000,000 − 100,000 − 990,000 < 0
    d.isolated(1, 'Remove', 1);
    expect(d.rejection()).toBe('INSUFFICIENT_MARGIN');
    d.isolated(1, 'Add', 200_000);
    expect(d.positionEvents()).toEqual([expect.objectContaining({ isolatedMarginKrw: 1_200_000n })]);
    expect(d.walletEvents()).toEqual([expect.objectContaining({ walletBalanceKrw: 4_995_000n, reason: 'IsolatedMargin' })]);
    // removable: 1,200,000 − 100,000 − 990,000 = 110,000
    d.isolated(1, 'Remove', 110_001);
    expect(d.rejection()).toBe('INSUFFICIENT_MARGIN');
    d.isolated(1, 'Remove', 110_000);
    expect(d.position(1)).toMatchObject({ isolatedMarginKrw: 1_090_000n });
    d.isolated(1, 'Add', 1, 'LONG');
    expect(d.rejection()).toBe('POSITION_SIDE_MISMATCH');
  });
});

describe('matching is shared with spot', () => {
  it('honours post-only, self-trade prevention and stops on a perpetual book', () => {
    const d = twoTraders();
    d.perp(2, 'Sell', 5, 100_000);
    d.perp(1, 'Buy', 5, 100_000, { postOnly: true });
    expect(d.rejection()).toBe('POST_ONLY_WOULD_TAKE');
    d.perp(2, 'Buy', 5, 100_000, { stp: 'ExpireMaker' }); // its own ask expires, the bid rests
    expect(d.types()).toContain('OrderExpired');
    const stop = d.perp(1, 'Sell', 5, undefined, { type: 'StopMarket', stopPrice: 100_000 });
    d.perp(1, 'Sell', 1, 100_000); // last trade at 100,000 fires the stop
    expect(d.engine.getOrder(stop)).toMatchObject({ status: 'Expired', expireReason: 'MarketNoLiquidity', filledQuantity: 4 }); // the bid had 4 left
    expect(d.position(1)).toMatchObject({ size: -5 });
    expect(d.position(2)).toMatchObject({ size: 5 });
  });

  it('refuses perpetual fields on a spot symbol and a quote amount on a perpetual', () => {
    const d = twoTraders();
    d.apply({
      type: 'PlaceOrder',
      orderId: 900,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Buy',
      orderType: 'Limit',
      price: 1,
      quantity: 10_000,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      reduceOnly: true,
      timestamp: d.time + 1,
    });
    expect(d.rejection()).toBe('NOT_A_PERPETUAL');
    d.apply({
      type: 'PlaceOrder',
      orderId: 901,
      userId: 1,
      symbol: PERP,
      side: 'Buy',
      orderType: 'Market',
      quoteAmount: 100_000,
      timeInForce: 'IOC',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: d.time + 1,
    });
    expect(d.rejection()).toBe('QUOTE_AMOUNT_NOT_ALLOWED');
  });
});
