/**
 * Bankruptcy and liquidation prices (ARCHITECTURE.md "Perpetual futures", "Liquidation"), for an
 * isolated position and for a cross one. Both are integer tick thresholds found with the very
 * margin arithmetic the liquidation check uses (margin-rules), so "mark ≤ liquidation price" (a
 * long) or "≥" (a short) is exactly "margin balance ≤ MM" at that mark — an index of positions by
 * liquidation price can trust it. README "Decisions" says why each is defined as it is.
 *
 * `marginKrw` below is the margin the position owns apart from its unrealized PnL: its isolated
 * margin, or for a cross position what the account attributes to it (see the cross functions).
 * Its margin balance at mark t is marginKrw + size × t − cost.
 */
import { absBig, ceilDiv, floorDiv, ticksToNumber } from './integer-math.ts';
import { maintenanceMarginForNotionalKrw } from './margin-rules.ts';
import { riskTierForNotionalKrw, type PerpMarketSpec } from './perp-market.ts';
import { type PositionAmounts, unrealizedPnlKrw } from './position-rules.ts';
import { ceilDivFast, FAST_LIMIT, floorDivFast, isFast } from './safe-integer-math.ts';

function marginBalanceAtKrw(position: PositionAmounts, marginKrw: bigint, ticks: bigint, market: PerpMarketSpec): bigint {
  return marginKrw + BigInt(position.sizeLots) * ticks * BigInt(market.quotePerTickLot) - position.costKrw;
}

function liquidatableAt(position: PositionAmounts, marginKrw: bigint, ticks: bigint, market: PerpMarketSpec): boolean {
  const notional = absBig(BigInt(position.sizeLots)) * ticks * BigInt(market.quotePerTickLot);
  return marginBalanceAtKrw(position, marginKrw, ticks, market) <= maintenanceMarginForNotionalKrw(notional, market);
}

const RATE_ONE_NUMBER = 100_000_000;

/**
 * liquidatableAt in float64 (safe-integer-math.ts), for the gallops below: exact while the value,
 * MM's two scaled parts and margin + value stay within ±2^52 (then margin + value − cost is exact too); undefined
 * beyond, and the BigInt form answers. `marginKrw` and `costKrw` are the BigInt figures as numbers
 * (the caller checked they are within ±2^52). The end-of-command re-index gallops ~30 ticks per
 * touched position: this keeps them off BigInt.
 */
function liquidatableAtFast(
  sizeLots: number,
  costKrw: number,
  marginKrw: number,
  ticks: number,
  market: PerpMarketSpec,
): boolean | undefined {
  const value = sizeLots * ticks * market.quotePerTickLot;
  if (!isFast(value)) return undefined;
  const notional = value < 0 ? -value : value;
  const tier = riskTierForNotionalKrw(notional, market);
  // ceil(notional × MMR / 10^8) with notional = whole × 10^8 + part: whole × MMR + ceil(part × MMR / 10^8),
  // so that a large notional (a cross short's gallop reaches 10^11 ticks) does not leave the fast path
  const rate = tier.maintenanceMarginRate1e8;
  const whole = floorDivFast(notional, RATE_ONE_NUMBER);
  const wholeScaled = whole * rate;
  const partScaled = (notional - whole * RATE_ONE_NUMBER) * rate;
  if (!(isFast(wholeScaled) && isFast(partScaled))) return undefined;
  const maintenance = Math.max(wholeScaled + ceilDivFast(partScaled, RATE_ONE_NUMBER) - tier.cumKrw, 0);
  const withValue = marginKrw + value;
  if (!isFast(withValue)) return undefined;
  return withValue - costKrw <= maintenance;
}

/** holds(t) of the gallops: liquidatableAt, through its float64 form when the figures allow it */
function liquidatableTest(position: PositionAmounts, marginKrw: bigint, market: PerpMarketSpec): (ticks: bigint) => boolean {
  const cost = position.costKrw;
  const fast = marginKrw <= FAST_LIMIT && marginKrw >= -FAST_LIMIT && cost <= FAST_LIMIT && cost >= -FAST_LIMIT;
  const marginNumber = Number(marginKrw);
  const costNumber = Number(cost);
  const sizeLots = position.sizeLots;
  return (ticks: bigint): boolean => {
    if (fast && ticks <= FAST_LIMIT && ticks >= -FAST_LIMIT) {
      const answer = liquidatableAtFast(sizeLots, costNumber, marginNumber, Number(ticks), market);
      if (answer !== undefined) return answer;
    }
    return liquidatableAt(position, marginKrw, ticks, market);
  };
}

/**
 * Bankruptcy price: where the margin balance is 0. A long's liquidation sells no lower than it, a
 * short's buys no higher, so it rounds towards the side that keeps the balance ≥ 0 — up for a long
 * (the smallest tick with balance ≥ 0), down for a short (the largest) — and a fill at it never
 * leaves a loss for the insurance fund. Never below 0 (a long backed by its full cost or more
 * cannot go bankrupt: 0). Undefined when flat.
 */
export function bankruptcyPriceTicks(position: PositionAmounts, marginKrw: bigint, market: PerpMarketSpec): number | undefined {
  const size = BigInt(position.sizeLots);
  if (size === 0n) return undefined;
  const perTick = absBig(size) * BigInt(market.quotePerTickLot);
  // long: margin + |s|·t·q − cost ≥ 0 ⇔ t ≥ (cost − margin) / (|s|·q)
  // short: margin + |cost| − |s|·t·q ≥ 0 ⇔ t ≤ (margin + |cost|) / (|s|·q)
  const ticks = size > 0n ? ceilDiv(position.costKrw - marginKrw, perTick) : floorDiv(marginKrw - position.costKrw, perTick);
  return ticksToNumber(ticks < 0n ? 0n : ticks);
}

