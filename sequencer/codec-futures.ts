/**
 * The futures commands in the journal codec (issue 18; the format is described in codec.ts's
 * header): their type codes 7–13, canonical shapes, and field-by-field writing and reading through
 * the codec's own writer and reader.
 */
import type { Command, FuturesCommand, IndexPriceInput, MarginType, PositionSide, WorkingType } from '../engine/types.ts';
import { checkInteger, checkString, enumIndex } from './codec-checks.ts';
import { InvalidCommandError } from './errors.ts';

export const FUTURES_TYPE_CODE = {
  FuturesTransfer: 7,
  SetPositionMode: 8,
  SetLeverage: 9,
  SetMarginType: 10,
  AdjustIsolatedMargin: 11,
  SetIndexPrices: 12,
  PriceTick: 13,
} as const;

export const POSITION_SIDES: readonly PositionSide[] = ['BOTH', 'LONG', 'SHORT'];
const MARGIN_TYPES: readonly MarginType[] = ['CROSS', 'ISOLATED'];
const TRANSFER_DIRECTIONS = ['SpotToFutures', 'FuturesToSpot'] as const;
const MARGIN_ACTIONS = ['Add', 'Remove'] as const;
const MAX_INDEX_PRICES = 0xffff;
const FUTURES_REDUCE_ONLY = 1;

/** The RecordWriter's field writers (codec.ts). */
export interface FieldWriter {
  ensure(extra: number): void;
  u8(value: number): void;
  u16(value: number): void;
  f64(value: number): void;
  str(value: string): void;
}

