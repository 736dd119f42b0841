/** The futures wire forms of api/futures-views.ts that are not plain money: rates, signed sizes. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../engine/index.ts';
import { BTC_KRW_PERP } from '../engine/perp/index.ts';
import { FuturesViews, rate1e8, signedQuantity } from './futures-views.ts';

describe('futures views', () => {
  it('shows rates in 1e-8 with all eight decimals', () => {
    expect(rate1e8(400_000)).toBe('0.00400000');
    expect(rate1e8(10_000n)).toBe('0.00010000');
    expect(rate1e8(-30_000n)).toBe('-0.00030000');
    expect(rate1e8(100_000_000)).toBe('1.00000000');
  });

  it('shows sizes in base units with a sign for shorts, and spot markets as type spot', () => {
    expect(signedQuantity(BTC_KRW_PERP, -10)).toBe('-0.01');
    expect(signedQuantity(BTC_KRW_PERP, 0)).toBe('0');
    expect(signedQuantity(BTC_KRW_PERP, 1500)).toBe('1.5');
    expect(new FuturesViews(DEFAULT_ENGINE_CONFIG).marketFields(DEFAULT_ENGINE_CONFIG.markets[0]!)).toEqual({ type: 'spot' });
  });
});
