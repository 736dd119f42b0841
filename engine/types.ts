/**
 * The engine's contract: commands in, events out. Everything here is plain data so that
 * commands can be journaled and events published without conversion.
 *
 * Units (never floating point):
 *  - price: integer number of price ticks of the market (price = ticks × market.tickSize)
 *  - quantity: integer number of lots of the market (quantity = lots × market.lotSize)
 *  - amounts/balances: integer minor units of the asset (asset.decimals places)
 *  - notional of (price ticks × quantity lots) in quote minor units = ticks × lots × market.quotePerTickLot
 *
 * All these are JS numbers that are proven to stay ≤ Number.MAX_SAFE_INTEGER: market bounds are
 * checked at load (maxPrice × maxQuantity × quotePerTickLot ≤ 2^53 − 1) and deposits are refused
 * when they would push an asset's total supply in the engine above 2^53 − 1 (see engine/README).
 * The futures domain keeps money in BigInt (engine/perp/README.md "Units").
 */
import type { PerpMarketSpec } from './perp/perp-market.ts';
import type {
  FuturesAccountView,
  FuturesCommand,
  FundingPaidEvent,
  LeverageSettingView,
  MarkPriceEvent,
  LiquidationEvent,
  MarkPriceView,
  PositionChangedEvent,
  PositionSide,
  PositionView,
  WalletChangedEvent,
} from './futures-types.ts';

export type * from './futures-types.ts';

export type Side = 'Buy' | 'Sell';
/** 'Liquidation': an order the engine places to close a position under its maintenance margin (perp/liquidation.ts). */
export type OrderType = 'Limit' | 'Market' | 'StopLimit' | 'StopMarket' | 'TakeProfitLimit' | 'TakeProfitMarket' | 'Liquidation';
/** What a perpetual TP/SL order's stop price is compared with (perp/README decision 50). */
export type WorkingType = 'MARK_PRICE' | 'LAST_PRICE';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
/** Self-trade prevention: what happens when a taker would trade with its owner's resting order. */
export type SelfTradePrevention = 'ExpireTaker' | 'ExpireMaker' | 'ExpireBoth';

/** Order status words; the first three are the seeds' own. */
export type OrderStatus =
  | 'Pending' // resting on the book, nothing filled
  | 'PartiallyFilled'
  | 'Filled'
  | 'Cancelled'
  | 'Expired' // IOC/FOK remainder, market order without liquidity, self-trade prevention
  | 'Rejected'
  | 'Untriggered'; // stop order waiting for its trigger price

export interface AssetSpec {
  readonly code: string; // 'BTC'
  readonly decimals: number; // minor units per 1 = 10^decimals
}

export interface MarketSpec {
  readonly symbol: string; // 'BTC-KRW'
  readonly base: string;
  readonly quote: string;
  readonly tickSize: string; // decimal string, in quote units, e.g. '1000'
  readonly lotSize: string; // decimal string, in base units, e.g. '0.0001'
  /** quote minor units for 1 tick × 1 lot; integer ≥ 1, derived from tickSize, lotSize and quote decimals. */
  readonly quotePerTickLot: number;
  /** base minor units in 1 lot; integer ≥ 1. */
  readonly baseMinorPerLot: number;
  /** decimals of the base and quote assets: a quantity or price with more is TOO_MANY_DECIMALS, not OFF_LOT/OFF_TICK */
  readonly baseDecimals: number;
  readonly quoteDecimals: number;
  readonly minQuantity: number; // lots
  readonly maxQuantity: number; // lots
  readonly minPrice: number; // ticks
  readonly maxPrice: number; // ticks
  readonly minNotional: number; // quote minor units
  /** fee rates in parts per million of the notional (1000 = 0.1 %). Fees are charged in the quote asset. */
  readonly makerFeePpm: number;
  readonly takerFeePpm: number;
  /** absent or 'spot' on spot markets; perpetual markets are PerpMarketSpec (engine/perp/perp-market.ts) */
  readonly type?: 'spot' | 'perpetual';
}

