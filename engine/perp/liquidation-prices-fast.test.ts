/**
 * liquidationPriceTicks through its float64 test (liquidation-prices.ts liquidatableAtFast) keeps
 * the threshold the BigInt margin rules define, for small and huge positions alike (both sides of
 * the 2^52 limit): a long is liquidatable at its price and not one tick above, a short at its price
 * and not one tick below — checked here with BigInt arithmetic only.
 */
import { describe, expect, it } from 'vitest';
import { liquidationPriceTicks } from './liquidation-prices.ts';
import { maintenanceMarginForNotionalKrw } from './margin-rules.ts';
import { BTC_KRW_PERP, ETH_KRW_PERP, type PerpMarketSpec } from './perp-market.ts';

let seed = 777;
const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const upTo = (max: number): number => Math.floor(next() * max);

function liquidatable(sizeLots: number, costKrw: bigint, marginKrw: bigint, ticks: number, market: PerpMarketSpec): boolean {
  const value = BigInt(sizeLots) * BigInt(ticks) * BigInt(market.quotePerTickLot);
  const notional = value < 0n ? -value : value;
  return marginKrw + value - costKrw <= maintenanceMarginForNotionalKrw(notional, market);
}

describe('liquidationPriceTicks (float64 gallop test)', () => {
  it('is the exact threshold of the BigInt rules for random positions, small to past 2^52', () => {
    for (const market of [BTC_KRW_PERP, ETH_KRW_PERP])
      for (let round = 0; round < 400; round++) {
        const big = next() < 0.3;
        const lots = (next() < 0.5 ? -1 : 1) * (1 + upTo(big ? 50_000_000 : 2_000));
        const entry = 1 + upTo(200_000);
        const costKrw = BigInt(lots) * BigInt(entry) * BigInt(market.quotePerTickLot);
        const marginKrw = BigInt(upTo(big ? 2 ** 53 : 10_000_000_000)) * (next() < 0.1 ? 1_000n : 1n);
        const price = liquidationPriceTicks({ sizeLots: lots, costKrw }, marginKrw, market);
        if (lots > 0) {
          if (price === undefined) {
            expect(liquidatable(lots, costKrw, marginKrw, 0, market)).toBe(false);
            continue;
          }
          expect(liquidatable(lots, costKrw, marginKrw, price, market)).toBe(true);
          expect(liquidatable(lots, costKrw, marginKrw, price + 1, market)).toBe(false);
        } else {
          expect(price).toBeDefined();
          expect(liquidatable(lots, costKrw, marginKrw, price!, market)).toBe(true);
          if (price! > 0) expect(liquidatable(lots, costKrw, marginKrw, price! - 1, market)).toBe(false);
        }
      }
  });
});
