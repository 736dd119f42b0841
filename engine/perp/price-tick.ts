/**
 * The journaled price tick (issue 19; ARCHITECTURE.md "Index and mark price", "Funding"). For each
 * perpetual market, in config order:
 *   1. the built-in `spot` source takes the same-named spot market's price (its mid when both sides
 *      exist, else its last trade; index-price.ts spotSourcePriceTicks), stamped with the tick's time;
 *   2. the index (= mark) is re-taken: the median of the sources fresh at the tick;
 *   3. a premium sample is taken from the perpetual's own book (impact prices of 10,000,000 KRW,
 *      reading only the levels that depth needs) while the index is fresh;
 *   4. when the funding time has been reached, funding is settled at the mark with the rate of the
 *      interval's samples (funding-settlement.ts), and the next funding time is set;
 *   5. MarkPrice is emitted when its figures differ from the market's previous one.
 * Then `marksMoved` is called once with the markets whose mark moved or that settled funding (their
 * margins moved): the liquidation and TP/SL hooks follow. Nothing here visits positions except a
 * settlement, which visits only the market's open ones: a tick that settles nothing costs the same
 * however many positions exist.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Book, BookSide } from '../matching/book.ts';
import type { PriceTickCommand } from '../types.ts';
import { isNonNegativeSafe } from '../validation.ts';
import type { FuturesCommands } from './futures-commands.ts';
import type { FuturesState, MarkState } from './futures-state.ts';
import type { FundingSettlement } from './funding-settlement.ts';
import {
  IMPACT_NOTIONAL_KRW,
  impactPriceTicks,
  meanPremiumOfSum1e8,
  fundingRate1e8,
  nextFundingTimeMs,
  premiumSample1e8,
  type BookLevel,
} from './funding-rules.ts';
import { indexPriceTicks, SPOT_SOURCE, spotSourcePriceTicks } from './index-price.ts';
import type { MarketFunding } from './market-funding.ts';
import type { PerpMarketSpec } from './perp-market.ts';

export class PriceTicks {
  constructor(
    private readonly state: FuturesState,
    private readonly books: ReadonlyMap<string, Book>,
    private readonly commands: FuturesCommands,
    private readonly settlement: FundingSettlement,
    private readonly events: CommandEvents,
  ) {}

  tick(command: PriceTickCommand): void {
    const now = command.timestamp;
    if (!isNonNegativeSafe(now)) return this.events.reject('INVALID_TIMESTAMP', command, undefined);
    const moved: string[] = [];
    for (const mark of this.state.marks.values()) {
      const market = mark.market;
      const funding = this.state.funding.get(market.symbol)!;
      const before = mark.markTicks;
      this.takeSpotSource(mark, now);
      const index = indexPriceTicks([...mark.sources.values()], now, mark.indexTicks);
      mark.indexTicks = index.priceTicks;
      mark.stale = index.stale;
      funding.nextFundingTimeMs ??= nextFundingTimeMs(now, market.fundingIntervalMs);
      if (!index.stale && index.priceTicks !== undefined && index.priceTicks > 0)
        funding.addSample(this.premiumSample1e8(market, index.priceTicks));
      const settled = now >= funding.nextFundingTimeMs && this.settleFunding(market, mark, funding, now);
      this.publish(mark, funding);
      if (settled || mark.markTicks !== before) moved.push(market.symbol);
    }
    if (moved.length > 0) this.commands.marksMoved(moved);
  }

  /**
   * The spot source counts as updated at every tick where the spot market has a price: it is the
   * engine's own book, current by construction; with neither both sides nor a trade it says nothing
   * and ages like an oracle that went quiet.
   */
  private takeSpotSource(mark: MarkState, now: number): void {
    const spot = this.books.get(mark.market.indexSpotSymbol);
    if (spot === undefined) return;
    const price = spotSourcePriceTicks(spot.bids.best()?.price, spot.asks.best()?.price, spot.lastPrice > 0 ? spot.lastPrice : undefined);
    if (price === undefined || price <= 0) return;
    mark.sources.set(SPOT_SOURCE, { source: SPOT_SOURCE, priceTicks: price, updatedAtMs: now });
  }

  private premiumSample1e8(market: PerpMarketSpec, indexTicks: number): bigint {
    const book = this.books.get(market.symbol)!;
    const impactBid = impactPriceTicks(impactLevels(book.bids, market), market);
    const impactAsk = impactPriceTicks(impactLevels(book.asks, market), market);
    return premiumSample1e8(impactBid, impactAsk, indexTicks);
  }

  /**
   * One settlement per tick that reaches the funding time, with the samples gathered since the
   * last one (funding times the core slept through are not paid one by one: their samples were
   * never taken). Without a mark there is nothing to pay at (and no position can exist).
   */
  private settleFunding(market: PerpMarketSpec, mark: MarkState, funding: MarketFunding, now: number): boolean {
    const rate = fundingRate1e8(meanPremiumOfSum1e8(funding.sampleSum1e8, funding.sampleCount));
    const markTicks = mark.markTicks;
    if (markTicks !== undefined) this.settlement.settle(market, markTicks, rate);
    funding.startInterval(rate, nextFundingTimeMs(now, market.fundingIntervalMs));
    return markTicks !== undefined;
  }

  private publish(mark: MarkState, funding: MarketFunding): void {
    const markTicks = mark.markTicks;
    const indexTicks = mark.indexTicks;
    const next = funding.nextFundingTimeMs;
    if (markTicks === undefined || indexTicks === undefined || next === undefined) return;
    const estimated = funding.estimatedRate1e8();
    const last = funding.published;
    if (
      last !== undefined &&
      last.markTicks === markTicks &&
      last.indexTicks === indexTicks &&
      last.estimatedFundingRate1e8 === estimated &&
      last.nextFundingTimeMs === next
    )
      return;
    funding.published = { markTicks, indexTicks, estimatedFundingRate1e8: estimated, nextFundingTimeMs: next };
    const events = this.events;
    events.emit({
      type: 'MarkPrice',
      seq: ++events.seq,
      timestamp: events.timestamp,
      symbol: mark.market.symbol,
      markPrice: markTicks,
      indexPrice: indexTicks,
      estimatedFundingRate1e8: estimated,
      nextFundingTime: next,
    });
  }
}

/**
 * The side's levels, best first, up to the first one that completes IMPACT_NOTIONAL_KRW: the walk
 * stops there, so a deep book costs no more than the levels the impact price needs.
 */
function impactLevels(side: BookSide, market: PerpMarketSpec): BookLevel[] {
  const levels: BookLevel[] = [];
  const perTickLot = BigInt(market.quotePerTickLot);
  const sorted = side.sorted; // worst → best
  let krw = 0n;
  for (let index = sorted.length - 1; index >= 0 && krw < IMPACT_NOTIONAL_KRW; index--) {
    const level = sorted[index]!;
    levels.push({ priceTicks: level.price, lots: level.total });
    krw += BigInt(level.total) * BigInt(level.price) * perTickLot;
  }
  return levels;
}
