/**
 * The futures queries (EngineQueries in ../types.ts): the account, its positions valued at the
 * marks (unrealized PnL, maintenance margin, liquidation and bankruptcy prices by
 * liquidation-prices.ts), leverage settings and the mark price with its sources. Copies only.
 *
 * Account figures (README "Decisions"): margin balance = wallet + Σ unrealized PnL (the cross
 * margin balance plus every isolated position's); initial margin = Σ positions' notional at the
 * mark / leverage (up); order margin = Σ open orders' reserves; available as margin-rules.ts.
 */
import type { FuturesAccountView, LeverageSettingView, MarkPriceView, PositionView } from '../types.ts';
import {
  bankruptcyPriceTicks,
  crossBankruptcyPriceTicks,
  crossLiquidationPriceTicks,
  crossMarginShareKrw,
  liquidationPriceTicks,
} from './liquidation-prices.ts';
import { INTEREST_RATE_1E8 } from './funding-rules.ts';
import { entryPriceTicks } from './position-rules.ts';
import type { FuturesState, PerpPosition } from './futures-state.ts';
import { accountFigures, positionFigures, type AccountFigures } from './futures-valuation.ts';

const DEFAULT_SETTINGS: LeverageSettingView = { leverage: 20, marginType: 'CROSS' };

export class FuturesViews {
  constructor(private readonly state: FuturesState) {}

  futuresAccount(userId: number, asset = 'KRW'): FuturesAccountView | undefined {
    if (!this.state.settlementAssets.includes(asset)) return undefined;
    const account = this.state.accounts.get(userId);
    if (account === undefined) {
      return {
        asset,
        walletBalanceKrw: 0n,
        unrealizedPnlKrw: 0n,
        marginBalanceKrw: 0n,
        maintenanceMarginKrw: 0n,
        initialMarginKrw: 0n,
        orderMarginKrw: 0n,
        availableBalanceKrw: 0n,
        positionMode: 'ONE_WAY',
        positions: [],
      };
    }
    const figures = accountFigures(account, asset, this.state.marks);
    return {
      asset,
      walletBalanceKrw: figures.walletKrw,
      unrealizedPnlKrw: figures.unrealizedPnlKrw,
      marginBalanceKrw: figures.walletKrw + figures.unrealizedPnlKrw,
      maintenanceMarginKrw: figures.maintenanceMarginKrw,
      initialMarginKrw: figures.initialMarginKrw,
      orderMarginKrw: figures.orderReservesKrw,
      availableBalanceKrw: figures.availableBalanceKrw,
      positionMode: account.hedge ? 'HEDGE' : 'ONE_WAY',
      positions: this.positionViews(userId, undefined, asset, figures),
    };
  }

  futuresPositions(userId: number, symbol?: string): PositionView[] {
    const views: PositionView[] = [];
    for (const asset of this.state.settlementAssets) views.push(...this.positionViews(userId, symbol, asset, undefined));
    return views;
  }

  leverageSettings(userId: number, symbol: string): LeverageSettingView {
    const settings = this.state.accounts.get(userId)?.settings.get(symbol);
    return settings === undefined ? DEFAULT_SETTINGS : { leverage: settings.leverage, marginType: settings.marginType };
  }

  markPrice(symbol: string): MarkPriceView | undefined {
    const mark = this.state.marks.get(symbol);
    if (mark === undefined) return undefined;
    const sources = [...mark.sources.values()]
      .map((source) => ({ source: source.source, price: source.priceTicks, timestamp: source.updatedAtMs }))
      .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    const funding = this.state.funding.get(symbol)!;
    return {
      markPrice: mark.markTicks,
      indexPrice: mark.indexTicks,
      sources,
      indexStale: mark.stale,
      lastFundingRate1e8: funding.lastFundingRate1e8,
      estimatedFundingRate1e8: funding.estimatedRate1e8(),
      nextFundingTime: funding.nextFundingTimeMs,
      interestRate1e8: INTEREST_RATE_1E8,
    };
  }

  private positionViews(userId: number, symbol: string | undefined, asset: string, known: AccountFigures | undefined): PositionView[] {
    const account = this.state.accounts.get(userId);
    if (account === undefined) return [];
    const open = [...account.positions.values()]
      .filter(
        (position) =>
          position.sizeLots !== 0 &&
          position.market.settlementAsset === asset &&
          (symbol === undefined || position.market.symbol === symbol),
      )
      .sort(byMarketAndSide);
    if (open.length === 0) return [];
    const figures = known ?? accountFigures(account, asset, this.state.marks);
    return open.map((position) => {
      const settings = account.settingsOf(position.market.symbol);
      const own = positionFigures(position, settings.leverage, this.state.marks);
      const amounts = { sizeLots: position.sizeLots, costKrw: position.costKrw };
      const mark = own.markTicks;
      let liquidationPrice: number | undefined;
      let bankruptcyPrice: number | undefined;
      if (settings.marginType === 'ISOLATED') {
        liquidationPrice = liquidationPriceTicks(amounts, position.isolatedMarginKrw, position.market);
        bankruptcyPrice = bankruptcyPriceTicks(amounts, position.isolatedMarginKrw, position.market);
      } else if (mark !== undefined) {
        const share = crossMarginShareKrw(figures.crossMarginBalanceKrw, own.maintenanceMarginKrw, figures.crossMaintenanceMarginKrw);
        bankruptcyPrice = crossBankruptcyPriceTicks(amounts, share, mark, position.market);
        liquidationPrice = crossLiquidationPriceTicks(
          amounts,
          figures.crossMarginBalanceKrw,
          mark,
          figures.crossMaintenanceMarginKrw - own.maintenanceMarginKrw,
          position.market,
        );
      }
      return {
        symbol: position.market.symbol,
        positionSide: position.side,
        size: position.sizeLots,
        entryPrice: entryPriceTicks(amounts, position.market),
        markPrice: mark,
        unrealizedPnlKrw: own.unrealizedPnlKrw,
        realizedPnlKrw: position.realizedPnlKrw,
        leverage: settings.leverage,
        marginType: settings.marginType,
        isolatedMarginKrw: position.isolatedMarginKrw,
        maintenanceMarginKrw: own.maintenanceMarginKrw,
        liquidationPrice,
        bankruptcyPrice,
      };
    });
  }
}

const SIDE_ORDER = { BOTH: 0, LONG: 1, SHORT: 2 } as const;

function byMarketAndSide(a: PerpPosition, b: PerpPosition): number {
  if (a.market.symbol !== b.market.symbol) return a.market.symbol < b.market.symbol ? -1 : 1;
  return SIDE_ORDER[a.side] - SIDE_ORDER[b.side];
}
