/**
 * A batch of stream entries → the column arrays of one multi-row statement (db/execution-writer.ts).
 * Pure. Envelopes are checked field by field before they reach SQL, so a malformed one becomes a
 * dead letter of its own instead of failing the whole batch; types the persister does not keep
 * (BookDelta, Ticker, MarkPrice) are skipped; the futures ones are db/futures-rows.ts's.
 */
import type { EnvelopeType } from '../contract/envelopes.ts';
import type { StreamEntry } from './execution-stream.ts';
import { FuturesBatch, type FuturesRows } from './futures-rows.ts';
import {
  EnvelopeError,
  type Json,
  field,
  text,
  optionalText,
  decimal,
  optionalDecimal,
  id,
  optionalId,
  integer,
  side,
  optionalBoolean,
  object,
} from './envelope-fields.ts';

export interface ExecutionColumns {
  seq: string[];
  orderId: string[];
  userId: string[];
  symbol: string[];
  side: string[];
  execType: string[];
  orderStatus: string[];
  price: (string | null)[];
  quantity: string[];
  fee: string[];
  feeAsset: string[];
  tradeId: (string | null)[];
  isMaker: (boolean | null)[];
  timestamp: string[];
  envelope: string[];
}

/** One row per order: its state in the batch's highest-seq report, its earliest timestamp as created_at. */
export interface OrderColumns {
  orderId: string[];
  userId: string[];
  symbol: string[];
  side: string[];
  orderType: string[];
  status: string[];
  clientOrderId: (string | null)[];
  orderPrice: (string | null)[];
  orderQuantity: string[];
  filledQuantity: string[];
  remainingQuantity: string[];
  avgPrice: (string | null)[];
  feeAsset: string[];
  timeInForce: (string | null)[];
  postOnly: (boolean | null)[];
  stopPrice: (string | null)[];
  quoteAmount: (string | null)[];
  rejectReason: (string | null)[];
  expireReason: (string | null)[];
  createdAt: string[];
  updatedAt: string[];
  lastSeq: string[];
}

export interface TradeColumns {
  tradeId: string[];
  seq: string[];
  symbol: string[];
  price: string[];
  quantity: string[];
  quoteQuantity: string[];
  takerSide: string[];
  timestamp: string[];
}

export interface BalanceColumns {
  seq: string[];
  userId: string[];
  asset: string[];
  available: string[];
  locked: string[];
  timestamp: string[];
}

export interface DeadLetter {
  readonly entryId: string;
  readonly body: string | null;
  readonly error: string;
}

export interface BatchRows {
  readonly executions: ExecutionColumns;
  readonly orders: OrderColumns;
  readonly trades: TradeColumns;
  readonly balances: BalanceColumns;
  /** PositionChanged, WalletChanged, FundingPaid, Liquidation */
  readonly futures: FuturesRows;
  readonly deadLetters: DeadLetter[];
  /** entries of envelope types the persister does not store */
  readonly skipped: number;
  /** highest envelope seq in the batch (0 if none) */
  readonly maxSeq: number;
}

const EXEC_TYPES = new Set(['New', 'Trade', 'Cancelled', 'Expired', 'Rejected', 'Triggered', 'Amended', 'ADL']);
const SKIPPED_TYPES = new Set<EnvelopeType>(['BookDelta', 'Ticker']);

interface OrderState {
  seq: number;
  report: Json;
  status: string;
  timestamp: number;
  createdAt: number;
}

function emptyColumns<T extends object>(names: readonly (keyof T)[]): T {
  return Object.fromEntries(names.map((name) => [name, []])) as T;
}

const EXECUTION_NAMES = [
  'seq',
  'orderId',
  'userId',
  'symbol',
  'side',
  'execType',
  'orderStatus',
  'price',
  'quantity',
  'fee',
  'feeAsset',
  'tradeId',
  'isMaker',
  'timestamp',
  'envelope',
] as const;
const ORDER_NAMES = [
  'orderId',
  'userId',
  'symbol',
  'side',
  'orderType',
  'status',
  'clientOrderId',
  'orderPrice',
  'orderQuantity',
  'filledQuantity',
  'remainingQuantity',
  'avgPrice',
  'feeAsset',
  'timeInForce',
  'postOnly',
  'stopPrice',
  'quoteAmount',
  'rejectReason',
  'expireReason',
  'createdAt',
  'updatedAt',
  'lastSeq',
] as const;
const TRADE_NAMES = ['tradeId', 'seq', 'symbol', 'price', 'quantity', 'quoteQuantity', 'takerSide', 'timestamp'] as const;
const BALANCE_NAMES = ['seq', 'userId', 'asset', 'available', 'locked', 'timestamp'] as const;