export interface EngineConfig {
  readonly assets: readonly AssetSpec[];
  /** the spot markets */
  readonly markets: readonly MarketSpec[];
  /**
   * the perpetual futures markets (engine/perp/perp-market.ts), matched like spot and settled in
   * futures wallets and positions; their books follow the spot ones. markets() lists both.
   */
  readonly perpetualMarkets?: readonly PerpMarketSpec[];
  /** user id of the account fees are credited to */
  readonly feeAccountId: number;
  /**
   * finished orders kept answerable by getOrder() (bounded FIFO, part of the state); their client
   * order ids stay taken as long as they are kept (open orders' always are)
   */
  readonly recentFinishedLimit: number;
  /**
   * open orders (resting or untriggered) one user may have in one market; an order that could rest
   * (a GTC limit, a stop) beyond it is refused as TOO_MANY_OPEN_ORDERS
   */
  readonly maxOpenOrdersPerUserMarket: number;
}

// ---------------------------------------------------------------------------------------------
// Commands. `timestamp` (ms since epoch) and ids are assigned by the sequencer, never the engine.

interface CommandBase {
  readonly timestamp: number;
}

export interface PlaceOrderCommand extends CommandBase {
  readonly type: 'PlaceOrder';
  readonly orderId: number; // unique, assigned outside the engine
  readonly userId: number;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly price?: number; // ticks; required for Limit/StopLimit, absent for Market/StopMarket
  readonly stopPrice?: number; // ticks; required for stop types
  readonly quantity?: number; // lots
  /** quote minor units to spend; Market/StopMarket Buy only (by amount instead of, or as a cap on, quantity) */
  readonly quoteAmount?: number;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  readonly stp: SelfTradePrevention;
  readonly clientOrderId?: string;
  /** perpetual symbols only: never opens or grows a position, reserves nothing (on spot → NOT_A_PERPETUAL) */
  readonly reduceOnly?: boolean;
  /** perpetual symbols only: LONG/SHORT in hedge mode, BOTH or absent in one-way mode */
  readonly positionSide?: PositionSide;
  /** perpetual stop/take-profit orders only: the price the stop compares with; absent = LAST_PRICE (the API sends MARK_PRICE by default) */
  readonly workingType?: WorkingType;
  /** perpetual StopMarket/TakeProfitMarket only, without quantity: closes the whole leg when it fires */
  readonly closePosition?: boolean;
}

export interface CancelOrderCommand extends CommandBase {
  readonly type: 'CancelOrder';
  readonly orderId: number;
  readonly userId: number; // must own the order
}

/** Reduce the quantity of a resting (or untriggered) order; keeps its queue priority. */
export interface AmendOrderCommand extends CommandBase {
  readonly type: 'AmendOrder';
  readonly orderId: number;
  readonly userId: number;
  readonly newQuantity: number; // lots, total original quantity after the amend; must be > filled and < current
}

export interface DepositCommand extends CommandBase {
  readonly type: 'Deposit';
  readonly userId: number;
  readonly asset: string;
  readonly amount: number; // minor units, > 0
  readonly reference?: string;
}

export interface WithdrawCommand extends CommandBase {
  readonly type: 'Withdraw';
  readonly userId: number;
  readonly asset: string;
  readonly amount: number; // minor units, > 0, ≤ available
  readonly reference?: string;
}

/**
 * Lets time pass in the engine: publishes the Ticker of every symbol whose figures changed and whose
 * last Ticker is at least TICKER_INTERVAL_MS older than this command (see TickerEvent). The core
 * submits one only when `pendingTickers()` says a Ticker is waiting and no other command came in a
 * second; it is journaled like any command, so replay emits the same Tickers.
 */
export interface TickCommand extends CommandBase {
  readonly type: 'Tick';
}

