/**
 * The futures commands (issue 18): transfers between the spot balance and the futures wallet,
 * position mode, leverage, margin type, isolated margin, and the oracle's index prices. Each is
 * checked whole before it changes anything; a refusal is an OrderRejected event with a 7xxx (or
 * shared validation) code, like a refused deposit.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Ledger } from '../ledger.ts';
import type { SpotLedger } from '../spot/spot-ledger.ts';
import type {
  AdjustIsolatedMarginCommand,
  FuturesTransferCommand,
  SetIndexPricesCommand,
  SetLeverageCommand,
  SetMarginTypeCommand,
  SetPositionModeCommand,
} from '../types.ts';
import { isNonNegativeSafe } from '../validation.ts';
import { indexPriceTicks, SPOT_SOURCE } from './index-price.ts';
import { initialMarginKrw, isolatedMarginRemovableKrw, maxLeverageForNotional } from './margin-rules.ts';
import type { PerpMarketSpec } from './perp-market.ts';
import type { FuturesEvents } from './futures-events.ts';
import type { FuturesLedger } from './futures-ledger.ts';
import type { FuturesAccount, FuturesState } from './futures-state.ts';
import { accountFigures, positionFigures } from './futures-valuation.ts';

const MAX_SOURCE_LENGTH = 64;
const LEG_ORDER = ['BOTH', 'LONG', 'SHORT'] as const;

type UserCommand =
  FuturesTransferCommand | SetPositionModeCommand | SetLeverageCommand | SetMarginTypeCommand | AdjustIsolatedMarginCommand;

export class FuturesCommands {
  constructor(
    private readonly state: FuturesState,
    private readonly ledger: Ledger,
    private readonly spot: SpotLedger,
    private readonly futures: FuturesLedger,
    private readonly changes: FuturesEvents,
    private readonly events: CommandEvents,
  ) {}

  /** Spot available ↔ futures wallet, atomically; out of futures only up to the available balance. */
  transfer(command: FuturesTransferCommand): void {
    if (!this.checkUser(command)) return;
    const events = this.events;
    const asset = command.asset;
    const assetIndex = this.ledger.assetIndex.get(asset);
    if (assetIndex === undefined || !this.state.settlementAssets.includes(asset)) return events.reject('UNKNOWN_ASSET', command, undefined);
    const amount = command.amount;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0)
      return events.reject('INVALID_AMOUNT', command, undefined);
    const direction = command.direction;
    if (direction !== 'SpotToFutures' && direction !== 'FuturesToSpot') return events.reject('INVALID_COMMAND', command, undefined);
    const spotAccount = this.ledger.account(command.userId);
    const account = this.state.account(command.userId);
    if (direction === 'SpotToFutures') {
      if (spotAccount.balances[assetIndex * 2]! < amount) return events.reject('INSUFFICIENT_AVAILABLE', command, undefined);
      this.spot.moveAvailable(spotAccount, assetIndex, -amount);
      account.wallets.set(asset, account.wallet(asset) + BigInt(amount));
    } else {
      if (accountFigures(account, asset, this.state.marks).availableBalanceKrw < BigInt(amount))
        return events.reject('INSUFFICIENT_MARGIN', command, undefined);
      account.wallets.set(asset, account.wallet(asset) - BigInt(amount));
      this.spot.moveAvailable(spotAccount, assetIndex, amount);
    }
    this.changes.touchWallet(account, asset, 'Transfer');
  }

  /** Only with no position and no open order in any perpetual market. */
  setPositionMode(command: SetPositionModeCommand): void {
    if (!this.checkUser(command)) return;
    if (typeof command.hedge !== 'boolean') return this.events.reject('INVALID_COMMAND', command, undefined);
    const account = this.state.account(command.userId);
    if (account.hedge === command.hedge) return;
    if (account.hasExposure(undefined)) return this.events.reject('POSITION_OR_ORDERS_OPEN', command, undefined);
    account.hedge = command.hedge;
  }

  /**
   * 1 … the tier maximum for the largest leg's notional at the mark. The open orders' reserves
   * follow the new leverage; a change that leaves the account short (available < 0) is refused.
   */
  setLeverage(command: SetLeverageCommand): void {
    const market = this.perpMarket(command);
    if (market === undefined) return;
    const events = this.events;
    const leverage = command.leverage;
    if (typeof leverage !== 'number' || !Number.isSafeInteger(leverage) || leverage < 1)
      return events.reject('INVALID_LEVERAGE', command, undefined);
    const account = this.state.account(command.userId);
    let notional = 0n;
    for (const side of LEG_ORDER) {
      const position = account.findPosition(market.symbol, side);
      if (position === undefined || position.sizeLots === 0) continue;
      const figures = positionFigures(position, leverage, this.state.marks);
      if (figures.notionalKrw > notional) notional = figures.notionalKrw;
    }
    if (leverage > maxLeverageForNotional(notional, market)) return events.reject('LEVERAGE_ABOVE_TIER_MAX', command, undefined);
    const settings = account.settingsOf(market.symbol);
    if (settings.leverage === leverage) return;
    const before = accountFigures(account, market.settlementAsset, this.state.marks).availableBalanceKrw;
    const previous = settings.leverage;
    account.settings.set(market.symbol, { leverage, marginType: settings.marginType });
    this.refreshReserves(account, market);
    const after = accountFigures(account, market.settlementAsset, this.state.marks).availableBalanceKrw;
    if (after < 0n && after < before) {
      account.settings.set(market.symbol, { leverage: previous, marginType: settings.marginType });
      this.refreshReserves(account, market);
      return events.reject('INSUFFICIENT_MARGIN', command, undefined);
    }
    this.touchOpenLegs(account, market);
  }

  /** Only with no position and no open order in that market. */
  setMarginType(command: SetMarginTypeCommand): void {
    const market = this.perpMarket(command);
    if (market === undefined) return;
    const marginType = command.marginType;
    if (marginType !== 'CROSS' && marginType !== 'ISOLATED') return this.events.reject('INVALID_MARGIN_TYPE', command, undefined);
    const account = this.state.account(command.userId);
    const settings = account.settingsOf(market.symbol);
    if (settings.marginType === marginType) return;
    if (account.hasExposure(market.symbol)) return this.events.reject('POSITION_OR_ORDERS_OPEN', command, undefined);
    account.settings.set(market.symbol, { leverage: settings.leverage, marginType });
  }

  /** Add from the available balance; remove while the position keeps its initial margin (margin-rules.ts). */
  adjustIsolatedMargin(command: AdjustIsolatedMarginCommand): void {
    const market = this.perpMarket(command);
    if (market === undefined) return;
    const events = this.events;
    const side = command.positionSide;
    if (side !== 'BOTH' && side !== 'LONG' && side !== 'SHORT') return events.reject('INVALID_POSITION_SIDE', command, undefined);
    const account = this.state.account(command.userId);
    if (account.hedge === (side === 'BOTH')) return events.reject('POSITION_SIDE_MISMATCH', command, undefined);
    const amount = command.amount;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0)
      return events.reject('INVALID_AMOUNT', command, undefined);
    if (command.action !== 'Add' && command.action !== 'Remove') return events.reject('INVALID_COMMAND', command, undefined);
    const settings = account.settingsOf(market.symbol);
    if (settings.marginType !== 'ISOLATED') return events.reject('NOT_ISOLATED', command, undefined);
    const position = account.findPosition(market.symbol, side);
    if (position === undefined || position.sizeLots === 0) return events.reject('NO_POSITION', command, undefined);
    const asset = market.settlementAsset;
    const krw = BigInt(amount);
    if (command.action === 'Add') {
      if (accountFigures(account, asset, this.state.marks).availableBalanceKrw < krw)
        return events.reject('INSUFFICIENT_MARGIN', command, undefined);
      position.isolatedMarginKrw += krw;
    } else {
      const figures = positionFigures(position, settings.leverage, this.state.marks);
      const removable = isolatedMarginRemovableKrw(
        position.isolatedMarginKrw,
        figures.unrealizedPnlKrw,
        initialMarginKrw(figures.notionalKrw, settings.leverage),
      );
      if (krw > removable) return events.reject('INSUFFICIENT_MARGIN', command, undefined);
      position.isolatedMarginKrw -= krw;
    }
    this.changes.touchWallet(account, asset, 'IsolatedMargin');
    this.changes.touchPosition(position);
  }

  /**
   * The oracle feed: each entry updates one source of one perpetual market at the command's time;
   * the index (= mark) of each market named is then the median of its fresh sources. All or
   * nothing: one bad entry refuses the command.
   */
  setIndexPrices(command: SetIndexPricesCommand): void {
    const events = this.events;
    if (!isNonNegativeSafe(command.timestamp)) return events.reject('INVALID_TIMESTAMP', command, undefined);
    const prices = command.prices;
    if (!Array.isArray(prices)) return events.reject('INVALID_COMMAND', command, undefined);
    for (const entry of prices as unknown[]) {
      const { symbol, source, price } = (entry ?? {}) as { symbol?: unknown; source?: unknown; price?: unknown };
      if (typeof symbol !== 'string') return events.reject('INVALID_COMMAND', command, undefined);
      const market = this.state.markets.get(symbol);
      if (market === undefined) return events.reject(this.isSpotSymbol(symbol) ? 'NOT_A_PERPETUAL' : 'UNKNOWN_SYMBOL', command, undefined);
      if (typeof source !== 'string' || source.length === 0 || source.length > MAX_SOURCE_LENGTH || source === SPOT_SOURCE)
        return events.reject('INVALID_COMMAND', command, undefined);
      if (typeof price !== 'number' || !Number.isSafeInteger(price) || price < market.minPrice || price > market.maxPrice)
        return events.reject('INVALID_PRICE', command, undefined);
    }
    const touched = new Set<string>();
    const before = new Map<string, number | undefined>();
    for (const { symbol, source, price } of prices) {
      if (!before.has(symbol)) before.set(symbol, this.state.marks.get(symbol)!.markTicks);
      this.state.marks.get(symbol)!.sources.set(source, { source, priceTicks: price, updatedAtMs: command.timestamp });
      touched.add(symbol);
    }
    for (const symbol of touched) {
      const mark = this.state.marks.get(symbol)!;
      const index = indexPriceTicks([...mark.sources.values()], command.timestamp, mark.indexTicks);
      mark.indexTicks = index.priceTicks;
      mark.stale = index.stale;
    }
    const moved = [...touched].filter((symbol) => this.state.marks.get(symbol)!.markTicks !== before.get(symbol));
    if (moved.length > 0) this.marksMoved(moved);
  }

  /**
   * Called, inside the command, with the perpetual symbols whose mark price just changed (in the
   * command's order): the hooks that follow a mark — liquidation checks, then mark-price TP/SL
   * triggers (issue 19) — register here, in that order, in the engine's constructor. Every command
   * that moves a mark (SetIndexPrices, the journaled price tick) ends its price work with this call.
   */
  marksMoved(symbols: readonly string[]): void {
    for (const listener of this.markListeners) listener(symbols);
  }

  /** @internal the hooks `marksMoved` calls, in registration order */
  readonly markListeners: ((symbols: readonly string[]) => void)[] = [];

  // ---------------------------------------------------------------------------------------------

  /** Recomputes the reserves of the user's open orders in a market (after a leverage change). */
  private refreshReserves(account: FuturesAccount, market: PerpMarketSpec): void {
    for (const order of account.orders.values()) {
      if (order.market !== market) continue;
      const node = this.futures.nodeOf(order);
      if (node !== null) this.futures.refreshReserve(account, order, node);
    }
  }

  /** in a fixed leg order (not the Map's, which a restored engine need not share) */
  private touchOpenLegs(account: FuturesAccount, market: PerpMarketSpec): void {
    for (const side of LEG_ORDER) {
      const position = account.findPosition(market.symbol, side);
      if (position !== undefined && position.sizeLots !== 0) this.changes.touchPosition(position);
    }
  }

  private checkUser(command: UserCommand): boolean {
    if (!isNonNegativeSafe(command.userId)) return this.events.reject('INVALID_USER_ID', command, undefined) ?? false;
    if (!isNonNegativeSafe(command.timestamp)) return this.events.reject('INVALID_TIMESTAMP', command, undefined) ?? false;
    return true;
  }

  private perpMarket(command: SetLeverageCommand | SetMarginTypeCommand | AdjustIsolatedMarginCommand): PerpMarketSpec | undefined {
    if (!this.checkUser(command)) return undefined;
    const market = typeof command.symbol === 'string' ? this.state.markets.get(command.symbol) : undefined;
    if (market === undefined)
      return this.events.reject(
        typeof command.symbol === 'string' && this.isSpotSymbol(command.symbol) ? 'NOT_A_PERPETUAL' : 'UNKNOWN_SYMBOL',
        command,
        undefined,
      );
    return market;
  }

  private isSpotSymbol(symbol: string): boolean {
    return this.spotSymbols.has(symbol);
  }

  /** set by the engine: the spot markets' symbols (NOT_A_PERPETUAL rather than UNKNOWN_SYMBOL) */
  spotSymbols: ReadonlySet<string> = new Set();
}
