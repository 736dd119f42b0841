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
    expect(d.types()).toEqual(['OrderAccepted', 'Trade', 'BookDelta', 'WalletChanged', 'WalletChanged', 'WalletChanged', 'PositionChanged', 'PositionChanged']);
    expect(d.walletEvents().map((event) => [event.userId, event.reason])).toEqual([[2, 'Trade'], [1, 'Trade'], [0, 'Fee']]);
    expect(d.position(1)).toMatchObject({ size: 100, entryPrice: 100_000, isolatedMarginKrw: 1_000_000n, realizedPnlKrw: 0n, leverage: 10, marginType: 'ISOLATED' });
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
    expect(closing).toMatchObject({ size: 60, costKrw: 6_000_000n, entryPrice: 100_000, realizedPnlKrw: 400_000n, isolatedMarginKrw: 600_000n, leverage: 10, marginType: 'ISOLATED' });
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
