/**
 * The futures half of the engine's contract (issue 18; re-exported by types.ts, whose units hold):
 * the perpetual commands, the PositionChanged and WalletChanged events and the futures query views.
 * Money of the futures domain is BigInt KRW (settlement minor units), sizes signed lots, prices ticks.
 */

interface FuturesCommandBase {
  readonly timestamp: number;
}

interface FuturesEventBase {
  readonly seq: number;
  readonly timestamp: number; // the command's timestamp
}

export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
export type MarginType = 'CROSS' | 'ISOLATED';
export type PositionMode = 'ONE_WAY' | 'HEDGE';

/** Moves money between a user's spot balance (available) and futures wallet, atomically. */
export interface FuturesTransferCommand extends FuturesCommandBase {
  readonly type: 'FuturesTransfer';
  readonly userId: number;
  readonly asset: string; // settlement asset, 'KRW'
  readonly amount: number; // minor units, > 0
  readonly direction: 'SpotToFutures' | 'FuturesToSpot';
}

/** One-way (hedge false) or hedge mode; only with no position and no open order in any perpetual. */
export interface SetPositionModeCommand extends FuturesCommandBase {
  readonly type: 'SetPositionMode';
  readonly userId: number;
  readonly hedge: boolean;
}

export interface SetLeverageCommand extends FuturesCommandBase {
  readonly type: 'SetLeverage';
  readonly userId: number;
  readonly symbol: string;
  readonly leverage: number; // integer ≥ 1, ≤ the tier max for the position's notional at the mark
}

/** Only with no position and no open order in that market. */
export interface SetMarginTypeCommand extends FuturesCommandBase {
  readonly type: 'SetMarginType';
  readonly userId: number;
  readonly symbol: string;
  readonly marginType: MarginType;
}

export interface AdjustIsolatedMarginCommand extends FuturesCommandBase {
  readonly type: 'AdjustIsolatedMargin';
  readonly userId: number;
  readonly symbol: string;
  readonly positionSide: PositionSide;
  readonly amount: number; // KRW minor units, > 0
  readonly action: 'Add' | 'Remove';
}

/** The admin oracle feed (journaled): mark = index = median of the sources fresh at the command's time. */
export interface SetIndexPricesCommand extends FuturesCommandBase {
  readonly type: 'SetIndexPrices';
  readonly prices: readonly IndexPriceInput[];
}

export interface IndexPriceInput {
  readonly symbol: string;
  readonly source: string;
  readonly price: number; // ticks
}

/**
 * The price tick (issue 19), journaled by the core every second while perpetual markets exist: each
 * perpetual's index is re-taken (the `spot` source read from the spot book, then the median of the
 * fresh sources), a premium sample is taken from its own book, funding is settled when a funding
 * time has been reached, and MarkPrice is emitted where something changed (engine/perp/price-tick.ts).
 */
export interface PriceTickCommand extends FuturesCommandBase {
  readonly type: 'PriceTick';
}

export type FuturesCommand =
  | FuturesTransferCommand
  | SetPositionModeCommand
  | SetLeverageCommand
  | SetMarginTypeCommand
  | AdjustIsolatedMarginCommand
  | SetIndexPricesCommand
  | PriceTickCommand;

// ---------------------------------------------------------------------------------------------
// Events

/**
 * One per (user, symbol, positionSide) a command touched, with the figures after the whole
 * command; emitted last: after the BalanceChanged and WalletChanged events, in first-touch order.
 */
export interface PositionChangedEvent extends FuturesEventBase {
  readonly type: 'PositionChanged';
  readonly userId: number;
  readonly symbol: string;
  readonly positionSide: PositionSide;
  readonly size: number; // signed lots (LONG ≥ 0, SHORT ≤ 0 in hedge mode)
  readonly costKrw: bigint; // signed, exact Σ fill price × signed quantity of the open position
  readonly entryPrice?: number; // ticks, cost / size to the nearest tick (half up); absent when flat
  readonly realizedPnlKrw: bigint; // cumulative for this position record (gross)
  readonly marginType: MarginType;
  readonly isolatedMarginKrw: bigint; // 0 for cross
  readonly leverage: number;
}

export type WalletChangeReason = 'Transfer' | 'Fee' | 'RealizedPnl' | 'Trade' | 'IsolatedMargin' | 'Funding' | 'Liquidation';

