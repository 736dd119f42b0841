import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FUNDING_RATE_CAP_1E8,
  fundingPaymentKrw,
  fundingRate1e8,
  impactPriceTicks,
  meanPremium1e8,
  nextFundingTimeMs,
  premiumSample1e8,
  type TicksFraction,
} from './funding-rules.ts';
import { BTC_KRW_PERP as btc } from './perp-market.ts';

const whole = (ticks: number): TicksFraction => ({ numerator: BigInt(ticks), denominator: 1n });
const value = (price: TicksFraction) => Number(price.numerator) / Number(price.denominator); // display only

describe('impactPriceTicks: average fill price of 10,000,000 KRW', () => {
  it('one level deep enough: exactly its price (10,000,000 × 50,010 / 10,000,000)', () => {
    const price = impactPriceTicks([{ priceTicks: 50_010, lots: 1_000 }], btc)!;
    expect(price.numerator / price.denominator).toBe(50_010n);
    expect(price.numerator % price.denominator).toBe(0n);
  });

  it('two levels, the last taken for a fraction of a lot: 150 lots at 50,000 (7,500,000) + 2,500,000 at 49,990 (50.01 lots)', () => {
    // average = 10,000,000 × 49,990 / (150 × 49,990 + 2,500,000) = 499,900,000,000 / 9,998,500 = 49,997.4996…
    const price = impactPriceTicks(
      [
        { priceTicks: 50_000, lots: 150 },
        { priceTicks: 49_990, lots: 100 },
      ],
      btc,
    )!;
    expect(price).toEqual({ numerator: 499_900_000_000n, denominator: 9_998_500n });
    expect(value(price)).toBeCloseTo(49_997.4996, 3);
  });

  it('exactly the notional deep is enough (200 lots × 50,000 = 10,000,000); one lot short is none', () => {
    expect(value(impactPriceTicks([{ priceTicks: 50_000, lots: 200 }], btc)!)).toBe(50_000);
    expect(impactPriceTicks([{ priceTicks: 50_000, lots: 199 }], btc)).toBeUndefined();
    expect(impactPriceTicks([], btc)).toBeUndefined();
  });

  it('lies between the best and the worst level taken (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ priceTicks: fc.integer({ min: 1, max: 10 ** 7 }), lots: fc.integer({ min: 1, max: 10 ** 5 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        (raw) => {
          const levels = [...raw].sort((a, b) => b.priceTicks - a.priceTicks); // a bid side, best first
          const price = impactPriceTicks(levels, btc);
          if (price === undefined) return;
          const best = BigInt(levels[0]!.priceTicks);
          const worst = BigInt(levels[levels.length - 1]!.priceTicks);
          expect(price.numerator).toBeLessThanOrEqual(best * price.denominator);
          expect(price.numerator).toBeGreaterThanOrEqual(worst * price.denominator);
        },
      ),
    );
  });
});

describe('premiumSample1e8', () => {
  it('impact bid above the index: (50,010 − 50,000) / 50,000 = 0.02 % = 20,000', () => {
    expect(premiumSample1e8(whole(50_010), whole(50_020), 50_000)).toBe(20_000n);
  });

  it('impact ask below the index: −(50,000 − 49,990) / 50,000 = −20,000', () => {
    expect(premiumSample1e8(whole(49_980), whole(49_990), 50_000)).toBe(-20_000n);
  });

  it('index inside the impact spread: 0; a missing side adds 0', () => {
    expect(premiumSample1e8(whole(49_990), whole(50_010), 50_000)).toBe(0n);
    expect(premiumSample1e8(undefined, undefined, 50_000)).toBe(0n);
    expect(premiumSample1e8(undefined, whole(49_990), 50_000)).toBe(-20_000n);
    expect(premiumSample1e8(whole(50_010), undefined, 50_000)).toBe(20_000n);
  });

  it('truncates towards zero: 1 / 30,000 = 3,333.3 → 3,333 and −3,333', () => {
    expect(premiumSample1e8(whole(30_001), undefined, 30_000)).toBe(3_333n);
    expect(premiumSample1e8(undefined, whole(29_999), 30_000)).toBe(-3_333n);
  });

  it('works on the exact average, not a rounded one: (499,900,000,000 / 9,998,500 − 49,990) / 49,990 → 15,002', () => {
    // 49,997.49962… − 49,990 = 7.49962…; / 49,990 = 0.000150022… → 15,002
    expect(premiumSample1e8({ numerator: 499_900_000_000n, denominator: 9_998_500n }, undefined, 49_990)).toBe(15_002n);
  });
});

describe('meanPremium1e8 and fundingRate1e8', () => {
  it('mean truncates towards zero; no sample → 0', () => {
    expect(meanPremium1e8([1n, 2n])).toBe(1n);
    expect(meanPremium1e8([-1n, -2n])).toBe(-1n);
    expect(meanPremium1e8([])).toBe(0n);
  });

  it('F = clamp(P̄ + clamp(I − P̄, ±0.05 %), ±0.30 %) with I = 0.01 % — worked points', () => {
    const cases: [bigint, bigint][] = [
      [0n, 10_000n], // 0 + clamp(0.01 %) = 0.01 %
      [20_000n, 10_000n], // 0.02 % + (−0.01 %) = 0.01 %
      [60_000n, 10_000n], // 0.06 % + clamp(−0.05 %) = 0.01 %: the top of the band where F = I
      [60_001n, 10_001n], // 0.060001 % − 0.05 %
      [-40_000n, 10_000n], // −0.04 % + 0.05 %: the bottom of that band
      [-40_001n, 9_999n],
      [100_000n, 50_000n], // 0.1 % − 0.05 %
      [-100_000n, -50_000n], // −0.1 % + 0.05 %
      [350_000n, 300_000n], // 0.35 % − 0.05 % = 0.30 %: exactly the cap
      [400_000n, 300_000n], // 0.35 % → capped 0.30 %
      [-500_000n, -300_000n], // −0.45 % → −0.30 %
    ];
    for (const [mean, rate] of cases) expect([mean, fundingRate1e8(mean)]).toEqual([mean, rate]);
  });

  it('always within ±0.30 % (property, any mean premium)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (mean) => {
        const rate = fundingRate1e8(mean);
        expect(rate <= FUNDING_RATE_CAP_1E8 && rate >= -FUNDING_RATE_CAP_1E8).toBe(true);
      }),
    );
  });
});