interface ParsedExecution {
  seq: number;
  timestamp: number;
  status: string;
  report: Json;
  body: string;
}

interface ParsedTrade {
  seq: number;
  envelope: Json;
}

interface ParsedBalance {
  seq: number;
  envelope: Json;
}

/**
 * Sorts each table's rows by key (seq, order id) so that concurrent batches take row locks in the
 * same order, and keeps one row per key: an entry delivered twice in one batch counts once.
 */
export function batchRows(entries: readonly StreamEntry[]): BatchRows {
  const executions = new Map<number, ParsedExecution>();
  const trades = new Map<number, ParsedTrade>();
  const balances = new Map<number, ParsedBalance>();
  const futures = new FuturesBatch();
  const deadLetters: DeadLetter[] = [];
  let skipped = 0;
  let maxSeq = 0;

  for (const entry of entries) {
    if (entry.body === undefined) {
      deadLetters.push({
        entryId: entry.id,
        body: null,
        error: entry.deleted ? 'entry deleted from the stream before it was persisted' : 'entry has no envelope field',
      });
      continue;
    }
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(entry.body);
      } catch {
        throw new EnvelopeError('envelope is not JSON');
      }
      const envelope = object(parsed, 'envelope');
      if (envelope.v !== 1) throw new EnvelopeError(`unsupported envelope version ${String(envelope.v)}`);
      const type = text(envelope, 'type') as EnvelopeType;
      const seq = integer(envelope, 'seq');
      if (seq < 1) throw new EnvelopeError('seq must be ≥ 1');
      const timestamp = integer(envelope, 'timestamp');
      switch (type) {
        case 'Execution': {
          const report = object(field(envelope, 'execution_report'), 'execution_report');
          const status = text(envelope, 'order_status');
          checkReport(report);
          executions.set(seq, { seq, timestamp, status, report, body: entry.body });
          break;
        }
        case 'Trade':
          checkTrade(envelope);
          trades.set(seq, { seq, envelope });
          break;
        case 'BalanceChanged':
          checkBalance(envelope);
          balances.set(seq, { seq, envelope });
          break;
        default: {
          const futuresRow = futures.add(type, seq, timestamp, envelope, entry.body);
          if (futuresRow === 'stored') break;
          if (futuresRow === undefined && !SKIPPED_TYPES.has(type)) throw new EnvelopeError(`unknown envelope type ${type}`);
          skipped++;
          continue;
        }
      }
      if (seq > maxSeq) maxSeq = seq;
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      deadLetters.push({ entryId: entry.id, body: entry.body, error: error.message });
    }
  }

  const executionColumns = emptyColumns<ExecutionColumns>(EXECUTION_NAMES);
  const orders = new Map<number, OrderState>();
  for (const execution of [...executions.values()].sort((a, b) => a.seq - b.seq)) {
    const report = execution.report;
    const orderId = report.order_id as string;
    executionColumns.seq.push(String(execution.seq));
    executionColumns.orderId.push(orderId);
    executionColumns.userId.push(report.user_id as string);
    executionColumns.symbol.push(report.symbol as string);
    executionColumns.side.push(report.side as string);
    executionColumns.execType.push(report.exec_type as string);
    executionColumns.orderStatus.push(execution.status);
    executionColumns.price.push((report.price as string | null) ?? null);
    executionColumns.quantity.push(report.quantity as string);
    executionColumns.fee.push(report.fee as string);
    executionColumns.feeAsset.push(report.fee_asset as string);
    executionColumns.tradeId.push((report.trade_id as string | null) ?? null);
    executionColumns.isMaker.push((report.is_maker as boolean | null) ?? null);
    executionColumns.timestamp.push(String(execution.timestamp));
    executionColumns.envelope.push(execution.body);
    // ascending seq: the last report seen per order is its newest
    const key = Number(orderId);
    const known = orders.get(key);
    orders.set(key, {
      seq: execution.seq,
      report,
      status: execution.status,
      timestamp: execution.timestamp,
      createdAt: Math.min(known?.createdAt ?? execution.timestamp, execution.timestamp),
    });
  }

  const orderColumns = emptyColumns<OrderColumns>(ORDER_NAMES);
  for (const [orderId, state] of [...orders.entries()].sort((a, b) => a[0] - b[0])) {
    const report = state.report;
    orderColumns.orderId.push(String(orderId));
    orderColumns.userId.push(report.user_id as string);
    orderColumns.symbol.push(report.symbol as string);
    orderColumns.side.push(report.side as string);
    orderColumns.orderType.push(report.order_type as string);
    orderColumns.status.push(state.status);
    orderColumns.clientOrderId.push(optionalText(report, 'client_order_id'));
    orderColumns.orderPrice.push(optionalDecimal(report, 'order_price'));
    orderColumns.orderQuantity.push(report.order_quantity as string);
    orderColumns.filledQuantity.push(report.filled_quantity as string);
    orderColumns.remainingQuantity.push(report.remaining_quantity as string);
    orderColumns.avgPrice.push(optionalDecimal(report, 'avg_price'));
    orderColumns.feeAsset.push(report.fee_asset as string);
    orderColumns.timeInForce.push(optionalText(report, 'time_in_force'));
    orderColumns.postOnly.push(optionalBoolean(report, 'post_only'));
    orderColumns.stopPrice.push(optionalDecimal(report, 'stop_price'));
    orderColumns.quoteAmount.push(optionalDecimal(report, 'quote_amount'));
    orderColumns.rejectReason.push(optionalText(report, 'reject_reason'));
    orderColumns.expireReason.push(optionalText(report, 'expire_reason'));
    orderColumns.createdAt.push(String(state.createdAt));
    orderColumns.updatedAt.push(String(state.timestamp));
    orderColumns.lastSeq.push(String(state.seq));
  }

  const tradeColumns = emptyColumns<TradeColumns>(TRADE_NAMES);
  for (const { seq, envelope } of [...trades.values()].sort((a, b) => a.seq - b.seq)) {
    tradeColumns.tradeId.push(envelope.trade_id as string);
    tradeColumns.seq.push(String(seq));
    tradeColumns.symbol.push(envelope.symbol as string);
    tradeColumns.price.push(envelope.price as string);
    tradeColumns.quantity.push(envelope.quantity as string);
    tradeColumns.quoteQuantity.push(envelope.quote_quantity as string);
    tradeColumns.takerSide.push(envelope.taker_side as string);
    tradeColumns.timestamp.push(String(envelope.timestamp));
  }

  const balanceColumns = emptyColumns<BalanceColumns>(BALANCE_NAMES);
  for (const { seq, envelope } of [...balances.values()].sort((a, b) => a.seq - b.seq)) {
    balanceColumns.seq.push(String(seq));
    balanceColumns.userId.push(envelope.user_id as string);
    balanceColumns.asset.push(envelope.asset as string);
    balanceColumns.available.push(envelope.available as string);
    balanceColumns.locked.push(envelope.locked as string);
    balanceColumns.timestamp.push(String(envelope.timestamp));
  }

  return {
    executions: executionColumns,
    orders: orderColumns,
    trades: tradeColumns,
    balances: balanceColumns,
    futures: futures.rows(),
    deadLetters,
    skipped,
    maxSeq,
  };
}

