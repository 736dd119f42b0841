import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availableBalanceKrw,
  crossMarginBalanceKrw,
  cumulativeFeeDueKrw,
  initialMarginKrw,
  isBelowMaintenance,
  isolatedMarginBalanceKrw,
  isolatedMarginForOpeningKrw,
  isolatedMarginRelease,
  isolatedMarginRemovableKrw,
  maintenanceMarginForNotionalKrw,
  maintenanceMarginKrw,
  maxLeverageForNotional,
  notionalKrw,
  orderInitialMarginKrw,
} from './margin-rules.ts';
import { BTC_KRW_PERP as btc, riskTierForNotionalKrw } from './perp-market.ts';
import { referenceMaintenanceMargin } from './testing/reference-positions.ts';

const tier = (n: number) => btc.riskTiers[n - 1]!;

describe('worked example: 10× isolated long 0.1 BTC at 50,000,000 KRW', () => {
  // 0.1 BTC = 100 lots; 50,000,000 KRW = 50,000 ticks; one tick × lot = 1 KRW
  const notional = notionalKrw(100, 50_000, btc);

  it('notional 100 × 50,000 × 1 = 5,000,000; IM 5,000,000 / 10 = 500,000; MM 5,000,000 × 0.4 % − 0 = 20,000', () => {
    expect(notional).toBe(5_000_000n);
    expect(initialMarginKrw(notional, 10)).toBe(500_000n);
    expect(maintenanceMarginKrw(notional, tier(1))).toBe(20_000n);
    expect(maintenanceMarginForNotionalKrw(notional, btc)).toBe(20_000n);
  });

  it('the opening order reserves IM + taker fee: 500,000 + floor(5,000,000 × 500 ppm = 2,500) = 502,500', () => {
    expect(orderInitialMarginKrw(100, 50_000, 10, btc)).toBe(502_500n);
  });

  it('isolated margin balance at mark 46,000,000: 500,000 + (4,600,000 − 5,000,000) = 100,000, above MM 4,600,000 × 0.4 % = 18,400', () => {
    const balance = isolatedMarginBalanceKrw(500_000n, 4_600_000n - 5_000_000n);
    expect(balance).toBe(100_000n);
    expect(isBelowMaintenance(balance, maintenanceMarginForNotionalKrw(notionalKrw(100, 46_000, btc), btc))).toBe(false);
    expect(isBelowMaintenance(18_400n, 18_400n)).toBe(true); // "≤ its MM": equality liquidates
  });
});

describe('notionalKrw', () => {
  it('uses |size|: a short of 100 lots has the long notional', () => {
    expect(notionalKrw(-100, 50_000, btc)).toBe(5_000_000n);
  });

  it('is exact past 2^53: 9,000,000,000 lots × 1,000,000,000 ticks = 9 × 10^18 KRW', () => {
    expect(notionalKrw(9_000_000_000, 1_000_000_000, btc)).toBe(9_000_000_000_000_000_000n);
    expect(notionalKrw(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, btc)).toBe(BigInt(Number.MAX_SAFE_INTEGER) ** 2n);
  });

  it('scales by quotePerTickLot', () => {
    expect(notionalKrw(3, 7, { ...btc, quotePerTickLot: 10 })).toBe(210n);
  });
});

describe('initialMarginKrw rounds up', () => {
  it('1,000,000 / 10 = 100,000 exactly; 1,000,001 / 10 = 100,000.1 → 100,001; 1 / 20 → 1; 0 → 0', () => {
    expect(initialMarginKrw(1_000_000n, 10)).toBe(100_000n);
    expect(initialMarginKrw(1_000_001n, 10)).toBe(100_001n);
    expect(initialMarginKrw(1n, 20)).toBe(1n);
    expect(initialMarginKrw(0n, 20)).toBe(0n);
  });
});

