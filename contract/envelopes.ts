/**
 * The wire envelopes of ARCHITECTURE.md "Messages" (Kafka values, RabbitMQ bodies, Redis stream
 * entries, WebSocket frames): one interface per envelope type, decimals as canonical strings
 * (decimal-text.ts), ids as decimal strings. Their JSON Schemas are envelope-schemas.ts, where each
 * goes on each broker is broker-routes.ts, how engine events become them is envelope-encoder.ts.
 *
 * A new message type (the futures messages of ARCHITECTURE.md "Perpetual futures") is one interface
 * here added to `Envelope`; the compiler then asks for its schema (envelope-schemas.ts), its routes
 * (broker-routes.ts `routesOf`) and its symbol (`envelopeSymbol` below).
 */
import type { LiquidationStage, MarginType, OrderStatus, PositionSide, Side, WalletChangeReason, WorkingType } from '../engine/index.ts';

export const ENVELOPE_VERSION = 1;

export type ExecType = 'New' | 'Trade' | 'Cancelled' | 'Expired' | 'Rejected' | 'Triggered' | 'Amended' | 'ADL';

export interface ExecutionReport {
  readonly order_id: string;
  readonly client_order_id: string | null;
  readonly user_id: string;
  readonly symbol: string;
  readonly side: Side;
  readonly order_type: string;
  readonly exec_type: ExecType;
  /** a Trade report: the fill's price and quantity; otherwise null and "0" */
  readonly price: string | null;
  readonly quantity: string;
  readonly order_price: string | null;
  readonly order_quantity: string;
  readonly filled_quantity: string;
  readonly remaining_quantity: string;
  readonly avg_price: string | null;
  readonly fee: string;
  readonly fee_asset: string;
  readonly is_maker: boolean | null;
  readonly trade_id: string | null;
  readonly reject_reason: string | null;
  readonly expire_reason: string | null;
  /**
   * Perpetual stop and take-profit orders only (issue 19), on the reports made from the order's
   * state (New, Triggered, Cancelled, Expired, Amended; a Trade report names the order only):
   * the price its stop watches. Absent on every other report, so spot reports are as before.
   */
  readonly working_type?: WorkingType;
  /** with working_type: true for a close-position order (its order_quantity is 0 until it fires) */
  readonly close_position?: boolean;
}

interface Base {
  readonly v: 1;
  readonly seq: number;
  /** seq of the previous envelope under the same routing key (Kafka: topic + key; Redis: the stream); 0 for the first. Set per broker by its publisher. */
  prev_seq: number;
  readonly timestamp: number;
}

export interface ExecutionEnvelope extends Base {
  readonly type: 'Execution';
  readonly order_status: OrderStatus;
  readonly execution_report: ExecutionReport;
}

export interface TradeEnvelope extends Base {
  readonly type: 'Trade';
  readonly symbol: string;
  readonly trade_id: string;
  readonly price: string;
  readonly quantity: string;
  readonly quote_quantity: string;
  readonly taker_side: Side;
  /** present (true) only on a liquidation order's or an auto-deleveraging fill (perpetuals) */
  readonly liquidation?: true;
}

export interface BookDeltaEnvelope extends Base {
  readonly type: 'BookDelta';
  readonly symbol: string;
  readonly symbol_seq: number;
  readonly side: Side;
  readonly price: string;
  /** the level's new total; "0" removes it */
  readonly quantity: string;
}

export interface TickerEnvelope extends Base {
  readonly type: 'Ticker';
  readonly symbol: string;
  readonly last_price: string | null;
  readonly best_bid: string | null;
  readonly best_ask: string | null;
  readonly open_24h: string | null;
  readonly high_24h: string | null;
  readonly low_24h: string | null;
  readonly volume_24h: string;
  readonly quote_volume_24h: string;
}

export interface BalanceChangedEnvelope extends Base {
  readonly type: 'BalanceChanged';
  readonly user_id: string;
  readonly asset: string;
  readonly available: string;
  readonly locked: string;
}

/** A user's perpetual position after a command that changed it (ARCHITECTURE.md "Perpetual futures → Messages"). */
export interface PositionChangedEnvelope extends Base {
  readonly type: 'PositionChanged';
  readonly user_id: string;
  readonly symbol: string;
  readonly position_side: PositionSide;
  /** signed base quantity ("-0.01" short, "0" closed) */
  readonly size: string;
  /** cost / size to the nearest tick; null when flat */
  readonly entry_price: string | null;
  /** cumulative realized PnL of this position record, gross (fees and funding apart), signed */
  readonly realized_pnl: string;
  readonly margin_type: MarginType;
  /** "0" for a cross position */
  readonly isolated_margin: string;
  readonly leverage: number;
}

/** A user's futures wallet of one settlement asset after a command that moved it. */
export interface WalletChangedEnvelope extends Base {
  readonly type: 'WalletChanged';
  readonly user_id: string;
  readonly asset: string;
  /** isolated margins included; signed */
  readonly wallet_balance: string;
  readonly reason: WalletChangeReason;
}

/** One position's payment at a funding settlement (issue 19). */
export interface FundingPaidEnvelope extends Base {
  readonly type: 'FundingPaid';
  readonly user_id: string;
  readonly symbol: string;
  readonly position_side: PositionSide;
  /** signed base quantity at the settlement */
  readonly size: string;
  readonly mark_price: string;
  /** the funding rate F with eight decimals ("0.00010000"), signed */
  readonly rate: string;
  /** received (> 0) or paid (< 0), in the settlement asset */
  readonly amount: string;
}

/** A perpetual's mark and index price and funding figures at a price tick, when they changed (public). */
export interface MarkPriceEnvelope extends Base {
  readonly type: 'MarkPrice';
  readonly symbol: string;
  readonly mark_price: string;
  readonly index_price: string;
  /** F from the samples of the interval so far, eight decimals */
  readonly estimated_funding_rate: string;
  /** ms since the epoch */
  readonly next_funding_time: number;
}

/** Public (no user id): what one stage of one position's liquidation closed (ARCHITECTURE.md "Perpetual futures → Messages"). */
export interface LiquidationEnvelope extends Base {
  readonly type: 'Liquidation';
  readonly symbol: string;
  /** the liquidation order's side: Sell closes a long */
  readonly side: Side;
  /** the stage's average fill price (the bankruptcy price for adl) */
  readonly price: string;
  readonly quantity: string;
  readonly stage: LiquidationStage;
}

export type Envelope =
  | FundingPaidEnvelope
  | MarkPriceEnvelope
  | LiquidationEnvelope
  | ExecutionEnvelope
  | TradeEnvelope
  | BookDeltaEnvelope
  | TickerEnvelope
  | BalanceChangedEnvelope
  | PositionChangedEnvelope
  | WalletChangedEnvelope;
export type EnvelopeType = Envelope['type'];

/** The symbol an envelope belongs to (Kafka key, RabbitMQ routing key suffix); undefined for balances and wallets. */
export function envelopeSymbol(envelope: Envelope): string | undefined {
  switch (envelope.type) {
    case 'Execution':
      return envelope.execution_report.symbol;
    case 'BalanceChanged':
    case 'WalletChanged':
      return undefined;
    default:
      return envelope.symbol;
  }
}
