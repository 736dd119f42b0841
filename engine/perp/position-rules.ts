/**
 * Position rules (ARCHITECTURE.md "Perpetual futures", "Positions"): a position is a signed size in
 * lots and a signed cost in KRW — cost = Σ fill price × signed quantity, exact, so a long's cost is
 * positive and a short's negative. Reducing removes a truncated share of the cost and realizes the
 * difference; everything else (entry price, PnL) is derived from size and cost.
 */
import { absBig, floorDiv, signBig, truncDiv } from './integer-math.ts';
import type { PerpMarketSpec } from './perp-market.ts';
import { FAST_LIMIT, isFast, truncDivFast } from './safe-integer-math.ts';

export interface PositionAmounts {
  /** signed lots: > 0 long, < 0 short */
  readonly sizeLots: number;
  /** signed KRW, same sign as the size (0 when flat) */
  readonly costKrw: bigint;
}

export const FLAT_POSITION: PositionAmounts = { sizeLots: 0, costKrw: 0n };

/** Signed KRW value of `sizeLots` at `priceTicks`: what the cost would be if bought/sold there. */
export function signedValueKrw(sizeLots: number, priceTicks: number, market: PerpMarketSpec): bigint {
  const value = sizeLots * priceTicks * market.quotePerTickLot;
  if (isFast(value)) return BigInt(value); // exact below 2^52 (safe-integer-math.ts): one BigInt instead of five
  return BigInt(sizeLots) * BigInt(priceTicks) * BigInt(market.quotePerTickLot);
}

/** size × mark − cost: a long gains as the mark rises, a short (size and cost < 0) as it falls. */
export function unrealizedPnlKrw(position: PositionAmounts, markTicks: number, market: PerpMarketSpec): bigint {
  return signedValueKrw(position.sizeLots, markTicks, market) - position.costKrw;
}

/** cost / size in ticks, to the nearest tick, half up (display only; the cost stays exact). Undefined when flat. */
export function entryPriceTicks(position: PositionAmounts, market: PerpMarketSpec): number | undefined {
  if (position.sizeLots === 0) return undefined;
  // cost and size share a sign, so the quotient is ≥ 0: floor((2·|cost| + d) / 2d), d = |size| × quotePerTickLot
  const denominator = absBig(BigInt(position.sizeLots)) * BigInt(market.quotePerTickLot);
  return Number(floorDiv(2n * absBig(position.costKrw) + denominator, 2n * denominator));
}

/** The cost a reduction of `closedLots` (unsigned, ≤ |size|) removes: trunc(cost × closed / |size|), signed like cost. */
export function reduceCost(costKrw: bigint, sizeLots: number, closedLots: number): bigint {
  if (costKrw <= FAST_LIMIT && costKrw >= -FAST_LIMIT) {
    const scaled = Number(costKrw) * closedLots;
    const size = Math.abs(sizeLots);
    if (isFast(scaled) && Number.isInteger(size) && size > 0 && size <= FAST_LIMIT) return BigInt(truncDivFast(scaled, size));
  }
  return truncDiv(costKrw * BigInt(closedLots), absBig(BigInt(sizeLots)));
}

/**
 * PnL a reduction realizes: closed × fill price − removed cost, signs per side. For a long
 * (`sizeLots` > 0) that is closed × price − removed; for a short it is |removed| − closed × price —
 * one formula with the size's sign: sign(size) × closed × price × KRW per tick·lot − removed.
 */
export function realizedPnlKrw(
  sizeLots: number,
  closedLots: number,
  fillTicks: number,
  removedCostKrw: bigint,
  market: PerpMarketSpec,
): bigint {
  const value = Math.sign(sizeLots) * closedLots * fillTicks * market.quotePerTickLot;
  if (isFast(value)) return BigInt(value) - removedCostKrw;
  return signBig(BigInt(sizeLots)) * BigInt(closedLots) * BigInt(fillTicks) * BigInt(market.quotePerTickLot) - removedCostKrw;
}

export interface FillOutcome {
  readonly position: PositionAmounts;
  /** lots of the old position the fill closed (unsigned) */
  readonly closedLots: number;
  /** lots the fill opened or grew, in its own direction (unsigned); after a flip, the new side's size */
  readonly openedLots: number;
  readonly removedCostKrw: bigint;
  readonly realizedPnlKrw: bigint;
}

/**
 * One fill on a one-way position (hedge mode's LONG/SHORT legs are one-way positions that never
 * flip). A fill against the position closes up to its size first; whatever is left opens the
 * other side at the fill price (a flip). `fillLots` is signed: > 0 bought, < 0 sold.
 */
export function applyFill(position: PositionAmounts, fillLots: number, fillTicks: number, market: PerpMarketSpec): FillOutcome {
  const { sizeLots, costKrw } = position;
  const sameDirection = sizeLots === 0 || Math.sign(sizeLots) === Math.sign(fillLots);
  if (sameDirection) {
    return {
      position: { sizeLots: sizeLots + fillLots, costKrw: costKrw + signedValueKrw(fillLots, fillTicks, market) },
      closedLots: 0,
      openedLots: Math.abs(fillLots),
      removedCostKrw: 0n,
      realizedPnlKrw: 0n,
    };
  }
  const closedLots = Math.min(Math.abs(fillLots), Math.abs(sizeLots));
  const removedCostKrw = reduceCost(costKrw, sizeLots, closedLots);
  const realized = realizedPnlKrw(sizeLots, closedLots, fillTicks, removedCostKrw, market);
  const openedLots = Math.abs(fillLots) - closedLots;
  const remainingLots = sizeLots + Math.sign(fillLots) * closedLots;
  const next: PositionAmounts =
    openedLots > 0
      ? { sizeLots: Math.sign(fillLots) * openedLots, costKrw: signedValueKrw(Math.sign(fillLots) * openedLots, fillTicks, market) }
      : { sizeLots: remainingLots, costKrw: costKrw - removedCostKrw };
  return { position: next, closedLots, openedLots, removedCostKrw, realizedPnlKrw: realized };
}
