import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, findMarket } from '../markets.ts';
import {
  BTC_KRW_PERP,
  DEFAULT_PERP_MARKETS,
  ETH_KRW_PERP,
  type PerpMarketSpec,
  perpMarketSpecProblems,
  riskTierForNotionalKrw,
} from './perp-market.ts';

const tierOf = (notional: bigint, market: PerpMarketSpec = BTC_KRW_PERP): number => riskTierForNotionalKrw(notional, market).tier;

describe('default perpetual markets', () => {
  it('are sound: tick × lot = 1 KRW, tiers ascending, cum continuous', () => {
    for (const market of DEFAULT_PERP_MARKETS) expect(perpMarketSpecProblems(market), market.symbol).toEqual([]);
  });

  it('BTC-KRW-PERP carries the contract table verbatim', () => {
    expect(BTC_KRW_PERP).toMatchObject({
      symbol: 'BTC-KRW-PERP',
      base: 'BTC',
      quote: 'KRW',
      settlementAsset: 'KRW',
      tickSize: '1000',
      lotSize: '0.001',
    });
    expect(BTC_KRW_PERP).toMatchObject({ quotePerTickLot: 1, makerFeePpm: 200, takerFeePpm: 500, fundingIntervalMs: 28_800_000 });
    expect(
      BTC_KRW_PERP.riskTiers.map((tier) => [tier.maxNotionalKrw, tier.maxLeverage, tier.maintenanceMarginRate1e8, tier.cumKrw]),
    ).toEqual([
      [250_000_000, 50, 400_000, 0],
      [1_000_000_000, 25, 500_000, 250_000],
      [5_000_000_000, 10, 1_000_000, 5_250_000],
      [null, 5, 2_500_000, 80_250_000],
    ]);
  });

  it('share tick and lot with their spot index market, so the `spot` source needs no conversion', () => {
    for (const perp of [BTC_KRW_PERP, ETH_KRW_PERP]) {
      const spot = findMarket(DEFAULT_ENGINE_CONFIG, perp.indexSpotSymbol)!;
      expect({ tick: perp.tickSize, lot: perp.lotSize, q: perp.quotePerTickLot }).toEqual({
        tick: spot.tickSize,
        lot: spot.lotSize,
        q: spot.quotePerTickLot,
      });
    }
  });

  it('keep the spot engine integer bound: maxPrice × maxQuantity + taker fee ≤ 2^53 − 1', () => {
    for (const market of DEFAULT_PERP_MARKETS) {
      const maxNotional = BigInt(market.maxPrice) * BigInt(market.maxQuantity) * BigInt(market.quotePerTickLot);
      expect(maxNotional + (maxNotional * BigInt(market.takerFeePpm)) / 1_000_000n).toBeLessThanOrEqual(BigInt(Number.MAX_SAFE_INTEGER));
    }
  });
});

describe('riskTierForNotionalKrw', () => {
  it('reads "notional up to" as inclusive at every BTC edge', () => {
    expect(tierOf(0n)).toBe(1);
    expect(tierOf(250_000_000n)).toBe(1);
    expect(tierOf(250_000_001n)).toBe(2);
    expect(tierOf(1_000_000_000n)).toBe(2);
    expect(tierOf(1_000_000_001n)).toBe(3);
    expect(tierOf(5_000_000_000n)).toBe(3);
    expect(tierOf(5_000_000_001n)).toBe(4);
    expect(tierOf(2n ** 80n)).toBe(4); // far beyond 2^53: still the open-ended tier
  });

  it('ETH edges', () => {
    expect(
      [100_000_000n, 100_000_001n, 500_000_000n, 500_000_001n, 2_500_000_000n, 2_500_000_001n].map((n) => tierOf(n, ETH_KRW_PERP)),
    ).toEqual([1, 2, 2, 3, 3, 4]);
  });
});

describe('perpMarketSpecProblems', () => {
  const withTiers = (patch: (tiers: PerpMarketSpec['riskTiers']) => PerpMarketSpec['riskTiers']): PerpMarketSpec => ({
    ...BTC_KRW_PERP,
    riskTiers: patch(BTC_KRW_PERP.riskTiers),
  });

  it('catches a cum that breaks MM continuity (tier 2 cum 250,001 instead of 250,000,000 × 0.1 % = 250,000)', () => {
    const broken = withTiers((tiers) => tiers.map((tier) => (tier.tier === 2 ? { ...tier, cumKrw: 250_001 } : tier)));
    // tier 3's cum was continuous with the right tier 2, so its edge breaks too
    expect(perpMarketSpecProblems(broken)).toEqual([
      'tier 2: cum 250001 breaks MM continuity at 250000000',
      'tier 3: cum 5250000 breaks MM continuity at 1000000000',
    ]);
  });

  it('catches caps out of order, a closed last tier, an MMR at or above 1 / max leverage', () => {
    expect(
      perpMarketSpecProblems(
        withTiers((tiers) => tiers.map((tier) => (tier.tier === 2 ? { ...tier, maxNotionalKrw: 200_000_000 } : tier))),
      ),
    ).toContain('tier 2: caps must ascend');
    expect(perpMarketSpecProblems(withTiers((tiers) => tiers.slice(0, 3)))).toContain('tier 3: only the last tier is open-ended');
    // 50 × 2.00 % = 1: MM would equal IM at max leverage
    const tooHigh = withTiers((tiers) => tiers.map((tier) => (tier.tier === 1 ? { ...tier, maintenanceMarginRate1e8: 2_000_000 } : tier)));
    expect(perpMarketSpecProblems(tooHigh)).toContain('tier 1: MMR must be below 1 / maxLeverage');
  });

  it('catches order limits past the matching engine integer bound (10^9 ticks × 10^7 lots = 10^16 KRW)', () => {
    expect(perpMarketSpecProblems({ ...BTC_KRW_PERP, maxQuantity: 10_000_000 })).toEqual([
      'maxPrice × maxQuantity × quotePerTickLot (+ fee) exceeds 2^53 − 1',
    ]);
  });

  it('catches a quotePerTickLot that is not tick × lot (1,000 KRW × 0.0001 BTC = 0.1 KRW)', () => {
    expect(perpMarketSpecProblems({ ...BTC_KRW_PERP, lotSize: '0.0001' })[0]).toMatch(/quotePerTickLot/);
  });
});
