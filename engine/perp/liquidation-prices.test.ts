import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bankruptcyPriceTicks,
  crossBankruptcyPriceTicks,
  crossLiquidationPriceTicks,
  crossMarginShareKrw,
  liquidationPriceTicks,
} from './liquidation-prices.ts';
import { BTC_KRW_PERP as btc } from './perp-market.ts';
import type { PositionAmounts } from './position-rules.ts';
import { referenceMaintenanceMargin } from './testing/reference-positions.ts';

const long100 = { sizeLots: 100, costKrw: 5_000_000n }; // 0.1 BTC at 50,000,000 KRW
const short100 = { sizeLots: -100, costKrw: -5_000_000n };

/** The contract's test written out again: margin + size × t − cost ≤ MM(|size| × t), MM by the reference tier walk (BTC: 1 KRW per tick × lot). */
function balanceAt(position: PositionAmounts, margin: bigint, ticks: bigint): bigint {
  return margin + BigInt(position.sizeLots) * ticks - position.costKrw;
}
function liquidatable(position: PositionAmounts, margin: bigint, ticks: bigint): boolean {
  const size = BigInt(position.sizeLots);
  return balanceAt(position, margin, ticks) <= referenceMaintenanceMargin((size < 0n ? -size : size) * ticks);
}

describe('isolated: 10× long 0.1 BTC at 50,000,000 KRW, margin 500,000', () => {
  it('bankruptcy: (5,000,000 − 500,000) / 100 = 45,000 ticks (45,000,000 KRW)', () => {
    expect(bankruptcyPriceTicks(long100, 500_000n, btc)).toBe(45_000);
  });

  it('liquidation: 99.6 t ≤ 4,500,000 → t ≤ 45,180.7; at 45,180 balance 18,000 ≤ MM ceil(18,072) = 18,072; at 45,181 balance 18,100 > 18,073', () => {
    expect(liquidationPriceTicks(long100, 500_000n, btc)).toBe(45_180);
    expect(liquidatable(long100, 500_000n, 45_180n)).toBe(true);
    expect(liquidatable(long100, 500_000n, 45_181n)).toBe(false);
  });
});

describe('isolated: 10× short 0.1 BTC at 50,000,000 KRW, margin 500,000', () => {
  it('bankruptcy: (500,000 + 5,000,000) / 100 = 55,000', () => {
    expect(bankruptcyPriceTicks(short100, 500_000n, btc)).toBe(55_000);
  });

  it('liquidation: 100.4 t ≥ 5,500,000 → t ≥ 54,780.9; at 54,781 balance 21,900 ≤ MM ceil(21,912.4) = 21,913; at 54,780 balance 22,000 > 21,912', () => {
    expect(liquidationPriceTicks(short100, 500_000n, btc)).toBe(54_781);
  });
});

describe('bankruptcy rounding protects the insurance fund', () => {
  it('long 3 lots, cost 150,002, margin 15,001: 135,001 / 3 = 45,000.33 → up to 45,001 (balance there +2; at 45,000 it would be −1)', () => {
    const position = { sizeLots: 3, costKrw: 150_002n };
    expect(bankruptcyPriceTicks(position, 15_001n, btc)).toBe(45_001);
    expect(balanceAt(position, 15_001n, 45_001n)).toBe(2n);
    expect(balanceAt(position, 15_001n, 45_000n)).toBe(-1n);
  });

  it('short 3 lots, cost −150,002, margin 15,000: 165,002 / 3 = 55,000.67 → down to 55,000 (balance there +2)', () => {
    const position = { sizeLots: -3, costKrw: -150_002n };
    expect(bankruptcyPriceTicks(position, 15_000n, btc)).toBe(55_000);
    expect(balanceAt(position, 15_000n, 55_000n)).toBe(2n);
    expect(balanceAt(position, 15_000n, 55_001n)).toBe(-1n);
  });

  it('a 1× long cannot go bankrupt (0), is "liquidatable" only at a mark of 0; one with more margin than cost never', () => {
    expect(bankruptcyPriceTicks(long100, 5_000_000n, btc)).toBe(0);
    expect(liquidationPriceTicks(long100, 5_000_000n, btc)).toBe(0);
    expect(liquidationPriceTicks(long100, 5_000_001n, btc)).toBeUndefined();
  });

  it('flat positions have neither price', () => {
    expect(bankruptcyPriceTicks({ sizeLots: 0, costKrw: 0n }, 1n, btc)).toBeUndefined();
    expect(liquidationPriceTicks({ sizeLots: 0, costKrw: 0n }, 1n, btc)).toBeUndefined();
  });
});