/** The liquidation stage a Liquidation event reports (ARCHITECTURE.md "Liquidation" (2), (3), (4)). */
export type LiquidationStage = 'book' | 'insurance' | 'adl';

/**
 * Public (no user id): what one stage of one position's liquidation closed — `quantity` lots at
 * `price`, the stage's average fill price in ticks (nearest, half up; the bankruptcy price for
 * ADL). Emitted right after the stage's trades.
 */
export interface LiquidationEvent extends FuturesEventBase {
  readonly type: 'Liquidation';
  readonly symbol: string;
  readonly side: 'Buy' | 'Sell'; // the liquidation order's side: Sell closes a long
  readonly price: number; // ticks
  readonly quantity: number; // lots
  readonly stage: LiquidationStage;
}

/**
 * One per (user, asset) futures wallet a command touched (the fee account's included), figures
 * after the command; emitted after the BalanceChanged events, before the PositionChanged ones, in
 * first-touch order. `reason` is the command's first cause ('Trade' for a fill: PnL and fee together).
 */
export interface WalletChangedEvent extends FuturesEventBase {
  readonly type: 'WalletChanged';
  readonly userId: number;
  readonly asset: string;
  readonly walletBalanceKrw: bigint; // includes isolated margins
  readonly reason: WalletChangeReason;
}

/**
 * One per open position at a funding settlement (in user id, then leg order), emitted as the
 * settlement pays it; the WalletChanged (reason 'Funding') and, for an isolated position, the
 * PositionChanged follow at the end of the command.
 */
export interface FundingPaidEvent extends FuturesEventBase {
  readonly type: 'FundingPaid';
  readonly userId: number;
  readonly symbol: string;
  readonly positionSide: PositionSide;
  readonly size: number; // signed lots at the settlement
  readonly markPrice: number; // ticks
  readonly rate1e8: bigint; // F of this funding time, 1e-8
  readonly amountKrw: bigint; // > 0 received, < 0 paid (payers rounded up, receivers down)
}

/** A perpetual's prices at a price tick, emitted when any field differs from its previous MarkPrice. */
export interface MarkPriceEvent extends FuturesEventBase {
  readonly type: 'MarkPrice';
  readonly symbol: string;
  readonly markPrice: number; // ticks
  readonly indexPrice: number; // ticks
  readonly estimatedFundingRate1e8: bigint; // F from the samples of the interval so far
  readonly nextFundingTime: number; // ms
}

// ---------------------------------------------------------------------------------------------
// Query views

/** A perpetual position as the queries show it (figures valued at the mark; absent when no mark). */
export interface PositionView {
  readonly symbol: string;
  readonly positionSide: PositionSide;
  readonly size: number; // signed lots
  readonly entryPrice?: number; // ticks
  readonly markPrice?: number; // ticks
  readonly unrealizedPnlKrw: bigint;
  readonly realizedPnlKrw: bigint;
  readonly leverage: number;
  readonly marginType: MarginType;
  readonly isolatedMarginKrw: bigint;
  readonly maintenanceMarginKrw: bigint;
  readonly liquidationPrice?: number; // ticks
  readonly bankruptcyPrice?: number; // ticks
}

export interface FuturesAccountView {
  readonly asset: string;
  readonly walletBalanceKrw: bigint;
  readonly unrealizedPnlKrw: bigint;
  readonly marginBalanceKrw: bigint;
  readonly maintenanceMarginKrw: bigint;
  readonly initialMarginKrw: bigint;
  readonly orderMarginKrw: bigint;
  readonly availableBalanceKrw: bigint;
  readonly positionMode: PositionMode;
  readonly positions: PositionView[];
}

export interface LeverageSettingView {
  readonly leverage: number;
  readonly marginType: MarginType;
}

export interface MarkPriceView {
  readonly markPrice?: number; // ticks
  readonly indexPrice?: number; // ticks
  readonly sources: { readonly source: string; readonly price: number; readonly timestamp: number }[];
  /** as of the last index re-take (a price tick or an oracle update) */
  readonly indexStale?: boolean;
  /** F of the last funding settlement (absent before the first) */
  readonly lastFundingRate1e8?: bigint;
  /** F from the current interval's samples */
  readonly estimatedFundingRate1e8?: bigint;
  /** ms; absent before the first price tick */
  readonly nextFundingTime?: number;
  readonly interestRate1e8?: bigint;
}
