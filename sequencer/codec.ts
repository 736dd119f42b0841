/**
 * Binary codec for journal records (format version 1). Little-endian throughout.
 *
 * Record framing:   [u32 payloadLength][u32 crc32(payload)][payload]
 * Payload:          f64 seq, f64 timestamp, u8 commandType, then the command's fields:
 *   PlaceOrder (1):  f64 orderId, f64 userId, str symbol, u8 side, u8 orderType, u8 timeInForce,
 *                    u8 stp, u8 flags, [f64 price] [f64 stopPrice] [f64 quantity] [f64 quoteAmount]
 *                    [str clientOrderId] [u8 futures]  — flags: bit0 postOnly, bits1–5 presence of the
 *                    optionals in that order, bit6 "futures byte present" (perpetual fields; bit 7
 *                    stays 0): futures bit0 reduceOnly, bits1–2 positionSide (0 absent, 1 BOTH,
 *                    2 LONG, 3 SHORT), bits3–4 workingType (0 absent, 1 LAST_PRICE, 2 MARK_PRICE),
 *                    bit5 closePosition (TP/SL, issue 19; orderType 4 TakeProfitLimit, 5
 *                    TakeProfitMarket). A record without bit 6 decodes exactly as before it existed,
 *                    and so does a futures byte with bits 3–5 clear.
 *   CancelOrder (2): f64 orderId, f64 userId
 *   AmendOrder (3):  f64 orderId, f64 userId, f64 newQuantity
 *   Deposit (4), Withdraw (5): f64 userId, str asset, f64 amount, u8 flags (bit0: reference present), [str reference]
 *   Tick (6):        nothing (the timestamp is all it has) — added later within version 1: every
 *                    older record decodes as before; a reader from before it refuses a Tick record
 *                    as an unknown type code (PayloadError), so it cannot replay a newer journal
 *   Futures commands (issue 18; added within version 1 like Tick: older records decode as before,
 *   an older reader refuses these type codes):
 *   FuturesTransfer (7):      f64 userId, str asset, f64 amount, u8 direction (0 SpotToFutures, 1 FuturesToSpot)
 *   SetPositionMode (8):      f64 userId, u8 hedge (0/1)
 *   SetLeverage (9):          f64 userId, str symbol, f64 leverage
 *   SetMarginType (10):       f64 userId, str symbol, u8 marginType (0 CROSS, 1 ISOLATED)
 *   AdjustIsolatedMargin (11): f64 userId, str symbol, u8 positionSide (0 BOTH, 1 LONG, 2 SHORT),
 *                             f64 amount, u8 action (0 Add, 1 Remove)
 *   SetIndexPrices (12):      u16 count, then count × (str symbol, str source, f64 price)
 *   PriceTick (13):           nothing (issue 19; added within version 1 the same way)
 *   str = u16 byteLength + UTF-8 bytes
 *
 * Numbers are float64: every numeric field is a safe integer (checked on encode), which float64
 * holds exactly, and DataView reads it in one step — faster to decode than a varint in JS.
 * Changing anything here means a new JOURNAL_FORMAT_VERSION and a decoder for the old one.
 */
import { decodeShortText } from '../lib/short-text.ts';
import type { Command, OrderType, PlaceOrderCommand, SelfTradePrevention, Side, TimeInForce } from '../engine/types.ts';
import { checkInteger, checkOptionalInteger, checkOptionalString, checkString, enumIndex } from './codec-checks.ts';
import {
  checkConditionalFields,
  FUTURES_TYPE_CODE,
  futuresByte,
  POSITION_SIDES,
  readFuturesByte,
  readFuturesCommand,
  stampFuturesCommand,
  writeFuturesCommand,
  type FieldReader,
  type FieldWriter,
  type FuturesFields,
} from './codec-futures.ts';
import { FRAME_HEADER_BYTES, sealFrame, type RecordFraming } from '../lib/segment-log/record-frame.ts';
import { InvalidCommandError } from './errors.ts';
import type { JournalRecord } from './types.ts';

