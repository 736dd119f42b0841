/**
 * An account's futures figures at the current marks (ARCHITECTURE.md "Margin"): unrealized PnL,
 * initial and maintenance margins, margin balances, order reserves and the available balance. The
 * formulas are margin-rules.ts's and position-rules.ts's; this only sums them over the account's
 * positions and orders in one settlement asset. Used by the pre-trade check, the commands that
 * move margin and the queries alike, so all three agree.
 *
 * A position's mark is its market's mark; a market without one (never the case while a position
 * is open: opening needs a mark) values the position at its cost (no PnL).
 */
import { absBig } from './integer-math.ts';
import { availableBalanceKrw, crossMarginBalanceKrw, initialMarginKrw, maintenanceMarginForNotionalKrw } from './margin-rules.ts';
import { signedValueKrw, unrealizedPnlKrw } from './position-rules.ts';
import type { FuturesAccount, MarkState, PerpPosition } from './futures-state.ts';

export interface PositionFigures {
  readonly markTicks: number | undefined;
  readonly notionalKrw: bigint;
  readonly unrealizedPnlKrw: bigint;
  readonly initialMarginKrw: bigint;
  readonly maintenanceMarginKrw: bigint;
}

export interface AccountFigures {
  readonly walletKrw: bigint;
  readonly unrealizedPnlKrw: bigint; // all positions
  readonly crossUnrealizedPnlKrw: bigint;
  readonly isolatedMarginsKrw: bigint;
  readonly crossInitialMarginKrw: bigint;
  readonly initialMarginKrw: bigint; // all positions, at the mark and their leverage
  readonly maintenanceMarginKrw: bigint;
  readonly crossMaintenanceMarginKrw: bigint;
  readonly orderReservesKrw: bigint;
  readonly crossMarginBalanceKrw: bigint;
  readonly availableBalanceKrw: bigint;
}

export function positionFigures(position: PerpPosition, leverage: number, marks: ReadonlyMap<string, MarkState>): PositionFigures {
  const markTicks = marks.get(position.market.symbol)?.markTicks;
  if (position.sizeLots === 0) return { markTicks, notionalKrw: 0n, unrealizedPnlKrw: 0n, initialMarginKrw: 0n, maintenanceMarginKrw: 0n };
  const amounts = { sizeLots: position.sizeLots, costKrw: position.costKrw };
  const notional =
    markTicks === undefined
      ? absBig(position.costKrw)
      : absBig(BigInt(position.sizeLots) * BigInt(markTicks) * BigInt(position.market.quotePerTickLot));
  return {
    markTicks,
    notionalKrw: notional,
    unrealizedPnlKrw: markTicks === undefined ? 0n : unrealizedPnlKrw(amounts, markTicks, position.market),
    initialMarginKrw: initialMarginKrw(notional, leverage),
    maintenanceMarginKrw: maintenanceMarginForNotionalKrw(notional, position.market),
  };
}

/** The account's figures in `asset`; `excludeOrderId` leaves one order's reserve out (its own re-check). */
export function accountFigures(
  account: FuturesAccount,
  asset: string,
  marks: ReadonlyMap<string, MarkState>,
  excludeOrderId = -1,
): AccountFigures {
  const walletKrw = account.wallet(asset);
  let unrealized = 0n;
  let crossUnrealized = 0n;
  let isolatedMargins = 0n;
  let crossInitial = 0n;
  let initial = 0n;
  let maintenance = 0n;
  let crossMaintenance = 0n;
  for (const position of account.positions.values()) {
    if (position.market.settlementAsset !== asset) continue;
    isolatedMargins += position.isolatedMarginKrw;
    if (position.sizeLots === 0) continue;
    const settings = account.settingsOf(position.market.symbol);
    const figures = positionFigures(position, settings.leverage, marks);
    unrealized += figures.unrealizedPnlKrw;
    initial += figures.initialMarginKrw;
    maintenance += figures.maintenanceMarginKrw;
    if (settings.marginType === 'CROSS') {
      crossUnrealized += figures.unrealizedPnlKrw;
      crossInitial += figures.initialMarginKrw;
      crossMaintenance += figures.maintenanceMarginKrw;
    }
  }
  const reserves = orderReservesKrw(account, asset, excludeOrderId);
  const crossBalance = crossMarginBalanceKrw(walletKrw, crossUnrealized, isolatedMargins);
  return {
    walletKrw,
    unrealizedPnlKrw: unrealized,
    crossUnrealizedPnlKrw: crossUnrealized,
    isolatedMarginsKrw: isolatedMargins,
    crossInitialMarginKrw: crossInitial,
    initialMarginKrw: initial,
    maintenanceMarginKrw: maintenance,
    crossMaintenanceMarginKrw: crossMaintenance,
    orderReservesKrw: reserves,
    crossMarginBalanceKrw: crossBalance,
    availableBalanceKrw: availableBalanceKrw(walletKrw, crossBalance, crossInitial, reserves),
  };
}

