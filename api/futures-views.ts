/**
 * Wire shapes of the futures reads (ARCHITECTURE.md "Perpetual futures → Reads"): money as
 * canonical decimal strings of the settlement asset (signed where it can be negative: sizes, PnL,
 * available balance), prices in KRW from ticks, sizes in base units from lots, rates in 1e-8 shown
 * with their eight decimals ("0.00400000"), leverage as a JSON integer.
 */
import {
  findAsset,
  lotsToQuantity,
  ticksToPrice,
  type AssetSpec,
  type EngineConfig,
  type FuturesAccountView,
  type MarketSpec,
  type PositionView,
} from '../engine/index.ts';
import type { PerpMarketSpec } from '../engine/perp/index.ts';
import { findTradedMarket, isPerpetual } from '../contract/markets.ts';
import { signedUnitsText } from '../contract/decimal-text.ts';

/** Signed integer minor units of `asset` as canonical decimal text ("-1234.5", "0"). */
export function signedAmount(asset: Pick<AssetSpec, 'decimals'>, minor: bigint): string {
  return signedUnitsText(minor, asset.decimals);
}

/** Signed lots as base units ("-0.01"); "0" never gets a sign. */
export function signedQuantity(market: MarketSpec, lots: number): string {
  const text = lotsToQuantity(market, Math.abs(lots));
  return lots < 0 ? `-${text}` : text;
}

/** A rate in 1e-8 with all eight decimals, as the contract writes rates ("0.00400000"). */
export function rate1e8(rate: number | bigint): string {
  const value = BigInt(rate);
  const magnitude = (value < 0n ? -value : value).toString().padStart(9, '0');
  return `${value < 0n ? '-' : ''}${magnitude.slice(0, -8)}.${magnitude.slice(-8)}`;
}

export class FuturesViews {
  readonly #config: EngineConfig;

  constructor(config: EngineConfig) {
    this.#config = config;
  }

  #settlement(code: string): AssetSpec {
    return findAsset(this.#config, code) ?? { code, decimals: 0 };
  }

  #market(symbol: string): PerpMarketSpec {
    const market = findTradedMarket(this.#config, symbol);
    if (!market || !isPerpetual(market)) throw new Error(`position on unknown perpetual market ${symbol}`);
    return market;
  }

  price(market: MarketSpec, ticks: number): string {
    return ticksToPrice(market, ticks);
  }

  position(view: PositionView): Record<string, unknown> {
    const market = this.#market(view.symbol);
    const asset = this.#settlement(market.settlementAsset);
    const price = (ticks: number | undefined) => (ticks === undefined ? null : ticksToPrice(market, ticks));
    return {
      symbol: view.symbol,
      position_side: view.positionSide,
      size: signedQuantity(market, view.size),
      entry_price: price(view.entryPrice),
      mark_price: price(view.markPrice),
      unrealized_pnl: signedAmount(asset, view.unrealizedPnlKrw),
      realized_pnl: signedAmount(asset, view.realizedPnlKrw),
      leverage: view.leverage,
      margin_type: view.marginType,
      isolated_margin: signedAmount(asset, view.isolatedMarginKrw),
      maintenance_margin: signedAmount(asset, view.maintenanceMarginKrw),
      liquidation_price: price(view.liquidationPrice),
      bankruptcy_price: price(view.bankruptcyPrice),
    };
  }

  account(view: FuturesAccountView): Record<string, unknown> {
    const asset = this.#settlement(view.asset);
    return {
      asset: view.asset,
      wallet_balance: signedAmount(asset, view.walletBalanceKrw),
      unrealized_pnl: signedAmount(asset, view.unrealizedPnlKrw),
      margin_balance: signedAmount(asset, view.marginBalanceKrw),
      maintenance_margin: signedAmount(asset, view.maintenanceMarginKrw),
      initial_margin: signedAmount(asset, view.initialMarginKrw),
      order_margin: signedAmount(asset, view.orderMarginKrw),
      available_balance: signedAmount(asset, view.availableBalanceKrw),
      position_mode: view.positionMode,
      positions: view.positions.map((position) => this.position(position)),
    };
  }

  /** What GET /v1/markets adds to a market's spot fields: its type, and for a perpetual its settlement, funding and tiers. */
  marketFields(market: MarketSpec): Record<string, unknown> {
    if (!isPerpetual(market)) return { type: 'spot' };
    const perp: PerpMarketSpec = market;
    const asset = this.#settlement(perp.settlementAsset);
    return {
      type: 'perpetual',
      settlement_asset: perp.settlementAsset,
      funding_interval_ms: perp.fundingIntervalMs,
      index_spot_symbol: perp.indexSpotSymbol,
      default_leverage: 20,
      risk_tiers: perp.riskTiers.map((tier) => ({
        tier: tier.tier,
        max_notional: tier.maxNotionalKrw === null ? null : signedAmount(asset, BigInt(tier.maxNotionalKrw)),
        max_leverage: tier.maxLeverage,
        maintenance_margin_rate: rate1e8(tier.maintenanceMarginRate1e8),
        cum: signedAmount(asset, BigInt(tier.cumKrw)),
      })),
    };
  }
}
