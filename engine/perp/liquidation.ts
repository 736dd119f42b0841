/**
 * Liquidation (ARCHITECTURE.md "Perpetual futures" → "Liquidation"), inside the command that
 * calls for it so replay reproduces it: at every mark move (the marks-moved hook, through the
 * liquidation index: only what the move reaches), and at the end of every command for the
 * accounts it touched (fills, transfers, margin moves, funding).
 *
 * A margin balance ≤ its MM — an isolated position's (isolated margin + PnL against its MM), or an
 * account's cross balance (wallet + cross PnL − isolated margins against the cross MM) — is
 * liquidated, for the positions concerned (the isolated one; every cross position of the account):
 *  (1) the account's open orders in the markets concerned are cancelled; if still ≤ MM,
 *  (2) each position gets a reduce-only IOC Liquidation order limited at its bankruptcy price (no
 *      taker fee); what it fills better than bankruptcy goes to the insurance fund;
 *  (3) the rest, while the fund can pay, is offered down to the price the fund covers
 *      (bankruptcy ∓ fund / (lots × KRW per tick·lot)), the fund paying the loss beyond bankruptcy;
 *  (4) what is left is auto-deleveraged (auto-deleverage.ts) at the bankruptcy price.
 * Each stage's bankruptcy price is taken afresh from the position as it then is (a cross position's
 * from its MM-proportional share of the account's balance, README decision 7). Then a balance
 * still below 0 with no cross position left (rounding, fees) is covered by the fund as far as it
 * goes. A liquidation's fills touch other accounts (makers), which are checked in turn until a
 * pass changes nothing.
 */
import type { CommandEvents } from '../command-events.ts';
import type { Ledger } from '../ledger.ts';
import type { Book } from '../matching/book.ts';
import type { Matcher } from '../matching/matcher.ts';
import type { OrderLifecycle } from '../matching/order-lifecycle.ts';
import type { OrderNode } from '../matching/order.ts';
import type { LiquidationStage, PlaceOrderCommand, Side } from '../types.ts';
import { AutoDeleverage } from './auto-deleverage.ts';
import type { FuturesEvents } from './futures-events.ts';
import type { FuturesLedger } from './futures-ledger.ts';
import { LIQUIDATION_ORDER_ID_BASE, type FuturesAccount, type FuturesState, type PerpPosition } from './futures-state.ts';
import { accountFigures, crossMarginBalanceOf, positionFigures } from './futures-valuation.ts';
import { bankruptcyPriceTicks, crossBankruptcyPriceTicks, crossMarginShareKrw } from './liquidation-prices.ts';
import { LiquidationIndex } from './liquidation-index.ts';
import { floorDiv } from './integer-math.ts';

const LEG_RANK = { BOTH: 0, LONG: 1, SHORT: 2 } as const;

/** Counters for the operators' metrics (read by the core's metrics, not part of the state). */
export interface LiquidationCounts {
  book: number;
  insurance: number;
  adl: number;
  /** auto-deleveraging fills (one per counterparty position reduced) */
  adlFills: number;
}

export class Liquidation {
  readonly index: LiquidationIndex;
  private readonly adl: AutoDeleverage;
  /** whether the current pass closed lots or cancelled orders (another pass is then due) */
  private progress = false;
  /** Liquidation events by stage since the engine started (metrics) */
  readonly counts: LiquidationCounts = { book: 0, insurance: 0, adl: 0, adlFills: 0 };

  constructor(
    private readonly state: FuturesState,
    private readonly futures: FuturesLedger,
    private readonly changes: FuturesEvents,
    private readonly events: CommandEvents,
    private readonly books: ReadonlyMap<string, Book>,
    private readonly ledger: Ledger,
    private readonly lifecycle: OrderLifecycle,
    private readonly matcher: Matcher,
  ) {
    this.index = new LiquidationIndex(state);
    this.adl = new AutoDeleverage(state, this.index, changes, events, matcher);
  }

