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
    const positions = [...open];
    return sortedByNumber(positions) ?? positions.sort((a, b) => a.userId - b.userId || SIDE_ORDER[a.side] - SIDE_ORDER[b.side]);
  }

  clear(): void {
    this.byMarket.clear();
  }
}

/**
 * The same order through a Float64Array's numeric sort (native, no comparator calls: a settlement
 * sorts 100,000 positions): each position as (userId·3 + leg)·n + its index, unique and exact while
 * below 2^53 — the index breaks ties as the stable sort above would. Undefined when a key is too
 * large to pack (then the comparator sort runs).
 */
function sortedByNumber(positions: readonly PerpPosition[]): PerpPosition[] | undefined {
  const count = positions.length;
  const keys = new Float64Array(count);
  for (let at = 0; at < count; at++) {
    const position = positions[at]!;
    const key = (position.userId * 3 + SIDE_ORDER[position.side]) * count + at;
    if (!(key <= Number.MAX_SAFE_INTEGER && position.userId >= 0)) return undefined;
    keys[at] = key;
  }
  keys.sort();
  const sorted = new Array<PerpPosition>(count);
  for (let at = 0; at < count; at++) sorted[at] = positions[keys[at]! % count]!;
  return sorted;
}