function checkReport(report: Json): void {
  id(report, 'order_id');
  id(report, 'user_id');
  text(report, 'symbol');
  side(report, 'side');
  text(report, 'order_type');
  const execType = text(report, 'exec_type');
  if (!EXEC_TYPES.has(execType)) throw new EnvelopeError(`unknown exec_type ${execType}`);
  const price = optionalDecimal(report, 'price');
  decimal(report, 'quantity');
  if ((execType === 'Trade' || execType === 'ADL') && price === null) throw new EnvelopeError('a Trade report needs its price');
  optionalDecimal(report, 'order_price');
  decimal(report, 'order_quantity');
  decimal(report, 'filled_quantity');
  decimal(report, 'remaining_quantity');
  optionalDecimal(report, 'avg_price');
  decimal(report, 'fee');
  text(report, 'fee_asset');
  optionalBoolean(report, 'is_maker');
  optionalId(report, 'trade_id');
  optionalText(report, 'client_order_id');
  optionalText(report, 'reject_reason');
  optionalText(report, 'expire_reason');
  optionalText(report, 'time_in_force');
  optionalBoolean(report, 'post_only');
  optionalDecimal(report, 'stop_price');
  optionalDecimal(report, 'quote_amount');
}

function checkTrade(envelope: Json): void {
  text(envelope, 'symbol');
  id(envelope, 'trade_id');
  decimal(envelope, 'price');
  decimal(envelope, 'quantity');
  decimal(envelope, 'quote_quantity');
  side(envelope, 'taker_side');
}

function checkBalance(envelope: Json): void {
  id(envelope, 'user_id');
  text(envelope, 'asset');
  decimal(envelope, 'available');
  decimal(envelope, 'locked');
}