describe('the tier of the liquidation price', () => {
  it('20× long 10 BTC at 50,000,000 (notional 500,000,000, tier 2), margin 25,000,000: 9,950 t ≤ 474,750,000 → 47,713', () => {
    // 25,000,000 + 10,000 t − 500,000,000 ≤ 0.5 % × 10,000 t − 250,000  ⇔  9,950 t ≤ 474,750,000  ⇔  t ≤ 47,713.57
    // at 47,713: balance 2,130,000 ≤ MM 2,385,650 − 250,000 = 2,135,650; at 47,714: 2,140,000 > 2,135,700
    expect(liquidationPriceTicks({ sizeLots: 10_000, costKrw: 500_000_000n }, 25_000_000n, btc)).toBe(47_713);
  });

  it('a short whose liquidation notional crosses into tier 2 uses tier 2 there: 5× short 5 BTC at 50,000,000, margin 50,000,000', () => {
    // notional now 250,000,000 (tier 1). Balance 300,000,000 − 5,000 t; with tier 2: 5,000 t × 1.005 ≥ 300,250,000 → t ≥ 59,751.2
    // → 59,752 (notional 298,760,000: tier 2 indeed): balance 1,240,000 ≤ MM 1,493,800 − 250,000 = 1,243,800
    const position = { sizeLots: -5_000, costKrw: -250_000_000n };
    expect(liquidationPriceTicks(position, 50_000_000n, btc)).toBe(59_752);
    expect(liquidatable(position, 50_000_000n, 59_751n)).toBe(false);
  });

  it('is exact for large positions past 2^53 KRW: 1,000,000 BTC long at 10^9 ticks (notional 10^18), 5×', () => {
    const position = { sizeLots: 1_000_000_000, costKrw: 10n ** 18n };
    const margin = 2n * 10n ** 17n;
    const ticks = BigInt(liquidationPriceTicks(position, margin, btc)!);
    expect(liquidatable(position, margin, ticks)).toBe(true);
    expect(liquidatable(position, margin, ticks + 1n)).toBe(false);
  });
});

describe('liquidation and bankruptcy prices are the exact thresholds of the contract test (property)', () => {
  const positions = fc
    .record({
      lots: fc.integer({ min: 1, max: 1_000_000 }),
      entry: fc.integer({ min: 1, max: 10_000_000 }),
      extra: fc.bigInt({ min: 0n, max: 999_999n }),
      short: fc.boolean(),
      marginPercent: fc.integer({ min: -50, max: 150 }),
    })
    .map(({ lots, entry, extra, short, marginPercent }) => {
      const magnitude = BigInt(lots) * BigInt(entry) + (extra % BigInt(lots)); // a cost not always a whole tick per lot
      return {
        position: { sizeLots: short ? -lots : lots, costKrw: short ? -magnitude : magnitude },
        margin: (magnitude * BigInt(marginPercent)) / 100n,
      };
    });

  it('long: liquidatable at the price, not one tick above; none only when not even 0 is', () => {
    fc.assert(
      fc.property(positions, ({ position, margin }) => {
        const price = liquidationPriceTicks(position, margin, btc);
        if (position.sizeLots > 0) {
          if (price === undefined) expect(liquidatable(position, margin, 0n)).toBe(false);
          else {
            expect(liquidatable(position, margin, BigInt(price))).toBe(true);
            expect(liquidatable(position, margin, BigInt(price) + 1n)).toBe(false);
          }
        } else {
          expect(liquidatable(position, margin, BigInt(price!))).toBe(true);
          if (price! > 0) expect(liquidatable(position, margin, BigInt(price!) - 1n)).toBe(false);
        }
      }),
    );
  });

  it('bankruptcy: balance ≥ 0 at the price and < 0 one tick on the losing side (unless clamped at 0)', () => {
    fc.assert(
      fc.property(positions, ({ position, margin }) => {
        const price = BigInt(bankruptcyPriceTicks(position, margin, btc)!);
        if (position.sizeLots > 0) {
          expect(balanceAt(position, margin, price)).toBeGreaterThanOrEqual(0n);
          if (price > 0n) expect(balanceAt(position, margin, price - 1n)).toBeLessThan(0n);
        } else if (balanceAt(position, margin, 0n) >= 0n) {
          expect(balanceAt(position, margin, price)).toBeGreaterThanOrEqual(0n);
          expect(balanceAt(position, margin, price + 1n)).toBeLessThan(0n);
        } else expect(price).toBe(0n);
      }),
    );
  });
});

