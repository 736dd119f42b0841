/**
 * The float64 fast paths (safe-integer-math.ts) against BigInt, at random and at the edges: the
 * divisions near 2^52, and the margin and position rules that use them on both sides of the limit
 * (the fast path and the BigInt fallback must give the same figure).
 */
import { describe, expect, it } from 'vitest';
import { ceilDiv, floorDiv, truncDiv } from './integer-math.ts';
import { fillOpeningNeedKrw, maxLeverageForLotsAt, maxLeverageForNotional, notionalKrw, orderInitialMarginKrw } from './margin-rules.ts';
import { BTC_KRW_PERP, type PerpMarketSpec } from './perp-market.ts';
import { realizedPnlKrw, reduceCost, signedValueKrw } from './position-rules.ts';
import { ceilDivFast, FAST_LIMIT, floorDivFast, isFast, truncDivFast } from './safe-integer-math.ts';

// a deterministic generator (no Math.random in tests that must reproduce)
let seed = 12345;
const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const integerUpTo = (max: number): number => Math.floor(next() * max);

describe('safe-integer-math', () => {
  it('divides like BigInt floor, ceil and trunc, at random and next to 2^52', () => {
    const edges = [0, 1, -1, FAST_LIMIT, -FAST_LIMIT, FAST_LIMIT - 1, -(FAST_LIMIT - 1), 2 ** 51 + 3, -(2 ** 51 + 3)];
    const numerators = [...edges, ...Array.from({ length: 2000 }, () => (next() < 0.5 ? -1 : 1) * integerUpTo(FAST_LIMIT))];
    const denominators = [1, 2, 3, 7, 20, 1_000_000, 100_000_000, 2 ** 26 + 1, FAST_LIMIT - 1, FAST_LIMIT];
    for (const a of numerators)
      for (const b of denominators) {
        expect(floorDivFast(a, b), `${a} / ${b}`).toBe(Number(floorDiv(BigInt(a), BigInt(b))));
        expect(ceilDivFast(a, b), `${a} / ${b}`).toBe(Number(ceilDiv(BigInt(a), BigInt(b))));
        expect(truncDivFast(a, b), `${a} / ${b}`).toBe(Number(truncDiv(BigInt(a), BigInt(b))));
      }
  });

  it('takes only integers within ±2^52', () => {
    expect(isFast(FAST_LIMIT)).toBe(true);
    expect(isFast(FAST_LIMIT + 2)).toBe(false);
    expect(isFast(-FAST_LIMIT - 2)).toBe(false);
    expect(isFast(0.5)).toBe(false);
    expect(isFast(Number.NaN)).toBe(false);
  });

  it('gives the margin and position figures of the BigInt rules on both sides of the limit', () => {
    const big: PerpMarketSpec = { ...BTC_KRW_PERP, quotePerTickLot: 1_000_000_007 }; // products pass 2^52 quickly
    for (const market of [BTC_KRW_PERP, big])
      for (let round = 0; round < 3000; round++) {
        const lots = integerUpTo(next() < 0.5 ? 1_000 : 10_000_000);
        const price = 1 + integerUpTo(next() < 0.5 ? 200_000 : 2_000_000_000);
        const leverage = 1 + integerUpTo(50);
        const notional = notionalKrw(lots, price, market);
        const im = ceilDiv(notional, BigInt(leverage));
        const fee = floorDiv(BigInt(market.takerFeePpm) * notional, 1_000_000n);
        expect(orderInitialMarginKrw(lots, price, leverage, market)).toBe(im + fee);
        const opened = integerUpTo(lots + 1);
        const openedNotional = notionalKrw(opened, price, market);
        expect(fillOpeningNeedKrw(opened, lots, price, leverage, market)).toBe(ceilDiv(openedNotional, BigInt(leverage)) + fee);
        expect(maxLeverageForLotsAt(lots, price, market)).toBe(maxLeverageForNotional(notional, market));
        const signed = next() < 0.5 ? -lots : lots;
        expect(signedValueKrw(signed, price, market)).toBe(BigInt(signed) * BigInt(price) * BigInt(market.quotePerTickLot));
        const size = (next() < 0.5 ? -1 : 1) * (1 + integerUpTo(1_000_000));
        const cost = BigInt(Math.sign(size)) * BigInt(integerUpTo(2 ** 53)) * (next() < 0.2 ? 1_000_003n : 1n);
        const closed = 1 + integerUpTo(Math.abs(size));
        const removed = reduceCost(cost, size, closed);
        expect(removed).toBe((cost * BigInt(closed)) / BigInt(Math.abs(size)));
        expect(realizedPnlKrw(size, closed, price, removed, market)).toBe(
          BigInt(Math.sign(size)) * BigInt(closed) * BigInt(price) * BigInt(market.quotePerTickLot) - removed,
        );
      }
  });
});