  /** The marks-moved hook: checks the accounts the move reaches (liquidation index), by user id. */
  marksMoved(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      const mark = this.state.marks.get(symbol)!.markTicks;
      if (mark === undefined) continue;
      const asset = this.state.markets.get(symbol)!.settlementAsset;
      const { positions, accounts } = this.index.reachedBy(symbol, mark);
      if (positions.length === 0 && accounts.length === 0) continue;
      const reached = new Set(accounts);
      for (const position of positions) reached.add(this.state.account(position.userId));
      for (const account of [...reached].sort((a, b) => a.userId - b.userId)) {
        this.check(account, asset);
        this.index.reindex(account, asset);
      }
    }
  }

  /** End of command: every account the command touched is checked and re-indexed, until nothing moves. */
  afterCommand(): void {
    do {
      this.progress = false;
      this.checkTouched();
    } while (this.progress);
  }

  /** For callers that changed balances without touching them (funding touches its wallets: afterCommand covers it). */
  checkAccounts(accounts: Iterable<FuturesAccount>, asset: string): void {
    for (const account of accounts) {
      this.check(account, asset);
      this.index.reindex(account, asset);
    }
  }

  private checkTouched(): void {
    const seen = new Set<string>();
    const wallets = this.changes.touchedWallets();
    const positions = this.changes.touchedPositions();
    let walletAt = 0;
    let positionAt = 0;
    // both lists grow while liquidations run: read them to their ends
    while (walletAt < wallets.length || positionAt < positions.length) {
      let account: FuturesAccount;
      let asset: string;
      if (walletAt < wallets.length) {
        ({ account, asset } = wallets[walletAt++]!);
      } else {
        const position = positions[positionAt++]!;
        account = this.state.account(position.userId);
        asset = position.market.settlementAsset;
      }
      const key = `${account.userId} ${asset}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // the index answers whether anything of the account is at or past its threshold now (exact)
      if (!this.index.reindex(account, asset)) continue;
      this.check(account, asset);
      this.index.reindex(account, asset);
    }
  }

  /** Liquidates what is at or below its MM in the account's `asset` positions. */
  private check(account: FuturesAccount, asset: string): void {
    for (const position of this.openPositions(account, asset, 'ISOLATED'))
      if (this.isolatedAtRisk(position)) this.liquidateIsolated(account, position);
    if (this.crossAtRisk(account, asset)) this.liquidateCross(account, asset);
    this.coverDeficit(account, asset);
  }

  private isolatedAtRisk(position: PerpPosition): boolean {
    if (position.sizeLots === 0) return false;
    const account = this.state.account(position.userId);
    const figures = positionFigures(position, account.settingsOf(position.market.symbol).leverage, this.state.marks);
    if (figures.markTicks === undefined) return false;
    return position.isolatedMarginKrw + figures.unrealizedPnlKrw <= figures.maintenanceMarginKrw;
  }

  private crossAtRisk(account: FuturesAccount, asset: string): boolean {
    if (this.openPositions(account, asset, 'CROSS').length === 0) return false;
    const figures = accountFigures(account, asset, this.state.marks);
    return figures.crossMarginBalanceKrw <= figures.crossMaintenanceMarginKrw;
  }

  private liquidateIsolated(account: FuturesAccount, position: PerpPosition): void {
    this.cancelOrders(account, (symbol) => symbol === position.market.symbol);
    if (!this.isolatedAtRisk(position)) return;
    const bankruptcy = (): number => bankruptcyPriceTicks(position, position.isolatedMarginKrw, position.market)!;
    this.closeInBook(position, bankruptcy(), 'book');
    if (position.sizeLots !== 0) this.closeInBook(position, bankruptcy(), 'insurance');
    if (position.sizeLots !== 0) this.deleverage(position, bankruptcy());
  }

  private liquidateCross(account: FuturesAccount, asset: string): void {
    this.cancelOrders(account, (symbol) => {
      const market = this.state.markets.get(symbol)!;
      return market.settlementAsset === asset && account.settingsOf(symbol).marginType === 'CROSS';
    });
    if (!this.crossAtRisk(account, asset)) return;
    const positions = this.openPositions(account, asset, 'CROSS');
    for (const stage of ['book', 'insurance', 'adl'] as const)
      for (const position of positions) {
        if (position.sizeLots === 0) continue;
        const bankruptcy = this.crossBankruptcyTicks(account, asset, position);
        if (stage === 'adl') this.deleverage(position, bankruptcy);
        else this.closeInBook(position, bankruptcy, stage);
      }
  }

  /** README decision 7: the position's MM-proportional share of the cross balance, used up by its own move. */
  private crossBankruptcyTicks(account: FuturesAccount, asset: string, position: PerpPosition): number {
    const marks = this.state.marks;
    const figures = accountFigures(account, asset, marks);
    const own = positionFigures(position, account.settingsOf(position.market.symbol).leverage, marks);
    const share = crossMarginShareKrw(figures.crossMarginBalanceKrw, own.maintenanceMarginKrw, figures.crossMaintenanceMarginKrw);
    return crossBankruptcyPriceTicks(position, share, own.markTicks!, position.market)!;
  }

  /**
   * Stage 2 ('book', limit = bankruptcy) or 3 ('insurance', limit = as far past it as the fund
   * pays for): an IOC Liquidation order for the whole position, then the difference between its
   * fills and the bankruptcy price settled with the fund — the surplus to it, the shortfall from it.
   */
  private closeInBook(position: PerpPosition, bankruptcyTicks: number, stage: 'book' | 'insurance'): void {
    const market = position.market;
    const asset = market.settlementAsset;
    const lots = Math.abs(position.sizeLots);
    const long = position.sizeLots > 0;
    const perLotTick = BigInt(lots) * BigInt(market.quotePerTickLot);
    let limit = bankruptcyTicks;
    if (stage === 'insurance') {
      const reach = floorDiv(this.state.insuranceFundKrw(asset), perLotTick);
      if (reach === 0n) return;
      const far = long ? BigInt(bankruptcyTicks) - reach : BigInt(bankruptcyTicks) + reach;
      limit = Number(
        far < BigInt(market.minPrice) ? BigInt(market.minPrice) : far > BigInt(market.maxPrice) ? BigInt(market.maxPrice) : far,
      );
    }
    limit = Math.min(Math.max(limit, market.minPrice), market.maxPrice);
    const { filled, filledQuote } = this.placeLiquidationOrder(position, long ? 'Sell' : 'Buy', limit, lots);
    if (filled === 0) return;
    this.progress = true;
    const atBankruptcy = BigInt(bankruptcyTicks) * BigInt(filled) * BigInt(market.quotePerTickLot);
    // > 0: filled better than bankruptcy (to the fund); < 0: the fund pays the loss beyond it
    const toFund = long ? BigInt(filledQuote) - atBankruptcy : atBankruptcy - BigInt(filledQuote);
    this.moveToFund(this.state.account(position.userId), asset, toFund);
    this.emitLiquidation(
      position,
      long ? 'Sell' : 'Buy',
      Number(floorDiv(2n * BigInt(filledQuote) + BigInt(filled * market.quotePerTickLot), 2n * BigInt(filled * market.quotePerTickLot))),
      filled,
      stage,
    );
  }

  private deleverage(position: PerpPosition, bankruptcyTicks: number): void {
    const side: Side = position.sizeLots > 0 ? 'Sell' : 'Buy';
    const closed = this.adl.run(position, bankruptcyTicks);
    this.counts.adlFills = this.adl.fills;
    if (closed === 0) return;
    this.progress = true;
    this.emitLiquidation(position, side, bankruptcyTicks, closed, 'adl');
  }

  /** A balance still below 0 once no cross position is left: the fund covers it as far as it goes. */
  private coverDeficit(account: FuturesAccount, asset: string): void {
    if (account.userId === this.state.feeAccountId) return;
    if (this.openPositions(account, asset, 'CROSS').length > 0) return;
    const balance = crossMarginBalanceOf(account, asset, this.state.marks);
    if (balance >= 0n) return;
    const fund = this.state.insuranceFundKrw(asset);
    const paid = -balance < fund ? -balance : fund;
    if (paid > 0n) this.moveToFund(account, asset, -paid);
  }

  /** `amount` KRW from the account's wallet to the fund (negative: from the fund); the fund never goes below 0. */
  private moveToFund(account: FuturesAccount, asset: string, amount: bigint): void {
    if (amount === 0n) return;
    const fund = this.state.insuranceFundKrw(asset) + amount;
    if (fund < 0n) throw new Error(`insurance fund ${asset} would go below 0`);
    this.state.insuranceFunds.set(asset, fund);
    account.wallets.set(asset, account.wallet(asset) - amount);
    this.changes.touchWallet(account, asset, 'Liquidation');
  }

  private placeLiquidationOrder(
    position: PerpPosition,
    side: Side,
    limitTicks: number,
    lots: number,
  ): { filled: number; filledQuote: number } {
    const events = this.events;
    const book = this.books.get(position.market.symbol)!;
    const command: PlaceOrderCommand = {
      type: 'PlaceOrder',
      timestamp: events.timestamp,
      orderId: LIQUIDATION_ORDER_ID_BASE + ++this.state.liquidationOrderCount,
      userId: position.userId,
      symbol: position.market.symbol,
      side,
      orderType: 'Liquidation',
      price: limitTicks,
      quantity: lots,
      timeInForce: 'IOC',
      postOnly: false,
      stp: 'ExpireTaker',
      reduceOnly: true,
      positionSide: position.side,
    };
    const account = this.ledger.account(position.userId);
    const hold = book.settlement.hold(book, account, command);
    if (hold !== 0) throw new Error(`liquidation order refused: ${String(hold)}`);
    const order = this.lifecycle.newOrder(command, book.market, account, side === 'Buy');
    order.liquidation = true;
    this.lifecycle.orders.set(order.orderId, order);
    events.emit({ type: 'OrderAccepted', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
    this.matcher.execute(book, order);
    // read before anything reuses the retired record (the lifecycle pools finished records)
    const result = { filled: order.filled, filledQuote: order.filledQuote };
    if (book.stops.size > 0 && book.lastPrice > 0) this.matcher.fireStops(book);
    return result;
  }

  /** Stage 1: the account's open orders (and untriggered stops) in the markets concerned. */
  private cancelOrders(account: FuturesAccount, concerned: (symbol: string) => boolean): void {
    const ids = [...account.orders.values()]
      .filter((order) => concerned(order.market.symbol))
      .map((order) => order.orderId)
      .sort((a, b) => a - b);
    for (const orderId of ids) {
      const perpOrder = account.orders.get(orderId);
      const node = perpOrder === undefined ? null : this.futures.nodeOf(perpOrder);
      if (node !== null) this.cancel(node);
    }
  }

  private cancel(order: OrderNode): void {
    const events = this.events;
    const book = this.books.get(order.symbol)!;
    if (order.status === 'Untriggered') book.stops.remove(order);
    else this.lifecycle.unrest(book, order);
    order.status = 'Cancelled';
    order.updatedAt = events.timestamp;
    events.emit({ type: 'OrderCancelled', seq: ++events.seq, timestamp: events.timestamp, order: order.view() });
    this.lifecycle.retire(book, order);
    this.progress = true;
  }

  private emitLiquidation(position: PerpPosition, side: Side, priceTicks: number, quantity: number, stage: LiquidationStage): void {
    this.counts[stage]++;
    const events = this.events;
    events.emit({
      type: 'Liquidation',
      seq: ++events.seq,
      timestamp: events.timestamp,
      symbol: position.market.symbol,
      side,
      price: priceTicks,
      quantity,
      stage,
    });
  }

  /** the account's open positions in `asset` of one margin type, in a fixed order (symbol, leg) */
  private openPositions(account: FuturesAccount, asset: string, marginType: 'CROSS' | 'ISOLATED'): PerpPosition[] {
    const open: PerpPosition[] = [];
    for (const position of account.positions.values())
      if (
        position.sizeLots !== 0 &&
        position.market.settlementAsset === asset &&
        account.settingsOf(position.market.symbol).marginType === marginType
      )
        open.push(position);
    return open.sort((a, b) =>
      a.market.symbol < b.market.symbol ? -1 : a.market.symbol > b.market.symbol ? 1 : LEG_RANK[a.side] - LEG_RANK[b.side],
    );
  }
}
