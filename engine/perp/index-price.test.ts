import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexPriceTicks, spotSourcePriceTicks } from './index-price.ts';

const now = 1_765_000_000_000;
const source = (name: string, priceTicks: number, ageMs = 0) => ({ source: name, priceTicks, updatedAtMs: now - ageMs });

describe('indexPriceTicks', () => {
  it('median of three fresh sources: 50,000 / 50,100 / 49,000 → 50,000', () => {
    expect(indexPriceTicks([source('a', 50_000), source('b', 50_100), source('spot', 49_000)], now, undefined)).toEqual({
      priceTicks: 50_000,
      stale: false,
      freshSources: 3,
    });
  });

  it('even count: the mean of the two middle values rounded down to a tick (50,000 and 50,001 → 50,000)', () => {
    expect(indexPriceTicks([source('a', 50_001), source('b', 50_000)], now, undefined).priceTicks).toBe(50_000);
    expect(
      indexPriceTicks([source('a', 1), source('b', 50_000), source('c', 50_003), source('d', 99_999)], now, undefined).priceTicks,
    ).toBe(50_001);
  });

  it('a source is fresh at exactly 60 s old and stale at 60.001 s', () => {
    const sources = [source('a', 50_000, 60_000), source('b', 60_000, 60_001)];
    expect(indexPriceTicks(sources, now, undefined)).toEqual({ priceTicks: 50_000, stale: false, freshSources: 1 });
  });

  it('with none fresh keeps the previous value and is stale; with no previous value, none', () => {
    expect(indexPriceTicks([source('a', 50_000, 60_001)], now, 49_000)).toEqual({ priceTicks: 49_000, stale: true, freshSources: 0 });
    expect(indexPriceTicks([], now, undefined)).toEqual({ priceTicks: undefined, stale: true, freshSources: 0 });
  });

  it('the even mean never overflows: two sources at 2^53 − 1 give 2^53 − 1', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(indexPriceTicks([source('a', max), source('b', max)], now, undefined).priceTicks).toBe(max);
    expect(indexPriceTicks([source('a', max), source('b', max - 1)], now, undefined).priceTicks).toBe(max - 1);
  });

  it('lies within the fresh sources’ min and max, and stale ones never move it (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ price: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), age: fc.integer({ min: 0, max: 120_000 }) }), {
          maxLength: 15,
        }),
        fc.option(fc.integer({ min: 1, max: 10 ** 9 }), { nil: undefined }),
        (raw, previous) => {
          const sources = raw.map(({ price, age }, index) => source(`s${index}`, price, age));
          const fresh = raw.filter(({ age }) => age <= 60_000).map(({ price }) => price);
          const index = indexPriceTicks(sources, now, previous);
          if (fresh.length === 0) {
            expect(index).toEqual({ priceTicks: previous, stale: true, freshSources: 0 });
            return;
          }
          expect(index.priceTicks!).toBeGreaterThanOrEqual(Math.min(...fresh));
          expect(index.priceTicks!).toBeLessThanOrEqual(Math.max(...fresh));
          expect(
            indexPriceTicks(
              sources.filter((_, i) => raw[i]!.age <= 60_000),
              now,
              previous,
            ),
          ).toEqual(index);
        },
      ),
    );
  });
});

describe('spotSourcePriceTicks', () => {
  it('mid when both sides exist (rounded down), else the last trade, else none', () => {
    expect(spotSourcePriceTicks(50_000, 50_003, 1)).toBe(50_001);
    expect(spotSourcePriceTicks(50_000, undefined, 49_500)).toBe(49_500);
    expect(spotSourcePriceTicks(undefined, undefined, undefined)).toBeUndefined();
  });
});