export const JOURNAL_FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = FRAME_HEADER_BYTES;
/** Commands are small (the API caps bodies at 16 KiB); anything longer is damage, not data. */
export const MAX_PAYLOAD_BYTES = 1 << 20;
/** the length counts the whole payload, which holds at least seq, timestamp and the type byte */
export const JOURNAL_FRAMING: RecordFraming = { uncountedBodyBytes: 0, minLength: 17, maxLength: MAX_PAYLOAD_BYTES };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const TYPE_CODE = { PlaceOrder: 1, CancelOrder: 2, AmendOrder: 3, Deposit: 4, Withdraw: 5, Tick: 6, ...FUTURES_TYPE_CODE } as const;
const SIDES: readonly Side[] = ['Buy', 'Sell'];
const ORDER_TYPES: readonly OrderType[] = ['Limit', 'Market', 'StopLimit', 'StopMarket', 'TakeProfitLimit', 'TakeProfitMarket'];
const TIME_IN_FORCE: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
const STP: readonly SelfTradePrevention[] = ['ExpireTaker', 'ExpireMaker', 'ExpireBoth'];

const FLAG_POST_ONLY = 1;
const FLAG_PRICE = 2;
const FLAG_STOP_PRICE = 4;
const FLAG_QUANTITY = 8;
const FLAG_QUOTE_AMOUNT = 16;
const FLAG_CLIENT_ORDER_ID = 32;
const FLAG_FUTURES = 64;
const FLAG_REFERENCE = 1;

/**
 * Validates a command against what the journal can hold and rebuilds it in canonical shape
 * (fixed property order, absent optionals omitted) — the same shape decode produces, so the engine
 * sees identical objects live and on replay. Throws InvalidCommandError.
 */
export function canonicalCommand(command: Command): Command {
  return stampCommand(command, command.type === 'PlaceOrder' ? command.orderId : 0, command.timestamp);
}

/**
 * canonicalCommand for a submitted command: `timestamp` (and a PlaceOrder's `orderId`) come from
 * the arguments, whatever the input carries — without copying the input first.
 */
export function stampCommand(command: DistributiveOmit<Command, 'timestamp'>, orderId: number, stampedAt: number): Command {
  const timestamp = checkInteger(stampedAt, 'timestamp');
  switch (command.type) {
    case 'PlaceOrder': {
      enumIndex(SIDES, command.side, 'side');
      enumIndex(ORDER_TYPES, command.orderType, 'orderType');
      enumIndex(TIME_IN_FORCE, command.timeInForce, 'timeInForce');
      enumIndex(STP, command.stp, 'stp');
      if (typeof command.postOnly !== 'boolean') throw new InvalidCommandError('postOnly must be a boolean');
      if (command.reduceOnly !== undefined && typeof command.reduceOnly !== 'boolean')
        throw new InvalidCommandError('reduceOnly must be a boolean');
      if (command.positionSide !== undefined) enumIndex(POSITION_SIDES, command.positionSide, 'positionSide');
      const conditional = checkConditionalFields(command.workingType, command.closePosition);
      const hasFutures =
        command.positionSide !== undefined || conditional.workingType !== undefined || conditional.closePosition !== undefined;
      return placeOrder(
        timestamp,
        checkInteger(orderId, 'orderId'),
        checkInteger(command.userId, 'userId'),
        checkString(command.symbol, 'symbol'),
        command.side,
        command.orderType,
        command.timeInForce,
        command.stp,
        command.postOnly,
        checkOptionalInteger(command.price, 'price'),
        checkOptionalInteger(command.stopPrice, 'stopPrice'),
        checkOptionalInteger(command.quantity, 'quantity'),
        checkOptionalInteger(command.quoteAmount, 'quoteAmount'),
        checkOptionalString(command.clientOrderId, 'clientOrderId'),
        {
          // canonical: with any futures field present reduceOnly is explicit (the futures byte always says it)
          reduceOnly: command.reduceOnly ?? (hasFutures ? false : undefined),
          positionSide: command.positionSide,
          ...conditional,
        },
      );
    }
    case 'CancelOrder':
      return {
        type: 'CancelOrder',
        timestamp,
        orderId: checkInteger(command.orderId, 'orderId'),
        userId: checkInteger(command.userId, 'userId'),
      };
    case 'AmendOrder':
      return {
        type: 'AmendOrder',
        timestamp,
        orderId: checkInteger(command.orderId, 'orderId'),
        userId: checkInteger(command.userId, 'userId'),
        newQuantity: checkInteger(command.newQuantity, 'newQuantity'),
      };
    case 'Deposit':
    case 'Withdraw':
      return transfer(
        command.type,
        timestamp,
        checkInteger(command.userId, 'userId'),
        checkString(command.asset, 'asset'),
        checkInteger(command.amount, 'amount'),
        checkOptionalString(command.reference, 'reference'),
      );
    case 'Tick':
      return { type: 'Tick', timestamp };
    case 'FuturesTransfer':
    case 'SetPositionMode':
    case 'SetLeverage':
    case 'SetMarginType':
    case 'AdjustIsolatedMargin':
    case 'SetIndexPrices':
    case 'PriceTick':
      return stampFuturesCommand(command, timestamp);
    default:
      throw new InvalidCommandError(`unknown command type ${JSON.stringify((command as { type?: unknown }).type)}`);
  }
}

