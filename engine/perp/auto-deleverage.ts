/**
 * Stage 4 of a liquidation (ARCHITECTURE.md "Liquidation"): what the book and the insurance fund
 * could not take is closed against the opposite positions with the highest rank, at the
 * bankruptcy price, with no fee on either side. Rank = unrealized PnL % × effective leverage
 * (Binance's ADL ranking) = (PnL / |cost|) × (notional / margin balance), compared as exact
 * fractions in BigInt; only profitable positions (PnL > 0 at the mark) are taken, never the
 * liquidated user's own. Ties: lower user id first, then leg (BOTH, LONG, SHORT) — deterministic.
 *
 * Each fill is a public Trade (`liquidation: true`) with both execution reports `execType: 'ADL'`:
 * the liquidated side as one engine order of type Liquidation over the whole stage, each
 * counterparty as its own engine Market order, filled at once. No book, no last price, no ticker:
 * an ADL fill is not a market trade (it moves neither the book nor the stops).
 */
import type { CommandEvents } from '../command-events.ts';
import type { Matcher } from '../matching/matcher.ts';
import type { FillReport, OrderType, Side } from '../types.ts';
import { absBig } from './integer-math.ts';
import { isolatedMarginRelease, notionalKrw } from './margin-rules.ts';
import { applyFill, unrealizedPnlKrw } from './position-rules.ts';
import type { FuturesEvents } from './futures-events.ts';
import { LIQUIDATION_ORDER_ID_BASE, type FuturesState, type PerpPosition } from './futures-state.ts';
import { accountFigures } from './futures-valuation.ts';
import type { LiquidationIndex } from './liquidation-index.ts';

const LEG_RANK = { BOTH: 0, LONG: 1, SHORT: 2 } as const;

interface Ranked {
  readonly position: PerpPosition;
  /** rank = numerator / denominator, denominator > 0 */
  readonly numerator: bigint;
  readonly denominator: bigint;
}

export class AutoDeleverage {
  /** ADL fills so far (metrics; not state) */
  fills = 0;
  constructor(
    private readonly state: FuturesState,
    private readonly index: LiquidationIndex,
    private readonly changes: FuturesEvents,
    private readonly events: CommandEvents,
    private readonly matcher: Matcher,
  ) {}

  /** Closes what it can of `position` at `bankruptcyTicks`; returns the lots closed. */
  run(position: PerpPosition, bankruptcyTicks: number): number {
    const market = position.market;
    const mark = this.state.marks.get(market.symbol)!.markTicks;
    if (mark === undefined) return 0;
    const counterparties = this.ranked(position, mark);
    const quantity = Math.abs(position.sizeLots);
    const side: Side = position.sizeLots > 0 ? 'Sell' : 'Buy';
    const orderId = this.nextOrderId();
    let closed = 0;
    for (const { position: other } of counterparties) {
      const lots = Math.min(quantity - closed, Math.abs(other.sizeLots));
      if (lots === 0) break;
      const otherSide: Side = side === 'Sell' ? 'Buy' : 'Sell';
      this.move(other, otherSide === 'Buy' ? lots : -lots, bankruptcyTicks);
      this.move(position, side === 'Buy' ? lots : -lots, bankruptcyTicks);
      closed += lots;
      this.fills++;
      const notional = bankruptcyTicks * lots * market.quotePerTickLot;
      const seq = this.events.seq + 1;
      this.events.seq = seq + 2;
      const report = (
        seq: number,
        orderId: number,
        userId: number,
        side: Side,
        isMaker: boolean,
        orderType: OrderType,
        filled: number,
        ordered: number,
      ): FillReport => ({
        seq,
        orderId,
        userId,
        side,
        isMaker,
        filledQuantity: filled,
        remainingQuantity: ordered - filled,
        fee: 0,
        status: filled === ordered ? 'Filled' : 'PartiallyFilled',
        orderType,
        orderPrice: bankruptcyTicks,
        orderQuantity: ordered,
        filledQuote: bankruptcyTicks * filled * market.quotePerTickLot,
        execType: 'ADL',
      });
      this.events.emit({
        type: 'Trade',
        seq,
        timestamp: this.events.timestamp,
        symbol: market.symbol,
        tradeId: ++this.matcher.tradeSeq,
        price: bankruptcyTicks,
        quantity: lots,
        quoteQuantity: notional,
        takerSide: side,
        maker: report(seq + 1, this.nextOrderId(), other.userId, otherSide, true, 'Market', lots, lots),
        taker: report(seq + 2, orderId, position.userId, side, false, 'Liquidation', closed, quantity),
        liquidation: true,
      });
    }
    return closed;
  }

