import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ENGINE_CONFIG,
  DEFAULT_RAW_CONFIG,
  MarketConfigError,
  amountToMinor,
  averagePrice,
  buildEngineConfig,
  findAsset,
  findMarket,
  formatAmount,
  lotsToQuantity,
  priceToTicks,
  quantityToLots,
  ticksToPrice,
  type RawMarketConfig,
} from './markets.ts';

const btcKrw = findMarket(DEFAULT_ENGINE_CONFIG, 'BTC-KRW')!;
const btc = findAsset(DEFAULT_ENGINE_CONFIG, 'BTC')!;
const krw = findAsset(DEFAULT_ENGINE_CONFIG, 'KRW')!;

const withMarket = (patch: Partial<RawMarketConfig>) => ({
  ...DEFAULT_RAW_CONFIG,
  markets: [{ ...DEFAULT_RAW_CONFIG.markets[0]!, ...patch }],
});

describe('default markets', () => {
  it('derives integer units for BTC-KRW', () => {
    expect(btcKrw).toMatchObject({
      quotePerTickLot: 1,
      baseMinorPerLot: 100_000,
      minPrice: 1,
      maxPrice: 1_000_000_000,
      minQuantity: 1,
      maxQuantity: 1_000_000,
      minNotional: 5000,
    });
  });
});

describe('buildEngineConfig', () => {
  it('refuses a tick × lot that is not a whole quote minor unit', () => {
    expect(() => buildEngineConfig(withMarket({ lotSize: '0.0001', minQuantity: '0.0001' }))).toThrow(/tickSize × lotSize/);
  });
  it('refuses bounds whose notional passes 2^53', () => {
    expect(() => buildEngineConfig(withMarket({ maxQuantity: '100000' }))).toThrow(MarketConfigError);
  });
  it('refuses an unknown asset, a bad fee and a min price off the tick', () => {
    expect(() => buildEngineConfig(withMarket({ quote: 'USD' }))).toThrow(/unknown quote asset/);
    expect(() => buildEngineConfig(withMarket({ takerFeePpm: 1.5 }))).toThrow(/takerFeePpm/);
    expect(() => buildEngineConfig(withMarket({ minPrice: '1500' }))).toThrow(/minPrice/);
  });
  it('accepts a finer quote scale', () => {
    const config = buildEngineConfig({
      ...DEFAULT_RAW_CONFIG,
      assets: [...DEFAULT_RAW_CONFIG.assets.filter((asset) => asset.code !== 'KRW'), { code: 'KRW', decimals: 1 }],
      markets: [{ ...DEFAULT_RAW_CONFIG.markets[0]!, lotSize: '0.0001', minQuantity: '0.0001', maxQuantity: '100' }],
    });
    expect(config.markets[0]).toMatchObject({ quotePerTickLot: 1, baseMinorPerLot: 10_000, minNotional: 50_000 });
  });
});

describe('edge conversions', () => {
  it('converts prices, quantities and amounts exactly', () => {
    expect(priceToTicks(btcKrw, '123000')).toBe(123);
    expect(priceToTicks(btcKrw, '123000.000')).toBe(123);
    expect(priceToTicks(btcKrw, '123500')).toMatchObject({ code: 'OFF_TICK' });
    // KRW has no decimals: a fraction is too precise for any market, not just off this tick
    expect(priceToTicks(btcKrw, '123000.5')).toMatchObject({ code: 'TOO_MANY_DECIMALS' });
    expect(priceToTicks(btcKrw, '123000.0')).toBe(123);
    expect(priceToTicks(btcKrw, '1e5')).toMatchObject({ code: 'NOT_A_DECIMAL' });
    expect(quantityToLots(btcKrw, '0.5')).toBe(500);
    expect(quantityToLots(btcKrw, '0.0005')).toMatchObject({ code: 'OFF_LOT' });
    expect(quantityToLots(btcKrw, '0.00000001')).toMatchObject({ code: 'OFF_LOT' }); // 1 satoshi: representable, off the lot
    expect(quantityToLots(btcKrw, '0.000000001')).toMatchObject({ code: 'TOO_MANY_DECIMALS' }); // below 1 satoshi
    expect(quantityToLots(btcKrw, '0.5000000000')).toBe(500); // trailing zeros are not decimals
    expect(quantityToLots(btcKrw, '0.5x00000000')).toMatchObject({ code: 'NOT_A_DECIMAL' });
    expect(amountToMinor(btc, '1.5')).toBe(150_000_000);
    expect(amountToMinor(krw, '1.5')).toMatchObject({ code: 'TOO_MANY_DECIMALS' });
    expect(ticksToPrice(btcKrw, 123)).toBe('123000');
    expect(lotsToQuantity(btcKrw, 500)).toBe('0.5');
    expect(formatAmount(btc, 150_000_000)).toBe('1.5');
    expect(averagePrice(btcKrw, 3 * 100 + 1 * 101, 4)).toBe('100250');
  });
});