/** The commands of the spot half (what existed before the futures ones). */
export type SpotCommand = PlaceOrderCommand | CancelOrderCommand | AmendOrderCommand | DepositCommand | WithdrawCommand | TickCommand;

export type Command = SpotCommand | FuturesCommand;

// ---------------------------------------------------------------------------------------------
// Events. `seq` is global and gap-free across all events the engine ever emits (engine state);
// book deltas also carry a per-symbol gap-free `symbolSeq`.

interface EventBase {
  readonly seq: number;
  readonly timestamp: number; // the command's timestamp
}

/**
 * One side's execution report for a trade. A Trade event takes three consecutive seqs: its own
 * (the public trade), then the maker's report (`maker.seq` = trade seq + 1), then the taker's
 * (`taker.seq` = trade seq + 2) — so every execution report downstream has a seq of its own and
 * the seqs stay gap-free.
 */
export interface FillReport {
  readonly seq: number;
  readonly orderId: number;
  readonly userId: number;
  readonly clientOrderId?: string;
  readonly side: Side;
  readonly isMaker: boolean;
  readonly filledQuantity: number; // cumulative lots
  readonly remainingQuantity: number; // lots still open (0 when done)
  readonly fee: number; // quote minor units charged on this fill
  readonly status: OrderStatus; // after this fill
  readonly orderType: OrderType;
  readonly orderPrice?: number; // ticks: the order's limit price (absent for market orders)
  readonly orderQuantity: number; // lots: the order's quantity (after amends); for quote-amount market buys the lots bought so far
  readonly filledQuote: number; // cumulative quote minor units traded (avg price = filledQuote / filledQuantity)
  /** 'ADL': an auto-deleveraging fill (perp/auto-deleverage.ts); absent for a book trade */
  readonly execType?: 'ADL';
}

export interface OrderAcceptedEvent extends EventBase {
  readonly type: 'OrderAccepted';
  readonly order: OrderView; // state right after acceptance (Pending or Untriggered)
}

export interface TradeEvent extends EventBase {
  readonly type: 'Trade';
  readonly symbol: string;
  readonly tradeId: number; // gap-free per engine
  readonly price: number; // ticks
  readonly quantity: number; // lots
  readonly quoteQuantity: number; // quote minor units = price × quantity × quotePerTickLot
  readonly takerSide: Side;
  readonly maker: FillReport;
  readonly taker: FillReport;
  /** true for a liquidation order's fill and an auto-deleveraging fill (perpetuals) */
  readonly liquidation?: true;
}

export interface OrderCancelledEvent extends EventBase {
  readonly type: 'OrderCancelled';
  readonly order: OrderView;
}

/** ReduceOnly and InsufficientMargin: perpetual orders only (engine/perp/README.md). */
export type ExpiryReason =
  'IOC' | 'FOK' | 'MarketNoLiquidity' | 'SelfTradePrevention' | 'QuoteAmountExhausted' | 'ReduceOnly' | 'InsufficientMargin';

export interface OrderExpiredEvent extends EventBase {
  readonly type: 'OrderExpired';
  readonly reason: ExpiryReason;
  readonly order: OrderView;
}

export interface OrderRejectedEvent extends EventBase {
  readonly type: 'OrderRejected';
  readonly code: number; // stable numbered reason, see reject-codes.ts
  readonly reason: string; // stable machine word, e.g. 'INSUFFICIENT_FUNDS'
  readonly commandType: Command['type'];
  readonly userId: number;
  readonly orderId?: number;
  readonly clientOrderId?: string;
  readonly symbol?: string;
  /** a refused PlaceOrder the engine records (answerable by id): the order as recorded, status Rejected */
  readonly order?: OrderView;
  /** DUPLICATE_CLIENT_ORDER_ID: the order that holds this user's client order id (the answer to the retry) */
  readonly duplicateOfOrderId?: number;
}

export interface OrderTriggeredEvent extends EventBase {
  readonly type: 'OrderTriggered';
  readonly order: OrderView;
}