/** Σ reserves of the account's orders in `asset`, one order's left out (kept by PerpOrders, not summed here). */
function orderReservesKrw(account: FuturesAccount, asset: string, excludeOrderId: number): bigint {
  const excluded = account.orders.get(excludeOrderId);
  const reserves = account.orders.reservesKrw(asset);
  return excluded !== undefined && excluded.market.settlementAsset === asset ? reserves - excluded.reserveKrw : reserves;
}

/**
 * accountFigures(…).availableBalanceKrw alone, for the hot paths (every order's pre-trade check,
 * a taker's fill cap): the same sums, without the maintenance margins and the result record.
 */
export function availableBalanceOf(
  account: FuturesAccount,
  asset: string,
  marks: ReadonlyMap<string, MarkState>,
  excludeOrderId = -1,
): bigint {
  const walletKrw = account.wallet(asset);
  let crossUnrealized = 0n;
  let isolatedMargins = 0n;
  let crossInitial = 0n;
  const legs = account.legs;
  for (let at = 0; at < legs.length; at++) {
    const position = legs[at]!;
    const market = position.market;
    if (market.settlementAsset !== asset) continue;
    if (position.isolatedMarginKrw !== 0n) isolatedMargins += position.isolatedMarginKrw;
    if (position.sizeLots === 0) continue;
    const settings = account.settingsOf(market.symbol);
    if (settings.marginType !== 'CROSS') continue;
    const markTicks = marks.get(market.symbol)?.markTicks;
    if (markTicks === undefined) {
      crossInitial += initialMarginKrw(absBig(position.costKrw), settings.leverage);
      continue;
    }
    // the value and margin change only with the size, the mark or the leverage: most checks reuse them
    if (
      position.memoSizeLots !== position.sizeLots ||
      position.memoMarkTicks !== markTicks ||
      position.memoLeverage !== settings.leverage
    ) {
      const value = BigInt(position.sizeLots) * BigInt(markTicks) * BigInt(market.quotePerTickLot);
      position.memoValueKrw = value;
      position.memoInitialMarginKrw = initialMarginKrw(absBig(value), settings.leverage);
      position.memoSizeLots = position.sizeLots;
      position.memoMarkTicks = markTicks;
      position.memoLeverage = settings.leverage;
    }
    crossUnrealized += position.memoValueKrw - position.costKrw;
    crossInitial += position.memoInitialMarginKrw;
  }
  const crossBalance = crossMarginBalanceKrw(walletKrw, crossUnrealized, isolatedMargins);
  return availableBalanceKrw(walletKrw, crossBalance, crossInitial, orderReservesKrw(account, asset, excludeOrderId));
}

/**
 * accountFigures(…).crossMarginBalanceKrw alone (wallet + Σ cross unrealized PnL − Σ isolated
 * margins), for the liquidation index's re-index of every touched account: no margins, no record.
 * A position's value at the mark is the one availableBalanceOf noted when size and mark still match.
 */
export function crossMarginBalanceOf(account: FuturesAccount, asset: string, marks: ReadonlyMap<string, MarkState>): bigint {
  let crossUnrealized = 0n;
  let isolatedMargins = 0n;
  const legs = account.legs;
  for (let at = 0; at < legs.length; at++) {
    const position = legs[at]!;
    const market = position.market;
    if (market.settlementAsset !== asset) continue;
    if (position.isolatedMarginKrw !== 0n) isolatedMargins += position.isolatedMarginKrw;
    if (position.sizeLots === 0) continue;
    if (account.settingsOf(market.symbol).marginType !== 'CROSS') continue;
    const markTicks = marks.get(market.symbol)?.markTicks;
    if (markTicks === undefined) continue; // valued at its cost: no PnL
    const value =
      position.memoSizeLots === position.sizeLots && position.memoMarkTicks === markTicks
        ? position.memoValueKrw
        : signedValueKrw(position.sizeLots, markTicks, market);
    crossUnrealized += value - position.costKrw;
  }
  return crossMarginBalanceKrw(account.wallet(asset), crossUnrealized, isolatedMargins);
}