describe('cross positions', () => {
  it('the share is in proportion to MM, rounded down: 1,000,000 × 20,000 / 30,000 = 666,666.67 → 666,666; alone: all of it', () => {
    expect(crossMarginShareKrw(1_000_000n, 20_000n, 30_000n)).toBe(666_666n);
    expect(crossMarginShareKrw(-1_000_000n, 20_000n, 30_000n)).toBe(-666_667n); // down protects the fund on a negative balance too
    expect(crossMarginShareKrw(1_000_000n, 0n, 0n)).toBe(1_000_000n);
  });

  it('bankruptcy: long 0.1 BTC at 50,000,000 marked at 50,000,000 (PnL 0), share 666,666: (5,000,000 − 666,666) / 100 = 43,333.34 → 43,334', () => {
    expect(crossBankruptcyPriceTicks(long100, 666_666n, 50_000, btc)).toBe(43_334);
  });

  it('bankruptcy counts the PnL already in the share: marked at 52,000 (PnL +200,000), share 866,666 gives the same 43,334', () => {
    expect(crossBankruptcyPriceTicks(long100, 866_666n, 52_000, btc)).toBe(43_334);
  });

  it('liquidation: balance 1,000,000 with another position’s MM 10,000: 990,000 + 100 t − 5,000,000 ≤ ceil(0.4 t) → 40,261', () => {
    // at 40,261 the account: 1,000,000 + 4,026,100 − 5,000,000 = 26,100 ≤ 10,000 + ceil(16,104.4) = 26,105; at 40,262: 26,200 > 26,105
    expect(crossLiquidationPriceTicks(long100, 1_000_000n, 50_000, 10_000n, btc)).toBe(40_261);
  });

  it('liquidation is the account-level threshold with the other positions held (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1_000, max: 1_000_000 }),
        fc.boolean(),
        fc.integer({ min: 1_000, max: 1_000_000 }),
        fc.bigInt({ min: -(10n ** 9n), max: 10n ** 10n }),
        fc.bigInt({ min: 0n, max: 10n ** 8n }),
        (lots, entry, short, mark, walletLessOthers, otherMm) => {
          const sign = short ? -1 : 1;
          const position = { sizeLots: sign * lots, costKrw: BigInt(sign * lots) * BigInt(entry) };
          const pnlAt = (ticks: bigint) => BigInt(position.sizeLots) * ticks - position.costKrw;
          const accountLiquidatable = (ticks: bigint) =>
            walletLessOthers + pnlAt(ticks) <= otherMm + referenceMaintenanceMargin(BigInt(lots) * ticks);
          const price = crossLiquidationPriceTicks(position, walletLessOthers + pnlAt(BigInt(mark)), mark, otherMm, btc);
          if (!short) {
            if (price === undefined) expect(accountLiquidatable(0n)).toBe(false);
            else expect([accountLiquidatable(BigInt(price)), accountLiquidatable(BigInt(price) + 1n)]).toEqual([true, false]);
          } else {
            expect(accountLiquidatable(BigInt(price!))).toBe(true);
            if (price! > 0) expect(accountLiquidatable(BigInt(price!) - 1n)).toBe(false);
          }
        },
      ),
    );
  });
});