/**
 * Liquidation price: for a long the highest mark (ticks) at which margin balance ≤ MM, for a short
 * the lowest; undefined when flat or when no mark ≥ 0 liquidates it (a long at ≤ 1× leverage).
 * The tier is the one of the notional at that price, as the check itself would use.
 *
 * Margin balance − MM is monotonic in the mark (MM's slope is MMR < 1 per KRW of notional and is
 * continuous at tier edges through cum; the ceiling moves it by < 1 KRW, less than one tick of
 * value), so the threshold is found by galloping from the bankruptcy price, which is near it.
 */
export function liquidationPriceTicks(position: PositionAmounts, marginKrw: bigint, market: PerpMarketSpec): number | undefined {
  const size = BigInt(position.sizeLots);
  if (size === 0n) return undefined;
  const holds = liquidatableTest(position, marginKrw, market);
  const guess = BigInt(bankruptcyPriceTicks(position, marginKrw, market) ?? 0);
  if (size > 0n) {
    const last = lastTickWhere(holds, guess);
    return last === undefined ? undefined : ticksToNumber(last);
  }
  return ticksToNumber(firstTickWhere(holds, guess));
}

/**
 * The share of the account's cross margin balance a cross position owns, in proportion to its MM
 * (dYdX v4's bankruptcy rule: TNC × |DMMR| / TMMR), rounded down — a smaller share gives a long a
 * higher and a short a lower bankruptcy price, the side that protects the fund. With no MM at all
 * (all marks at 0) a position owns the whole balance.
 */
export function crossMarginShareKrw(
  crossMarginBalanceKrw: bigint,
  positionMaintenanceKrw: bigint,
  totalCrossMaintenanceKrw: bigint,
): bigint {
  if (totalCrossMaintenanceKrw === 0n) return crossMarginBalanceKrw;
  return floorDiv(crossMarginBalanceKrw * positionMaintenanceKrw, totalCrossMaintenanceKrw);
}

/**
 * A cross position's bankruptcy price: where its share of the margin balance (taken at the current
 * mark) is used up by its own price move. The share includes the position's unrealized PnL at
 * `markTicks`; the margin it owns apart from that PnL is share − PnL(mark).
 */
export function crossBankruptcyPriceTicks(
  position: PositionAmounts,
  marginShareKrw: bigint,
  markTicks: number,
  market: PerpMarketSpec,
): number | undefined {
  return bankruptcyPriceTicks(position, marginShareKrw - unrealizedPnlKrw(position, markTicks, market), market);
}

/**
 * A cross position's liquidation price: the mark at which the whole account's cross margin balance
 * meets its total MM while every other cross position's mark stays where it is (Binance USDⓈ-M's
 * cross formula, with the other positions' PnL and MM held constant). `crossMarginBalanceKrw` is
 * the account's, this position's PnL at `markTicks` included; `otherCrossMaintenanceKrw` the MM of
 * the other cross positions. Equivalently: the mark at which this position's MM-proportional share
 * of the balance falls to its own MM — the same share rule as the bankruptcy price, re-taken at that
 * mark. It moves whenever another cross position's mark or the wallet moves.
 */
export function crossLiquidationPriceTicks(
  position: PositionAmounts,
  crossMarginBalanceKrw: bigint,
  markTicks: number,
  otherCrossMaintenanceKrw: bigint,
  market: PerpMarketSpec,
): number | undefined {
  // balance(t) ≤ otherMM + MM(t) ⇔ (balance without this PnL − otherMM) + size·t − cost ≤ MM(t)
  const ownedKrw = crossMarginBalanceKrw - unrealizedPnlKrw(position, markTicks, market) - otherCrossMaintenanceKrw;
  return liquidationPriceTicks(position, ownedKrw, market);
}

/** Largest t ≥ 0 with holds(t), for holds true up to a point and false after; undefined if holds(0) is false. */
function lastTickWhere(holds: (ticks: bigint) => boolean, guess: bigint): bigint | undefined {
  let low: bigint; // holds(low)
  let high: bigint; // !holds(high)
  if (holds(guess)) {
    low = guess;
    let step = 1n;
    while (holds(low + step)) {
      low += step;
      step *= 2n;
    }
    high = low + step;
  } else {
    if (!holds(0n)) return undefined;
    high = guess;
    let step = 1n;
    while (high - step > 0n && !holds(high - step)) {
      high -= step;
      step *= 2n;
    }
    low = high - step > 0n ? high - step : 0n;
  }
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    if (holds(middle)) low = middle;
    else high = middle;
  }
  return low;
}

/** Smallest t ≥ 0 with holds(t), for holds false up to a point and true after (it must turn true). */
function firstTickWhere(holds: (ticks: bigint) => boolean, guess: bigint): bigint {
  if (holds(0n)) return 0n;
  let low: bigint; // !holds(low)
  let high: bigint; // holds(high)
  if (holds(guess)) {
    high = guess;
    let step = 1n;
    while (high - step > 0n && holds(high - step)) {
      high -= step;
      step *= 2n;
    }
    low = high - step > 0n ? high - step : 0n;
  } else {
    low = guess;
    let step = 1n;
    while (!holds(low + step)) {
      low += step;
      step *= 2n;
    }
    high = low + step;
  }
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    if (holds(middle)) high = middle;
    else low = middle;
  }
  return high;
}