export interface OrderAmendedEvent extends EventBase {
  readonly type: 'OrderAmended';
  readonly order: OrderView;
}

/**
 * One per (user, asset) a command touched — the fee account included, once per command, not per
 * fill — with the figures after the whole command; emitted after the command's order events and
 * book deltas, in the order the balances were first touched.
 */
export interface BalanceChangedEvent extends EventBase {
  readonly type: 'BalanceChanged';
  readonly userId: number;
  readonly asset: string;
  readonly available: number; // minor units, after the change
  readonly locked: number;
}

/**
 * One per price level a command touched, with the level's total after the whole command (a level
 * filled, emptied or re-created several times in one command appears once, with one symbolSeq);
 * emitted after the order events, in first-touch order.
 */
export interface BookDeltaEvent extends EventBase {
  readonly type: 'BookDelta';
  readonly symbol: string;
  readonly symbolSeq: number;
  readonly side: Side;
  readonly price: number; // ticks
  readonly quantity: number; // new total lots at the level (0 = level removed)
}

/** Minimum time between two Tickers of one symbol, in the commands' ms. */
export const TICKER_INTERVAL_MS = 1_000;

/**
 * A symbol's market summary, emitted at the end of a command when its figures changed (a trade, or
 * a new best bid or ask price) and its previous Ticker is at least TICKER_INTERVAL_MS older than
 * the command; otherwise the change waits for a later command (a Tick, if nothing else comes).
 * The 24 h figures cover trades with timestamp > this event's timestamp − 24 h, by minute buckets
 * (a trade counts in its minute: the window's edge moves a minute at a time). Engine state, so
 * replay emits the same Tickers.
 */
export interface TickerEvent extends EventBase {
  readonly type: 'Ticker';
  readonly symbol: string;
  readonly lastPrice?: number; // ticks, the last trade's price
  readonly bestBid?: number; // ticks
  readonly bestAsk?: number; // ticks
  readonly open24h?: number; // ticks: the first trade's price in the window
  readonly high24h?: number;
  readonly low24h?: number;
  readonly volume24h: number; // lots
  readonly quoteVolume24h: number; // quote minor units
}

export type TickerFigures = Omit<TickerEvent, 'type' | 'seq' | 'timestamp'>;

export type EngineEvent =
  | FundingPaidEvent
  | MarkPriceEvent
  | LiquidationEvent
  | PositionChangedEvent
  | WalletChangedEvent
  | TickerEvent
  | OrderAcceptedEvent
  | TradeEvent
  | OrderCancelledEvent
  | OrderExpiredEvent
  | OrderRejectedEvent
  | OrderTriggeredEvent
  | OrderAmendedEvent
  | BalanceChangedEvent
  | BookDeltaEvent;

// ---------------------------------------------------------------------------------------------
// Query views (copies; callers never see engine internals).

export interface OrderView {
  readonly orderId: number;
  readonly userId: number;
  readonly clientOrderId?: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly timeInForce: TimeInForce;
  readonly postOnly: boolean;
  readonly price?: number; // ticks
  readonly stopPrice?: number; // ticks
  readonly quantity: number; // lots (original, after amends); for quote-amount market buys the lots bought
  readonly quoteAmount?: number;
  readonly filledQuantity: number;
  readonly remainingQuantity: number;
  readonly filledQuote: number; // quote minor units traded, for avg price = filledQuote / filledQuantity
  readonly feesPaid: number; // quote minor units
  readonly status: OrderStatus;
  /** set when status is Rejected: the stable reject code and its machine word (reject-codes.ts) */
  readonly rejectCode?: number;
  readonly rejectReason?: string;
  /** set when status is Expired: why (the OrderExpired event's reason) */
  readonly expireReason?: ExpiryReason;
  /** perpetual stop/take-profit orders: the price their stop compares with */
  readonly workingType?: WorkingType;
  /** true for a perpetual close-position order (its quantity is 0 until it fires) */
  readonly closePosition?: boolean;
  readonly createdAt: number; // ms, the place command's timestamp
  readonly updatedAt: number;
}

