/**
 * Which positions a mark move can liquidate, without looking at the others (issue 19: a mark move
 * over 100,000 open positions with nothing to liquidate must not scan them). Per perpetual market:
 *
 *  - a heap of longs by liquidation price (highest first) and one of shorts (lowest first), for
 *    every isolated position and for every cross position that is its account's only open cross
 *    position in that settlement asset. Their liquidation price is exact (README decisions 6 and 8)
 *    and, for those, depends on nothing a mark move changes: an isolated position's margin is its
 *    own, and a lone cross position's threshold (crossLiquidationPriceTicks with no other position)
 *    depends only on the wallet and the isolated margins. "mark ≤ LP" (long) is then exactly
 *    "margin balance ≤ MM", so a mark move pops only the entries it crosses: O(1) when none.
 *  - the accounts with two or more open cross positions (several markets, or both hedge legs):
 *    their threshold in one market moves with the marks of the others, so instead of re-indexing
 *    them at every other mark they are "watched" in each market they hold and checked directly
 *    (margin balance against MM) whenever one of those marks moves — a cost per mark move of the
 *    number of such accounts in that market, never of all positions.
 *  - the set of open positions (the candidates of auto-deleveraging).
 *
 * Entries are refreshed (reindex) for every account a command touched, at the end of the command,
 * and whenever a popped entry turns out not to liquidate. A heap entry is never removed in place:
 * it is marked dead and skipped when it reaches the top; the heap is rebuilt from its live
 * entries once dead ones outnumber them. Derived state: rebuilt from the positions after a
 * restore, not in the snapshot.
 */
import type { FuturesAccount, FuturesState, PerpPosition } from './futures-state.ts';
import { crossMarginBalanceOf } from './futures-valuation.ts';
import { crossLiquidationPriceTicks, liquidationPriceTicks } from './liquidation-prices.ts';

interface Entry {
  readonly position: PerpPosition;
  readonly priceTicks: number;
  /** the heap it is filed in (a long's or a short's) */
  readonly heap: PriceHeap;
  live: boolean;
}

/** A binary heap of entries by liquidation price: the top is the one the next mark move reaches first. */
class PriceHeap {
  private readonly items: Entry[] = [];
  private liveCount = 0;

  /** `highestFirst` for longs (liquidated as the mark falls to them), lowest first for shorts */
  constructor(private readonly highestFirst: boolean) {}

  private before(a: Entry, b: Entry): boolean {
    return this.highestFirst ? a.priceTicks > b.priceTicks : a.priceTicks < b.priceTicks;
  }

  push(entry: Entry): void {
    const items = this.items;
    items.push(entry);
    this.liveCount++;
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(items[index]!, items[parent]!)) break;
      [items[index], items[parent]] = [items[parent]!, items[index]!];
      index = parent;
    }
  }

  kill(entry: Entry): void {
    if (!entry.live) return;
    entry.live = false;
    this.liveCount--;
    if (this.items.length > 1024 && this.items.length > 4 * this.liveCount) this.compact();
  }

  /** the live top, dead entries above it dropped */
  peek(): Entry | undefined {
    const items = this.items;
    while (items.length > 0 && !items[0]!.live) this.popTop();
    return items[0];
  }

  /** removes and returns the live top (peek first) */
  pop(): Entry | undefined {
    const top = this.peek();
    if (top === undefined) return undefined;
    this.popTop();
    top.live = false;
    this.liveCount--;
    return top;
  }

  private popTop(): void {
    const items = this.items;
    const last = items.pop()!;
    if (items.length === 0) return;
    items[0] = last;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const items = this.items;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) return;
      const right = left + 1;
      const child = right < items.length && this.before(items[right]!, items[left]!) ? right : left;
      if (!this.before(items[child]!, items[index]!)) return;
      [items[index], items[child]] = [items[child]!, items[index]!];
      index = child;
    }
  }

  private compact(): void {
    const live = this.items.filter((entry) => entry.live);
    this.items.length = 0;
    this.items.push(...live);
    for (let index = (live.length >> 1) - 1; index >= 0; index--) this.siftDown(index);
  }
}

class MarketIndex {
  readonly longs = new PriceHeap(true);
  readonly shorts = new PriceHeap(false);
  /** every open position of the market (ADL candidates) */
  readonly open = new Set<PerpPosition>();
  /** accounts with two or more open cross positions, one of them here: checked at each mark move */
  readonly watched = new Set<FuturesAccount>();
}

/** What a mark move reaches: positions whose liquidation price it crossed, accounts to check whole. */
export interface MarkMoveCandidates {
  readonly positions: PerpPosition[];
  readonly accounts: FuturesAccount[];
}

export class LiquidationIndex {
  private readonly markets = new Map<string, MarketIndex>();
  private readonly entries = new Map<PerpPosition, Entry>();
  /** the markets a watched account is watched in */
  private readonly watching = new Map<FuturesAccount, string[]>();

  constructor(private readonly state: FuturesState) {
    for (const symbol of state.markets.keys()) this.markets.set(symbol, new MarketIndex());
  }

  /** The open positions of a market (auto-deleveraging's candidates), in no particular order. */
  openPositions(symbol: string): ReadonlySet<PerpPosition> {
    return this.markets.get(symbol)!.open;
  }

