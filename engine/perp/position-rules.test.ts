import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BTC_KRW_PERP as btc } from './perp-market.ts';
import { FLAT_POSITION, applyFill, entryPriceTicks, realizedPnlKrw, reduceCost, unrealizedPnlKrw } from './position-rules.ts';

const long100 = { sizeLots: 100, costKrw: 5_000_000n }; // 0.1 BTC bought at 50,000,000 KRW
const short100 = { sizeLots: -100, costKrw: -5_000_000n }; // 0.1 BTC sold at 50,000,000 KRW

describe('unrealizedPnlKrw = size × mark − cost', () => {
  it('long 0.1 BTC from 50,000,000 at mark 55,000,000: 5,500,000 − 5,000,000 = +500,000; the short: −5,500,000 + 5,000,000 = −500,000', () => {
    expect(unrealizedPnlKrw(long100, 55_000, btc)).toBe(500_000n);
    expect(unrealizedPnlKrw(short100, 55_000, btc)).toBe(-500_000n);
    expect(unrealizedPnlKrw(short100, 45_000, btc)).toBe(500_000n);
    expect(unrealizedPnlKrw(FLAT_POSITION, 45_000, btc)).toBe(0n);
  });

  it('past 2^53: 10^10 lots long from 1 tick, mark 10^9 ticks: 10^19 − 10^10', () => {
    expect(unrealizedPnlKrw({ sizeLots: 1e10, costKrw: 10n ** 10n }, 1e9, btc)).toBe(10n ** 19n - 10n ** 10n);
  });
});

describe('entryPriceTicks: cost / size to the nearest tick, half up', () => {
  it('1 lot at 50,000 + 1 at 50,001: 100,001 / 2 = 50,000.5 → 50,001 (a half goes up); thirds go to the nearer tick', () => {
    expect(entryPriceTicks({ sizeLots: 2, costKrw: 100_001n }, btc)).toBe(50_001);
    expect(entryPriceTicks({ sizeLots: -2, costKrw: -100_001n }, btc)).toBe(50_001); // a short's too: prices are positive
    // 150,001 / 3 = 50,000.33 → 50,000; 150,002 / 3 = 50,000.67 → 50,001
    expect(entryPriceTicks({ sizeLots: 3, costKrw: 150_001n }, btc)).toBe(50_000);
    expect(entryPriceTicks({ sizeLots: 3, costKrw: 150_002n }, btc)).toBe(50_001);
    expect(entryPriceTicks(FLAT_POSITION, btc)).toBeUndefined();
  });

  it('divides by quotePerTickLot: cost 100,001 KRW for 2 lots at 10 KRW per tick × lot = 5,000.05 → 5,000', () => {
    expect(entryPriceTicks({ sizeLots: 2, costKrw: 100_001n }, { ...btc, quotePerTickLot: 10 })).toBe(5_000);
  });
});

describe('reduceCost = trunc(cost × closed / |size|) and realizedPnlKrw', () => {
  it('long 2 lots cost 100,001, close 1 at 51,000: removes trunc(50,000.5) = 50,000; realizes 51,000 − 50,000 = 1,000', () => {
    const removed = reduceCost(100_001n, 2, 1);
    expect(removed).toBe(50_000n);
    expect(realizedPnlKrw(2, 1, 51_000, removed, btc)).toBe(1_000n);
  });

  it('short 2 lots cost −100,001, close 1 at 49,000: removes trunc(−50,000.5) = −50,000 (towards zero); realizes 50,000 − 49,000 = 1,000', () => {
    const removed = reduceCost(-100_001n, -2, 1);
    expect(removed).toBe(-50_000n);
    expect(realizedPnlKrw(-2, 1, 49_000, removed, btc)).toBe(1_000n);
    expect(realizedPnlKrw(-2, 1, 51_000, removed, btc)).toBe(-1_000n);
  });

  it('closing all removes the whole cost', () => {
    expect(reduceCost(-100_001n, -2, 2)).toBe(-100_001n);
  });
});

describe('applyFill (one-way)', () => {
  it('opens, grows at a new price, partially closes, flips — numbers by hand', () => {
    // buy 100 at 50,000: cost 5,000,000
    let step = applyFill(FLAT_POSITION, 100, 50_000, btc);
    expect(step).toMatchObject({ position: long100, openedLots: 100, closedLots: 0, realizedPnlKrw: 0n });
    // buy 50 at 53,000: cost 5,000,000 + 2,650,000 = 7,650,000; entry 7,650,000 / 150 = 51,000
    step = applyFill(step.position, 50, 53_000, btc);
    expect(step.position).toEqual({ sizeLots: 150, costKrw: 7_650_000n });
    expect(entryPriceTicks(step.position, btc)).toBe(51_000);
    // sell 30 at 52,000: removes 7,650,000 × 30 / 150 = 1,530,000; realizes 1,560,000 − 1,530,000 = 30,000
    step = applyFill(step.position, -30, 52_000, btc);
    expect(step).toMatchObject({
      position: { sizeLots: 120, costKrw: 6_120_000n },
      closedLots: 30,
      openedLots: 0,
      removedCostKrw: 1_530_000n,
      realizedPnlKrw: 30_000n,
    });
    // sell 200 at 50,000: closes 120 (removes 6,120,000, realizes 6,000,000 − 6,120,000 = −120,000), opens a short of 80 at 50,000
    step = applyFill(step.position, -200, 50_000, btc);
    expect(step).toMatchObject({
      position: { sizeLots: -80, costKrw: -4_000_000n },
      closedLots: 120,
      openedLots: 80,
      removedCostKrw: 6_120_000n,
      realizedPnlKrw: -120_000n,
    });
    // buy 80 at 49,000: closes the short: realizes 4,000,000 − 3,920,000 = 80,000; flat
    step = applyFill(step.position, 80, 49_000, btc);
    expect(step).toMatchObject({ position: { sizeLots: 0, costKrw: 0n }, closedLots: 80, openedLots: 0, realizedPnlKrw: 80_000n });
  });

  it('removed cost over successive partial closes sums to the original cost exactly, and PnL adds up (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.boolean(),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 10 ** 9 })), { minLength: 1, maxLength: 30 }),
        (size, costMagnitude, short, closes) => {
          const sign = short ? -1 : 1;
          let position = { sizeLots: sign * size, costKrw: BigInt(sign) * costMagnitude };
          let removedTotal = 0n;
          let realizedTotal = 0n;
          let proceeds = 0n; // Σ sign × closed × price: what closing earned a long (cost of buying back for a short)
          for (const [cut, price] of [...closes, [size, 1] as const]) {
            if (position.sizeLots === 0) break;
            const closed = Math.min(cut, Math.abs(position.sizeLots));
            const step = applyFill(position, -Math.sign(position.sizeLots) * closed, price, btc);
            removedTotal += step.removedCostKrw;
            realizedTotal += step.realizedPnlKrw;
            proceeds += BigInt(sign * closed) * BigInt(price);
            position = step.position;
          }
          expect(position).toEqual({ sizeLots: 0, costKrw: 0n });
          expect(removedTotal).toBe(BigInt(sign) * costMagnitude);
          expect(realizedTotal).toBe(proceeds - BigInt(sign) * costMagnitude);
        },
      ),
    );
  });
});
