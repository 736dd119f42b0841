/**
 * Margin rules (ARCHITECTURE.md "Perpetual futures", "Margin" and "Positions"): notional, initial and
 * maintenance margin, order reserves, margin balances, isolated margin, fees. Pure functions; money
 * in BigInt KRW (settlement minor units), sizes in signed lots, prices in ticks, rates in 1e-8.
 * Requirements round up, payouts down (README "Rounding").
 */
import { absBig, ceilDiv, floorDiv, maxBig, minBig, truncDiv } from './integer-math.ts';
import { RATE_ONE_1E8, type PerpMarketSpec, type RiskTier, riskTierForNotionalKrw } from './perp-market.ts';
import { ceilDivFast, FAST_LIMIT, floorDivFast, isFast } from './safe-integer-math.ts';

const RATE_ONE = BigInt(RATE_ONE_1E8);
const PPM = 1_000_000n;

/** |size| × price in KRW: lots × ticks × (KRW per tick × lot). BigInt: it can pass 2^53. */
export function notionalKrw(sizeLots: number, priceTicks: number, market: PerpMarketSpec): bigint {
  return absBig(BigInt(sizeLots)) * BigInt(priceTicks) * BigInt(market.quotePerTickLot);
}

/** Initial margin = notional / leverage, rounded up (a requirement). */
export function initialMarginKrw(notional: bigint, leverage: number): bigint {
  return ceilDiv(notional, BigInt(leverage));
}

/** MM = notional × MMR − cum, rounded up, never below 0 (cum continuity keeps it ≥ 0 anyway). */
export function maintenanceMarginKrw(notional: bigint, tier: RiskTier): bigint {
  const mm = ceilDiv(notional * BigInt(tier.maintenanceMarginRate1e8), RATE_ONE) - BigInt(tier.cumKrw);
  return maxBig(mm, 0n);
}

/** MM at the tier the notional itself falls in — what a position at the mark price needs. */
export function maintenanceMarginForNotionalKrw(notional: bigint, market: PerpMarketSpec): bigint {
  return maintenanceMarginKrw(notional, riskTierForNotionalKrw(notional, market));
}

/** The highest leverage the tier of this notional allows (the `/v1/futures/leverage` bound). */
export function maxLeverageForNotional(notional: bigint, market: PerpMarketSpec): number {
  return riskTierForNotionalKrw(notional, market).maxLeverage;
}

/** The fee the cumulative rule charges at most for this notional: floor(rate × notional), as spot. */
export function cumulativeFeeDueKrw(ratePpm: number, cumulativeNotionalKrw: bigint): bigint {
  return floorDiv(BigInt(ratePpm) * cumulativeNotionalKrw, PPM);
}

/**
 * What an order that opens or grows a position reserves: its initial margin at its own price (up)
 * plus its taker fee on that notional. The fee part is floor(taker × notional) — exactly the most
 * the cumulative fee rule can charge the order at that notional, at either rate — so it is enough
 * without over-reserving. `openingLots` is the part of the order that opens or grows (unsigned).
 */
export function orderInitialMarginKrw(openingLots: number, priceTicks: number, leverage: number, market: PerpMarketSpec): bigint {
  const fast = openingMarginFast(openingLots, openingLots, priceTicks, leverage, market);
  if (fast >= 0) return BigInt(fast);
  const notional = notionalKrw(openingLots, priceTicks, market);
  return initialMarginKrw(notional, leverage) + cumulativeFeeDueKrw(market.takerFeePpm, notional);
}

/**
 * A taker fill's margin need before the rest of its order: the initial margin of the `openedLots` it
 * opens plus the taker fee on all its `lots`, at `priceTicks` (FuturesLedger.fillableLots).
 */
export function fillOpeningNeedKrw(openedLots: number, lots: number, priceTicks: number, leverage: number, market: PerpMarketSpec): bigint {
  const fast = openingMarginFast(openedLots, lots, priceTicks, leverage, market);
  if (fast >= 0) return BigInt(fast);
  return (
    initialMarginKrw(notionalKrw(openedLots, priceTicks, market), leverage) +
    cumulativeFeeDueKrw(market.takerFeePpm, notionalKrw(lots, priceTicks, market))
  );
}

