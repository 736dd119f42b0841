import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, type Clock } from './backoff.ts';

/** a clock that only moves when slept on, recording every sleep */
function fakeClock(): Clock & { readonly slept: number[] } {
  let now = 1_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('backoffDelay', () => {
  it('doubles from initialMs up to the cap, without jitter', () => {
    const policy = { initialMs: 250, maxMs: 5_000, jitter: 'none' } as const;
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((retry) => backoffDelay(retry, policy))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000,
    ]);
  });

  it('jitters in the upper half of the doubled delay: random 0 gives half, random → 1 the whole', () => {
    const at = (random: number, retry: number) => backoffDelay(retry, { initialMs: 100, maxMs: 2_000, random: () => random });
    expect([at(0, 0), at(0.5, 0), at(0.999, 0)]).toEqual([50, 75, 99.95]);
    expect([at(0, 3), at(0.5, 3), at(0, 10)]).toEqual([400, 600, 1_000]);
  });

  it('rounds to whole milliseconds when asked', () => {
    expect(backoffDelay(0, { initialMs: 1, maxMs: 5, random: () => 0.5, round: true })).toBe(1);
    expect(backoffDelay(2, { initialMs: 1, maxMs: 5, random: () => 0.5, round: true })).toBe(3);
  });

  it('stops the exponent at maxExponent, so a cap above it is never reached', () => {
    expect(backoffDelay(10, { initialMs: 10, maxMs: 1_000_000, jitter: 'none', maxExponent: 3 })).toBe(80);
    expect(backoffDelay(2_000, { initialMs: 10, maxMs: 1_000_000, jitter: 'none', maxExponent: Infinity })).toBe(1_000_000);
  });
});

describe('Backoff', () => {
  it('waits longer after each consecutive failure, on the injected clock, and starts again after a success', async () => {
    const clock = fakeClock();
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.5 }, clock);
    await backoff.wait();
    await backoff.wait();
    await backoff.wait();
    expect(backoff.failures).toBe(3);
    backoff.succeeded();
    expect(backoff.failures).toBe(0);
    expect(await backoff.wait()).toBe(75);
    expect(clock.slept).toEqual([75, 150, 300, 75]);
    expect(clock.now()).toBe(1_000 + 600);
  });

  it('next() counts failures without sleeping', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: 'none' });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([500, 1_000, 2_000]);
    expect(backoff.failures).toBe(3);
  });
});