  /** the profitable opposite positions, highest rank first */
  private ranked(position: PerpPosition, markTicks: number): Ranked[] {
    const market = position.market;
    const long = position.sizeLots > 0;
    const candidates = new Set(this.index.openPositions(market.symbol));
    // positions opened earlier in this command are indexed only at its end
    for (const touched of this.changes.touchedPositions()) if (touched.market === market) candidates.add(touched);
    const ranked: Ranked[] = [];
    for (const other of candidates) {
      if (other.userId === position.userId || other.sizeLots === 0 || other.sizeLots > 0 === long) continue;
      const pnl = unrealizedPnlKrw(other, markTicks, market);
      if (pnl <= 0n) continue;
      const account = this.state.account(other.userId);
      const isolated = account.settingsOf(market.symbol).marginType === 'ISOLATED';
      const balance = isolated
        ? other.isolatedMarginKrw + pnl
        : accountFigures(account, market.settlementAsset, this.state.marks).crossMarginBalanceKrw;
      const cost = absBig(other.costKrw);
      ranked.push({
        position: other,
        numerator: pnl * notionalKrw(other.sizeLots, markTicks, market),
        denominator: (cost > 0n ? cost : 1n) * (balance > 0n ? balance : 1n),
      });
    }
    return ranked.sort((a, b) => {
      const left = a.numerator * b.denominator;
      const right = b.numerator * a.denominator;
      if (left !== right) return left > right ? -1 : 1;
      if (a.position.userId !== b.position.userId) return a.position.userId - b.position.userId;
      return LEG_RANK[a.position.side] - LEG_RANK[b.position.side];
    });
  }

  /** One side of an ADL fill: the position closes `signedLots` at the price, no fee (futures-ledger's fill rule). */
  private move(position: PerpPosition, signedLots: number, priceTicks: number): void {
    const market = position.market;
    const account = this.state.account(position.userId);
    const oldSize = position.sizeLots;
    // the size the leg started the command with, as a fill records it (futures-ledger.ts): the
    // end-of-command reserve refresh compares against it (reduce-only-cut.ts)
    const epoch = this.changes.epoch;
    if (position.startMark !== epoch) {
      position.startMark = epoch;
      position.startSizeLots = oldSize;
    }
    const outcome = applyFill({ sizeLots: oldSize, costKrw: position.costKrw }, signedLots, priceTicks, market);
    position.sizeLots = outcome.position.sizeLots;
    position.costKrw = outcome.position.costKrw;
    position.realizedPnlKrw += outcome.realizedPnlKrw;
    if (account.settingsOf(market.symbol).marginType === 'ISOLATED' && outcome.closedLots > 0)
      position.isolatedMarginKrw -= isolatedMarginRelease(position.isolatedMarginKrw, oldSize, outcome.closedLots);
    const asset = market.settlementAsset;
    account.wallets.set(asset, account.wallet(asset) + outcome.realizedPnlKrw);
    this.changes.touchWallet(account, asset, 'Trade');
    this.changes.touchPosition(position);
  }

  private nextOrderId(): number {
    return LIQUIDATION_ORDER_ID_BASE + ++this.state.liquidationOrderCount;
  }
}