function placeOrder(
  timestamp: number,
  orderId: number,
  userId: number,
  symbol: string,
  side: Side,
  orderType: OrderType,
  timeInForce: TimeInForce,
  stp: SelfTradePrevention,
  postOnly: boolean,
  price: number | undefined,
  stopPrice: number | undefined,
  quantity: number | undefined,
  quoteAmount: number | undefined,
  clientOrderId: string | undefined,
  futures?: FuturesFields,
): PlaceOrderCommand {
  const command: { -readonly [K in keyof PlaceOrderCommand]: PlaceOrderCommand[K] } = {
    type: 'PlaceOrder',
    timestamp,
    orderId,
    userId,
    symbol,
    side,
    orderType,
    timeInForce,
    postOnly,
    stp,
  };
  if (price !== undefined) command.price = price;
  if (stopPrice !== undefined) command.stopPrice = stopPrice;
  if (quantity !== undefined) command.quantity = quantity;
  if (quoteAmount !== undefined) command.quoteAmount = quoteAmount;
  if (clientOrderId !== undefined) command.clientOrderId = clientOrderId;
  if (futures?.reduceOnly !== undefined) command.reduceOnly = futures.reduceOnly;
  if (futures?.positionSide !== undefined) command.positionSide = futures.positionSide;
  if (futures?.workingType !== undefined) command.workingType = futures.workingType;
  if (futures?.closePosition !== undefined) command.closePosition = futures.closePosition;
  return command;
}

function transfer(
  type: 'Deposit' | 'Withdraw',
  timestamp: number,
  userId: number,
  asset: string,
  amount: number,
  reference: string | undefined,
): Command {
  return reference === undefined ? { type, timestamp, userId, asset, amount } : { type, timestamp, userId, asset, amount, reference };
}

/** Appends encoded records to one growing buffer: a whole group-commit batch becomes one write. */
export class RecordWriter implements FieldWriter {
  private buffer: Buffer;
  private view: DataView;
  length = 0;

