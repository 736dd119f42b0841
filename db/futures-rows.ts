/**
 * The futures envelopes of a batch (ARCHITECTURE.md "Perpetual futures" → "Messages") → the column
 * arrays of db/futures-writer.ts. Pure. Keyed on the envelope's type string, so the types other
 * branches add to contract/envelopes.ts (FundingPaid, Liquidation, MarkPrice) are stored, or
 * skipped, from the day their envelopes reach the stream, with no change here.
 */
import { EnvelopeError, id, integer, oneOf, signedDecimal, side, text, decimal, optionalDecimal, type Json } from './envelope-fields.ts';

export interface PositionColumns {
  seq: string[];
  userId: string[];
  symbol: string[];
  positionSide: string[];
  size: string[];
  entryPrice: (string | null)[];
  realizedPnl: string[];
  marginType: string[];
  isolatedMargin: string[];
  leverage: number[];
  timestamp: string[];
  envelope: string[];
}

export interface WalletColumns {
  seq: string[];
  userId: string[];
  asset: string[];
  walletBalance: string[];
  reason: string[];
  timestamp: string[];
  envelope: string[];
}

export interface FundingColumns {
  seq: string[];
  userId: string[];
  symbol: string[];
  positionSide: string[];
  size: string[];
  markPrice: string[];
  rate: string[];
  amount: string[];
  timestamp: string[];
  envelope: string[];
}

export interface LiquidationColumns {
  seq: string[];
  symbol: string[];
  side: string[];
  price: string[];
  quantity: string[];
  stage: string[];
  timestamp: string[];
}

export interface FuturesRows {
  /** every PositionChanged (futures_position_changes) */
  readonly positionChanges: PositionColumns;
  /** per (user, symbol, position side) the batch's highest-seq PositionChanged (futures_positions) */
  readonly positions: PositionColumns;
  readonly wallets: WalletColumns;
  readonly funding: FundingColumns;
  readonly liquidations: LiquidationColumns;
}

const POSITION_SIDES = new Set(['BOTH', 'LONG', 'SHORT']);
const MARGIN_TYPES = new Set(['CROSS', 'ISOLATED']);
const LIQUIDATION_STAGES = new Set(['book', 'insurance', 'adl']);
/** on the stream, not kept in PostgreSQL: mark prices are market data (the market-data service's) */
const SKIPPED = new Set(['MarkPrice']);

interface Parsed {
  readonly seq: number;
  readonly timestamp: number;
  readonly envelope: Json;
  readonly body: string;
}

function leverage(envelope: Json): number {
  const value = integer(envelope, 'leverage');
  if (value < 1) throw new EnvelopeError('leverage must be ≥ 1');
  return value;
}

/** Collects one batch's futures envelopes, one row per seq (an entry delivered twice in a batch counts once). */
export class FuturesBatch {
  readonly #positions = new Map<number, Parsed>();
  readonly #wallets = new Map<number, Parsed>();
  readonly #funding = new Map<number, Parsed>();
  readonly #liquidations = new Map<number, Parsed>();

  /**
   * 'stored' (checked, a row will be written), 'skipped' (a futures type not kept), or undefined (not
   * a futures type). Throws an EnvelopeError for a malformed one.
   */
  add(type: string, seq: number, timestamp: number, envelope: Json, body: string): 'stored' | 'skipped' | undefined {
    const parsed = { seq, timestamp, envelope, body };
    switch (type) {
      case 'PositionChanged':
        checkPosition(envelope);
        this.#positions.set(seq, parsed);
        return 'stored';
      case 'WalletChanged':
        id(envelope, 'user_id');
        text(envelope, 'asset');
        signedDecimal(envelope, 'wallet_balance');
        text(envelope, 'reason');
        this.#wallets.set(seq, parsed);
        return 'stored';
      case 'FundingPaid':
        id(envelope, 'user_id');
        text(envelope, 'symbol');
        oneOf(envelope, 'position_side', POSITION_SIDES);
        signedDecimal(envelope, 'size');
        decimal(envelope, 'mark_price');
        signedDecimal(envelope, 'rate');
        signedDecimal(envelope, 'amount');
        this.#funding.set(seq, parsed);
        return 'stored';
      case 'Liquidation':
        text(envelope, 'symbol');
        side(envelope, 'side');
        decimal(envelope, 'price');
        decimal(envelope, 'quantity');
        oneOf(envelope, 'stage', LIQUIDATION_STAGES);
        this.#liquidations.set(seq, parsed);
        return 'stored';
      default:
        return SKIPPED.has(type) ? 'skipped' : undefined;
    }
  }