describe('maintenanceMarginKrw', () => {
  it('rounds up: 250 × 0.4 % = 1 exactly; 251 × 0.4 % = 1.004 → 2; 1 × 0.4 % = 0.004 → 1', () => {
    expect(maintenanceMarginKrw(250n, tier(1))).toBe(1n);
    expect(maintenanceMarginKrw(251n, tier(1))).toBe(2n);
    expect(maintenanceMarginKrw(1n, tier(1))).toBe(1n);
    expect(maintenanceMarginKrw(0n, tier(1))).toBe(0n);
  });

  it('tier 2: 500,000,000 × 0.5 % − 250,000 = 2,500,000 − 250,000 = 2,250,000', () => {
    expect(maintenanceMarginForNotionalKrw(500_000_000n, btc)).toBe(2_250_000n);
  });

  it('is the same on both sides of every edge (cum): 250,000,000 × 0.4 % = 1,000,000 = 250,000,000 × 0.5 % − 250,000', () => {
    expect(maintenanceMarginKrw(250_000_000n, tier(1))).toBe(1_000_000n);
    expect(maintenanceMarginKrw(250_000_000n, tier(2))).toBe(1_000_000n);
    // 10^9 × 0.5 % − 250,000 = 4,750,000 = 10^9 × 1 % − 5,250,000
    expect(maintenanceMarginKrw(1_000_000_000n, tier(2))).toBe(4_750_000n);
    expect(maintenanceMarginKrw(1_000_000_000n, tier(3))).toBe(4_750_000n);
    // 5 × 10^9 × 1 % − 5,250,000 = 44,750,000 = 5 × 10^9 × 2.5 % − 80,250,000
    expect(maintenanceMarginKrw(5_000_000_000n, tier(3))).toBe(44_750_000n);
    expect(maintenanceMarginKrw(5_000_000_000n, tier(4))).toBe(44_750_000n);
  });

  it('never goes below 0, even for a notional under its tier (tier 4 at 1,000 KRW: 25 − 80,250,000 → 0)', () => {
    expect(maintenanceMarginKrw(1_000n, tier(4))).toBe(0n);
  });

  it('past 2^53: 9 × 10^18 × 2.5 % − 80,250,000 = 224,999,999,919,750,000', () => {
    expect(maintenanceMarginForNotionalKrw(9_000_000_000_000_000_000n, btc)).toBe(224_999_999_919_750_000n);
  });

  it('agrees with the reference tier walk on any notional (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), (notional) => {
        expect(maintenanceMarginForNotionalKrw(notional, btc)).toBe(referenceMaintenanceMargin(notional));
      }),
    );
  });

  it('is non-decreasing in notional, and below notional / max leverage of its tier (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), (notional, step) => {
        expect(maintenanceMarginForNotionalKrw(notional + step, btc)).toBeGreaterThanOrEqual(
          maintenanceMarginForNotionalKrw(notional, btc),
        );
        const tierHere = riskTierForNotionalKrw(notional, btc);
        expect(maintenanceMarginForNotionalKrw(notional, btc)).toBeLessThanOrEqual(initialMarginKrw(notional, tierHere.maxLeverage));
      }),
    );
  });
});

describe('maxLeverageForNotional', () => {
  it('50 up to 250,000,000 inclusive, then 25, 10, 5', () => {
    expect(
      [0n, 250_000_000n, 250_000_001n, 1_000_000_000n, 1_000_000_001n, 5_000_000_000n, 5_000_000_001n].map((n) =>
        maxLeverageForNotional(n, btc),
      ),
    ).toEqual([50, 50, 25, 25, 10, 10, 5]);
  });
});

describe('orderInitialMarginKrw', () => {
  it('rounds the margin up and the fee down: 1 lot at 5,000,001 ticks, 10×: ceil(500,000.1) = 500,001 + floor(2,500.0005) = 2,500', () => {
    expect(orderInitialMarginKrw(1, 5_000_001, 10, btc)).toBe(502_501n);
  });

  it('reserves nothing for nothing', () => {
    expect(orderInitialMarginKrw(0, 50_000, 10, btc)).toBe(0n);
  });
});