  constructor(initialBytes = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  reset(): void {
    this.length = 0;
  }

  /** the bytes written since the last reset (a view, valid until the next append) */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** @internal a field writer (codec-futures.ts) */
  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** @internal a field writer (codec-futures.ts) */
  u8(value: number): void {
    this.buffer[this.length++] = value;
  }

  /** @internal a field writer (codec-futures.ts) */
  u16(value: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  /** @internal a field writer (codec-futures.ts) */
  f64(value: number): void {
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /** @internal a field writer (codec-futures.ts) */
  str(value: string): void {
    const bytes = Buffer.byteLength(value, 'utf8');
    this.ensure(2 + bytes);
    this.view.setUint16(this.length, bytes, true);
    this.buffer.write(value, this.length + 2, bytes, 'utf8');
    this.length += 2 + bytes;
  }

  /** Appends one framed record. `command` must be canonical (see canonicalCommand). */
  append(seq: number, command: Command): void {
    // fixed-size part: header 8 + seq/timestamp 16 + type 1 + up to 9 numbers/bytes of 8 + flags
    this.ensure(RECORD_HEADER_BYTES + 17 + 8 * 8 + 8);
    const start = this.length;
    this.length += RECORD_HEADER_BYTES;
    this.f64(seq);
    this.f64(command.timestamp);
    this.u8(TYPE_CODE[command.type]);
    switch (command.type) {
      case 'PlaceOrder': {
        this.f64(command.orderId);
        this.f64(command.userId);
        this.str(command.symbol);
        this.ensure(5 + 4 * 8);
        this.u8(SIDES.indexOf(command.side));
        this.u8(ORDER_TYPES.indexOf(command.orderType));
        this.u8(TIME_IN_FORCE.indexOf(command.timeInForce));
        this.u8(STP.indexOf(command.stp));
        let flags = command.postOnly ? FLAG_POST_ONLY : 0;
        if (command.price !== undefined) flags |= FLAG_PRICE;
        if (command.stopPrice !== undefined) flags |= FLAG_STOP_PRICE;
        if (command.quantity !== undefined) flags |= FLAG_QUANTITY;
        if (command.quoteAmount !== undefined) flags |= FLAG_QUOTE_AMOUNT;
        if (command.clientOrderId !== undefined) flags |= FLAG_CLIENT_ORDER_ID;
        const hasFutures =
          command.reduceOnly !== undefined ||
          command.positionSide !== undefined ||
          command.workingType !== undefined ||
          command.closePosition !== undefined;
        if (hasFutures) flags |= FLAG_FUTURES;
        this.u8(flags);
        if (command.price !== undefined) this.f64(command.price);
        if (command.stopPrice !== undefined) this.f64(command.stopPrice);
        if (command.quantity !== undefined) this.f64(command.quantity);
        if (command.quoteAmount !== undefined) this.f64(command.quoteAmount);
        if (command.clientOrderId !== undefined) this.str(command.clientOrderId);
        if (hasFutures) {
          this.ensure(1);
          this.u8(futuresByte(command));
        }
        break;
      }
      case 'CancelOrder':
        this.f64(command.orderId);
        this.f64(command.userId);
        break;
      case 'AmendOrder':
        this.f64(command.orderId);
        this.f64(command.userId);
        this.f64(command.newQuantity);
        break;
      case 'Deposit':
      case 'Withdraw':
        this.f64(command.userId);
        this.str(command.asset);
        this.ensure(9);
        this.f64(command.amount);
        this.u8(command.reference === undefined ? 0 : FLAG_REFERENCE);
        if (command.reference !== undefined) this.str(command.reference);
        break;
      case 'Tick':
        break;
      default:
        writeFuturesCommand(this, command);
    }
    sealFrame(this.buffer, start, this.length, JOURNAL_FRAMING);
  }
}

/** Thrown by decodePayload when a payload with a valid checksum still does not parse (a bug or a format mismatch). */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

// Decoder cursor: module state instead of closures, so the hot loop allocates only the command.
let input: Uint8Array = new Uint8Array(0);
let inputView = new DataView(input.buffer);
let cursor = 0;
let limit = 0;

function need(count: number): void {
  if (cursor + count > limit) throw new PayloadError(`payload ends early (need ${count} more bytes)`);
}

function readF64(): number {
  need(8);
  const value = inputView.getFloat64(cursor, true);
  cursor += 8;
  return value;
}

function readU8(): number {
  need(1);
  return input[cursor++]!;
}

function readString(): string {
  need(2);
  const length = inputView.getUint16(cursor, true);
  cursor += 2;
  need(length);
  const value = decodeShortText(input, cursor, cursor + length);
  cursor += length;
  return value;
}

function readEnum<T>(values: readonly T[], field: string): T {
  const index = readU8();
  const value = values[index];
  if (value === undefined) throw new PayloadError(`${field}: unknown code ${index}`);
  return value;
}

function readU16(): number {
  need(2);
  const value = inputView.getUint16(cursor, true);
  cursor += 2;
  return value;
}

/** The readers the futures commands are decoded with (codec-futures.ts). */
const FIELD_READER: FieldReader = { u8: readU8, u16: readU16, f64: readF64, str: readString, enum: readEnum };

/**
 * Decodes the payload occupying bytes [start, end) of `bytes` (`view` spans the same memory).
 * The caller has checked the crc already.
 */
export function decodePayload(bytes: Uint8Array, view: DataView, start: number, end: number): JournalRecord {
  input = bytes;
  inputView = view;
  cursor = start;
  limit = end;
  const seq = readF64();
  const timestamp = readF64();
  const type = readU8();
  let command: Command;
  switch (type) {
    case TYPE_CODE.PlaceOrder: {
      const orderId = readF64();
      const userId = readF64();
      const symbol = readString();
      const side = readEnum(SIDES, 'side');
      const orderType = readEnum(ORDER_TYPES, 'orderType');
      const timeInForce = readEnum(TIME_IN_FORCE, 'timeInForce');
      const stp = readEnum(STP, 'stp');
      const flags = readU8();
      const price = flags & FLAG_PRICE ? readF64() : undefined;
      const stopPrice = flags & FLAG_STOP_PRICE ? readF64() : undefined;
      const quantity = flags & FLAG_QUANTITY ? readF64() : undefined;
      const quoteAmount = flags & FLAG_QUOTE_AMOUNT ? readF64() : undefined;
      const clientOrderId = flags & FLAG_CLIENT_ORDER_ID ? readString() : undefined;
      const postOnly = (flags & FLAG_POST_ONLY) !== 0;
      if (flags & ~0x7f) throw new PayloadError(`PlaceOrder: unknown flag bits ${flags}`);
      // the futures byte follows only when its flag is set (every older record decodes as before)
      const futures = flags & FLAG_FUTURES ? readU8() : undefined;
      const fields = futures === undefined ? undefined : readFuturesByte(futures);
      if (futures !== undefined && fields === undefined) throw new PayloadError(`PlaceOrder: unknown futures bits ${futures}`);
      command = placeOrder(
        timestamp,
        orderId,
        userId,
        symbol,
        side,
        orderType,
        timeInForce,
        stp,
        postOnly,
        price,
        stopPrice,
        quantity,
        quoteAmount,
        clientOrderId,
        fields,
      );
      break;
    }
    case TYPE_CODE.CancelOrder: {
      const orderId = readF64();
      const userId = readF64();
      command = { type: 'CancelOrder', timestamp, orderId, userId };
      break;
    }
    case TYPE_CODE.AmendOrder: {
      const orderId = readF64();
      const userId = readF64();
      const newQuantity = readF64();
      command = { type: 'AmendOrder', timestamp, orderId, userId, newQuantity };
      break;
    }
    case TYPE_CODE.Deposit:
    case TYPE_CODE.Withdraw: {
      const userId = readF64();
      const asset = readString();
      const amount = readF64();
      const flags = readU8();
      const reference = flags & FLAG_REFERENCE ? readString() : undefined;
      command = transfer(type === TYPE_CODE.Deposit ? 'Deposit' : 'Withdraw', timestamp, userId, asset, amount, reference);
      break;
    }
    case TYPE_CODE.Tick:
      command = { type: 'Tick', timestamp };
      break;
    default:
      if (type < FUTURES_TYPE_CODE.FuturesTransfer || type > FUTURES_TYPE_CODE.PriceTick)
        throw new PayloadError(`unknown command type code ${type}`);
      command = readFuturesCommand(type, timestamp, FIELD_READER);
  }
  if (cursor !== end) throw new PayloadError(`${end - cursor} unexpected bytes after the command`);
  return { seq, command };
}
