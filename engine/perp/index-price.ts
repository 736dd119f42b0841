/**
 * Index price (ARCHITECTURE.md "Perpetual futures", "Index and mark price"): the median of the
 * oracle sources updated within the last 60 s; mark price = index price.
 */

/** A source is fresh while its last update is at most this old (inclusive: "within the last 60 s"). */
export const INDEX_SOURCE_FRESH_MS = 60_000;

/** The built-in source's name: the same-named spot market, read at each price tick; an oracle may not feed it. */
export const SPOT_SOURCE = 'spot';

export interface IndexSource {
  readonly source: string;
  readonly priceTicks: number;
  readonly updatedAtMs: number;
}

export interface IndexPrice {
  /** undefined until some source has ever been fresh */
  readonly priceTicks: number | undefined;
  readonly stale: boolean;
  readonly freshSources: number;
}

/**
 * Median of the fresh sources' prices; an even count takes the mean of the two middle ones,
 * rounded down to a tick. With none fresh the index keeps `previousTicks` and is stale.
 */
export function indexPriceTicks(sources: readonly IndexSource[], nowMs: number, previousTicks: number | undefined): IndexPrice {
  const fresh = sources
    .filter((source) => nowMs - source.updatedAtMs <= INDEX_SOURCE_FRESH_MS)
    .map((source) => source.priceTicks)
    .sort((a, b) => a - b);
  if (fresh.length === 0) return { priceTicks: previousTicks, stale: true, freshSources: 0 };
  const middle = fresh.length >> 1;
  const upper = fresh[middle]!;
  const priceTicks = fresh.length % 2 === 1 ? upper : halfSumFloor(fresh[middle - 1]!, upper);
  return { priceTicks, stale: false, freshSources: fresh.length };
}

/**
 * The built-in `spot` source: the spot market's mid when both sides exist (rounded down to a
 * tick, as the even median is), else its last trade, else nothing to report.
 */
export function spotSourcePriceTicks(
  bestBidTicks: number | undefined,
  bestAskTicks: number | undefined,
  lastTradeTicks: number | undefined,
): number | undefined {
  if (bestBidTicks !== undefined && bestAskTicks !== undefined) return halfSumFloor(bestBidTicks, bestAskTicks);
  return lastTradeTicks;
}

/** floor((a + b) / 2) for non-negative safe integers, without forming a + b. */
function halfSumFloor(a: number, b: number): number {
  return Math.floor(a / 2) + Math.floor(b / 2) + (a % 2 === 1 && b % 2 === 1 ? 1 : 0);
}