/**
 * ceil(|opened| × p × q / leverage) + floor(taker × |feeLots| × p × q / 10^6) in float64 when every
 * product stays ≤ 2^52 (safe-integer-math.ts: then exactly the BigInt result); −1 when not, and the
 * BigInt form runs. Both terms are ≥ 0 for a price ≥ 0 and a fee rate ≥ 0, which the test requires.
 */
function openingMarginFast(openedLots: number, feeLots: number, priceTicks: number, leverage: number, market: PerpMarketSpec): number {
  const perLot = priceTicks * market.quotePerTickLot;
  const opened = Math.abs(openedLots) * perLot;
  const feeScaled = market.takerFeePpm * (Math.abs(feeLots) * perLot);
  if (!(isFast(opened) && isFast(feeScaled) && opened >= 0 && feeScaled >= 0)) return -1;
  if (!(Number.isInteger(leverage) && leverage > 0 && leverage <= FAST_LIMIT)) return -1;
  return ceilDivFast(opened, leverage) + floorDivFast(feeScaled, PPM_NUMBER);
}

const PPM_NUMBER = 1_000_000;

/** maxLeverageForNotional of |size| × price, without a BigInt while the notional stays ≤ 2^52 (the tier rule at placement) */
export function maxLeverageForLotsAt(sizeLots: number, priceTicks: number, market: PerpMarketSpec): number {
  const notional = Math.abs(sizeLots) * priceTicks * market.quotePerTickLot;
  if (isFast(notional)) return riskTierForNotionalKrw(notional, market).maxLeverage;
  return maxLeverageForNotional(notionalKrw(sizeLots, priceTicks, market), market);
}

/** Cross margin balance = wallet + Σ unrealized PnL of cross positions − Σ isolated margins. */
export function crossMarginBalanceKrw(walletKrw: bigint, crossUnrealizedPnlKrw: bigint, isolatedMarginsKrw: bigint): bigint {
  return walletKrw + crossUnrealizedPnlKrw - isolatedMarginsKrw;
}

/** Isolated margin balance = the position's margin + its unrealized PnL. */
export function isolatedMarginBalanceKrw(isolatedMarginKrw: bigint, unrealizedPnlKrw: bigint): bigint {
  return isolatedMarginKrw + unrealizedPnlKrw;
}

/**
 * Available = cross margin balance − cross initial margins − order reserves, never above the
 * wallet. Not clamped at 0: a negative figure says by how much the account is short, and every
 * use compares against it (transfer out, a new order's reserve).
 */
export function availableBalanceKrw(
  walletKrw: bigint,
  crossMarginBalance: bigint,
  crossInitialMarginsKrw: bigint,
  orderReservesKrw: bigint,
): bigint {
  return minBig(crossMarginBalance - crossInitialMarginsKrw - orderReservesKrw, walletKrw);
}

/** Whether a margin balance is liquidatable: balance ≤ its MM (the contract's test, "≤"). */
export function isBelowMaintenance(marginBalanceKrw: bigint, maintenanceKrw: bigint): boolean {
  return marginBalanceKrw <= maintenanceKrw;
}

/** Isolated margin a fill adds when it opens or grows an isolated position: its notional / leverage, up. */
export function isolatedMarginForOpeningKrw(openedLots: number, fillTicks: number, leverage: number, market: PerpMarketSpec): bigint {
  return initialMarginKrw(notionalKrw(openedLots, fillTicks, market), leverage);
}

/** Isolated margin a reducing fill releases: the same fraction as the size it closes, truncated (the rest stays in the position). */
export function isolatedMarginRelease(isolatedMarginKrw: bigint, sizeLots: number, closedLots: number): bigint {
  return truncDiv(isolatedMarginKrw * BigInt(closedLots), absBig(BigInt(sizeLots)));
}

/**
 * The most isolated margin a user may remove: the position must stay at or above its initial
 * margin at the mark, counting losses but not unrealized profit (profit is not money yet). 0 when
 * nothing can go; never more than the margin itself.
 */
export function isolatedMarginRemovableKrw(isolatedMarginKrw: bigint, unrealizedPnlKrw: bigint, initialMarginAtMarkKrw: bigint): bigint {
  const headroom = isolatedMarginKrw + minBig(unrealizedPnlKrw, 0n) - initialMarginAtMarkKrw;
  return minBig(maxBig(headroom, 0n), isolatedMarginKrw);
}
