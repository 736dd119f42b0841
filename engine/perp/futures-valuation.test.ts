/**
 * crossMarginBalanceOf (futures-valuation.ts) is accountFigures(…).crossMarginBalanceKrw without the
 * rest: compared for every account along bench:futures' stream (cross and isolated, leverage 2–20,
 * positions opening, flipping and closing, the marks moving), before and after availableBalanceOf
 * has noted each position's value (the memo it reuses).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../index.ts';
import { freshEngine, futuresSetUp, generate, PERP_MARKETS } from '../../ops/bench/engine-stream.ts';
import { accountFigures, availableBalanceOf, crossMarginBalanceOf } from './futures-valuation.ts';

describe('crossMarginBalanceOf', () => {
  it('equals accountFigures(…).crossMarginBalanceKrw for every account along the bench stream', () => {
    const engine = freshEngine(DEFAULT_ENGINE_CONFIG);
    for (const command of futuresSetUp(3)) engine.apply(command);
    const commands = generate(6_000, 3, PERP_MARKETS);
    let compared = 0;
    for (let index = 0; index < commands.length; index++) {
      engine.apply(commands[index]!);
      if (index % 500 !== 499) continue;
      const { accounts, marks } = engine.futures;
      for (const account of accounts.values()) {
        const expected = accountFigures(account, 'KRW', marks).crossMarginBalanceKrw;
        expect(crossMarginBalanceOf(account, 'KRW', marks)).toBe(expected);
        availableBalanceOf(account, 'KRW', marks);
        expect(crossMarginBalanceOf(account, 'KRW', marks)).toBe(expected);
        if (account.legs.some((position) => position.sizeLots !== 0)) compared++;
      }
    }
    expect(compared).toBeGreaterThan(1_000);
  });
});