  /** The columns, each table's rows in ascending seq (concurrent batches lock rows in the same order). */
  rows(): FuturesRows {
    const changes = sorted(this.#positions);
    const latest = new Map<string, Parsed>();
    for (const change of changes) {
      const e = change.envelope;
      latest.set(`${String(e.user_id)}|${String(e.symbol)}|${String(e.position_side)}`, change);
    }
    const current = [...latest.values()].sort((a, b) => a.seq - b.seq);
    const wallets: WalletColumns = { seq: [], userId: [], asset: [], walletBalance: [], reason: [], timestamp: [], envelope: [] };
    for (const { seq, timestamp, envelope, body } of sorted(this.#wallets)) {
      wallets.seq.push(String(seq));
      wallets.userId.push(envelope.user_id as string);
      wallets.asset.push(envelope.asset as string);
      wallets.walletBalance.push(envelope.wallet_balance as string);
      wallets.reason.push(envelope.reason as string);
      wallets.timestamp.push(String(timestamp));
      wallets.envelope.push(body);
    }
    const funding: FundingColumns = {
      seq: [],
      userId: [],
      symbol: [],
      positionSide: [],
      size: [],
      markPrice: [],
      rate: [],
      amount: [],
      timestamp: [],
      envelope: [],
    };
    for (const { seq, timestamp, envelope, body } of sorted(this.#funding)) {
      funding.seq.push(String(seq));
      funding.userId.push(envelope.user_id as string);
      funding.symbol.push(envelope.symbol as string);
      funding.positionSide.push(envelope.position_side as string);
      funding.size.push(envelope.size as string);
      funding.markPrice.push(envelope.mark_price as string);
      funding.rate.push(envelope.rate as string);
      funding.amount.push(envelope.amount as string);
      funding.timestamp.push(String(timestamp));
      funding.envelope.push(body);
    }
    const liquidations: LiquidationColumns = { seq: [], symbol: [], side: [], price: [], quantity: [], stage: [], timestamp: [] };
    for (const { seq, timestamp, envelope } of sorted(this.#liquidations)) {
      liquidations.seq.push(String(seq));
      liquidations.symbol.push(envelope.symbol as string);
      liquidations.side.push(envelope.side as string);
      liquidations.price.push(envelope.price as string);
      liquidations.quantity.push(envelope.quantity as string);
      liquidations.stage.push(envelope.stage as string);
      liquidations.timestamp.push(String(timestamp));
    }
    return { positionChanges: positionColumns(changes), positions: positionColumns(current), wallets, funding, liquidations };
  }
}

function checkPosition(envelope: Json): void {
  id(envelope, 'user_id');
  text(envelope, 'symbol');
  oneOf(envelope, 'position_side', POSITION_SIDES);
  signedDecimal(envelope, 'size');
  optionalDecimal(envelope, 'entry_price');
  signedDecimal(envelope, 'realized_pnl');
  oneOf(envelope, 'margin_type', MARGIN_TYPES);
  decimal(envelope, 'isolated_margin');
  leverage(envelope);
}

function sorted(map: ReadonlyMap<number, Parsed>): Parsed[] {
  return [...map.values()].sort((a, b) => a.seq - b.seq);
}

function positionColumns(changes: readonly Parsed[]): PositionColumns {
  const columns: PositionColumns = {
    seq: [],
    userId: [],
    symbol: [],
    positionSide: [],
    size: [],
    entryPrice: [],
    realizedPnl: [],
    marginType: [],
    isolatedMargin: [],
    leverage: [],
    timestamp: [],
    envelope: [],
  };
  for (const { seq, timestamp, envelope, body } of changes) {
    columns.seq.push(String(seq));
    columns.userId.push(envelope.user_id as string);
    columns.symbol.push(envelope.symbol as string);
    columns.positionSide.push(envelope.position_side as string);
    columns.size.push(envelope.size as string);
    columns.entryPrice.push((envelope.entry_price as string | null | undefined) ?? null);
    columns.realizedPnl.push(envelope.realized_pnl as string);
    columns.marginType.push(envelope.margin_type as string);
    columns.isolatedMargin.push(envelope.isolated_margin as string);
    columns.leverage.push(envelope.leverage as number);
    columns.timestamp.push(String(timestamp));
    columns.envelope.push(body);
  }
  return columns;
}
