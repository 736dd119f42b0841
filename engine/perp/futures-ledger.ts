/**
 * The futures ledger: the settlement of perpetual markets (../settlement.ts). Matching is shared
 * with spot; what a perpetual order holds and what its fills move is decided here:
 *
 *  - hold: the pre-trade margin check. An order that can open or grow its position leg reserves
 *    the initial margin of the lots it can open at its reserve price plus the taker fee on them
 *    (margin-rules.ts orderInitialMarginKrw), refused INSUFFICIENT_MARGIN beyond the available
 *    balance. Reduce-only (and hedge-mode closing) orders reserve nothing. The reserve lives here
 *    (PerpOrder.reserveKrw, BigInt); the book record's `locked` stays 0.
 *  - fillableLots: before each trade, a reduce-only order takes at most what its leg can still
 *    reduce; a taker's opening fill must be covered by its reserve or the free available balance.
 *  - settleFill: both legs move (position-rules.ts applyFill: exact cost, realized PnL into the
 *    wallet), isolated margin grows or is released, each side pays its fee from its futures wallet
 *    to the fee account's.
 *  - release: the order's reserve is recomputed or dropped.
 *
 * Tier rule (README "Leverage bound"): an order that opens lots is refused LEVERAGE_ABOVE_TIER_MAX
 * when the leverage is above the tier maximum of the leg it would leave if it filled completely,
 * at the mark; checked at placement only (open orders are not cut when fills cross a tier).
 *
 * Reserve price (README "Order reserve"): a limit buy at its price (it never fills higher); a
 * limit sell at max(price, mark) (it may fill higher); a market order at the worse of the mark and
 * the best opposite price when placed; a stop or take-profit at its price (…Limit) or max(stop, mark)
 * (…Market).
 */
import type { Account } from '../ledger.ts';
import type { Book } from '../matching/book.ts';
import type { OrderNode } from '../matching/order.ts';
import type { RejectReason } from '../reject-codes.ts';
import type { Settlement } from '../settlement.ts';
import type { ExpiryReason, PlaceOrderCommand, PositionSide } from '../types.ts';
import {
  fillOpeningNeedKrw,
  isolatedMarginForOpeningKrw,
  isolatedMarginRelease,
  maxLeverageForLotsAt,
  orderInitialMarginKrw,
} from './margin-rules.ts';
import { applyFill } from './position-rules.ts';
import type { PerpMarketSpec } from './perp-market.ts';
import type { FuturesEvents } from './futures-events.ts';
import { LegKind, type LegOrders } from './perp-orders.ts';
import { PerpOrder, type FuturesAccount, type FuturesState, type PerpPosition } from './futures-state.ts';
import { availableBalanceOf } from './futures-valuation.ts';

export class FuturesLedger implements Settlement {
  capReason: ExpiryReason | undefined = undefined;