describe('cumulativeFeeDueKrw', () => {
  it('floor(rate × cumulative notional): 500 ppm × 5,000,000 = 2,500; × 1,999 = 0.9995 → 0; × 2,000 = 1', () => {
    expect(cumulativeFeeDueKrw(500, 5_000_000n)).toBe(2_500n);
    expect(cumulativeFeeDueKrw(500, 1_999n)).toBe(0n);
    expect(cumulativeFeeDueKrw(500, 2_000n)).toBe(1n);
    expect(cumulativeFeeDueKrw(200, 10n ** 19n)).toBe(2n * 10n ** 15n); // past 2^53
  });

  it('an order pays the same in total however it is split (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { maxLength: 20 }),
        (ppm, fills) => {
          let cumulative = 0n;
          let paid = 0n;
          for (const fill of fills) {
            const due = cumulativeFeeDueKrw(ppm, cumulative + fill);
            paid += due - cumulativeFeeDueKrw(ppm, cumulative);
            cumulative += fill;
          }
          expect(paid).toBe(cumulativeFeeDueKrw(ppm, cumulative));
        },
      ),
    );
  });
});

describe('margin balances and available', () => {
  it('cross = wallet 1,000,000 + PnL −50,000 − isolated 200,000 = 750,000', () => {
    expect(crossMarginBalanceKrw(1_000_000n, -50_000n, 200_000n)).toBe(750_000n);
  });

  it('available = 750,000 − IM 300,000 − reserves 100,000 = 350,000; never above the wallet; may go negative', () => {
    expect(availableBalanceKrw(1_000_000n, 750_000n, 300_000n, 100_000n)).toBe(350_000n);
    // unrealized profit 5,000,000 does not make more than the wallet available
    expect(availableBalanceKrw(1_000_000n, 6_000_000n, 300_000n, 0n)).toBe(1_000_000n);
    expect(availableBalanceKrw(1_000_000n, 200_000n, 300_000n, 0n)).toBe(-100_000n);
  });
});

describe('isolated margin', () => {
  it('an opening fill adds its notional / leverage, up: 3 lots at 50,001, 10× → ceil(15,000.3) = 15,001', () => {
    expect(isolatedMarginForOpeningKrw(3, 50_001, 10, btc)).toBe(15_001n);
  });

  it('a reduction releases the closed fraction, truncated: 500,000 × 30 / 100 = 150,000; 500,000 × 1 / 3 = 166,666.67 → 166,666; shorts alike', () => {
    expect(isolatedMarginRelease(500_000n, 100, 30)).toBe(150_000n);
    expect(isolatedMarginRelease(500_000n, 3, 1)).toBe(166_666n);
    expect(isolatedMarginRelease(500_000n, -3, 1)).toBe(166_666n);
    expect(isolatedMarginRelease(500_000n, -3, 3)).toBe(500_000n);
  });

  it('successive partial closes release exactly the whole margin by the last one (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1 }),
        fc.boolean(),
        (margin, size, cuts, short) => {
          let left = margin;
          let sizeLeft = size;
          let released = 0n;
          for (const cut of [...cuts, size]) {
            if (sizeLeft === 0) break;
            const closed = Math.min(cut, sizeLeft);
            const part = isolatedMarginRelease(left, short ? -sizeLeft : sizeLeft, closed);
            expect(part).toBeGreaterThanOrEqual(0n);
            released += part;
            left -= part;
            sizeLeft -= closed;
          }
          expect(released).toBe(margin);
          expect(left).toBe(0n);
        },
      ),
    );
  });

  it('removable: margin 600,000, IM at mark 500,000 — profit +100,000 does not count → 100,000; loss −50,000 does → 50,000; loss −200,000 → 0', () => {
    expect(isolatedMarginRemovableKrw(600_000n, 100_000n, 500_000n)).toBe(100_000n);
    expect(isolatedMarginRemovableKrw(600_000n, -50_000n, 500_000n)).toBe(50_000n);
    expect(isolatedMarginRemovableKrw(600_000n, -200_000n, 500_000n)).toBe(0n);
    expect(isolatedMarginRemovableKrw(600_000n, 0n, 0n)).toBe(600_000n);
  });
});
