/**
 * OpenPositions (open-positions.ts): the settlement order — user id, then leg BOTH, LONG, SHORT —
 * whatever order positions opened in, through the packed numeric sort and, for user ids too large
 * to pack, the comparator sort; a flat position leaves.
 */
import { describe, expect, it } from 'vitest';
import { FuturesAccount } from './futures-state.ts';
import { OpenPositions } from './open-positions.ts';
import { BTC_KRW_PERP, ETH_KRW_PERP } from './perp-market.ts';
import type { PositionSide } from '../types.ts';

const opened = (userId: number, side: PositionSide, market = BTC_KRW_PERP) => {
  const position = new FuturesAccount(userId).position(market, side);
  position.sizeLots = side === 'SHORT' ? -1 : 1;
  return position;
};
const order = (open: OpenPositions): string[] => open.sorted(BTC_KRW_PERP.symbol).map((p) => `${p.userId} ${p.side}`);

describe('OpenPositions.sorted', () => {
  it('lists by user id then leg, not in the order they opened', () => {
    const open = new OpenPositions();
    open.update([
      opened(7, 'SHORT'),
      opened(3, 'BOTH'),
      opened(7, 'LONG'),
      opened(12, 'BOTH'),
      opened(1, 'LONG'),
      opened(5, 'BOTH', ETH_KRW_PERP),
    ]);
    expect(order(open)).toEqual(['1 LONG', '3 BOTH', '7 LONG', '7 SHORT', '12 BOTH']);
  });

  it('gives the same order for user ids too large to pack into one number (comparator sort)', () => {
    const big = Number.MAX_SAFE_INTEGER - 10; // (id·3 + leg)·n is beyond 2^53
    const open = new OpenPositions();
    open.update([opened(big, 'SHORT'), opened(2, 'BOTH'), opened(big, 'LONG'), opened(big - 1, 'BOTH')]);
    expect(order(open)).toEqual(['2 BOTH', `${big - 1} BOTH`, `${big} LONG`, `${big} SHORT`]);
  });

  it('drops a position that went flat', () => {
    const open = new OpenPositions();
    const a = opened(4, 'BOTH');
    const b = opened(2, 'BOTH');
    open.update([a, b]);
    a.sizeLots = 0;
    open.update([a]);
    expect(order(open)).toEqual(['2 BOTH']);
    expect(open.count(BTC_KRW_PERP.symbol)).toBe(1);
  });
});