/** The decoder's field readers (codec.ts); each throws PayloadError past the payload's end. */
export interface FieldReader {
  u8(): number;
  u16(): number;
  f64(): number;
  str(): string;
  enum<T>(values: readonly T[], field: string): T;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** canonicalCommand for a futures command (fixed property order), checked field by field. */
export function stampFuturesCommand(command: DistributiveOmit<FuturesCommand, 'timestamp'>, timestamp: number): Command {
  switch (command.type) {
    case 'FuturesTransfer':
      enumIndex(TRANSFER_DIRECTIONS, command.direction, 'direction');
      return {
        type: 'FuturesTransfer',
        timestamp,
        userId: checkInteger(command.userId, 'userId'),
        asset: checkString(command.asset, 'asset'),
        amount: checkInteger(command.amount, 'amount'),
        direction: command.direction,
      };
    case 'SetPositionMode':
      if (typeof command.hedge !== 'boolean') throw new InvalidCommandError('hedge must be a boolean');
      return { type: 'SetPositionMode', timestamp, userId: checkInteger(command.userId, 'userId'), hedge: command.hedge };
    case 'SetLeverage':
      return {
        type: 'SetLeverage',
        timestamp,
        userId: checkInteger(command.userId, 'userId'),
        symbol: checkString(command.symbol, 'symbol'),
        leverage: checkInteger(command.leverage, 'leverage'),
      };
    case 'SetMarginType':
      enumIndex(MARGIN_TYPES, command.marginType, 'marginType');
      return {
        type: 'SetMarginType',
        timestamp,
        userId: checkInteger(command.userId, 'userId'),
        symbol: checkString(command.symbol, 'symbol'),
        marginType: command.marginType,
      };
    case 'AdjustIsolatedMargin':
      enumIndex(POSITION_SIDES, command.positionSide, 'positionSide');
      enumIndex(MARGIN_ACTIONS, command.action, 'action');
      return {
        type: 'AdjustIsolatedMargin',
        timestamp,
        userId: checkInteger(command.userId, 'userId'),
        symbol: checkString(command.symbol, 'symbol'),
        positionSide: command.positionSide,
        amount: checkInteger(command.amount, 'amount'),
        action: command.action,
      };
    case 'SetIndexPrices': {
      const prices = command.prices;
      if (!Array.isArray(prices) || prices.length > MAX_INDEX_PRICES)
        throw new InvalidCommandError(`prices must be an array of at most ${MAX_INDEX_PRICES}`);
      return {
        type: 'SetIndexPrices',
        timestamp,
        prices: prices.map((entry: IndexPriceInput, index: number) => ({
          symbol: checkString(entry?.symbol, `prices[${index}].symbol`),
          source: checkString(entry?.source, `prices[${index}].source`),
          price: checkInteger(entry?.price, `prices[${index}].price`),
        })),
      };
    }
    case 'PriceTick':
      return { type: 'PriceTick', timestamp };
  }
}

export function writeFuturesCommand(writer: FieldWriter, command: FuturesCommand): void {
  switch (command.type) {
    case 'FuturesTransfer':
      writer.f64(command.userId);
      writer.str(command.asset);
      writer.ensure(9);
      writer.f64(command.amount);
      writer.u8(TRANSFER_DIRECTIONS.indexOf(command.direction));
      break;
    case 'SetPositionMode':
      writer.f64(command.userId);
      writer.u8(command.hedge ? 1 : 0);
      break;
    case 'SetLeverage':
      writer.f64(command.userId);
      writer.str(command.symbol);
      writer.ensure(8);
      writer.f64(command.leverage);
      break;
    case 'SetMarginType':
      writer.f64(command.userId);
      writer.str(command.symbol);
      writer.ensure(1);
      writer.u8(MARGIN_TYPES.indexOf(command.marginType));
      break;
    case 'AdjustIsolatedMargin':
      writer.f64(command.userId);
      writer.str(command.symbol);
      writer.ensure(10);
      writer.u8(POSITION_SIDES.indexOf(command.positionSide));
      writer.f64(command.amount);
      writer.u8(MARGIN_ACTIONS.indexOf(command.action));
      break;
    case 'SetIndexPrices': {
      const prices = command.prices;
      writer.ensure(2);
      writer.u16(prices.length);
      for (const entry of prices) {
        writer.str(entry.symbol);
        writer.str(entry.source);
        writer.ensure(8);
        writer.f64(entry.price);
      }
      break;
    }
    case 'PriceTick':
      break; // the timestamp is all it has
  }
}

export function readFuturesCommand(type: number, timestamp: number, reader: FieldReader): Command {
  switch (type) {
    case FUTURES_TYPE_CODE.FuturesTransfer: {
      const userId = reader.f64();
      const asset = reader.str();
      const amount = reader.f64();
      const direction = reader.enum(TRANSFER_DIRECTIONS, 'direction');
      return { type: 'FuturesTransfer', timestamp, userId, asset, amount, direction };
    }
    case FUTURES_TYPE_CODE.SetPositionMode: {
      const userId = reader.f64();
      const hedge = reader.enum([false, true], 'hedge');
      return { type: 'SetPositionMode', timestamp, userId, hedge };
    }
    case FUTURES_TYPE_CODE.SetLeverage: {
      const userId = reader.f64();
      const symbol = reader.str();
      const leverage = reader.f64();
      return { type: 'SetLeverage', timestamp, userId, symbol, leverage };
    }
    case FUTURES_TYPE_CODE.SetMarginType: {
      const userId = reader.f64();
      const symbol = reader.str();
      const marginType = reader.enum(MARGIN_TYPES, 'marginType');
      return { type: 'SetMarginType', timestamp, userId, symbol, marginType };
    }
    case FUTURES_TYPE_CODE.AdjustIsolatedMargin: {
      const userId = reader.f64();
      const symbol = reader.str();
      const positionSide = reader.enum(POSITION_SIDES, 'positionSide');
      const amount = reader.f64();
      const action = reader.enum(MARGIN_ACTIONS, 'action');
      return { type: 'AdjustIsolatedMargin', timestamp, userId, symbol, positionSide, amount, action };
    }
    case FUTURES_TYPE_CODE.SetIndexPrices: {
      const count = reader.u16();
      const prices: IndexPriceInput[] = [];
      for (let index = 0; index < count; index++) {
        const symbol = reader.str();
        const source = reader.str();
        const price = reader.f64();
        prices.push({ symbol, source, price });
      }
      return { type: 'SetIndexPrices', timestamp, prices };
    }
    case FUTURES_TYPE_CODE.PriceTick:
      return { type: 'PriceTick', timestamp };
    default:
      throw new InvalidCommandError(`not a futures command type code: ${type}`);
  }
}

/** working type codes of the futures byte (bits 3–4): 0 absent, 1 + the index here */
const WORKING_TYPES: readonly WorkingType[] = ['LAST_PRICE', 'MARK_PRICE'];
const FUTURES_CLOSE_POSITION = 1 << 5;

/** The perpetual fields of a PlaceOrder, as the futures byte carries them. */
export interface FuturesFields {
  readonly reduceOnly?: boolean | undefined;
  readonly positionSide?: PositionSide | undefined;
  readonly workingType?: WorkingType | undefined;
  readonly closePosition?: boolean | undefined;
}

/**
 * The PlaceOrder futures byte: bit0 reduceOnly, bits1–2 positionSide (0 absent, 1 + its index),
 * bits3–4 workingType (0 absent, 1 LAST_PRICE, 2 MARK_PRICE), bit5 closePosition (issue 19: a byte
 * written before these bits existed decodes as before).
 */
export function futuresByte(fields: FuturesFields): number {
  const { reduceOnly, positionSide, workingType, closePosition } = fields;
  const sideCode = positionSide === undefined ? 0 : POSITION_SIDES.indexOf(positionSide) + 1;
  const workingCode = workingType === undefined ? 0 : WORKING_TYPES.indexOf(workingType) + 1;
  return (
    (reduceOnly === true ? FUTURES_REDUCE_ONLY : 0) |
    (sideCode << 1) |
    (workingCode << 3) |
    (closePosition === true ? FUTURES_CLOSE_POSITION : 0)
  );
}

/** The fields of a PlaceOrder futures byte (PayloadError-worthy bits: undefined). */
export function readFuturesByte(futures: number): FuturesFields | undefined {
  const workingCode = (futures >> 3) & 3;
  if (futures & ~0x3f || workingCode > WORKING_TYPES.length) return undefined;
  const sideCode = (futures >> 1) & 3;
  return {
    reduceOnly: (futures & FUTURES_REDUCE_ONLY) !== 0,
    positionSide: sideCode === 0 ? undefined : POSITION_SIDES[sideCode - 1],
    workingType: workingCode === 0 ? undefined : WORKING_TYPES[workingCode - 1],
    closePosition: (futures & FUTURES_CLOSE_POSITION) !== 0 ? true : undefined,
  };
}

/** Checks the TP/SL fields of a PlaceOrder for the journal (canonical: closePosition false is left out). */
export function checkConditionalFields(
  workingType: unknown,
  closePosition: unknown,
): { workingType: WorkingType | undefined; closePosition: true | undefined } {
  if (workingType !== undefined) enumIndex(WORKING_TYPES, workingType as WorkingType, 'workingType');
  if (closePosition !== undefined && typeof closePosition !== 'boolean') throw new InvalidCommandError('closePosition must be a boolean');
  return { workingType: workingType as WorkingType | undefined, closePosition: closePosition === true ? true : undefined };
}