export interface BookLevel {
  readonly price: number; // ticks
  readonly quantity: number; // lots
}

export interface BookDepth {
  readonly symbol: string;
  readonly symbolSeq: number;
  readonly bids: readonly BookLevel[]; // best first
  readonly asks: readonly BookLevel[];
}

export interface BalanceView {
  readonly asset: string;
  readonly available: number;
  readonly locked: number;
}

/** Serializable engine state (plain JSON-safe data); its shape is the engine's own business. */
export type EngineSnapshot = { readonly version: number } & Record<string, unknown>;

/**
 * Read-only views of the engine's state, answered between commands (copies: callers never see
 * engine internals). Implemented by `Engine` (engine/queries.ts); the API reads the engine through
 * this type alone.
 */
export interface EngineQueries {
  /** the symbol's ticker figures now (24 h window ending at `now`, ms), as a Ticker would carry them; undefined for an unknown symbol */
  ticker(symbol: string, now: number): TickerFigures | undefined;
  getOrder(orderId: number): OrderView | undefined;
  /**
   * The order holding this user's client order id: an open order, or a finished one still
   * remembered (the recentFinishedLimit window). A PlaceOrder with it is refused as
   * DUPLICATE_CLIENT_ORDER_ID.
   */
  orderForClientOrderId(userId: number, clientOrderId: string): number | undefined;
  openOrders(userId: number, symbol?: string): OrderView[];
  /**
   * At most `limit` of the user's open orders (in `symbol`, or all markets) with ids above
   * `afterOrderId`, by id; `more` when others follow. Builds only the views it returns.
   */
  openOrdersPage(userId: number, symbol: string | undefined, afterOrderId: number, limit: number): { orders: OrderView[]; more: boolean };
  depth(symbol: string, levels: number): BookDepth;
  bestBidAsk(symbol: string): { bid?: BookLevel; ask?: BookLevel };
  balances(userId: number): BalanceView[];
  lastTradePrice(symbol: string): number | undefined;
  markets(): readonly MarketSpec[];
  /** the user's futures wallet and positions valued at the marks; undefined for an unknown asset */
  futuresAccount(userId: number, asset?: string): FuturesAccountView | undefined;
  /** the user's open positions (size ≠ 0), in one market or all */
  futuresPositions(userId: number, symbol?: string): PositionView[];
  /** leverage and margin type of the user in a perpetual market (defaults 20, CROSS) */
  leverageSettings(userId: number, symbol: string): LeverageSettingView;
  /** undefined for a symbol that is not a perpetual market */
  markPrice(symbol: string): MarkPriceView | undefined;
  /** the insurance fund of a settlement asset (KRW minor units); undefined when no perpetual settles in it */
  insuranceFund(asset: string): bigint | undefined;
}

/**
 * What the rest of xtrader may call on the engine (implemented by `Engine` in engine/engine.ts,
 * `Engine.restore(config, snapshot)` rebuilds one). Single-threaded, synchronous, deterministic.
 */
export interface MatchingEngine extends EngineQueries {
  /** Applies one command and returns the events it caused, in order (never throws on bad input: rejects are events). */
  apply(command: Command): EngineEvent[];
  snapshot(): EngineSnapshot;
  /** Hash over books, orders, ledger and counters: equal states ⇔ equal hashes (for replay checks). */
  stateHash(): string;
  /** seq of the last event emitted (0 before any); after a Trade, its taker report's seq. */
  lastEventSeq(): number;
  /** symbols whose changed figures still wait for their Ticker (a Tick command at a later second emits them) */
  pendingTickers(): number;
  /** Finished orders still answerable by getOrder (the bounded recent-orders memory), oldest first. */
  finishedOrders(): Iterable<OrderView>;
}