  /**
   * Re-takes the entries of an account's positions in one settlement asset (after anything moved
   * them). Answers whether the account may need the liquidation check now: an entry the current
   * mark already reaches, a watched account (checked directly), or no cross position and a cross
   * balance (wallet − isolated margins) below 0 — so the end-of-command check of an untroubled
   * account costs this re-index alone.
   */
  reindex(account: FuturesAccount, asset: string): boolean {
    const state = this.state;
    const cross: PerpPosition[] = [];
    let reached = false;
    let isolatedMargins = 0n;
    for (const position of account.positions.values()) {
      const market = position.market;
      if (market.settlementAsset !== asset) continue;
      isolatedMargins += position.isolatedMarginKrw;
      const index = this.markets.get(market.symbol)!;
      if (position.sizeLots === 0) {
        this.drop(position);
        index.open.delete(position);
        continue;
      }
      index.open.add(position);
      if (account.settingsOf(market.symbol).marginType === 'CROSS') {
        cross.push(position); // dropped below unless it is the lone one and keeps its price
        continue;
      }
      if (this.file(position, liquidationPriceTicks(position, position.isolatedMarginKrw, market))) reached = true;
    }
    this.unwatch(account);
    if (cross.length === 1) {
      const position = cross[0]!;
      const mark = state.marks.get(position.market.symbol)!.markTicks;
      if (mark === undefined) {
        this.drop(position);
        return reached;
      }
      const balance = crossMarginBalanceOf(account, asset, state.marks);
      if (this.file(position, crossLiquidationPriceTicks(position, balance, mark, 0n, position.market))) reached = true;
    } else if (cross.length > 1) {
      for (const position of cross) this.drop(position);
      const symbols = [...new Set(cross.map((position) => position.market.symbol))];
      for (const symbol of symbols) this.markets.get(symbol)!.watched.add(account);
      this.watching.set(account, symbols);
      reached = true;
    } else if (account.wallet(asset) < isolatedMargins) reached = true;
    return reached;
  }

  /**
   * Takes out of the index what a mark of `markTicks` in `symbol` may liquidate: the heap entries
   * it reached (re-added by reindex if they survive) and the watched accounts (which stay watched).
   */
  reachedBy(symbol: string, markTicks: number): MarkMoveCandidates {
    const index = this.markets.get(symbol)!;
    const positions: PerpPosition[] = [];
    for (let top = index.longs.peek(); top !== undefined && top.priceTicks >= markTicks; top = index.longs.peek()) {
      index.longs.pop();
      this.entries.delete(top.position);
      positions.push(top.position);
    }
    for (let top = index.shorts.peek(); top !== undefined && top.priceTicks <= markTicks; top = index.shorts.peek()) {
      index.shorts.pop();
      this.entries.delete(top.position);
      positions.push(top.position);
    }
    return { positions, accounts: [...index.watched] };
  }

  /** Everything from the positions (after a restore, or to check the incremental index in tests). */
  rebuild(): void {
    for (const index of this.markets.values()) index.open.clear();
    for (const account of this.state.accounts.values())
      for (const asset of this.state.settlementAssets) if (account.positions.size > 0) this.reindex(account, asset);
  }

  /** the liquidation price an entry holds for the position (tests) */
  indexedPriceTicks(position: PerpPosition): number | undefined {
    return this.entries.get(position)?.priceTicks;
  }

  isWatched(account: FuturesAccount): boolean {
    return this.watching.has(account);
  }

  /**
   * add, unless the position's live entry already holds that price in the right heap (most re-indexes
   * after a fill elsewhere in the account): then it stays, without a heap push and a dead entry.
   * Which entries a mark move pops does not depend on their order in the heap (reachedBy's callers
   * sort what it returns), so keeping an entry changes nothing but the work.
   */
  private file(position: PerpPosition, priceTicks: number | undefined): boolean {
    const entry = this.entries.get(position);
    if (entry !== undefined) {
      const index = this.markets.get(position.market.symbol)!;
      const long = position.sizeLots > 0;
      if (priceTicks !== undefined && entry.priceTicks === priceTicks && entry.heap === (long ? index.longs : index.shorts)) {
        const mark = this.state.marks.get(position.market.symbol)!.markTicks;
        return mark !== undefined && (long ? mark <= priceTicks : mark >= priceTicks);
      }
      this.drop(position);
    }
    return this.add(position, priceTicks);
  }

  /** files the position at its liquidation price; answers whether the current mark already reaches it */
  private add(position: PerpPosition, priceTicks: number | undefined): boolean {
    if (priceTicks === undefined) return false; // a long no mark ≥ 0 liquidates
    const index = this.markets.get(position.market.symbol)!;
    const long = position.sizeLots > 0;
    const entry: Entry = { position, priceTicks, heap: long ? index.longs : index.shorts, live: true };
    this.entries.set(position, entry);
    entry.heap.push(entry);
    const mark = this.state.marks.get(position.market.symbol)!.markTicks;
    return mark !== undefined && (long ? mark <= priceTicks : mark >= priceTicks);
  }

  private drop(position: PerpPosition): void {
    const entry = this.entries.get(position);
    if (entry === undefined) return;
    this.entries.delete(position);
    entry.heap.kill(entry);
  }

  private unwatch(account: FuturesAccount): void {
    const symbols = this.watching.get(account);
    if (symbols === undefined) return;
    for (const symbol of symbols) this.markets.get(symbol)!.watched.delete(account);
    this.watching.delete(account);
  }
}