describe('fundingPaymentKrw', () => {
  it('F = 0.01 %, 0.1 BTC at 50,000,000: 5,000,000 × 0.0001 = 500 — the long pays 500, the short receives 500', () => {
    expect(fundingPaymentKrw(100, 50_000, 10_000n, btc)).toBe(-500n);
    expect(fundingPaymentKrw(-100, 50_000, 10_000n, btc)).toBe(500n);
  });

  it('payer up, receiver down: 1 lot at 50,001, F 0.01 % = 5.0001 → the long pays 6, the short gets 5; the fund keeps 1', () => {
    expect(fundingPaymentKrw(1, 50_001, 10_000n, btc)).toBe(-6n);
    expect(fundingPaymentKrw(-1, 50_001, 10_000n, btc)).toBe(5n);
  });

  it('F < 0: shorts pay longs; F = 0 or flat: nothing', () => {
    expect(fundingPaymentKrw(-1, 50_001, -10_000n, btc)).toBe(-6n);
    expect(fundingPaymentKrw(1, 50_001, -10_000n, btc)).toBe(5n);
    expect(fundingPaymentKrw(1, 50_001, 0n, btc)).toBe(0n);
    expect(fundingPaymentKrw(0, 50_001, 10_000n, btc)).toBe(0n);
  });

  it('past 2^53: 10^10 lots at 10^9 ticks, F 0.30 % → 10^19 × 0.003 = 3 × 10^16', () => {
    expect(fundingPaymentKrw(-1e10, 1e9, 300_000n, btc)).toBe(3n * 10n ** 16n);
  });

  it('over a market (Σ sizes = 0) the payers pay at least what the receivers get, less than 1 KRW per position more (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.bigInt({ min: -300_000n, max: 300_000n }),
        (sizes, mark, rate) => {
          const balancing = -sizes.reduce((sum, size) => sum + size, 0); // one more position makes Σ sizes = 0
          const all = [...sizes, balancing];
          const toFund = -all.reduce((sum, size) => sum + fundingPaymentKrw(size, mark, rate, btc), 0n);
          expect(toFund).toBeGreaterThanOrEqual(0n);
          expect(toFund).toBeLessThan(BigInt(all.length));
        },
      ),
    );
  });
});

describe('fundingPaymentKrw: the float64 fast path', () => {
  it('agrees with the BigInt formula everywhere, across the 2^53 edge where it hands over', () => {
    const ceil = (a: bigint, b: bigint) => (a + b - 1n) / b;
    const bigIntPayment = (size: number, mark: number, rate: bigint): bigint => {
      const scaled = BigInt(Math.abs(size)) * BigInt(mark) * (rate < 0n ? -rate : rate);
      const pays = Math.sign(size) * (rate > 0n ? 1 : rate < 0n ? -1 : 0) > 0;
      return pays ? -ceil(scaled, 100_000_000n) : scaled / 100_000_000n;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: -2_000_000, max: 2_000_000 }),
        fc.oneof(fc.integer({ min: 1, max: 1_000_000_000 }), fc.constantFrom(99_999_999, 100_000_000, 100_000_001)),
        fc.oneof(fc.bigInt({ min: -300_000n, max: 300_000n }), fc.constantFrom(0n, 1n, -1n, 10_000n, 99_999_999n)),
        (size, mark, rate) => {
          expect(fundingPaymentKrw(size, mark, rate, btc)).toBe(bigIntPayment(size, mark, rate));
        },
      ),
      { numRuns: 5_000 },
    );
    // the edge: 2^52 < |size| × mark × |F| and beyond 2^53
    for (const size of [45_035, 45_036, 90_071, 90_072, 1_000_000])
      expect(fundingPaymentKrw(size, 1_000_000_000, 100_000n, btc)).toBe(bigIntPayment(size, 1_000_000_000, 100_000n));
  });
});

describe('nextFundingTimeMs', () => {
  const eightHours = 28_800_000;

  it('every 8 h at 00:00, 08:00, 16:00 UTC, strictly after now', () => {
    expect(nextFundingTimeMs(Date.UTC(2026, 11, 7, 23, 31), eightHours)).toBe(Date.UTC(2026, 11, 8, 0, 0));
    expect(nextFundingTimeMs(Date.UTC(2026, 11, 8, 7, 59, 59, 999), eightHours)).toBe(Date.UTC(2026, 11, 8, 8, 0));
    expect(nextFundingTimeMs(Date.UTC(2026, 11, 8, 8, 0), eightHours)).toBe(Date.UTC(2026, 11, 8, 16, 0));
    expect(nextFundingTimeMs(0, eightHours)).toBe(eightHours);
  });

  it('follows an overridden interval (FUNDING_INTERVAL_MS = 60,000)', () => {
    expect(nextFundingTimeMs(1_765_000_030_000, 60_000)).toBe(1_765_000_080_000);
  });
});