  constructor(
    private readonly state: FuturesState,
    private readonly changes: FuturesEvents,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Hold: the pre-trade margin check

  hold(book: Book, _account: Account, command: PlaceOrderCommand): number | RejectReason {
    const market = book.market as PerpMarketSpec;
    const state = this.state;
    const reduceOnlyFlag = command.reduceOnly;
    if (reduceOnlyFlag !== undefined && typeof reduceOnlyFlag !== 'boolean') return 'INVALID_COMMAND';
    const requested = command.positionSide;
    if (requested !== undefined && requested !== 'BOTH' && requested !== 'LONG' && requested !== 'SHORT') return 'INVALID_POSITION_SIDE';
    const account = state.account(command.userId);
    const leg: PositionSide | undefined = account.hedge
      ? requested === 'LONG' || requested === 'SHORT'
        ? requested
        : undefined
      : requested === undefined || requested === 'BOTH'
        ? 'BOTH'
        : undefined;
    if (leg === undefined) return 'POSITION_SIDE_MISMATCH';
    const isBuy = command.side === 'Buy';
    // hedge mode: a LONG leg opens by buying and closes by selling, a SHORT leg the other way round
    const closing = leg === 'LONG' ? !isBuy : leg === 'SHORT' ? isBuy : false;
    // a close-position order (README decision 51) is reduce-only, sized only when it fires: it may
    // wait with no position, and counts for nothing among the leg's reduce-only orders meanwhile
    const closePosition = command.closePosition === true;
    if (closePosition && leg !== 'BOTH' && !closing) return 'CLOSE_POSITION_NOT_ALLOWED';
    const reduceOnly = reduceOnlyFlag === true || closing || closePosition;
    const quantity = command.quantity!;
    const position = account.leg(market, leg);
    const reducible = reducibleLots(position, isBuy);
    if (reduceOnly) {
      // Σ reduce-only on a leg never exceeds what it can reduce, so a sweep cannot flip it
      if (closePosition) {
        // nothing to check before it fires
      } else if (reducible === 0) return closing && reduceOnlyFlag !== true ? 'NO_POSITION' : 'REDUCE_ONLY_WOULD_INCREASE';
      else if (quantity + this.pendingReduceOnly(account, market, leg, isBuy) > reducible) return 'REDUCE_ONLY_WOULD_INCREASE';
      const reducing = new PerpOrder(command.orderId, market, leg, true, 0, 0n, isBuy);
      reducing.lotsBound = quantity;
      account.orders.set(command.orderId, reducing);
      return 0;
    }
    const markState = state.marks.get(market.symbol)!;
    const mark = markState.markTicks;
    if (mark === undefined) return 'NO_MARK_PRICE';
    if (!markState.freshAt(command.timestamp)) return 'INDEX_STALE';
    const reservePriceTicks = reservePrice(book, command, mark);
    const leverage = account.settingsOf(market.symbol).leverage;
    const openingLots = Math.max(0, quantity - reducible);
    if (openingLots > 0) {
      // the tier rule (README "Leverage bound"): the leg this order leaves if it fills completely, at the mark
      const resultingLots = reducible > 0 ? openingLots : Math.abs(position?.sizeLots ?? 0) + openingLots;
      if (leverage > maxLeverageForLotsAt(resultingLots, mark, market)) return 'LEVERAGE_ABOVE_TIER_MAX';
    }
    const reserveKrw = openingLots === 0 ? 0n : orderInitialMarginKrw(openingLots, reservePriceTicks, leverage, market);
    if (reserveKrw > 0n && reserveKrw > availableBalanceOf(account, market.settlementAsset, state.marks)) return 'INSUFFICIENT_MARGIN';
    const order = new PerpOrder(command.orderId, market, leg, false, reservePriceTicks, reserveKrw, isBuy);
    order.memoOpeningLots = openingLots;
    order.memoLeverage = openingLots === 0 ? 0 : leverage;
    order.memoReserveKrw = reserveKrw;
    order.lotsBound = quantity;
    account.orders.set(command.orderId, order);
    this.noteRefreshed(order);
    return 0;
  }

  /** Remaining lots of the user's other open reduce-only orders that reduce this leg from this side. */
  private pendingReduceOnly(account: FuturesAccount, market: PerpMarketSpec, leg: PositionSide, isBuy: boolean): number {
    let total = 0;
    for (let order = account.orders.onLeg(market, leg, LegKind.ReduceOnly).head; order !== null; order = order.nextOnLeg) {
      const node = this.nodeOf(order);
      if (node !== null && node.isBuy === isBuy) total += node.quantity - node.filled;
    }
    return total;
  }

  spendsHold(_taker: OrderNode): boolean {
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Fill caps

  fillableLots(book: Book, order: OrderNode, isMaker: boolean, lots: number, priceTicks: number): number {
    const account = this.state.account(order.userId);
    const perpOrder = account.orders.get(order.orderId);
    if (perpOrder === undefined) return lots; // not a perpetual order record (cannot happen)
    perpOrder.node = order;
    const position = account.leg(perpOrder.market, perpOrder.leg);
    const reducible = reducibleLots(position, order.isBuy);
    if (perpOrder.reduceOnly) {
      if (reducible >= lots) return lots;
      this.capReason = 'ReduceOnly';
      return reducible;
    }
    // A maker fills at its own price, which its reserve was taken at (or better for margin).
    if (isMaker) return lots;
    const openedLots = Math.max(0, lots - reducible);
    if (openedLots === 0) return lots;
    const market = perpOrder.market;
    const leverage = account.settingsOf(market.symbol).leverage;
    const remainingAfter = order.quantity - order.filled - lots;
    const need =
      fillOpeningNeedKrw(openedLots, lots, priceTicks, leverage, market) +
      (remainingAfter > 0 ? orderInitialMarginKrw(remainingAfter, perpOrder.reservePriceTicks, leverage, market) : 0n);
    if (need <= perpOrder.reserveKrw) return lots;
    const free = availableBalanceOf(account, market.settlementAsset, this.state.marks, order.orderId);
    if (need <= free) return lots;
    this.capReason = 'InsufficientMargin';
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Fills

  settleFill(book: Book, maker: OrderNode, taker: OrderNode, lots: number, notional: number, makerFee: number, takerFee: number): void {
    const market = book.market as PerpMarketSpec;
    const priceTicks = notional / (lots * market.quotePerTickLot);
    this.settleSide(market, maker, lots, priceTicks, makerFee);
    this.settleSide(market, taker, lots, priceTicks, takerFee);
    const fee = BigInt(makerFee + takerFee);
    if (fee !== 0n) {
      const feeAccount = this.state.feeAccount();
      const asset = market.settlementAsset;
      feeAccount.wallets.set(asset, feeAccount.wallet(asset) + fee);
      this.changes.touchWallet(feeAccount, asset, 'Fee');
    }
  }

  private settleSide(market: PerpMarketSpec, order: OrderNode, lots: number, priceTicks: number, fee: number): void {
    const position = this.moveSide(market, order, lots, priceTicks, fee);
    this.changes.touchWallet(position.account, market.settlementAsset, 'Trade');
    this.changes.touchPosition(position);
  }

  /** One side of a trade: its leg, isolated margin, wallet and reserve (no events); returns the leg (its account is position.account). */
  private moveSide(market: PerpMarketSpec, order: OrderNode, lots: number, priceTicks: number, fee: number): PerpPosition {
    const account = this.state.account(order.userId);
    const perpOrder = account.orders.get(order.orderId)!;
    perpOrder.node = order;
    const position = account.position(market, perpOrder.leg);
    const settings = account.settingsOf(market.symbol);
    const oldSize = position.sizeLots;
    const epoch = this.changes.epoch;
    if (position.startMark !== epoch) {
      position.startMark = epoch;
      position.startSizeLots = oldSize;
    }
    const outcome = applyFill({ sizeLots: oldSize, costKrw: position.costKrw }, order.isBuy ? lots : -lots, priceTicks, market);
    position.sizeLots = outcome.position.sizeLots;
    position.costKrw = outcome.position.costKrw;
    position.realizedPnlKrw += outcome.realizedPnlKrw;
    if (settings.marginType === 'ISOLATED') {
      if (outcome.closedLots > 0)
        position.isolatedMarginKrw -= isolatedMarginRelease(position.isolatedMarginKrw, oldSize, outcome.closedLots);
      if (outcome.openedLots > 0)
        position.isolatedMarginKrw += isolatedMarginForOpeningKrw(outcome.openedLots, priceTicks, settings.leverage, market);
    }
    const asset = market.settlementAsset;
    account.wallets.set(asset, account.wallet(asset) + outcome.realizedPnlKrw - BigInt(fee));
    this.refreshReserve(account, perpOrder, order);
    this.noteRefreshed(perpOrder);
    return position;
  }

  // ---------------------------------------------------------------------------------------------
  // FOK pre-check (Settlement.previewFill): planned trades applied for real, undone by endPreview

  /** undo steps of the previewed trades, in the order they were taken */
  private readonly undo: (() => void)[] = [];

  previewFill(book: Book, maker: OrderNode, taker: OrderNode, lots: number, notional: number, makerFee: number, takerFee: number): void {
    const market = book.market as PerpMarketSpec;
    const priceTicks = notional / (lots * market.quotePerTickLot);
    this.saveSide(market, maker);
    this.moveSide(market, maker, lots, priceTicks, makerFee);
    this.saveSide(market, taker);
    this.moveSide(market, taker, lots, priceTicks, takerFee);
    // the fee account's wallet counts only when it trades itself, so one that does not exist yet stays so
    const feeAccount = this.state.accounts.get(this.state.feeAccountId);
    const fee = BigInt(makerFee + takerFee);
    if (feeAccount !== undefined && fee !== 0n) {
      this.saveWallet(feeAccount, market.settlementAsset);
      feeAccount.wallets.set(market.settlementAsset, feeAccount.wallet(market.settlementAsset) + fee);
    }
  }

  /** a maker that self-trade prevention expires: its reserve no longer counts (releaseRest) */
  previewExpire(_book: Book, order: OrderNode): void {
    const perpOrder = this.state.account(order.userId).orders.get(order.orderId);
    if (perpOrder === undefined) return;
    const reserve = perpOrder.reserveKrw;
    this.undo.push(() => (perpOrder.reserveKrw = reserve));
    perpOrder.reserveKrw = 0n;
  }

  endPreview(): void {
    const undo = this.undo;
    for (let index = undo.length - 1; index >= 0; index--) undo[index]!();
    undo.length = 0;
  }

  /** what moveSide changes of this side: its leg (or that there was none), wallet and reserve */
  private saveSide(market: PerpMarketSpec, order: OrderNode): void {
    const account = this.state.account(order.userId);
    const perpOrder = account.orders.get(order.orderId)!;
    const reserve = perpOrder.reserveKrw;
    const position = account.leg(market, perpOrder.leg);
    if (position === undefined) {
      const leg = perpOrder.leg;
      this.undo.push(() => {
        const created = account.leg(market, leg);
        if (created !== undefined) account.dropPosition(created);
      });
    } else {
      const { sizeLots, costKrw, realizedPnlKrw, isolatedMarginKrw } = position;
      this.undo.push(() => {
        position.sizeLots = sizeLots;
        position.costKrw = costKrw;
        position.realizedPnlKrw = realizedPnlKrw;
        position.isolatedMarginKrw = isolatedMarginKrw;
      });
    }
    this.saveWallet(account, market.settlementAsset);
    this.undo.push(() => (perpOrder.reserveKrw = reserve));
  }

  private saveWallet(account: FuturesAccount, asset: string): void {
    const wallet = account.wallets.get(asset);
    this.undo.push(() => (wallet === undefined ? account.wallets.delete(asset) : account.wallets.set(asset, wallet)));
  }

  // ---------------------------------------------------------------------------------------------
  // Releases

  releaseReduced(_book: Book, order: OrderNode, _reduction: number): void {
    const account = this.state.account(order.userId);
    const perpOrder = account.orders.get(order.orderId);
    if (perpOrder !== undefined) {
      this.refreshReserve(account, perpOrder, order);
      this.noteRefreshed(perpOrder);
    }
  }

  releaseRest(_book: Book, order: OrderNode): void {
    this.state.account(order.userId).orders.delete(order.orderId);
  }

  /** What the order's remaining lots can still open, at its reserve price, given its leg now. */
  refreshReserve(account: FuturesAccount, perpOrder: PerpOrder, order: OrderNode): void {
    if (perpOrder.reduceOnly) return;
    const remaining = order.quantity - order.filled;
    const market = perpOrder.market;
    const openingLots = Math.max(0, remaining - reducibleLots(account.leg(market, perpOrder.leg), order.isBuy));
    const leverage = openingLots === 0 ? 0 : account.settingsOf(market.symbol).leverage;
    // the reserve is a function of these two (its price and market are fixed): skip the BigInt work when neither moved
    if (
      openingLots === perpOrder.memoOpeningLots &&
      leverage === perpOrder.memoLeverage &&
      perpOrder.reserveKrw === perpOrder.memoReserveKrw
    )
      return;
    this.setReserve(perpOrder, openingLots, leverage);
  }

  private setReserve(perpOrder: PerpOrder, openingLots: number, leverage: number): void {
    const reserveKrw = openingLots === 0 ? 0n : orderInitialMarginKrw(openingLots, perpOrder.reservePriceTicks, leverage, perpOrder.market);
    perpOrder.reserveKrw = reserveKrw;
    perpOrder.memoOpeningLots = openingLots;
    perpOrder.memoLeverage = leverage;
    perpOrder.memoReserveKrw = reserveKrw;
  }

  /** refreshReserve for one leg's orders of one side (`isBuy`), the leg and leverage looked up once */
  refreshReserves(account: FuturesAccount, position: PerpPosition, orders: LegOrders, isBuy: boolean): void {
    const reducible = reducibleLots(position, isBuy);
    const marketLeverage = account.settingsOf(position.market.symbol).leverage;
    for (let perpOrder = orders.head; perpOrder !== null; perpOrder = perpOrder.nextOnLeg) {
      const order = this.nodeOf(perpOrder);
      if (order === null) continue;
      const openingLots = Math.max(0, order.quantity - order.filled - reducible);
      const leverage = openingLots === 0 ? 0 : marketLeverage;
      if (
        openingLots === perpOrder.memoOpeningLots &&
        leverage === perpOrder.memoLeverage &&
        perpOrder.reserveKrw === perpOrder.memoReserveKrw
      )
        continue;
      this.setReserve(perpOrder, openingLots, leverage);
    }
  }

  /**
   * The orders whose reserve this command computed before its end (placed, filled, reduced): the
   * end-of-command cut recomputes them on the legs it visits, as their leg may have moved since.
   * Every other open order's reserve was exact when the command began (the cut leaves every
   * touched leg's orders exact), so the cut needs them only where their side's reducible lots moved.
   */
  refreshedThisCommand(): readonly PerpOrder[] {
    if (this.refreshedEpoch !== this.changes.epoch) this.refreshed.length = 0;
    return this.refreshed;
  }

  private readonly refreshed: PerpOrder[] = [];
  private refreshedEpoch = -1;

  private noteRefreshed(order: PerpOrder): void {
    const epoch = this.changes.epoch;
    if (this.refreshedEpoch !== epoch) {
      this.refreshed.length = 0;
      this.refreshedEpoch = epoch;
    }
    if (order.refreshMark === epoch) return;
    order.refreshMark = epoch;
    this.refreshed.push(order);
  }

  /** A fired close-position order takes everything its leg can reduce from its side (README decision 51). */
  closeLots(book: Book, order: OrderNode): number {
    const perpOrder = this.state.account(order.userId).orders.get(order.orderId);
    if (perpOrder === undefined) return 0;
    return reducibleLots(this.state.account(order.userId).findPosition(book.market.symbol, perpOrder.leg), order.isBuy);
  }

  nodeOf(order: PerpOrder): OrderNode | null {
    return (order.node ??= this.state.lookupOrder(order.orderId));
  }
}

/** Lots an order on this side can close of the leg: its size when they point opposite ways, else 0. */
export function reducibleLots(position: PerpPosition | undefined, isBuy: boolean): number {
  const size = position?.sizeLots ?? 0;
  return isBuy ? (size < 0 ? -size : 0) : size > 0 ? size : 0;
}

function reservePrice(book: Book, command: PlaceOrderCommand, markTicks: number): number {
  const isBuy = command.side === 'Buy';
  switch (command.orderType) {
    case 'Limit':
    case 'StopLimit':
    case 'TakeProfitLimit':
      return isBuy ? command.price! : Math.max(command.price!, markTicks);
    case 'StopMarket':
    case 'TakeProfitMarket':
      return Math.max(command.stopPrice!, markTicks);
    case 'Market': {
      const best = (isBuy ? book.asks : book.bids).best();
      return Math.max(best?.price ?? 0, markTicks);
    }
    case 'Liquidation':
      return markTicks; // never reached: a liquidation order is reduce-only and reserves nothing
  }
}
