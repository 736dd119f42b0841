/**
 * The open positions (size ≠ 0) of each perpetual market, so that work per market — a funding
 * settlement — touches only them and never walks every account (STYLE §27). Kept current at the
 * end of every command from the positions the command touched (every change of a size touches its
 * position: futures-events.ts), and rebuilt when a snapshot is restored.
 */
import type { PerpPosition } from './futures-state.ts';

const SIDE_ORDER = { BOTH: 0, LONG: 1, SHORT: 2 } as const;

export class OpenPositions {
  private readonly byMarket = new Map<string, Set<PerpPosition>>();

  /** after a command: each touched position joins its market's set while open and leaves it when flat */
  update(touched: readonly PerpPosition[]): void {
    for (const position of touched) {
      const symbol = position.market.symbol;
      let open = this.byMarket.get(symbol);
      if (position.sizeLots !== 0) {
        if (open === undefined) this.byMarket.set(symbol, (open = new Set()));
        open.add(position);
      } else open?.delete(position);
    }
  }

  count(symbol: string): number {
    return this.byMarket.get(symbol)?.size ?? 0;
  }

  /**
   * The market's open positions by user id, then leg (BOTH, LONG, SHORT): a fixed order, where the
   * set's own order depends on history (a restored engine must emit the same events in the same order).
   */
  sorted(symbol: string): PerpPosition[] {
    const open = this.byMarket.get(symbol);
    if (open === undefined) return [];
    return [...open].sort((a, b) => a.userId - b.userId || SIDE_ORDER[a.side] - SIDE_ORDER[b.side]);
  }

  clear(): void {
    this.byMarket.clear();
  }
}
