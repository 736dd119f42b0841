import { z } from 'zod';
import {
  amountToMinor,
  findAsset,
  isDecimalError,
  lotsToQuantity,
  priceToTicks,
  quantityToLots,
  type DecimalError,
  type EngineConfig,
  type MarketSpec,
  type OrderType,
  type OrderView,
  type PlaceOrderCommand,
  type RejectReason,
  validatePlaceOrder,
} from '../engine/index.ts';
import { PLAIN_DECIMAL } from '../contract/decimal-text.ts';
import { findTradedMarket } from '../contract/markets.ts';
import { ApiError, type ErrorWord } from './errors.ts';

/** Longest decimal text accepted; anything longer is "absurdly long" (OUT_OF_BOUNDS) before parsing. */
const MAX_DECIMAL_LENGTH = 40;
export const CLIENT_ORDER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A decimal as a string (plain digits with an optional fraction, checked by decimalText) or a JSON number read by its exact characters. */
const decimalInput = z
  .union([z.string(), z.number()])
  .describe('decimal as a string (requests also accept a JSON number, read by its exact characters; no sign, no exponent)');

/** The POST /v1/order body (ARCHITECTURE.md); unknown fields are refused so that typos surface. */
export const orderBodySchema = z.strictObject({
  symbol: z.string().max(32).describe('a market of GET /v1/markets'),
  side: z.enum(['Buy', 'Sell']),
  order_type: z
    .enum(['Limit', 'Market', 'StopLimit', 'StopMarket', 'TakeProfitLimit', 'TakeProfitMarket'])
    .describe(
      'TakeProfitLimit/TakeProfitMarket on perpetual markets only. A stop buy fires when the watched price rises to stop_price or above, a stop sell when it falls to it or below; a take-profit the other way round (buy: at or below, sell: at or above)',
    ),
  price: decimalInput
    .nullish()
    .describe('required for Limit/StopLimit/TakeProfitLimit, refused for the market types; a multiple of tick_size'),
  quantity: decimalInput.nullish().describe('a multiple of lot_size; required unless quote_amount (or close_position) is given'),
  quote_amount: decimalInput.nullish().describe('Market/StopMarket Buy only: quote to spend'),
  stop_price: decimalInput.nullish().describe('required for stop types, refused otherwise'),
  time_in_force: z.enum(['GTC', 'IOC', 'FOK']).optional().describe('default GTC (limit) / IOC (market); market orders cannot be GTC'),
  post_only: z.boolean().optional().describe('GTC Limit only; rejected by the engine (POST_ONLY_WOULD_TAKE) if it would trade'),
  client_order_id: z
    .string()
    .regex(CLIENT_ORDER_ID)
    .optional()
    .describe('at most one order per id and user: a retry with the same id answers the first order (duplicate: true)'),
  self_trade_prevention: z.enum(['ExpireTaker', 'ExpireMaker', 'ExpireBoth']).optional().describe('default ExpireTaker'),
  reduce_only: z
    .boolean()
    .optional()
    .describe(
      'perpetual markets only: never opens, grows or flips a position, reserves no margin; cut when the position shrinks below it (true on a spot market: NOT_A_PERPETUAL)',
    ),
  position_side: z
    .enum(['BOTH', 'LONG', 'SHORT'])
    .optional()
    .describe(
      'perpetual markets only: LONG or SHORT in hedge mode, BOTH or absent in one-way mode (the engine rejects a mismatch: POSITION_SIDE_MISMATCH); on a spot market: NOT_A_PERPETUAL',
    ),
  working_type: z
    .enum(['MARK_PRICE', 'LAST_PRICE'])
    .optional()
    .describe(
      'perpetual stop and take-profit orders only: the price stop_price is compared with, default MARK_PRICE (fired in the command that moves the mark); spot stops always watch the last trade price (working_type on spot: NOT_A_PERPETUAL; on another order type: INVALID_WORKING_TYPE)',
    ),
  close_position: z
    .boolean()
    .optional()
    .describe(
      'perpetual StopMarket/TakeProfitMarket only, without quantity and reduce_only, on the side that closes: when it fires it closes the whole position as it is then; it reserves no margin, and expires (ReduceOnly) if there is nothing to close (else CLOSE_POSITION_NOT_ALLOWED; on spot NOT_A_PERPETUAL)',
    ),
});

export type OrderBody = z.infer<typeof orderBodySchema>;

const FIELD_WORDS: Record<string, ErrorWord> = {
  side: 'INVALID_SIDE',
  order_type: 'INVALID_ORDER_TYPE',
  time_in_force: 'INVALID_TIME_IN_FORCE',
  self_trade_prevention: 'INVALID_STP_MODE',
  position_side: 'INVALID_POSITION_SIDE',
  working_type: 'INVALID_WORKING_TYPE',
  client_order_id: 'INVALID_CLIENT_ORDER_ID',
  price: 'NOT_A_DECIMAL',
  quantity: 'NOT_A_DECIMAL',
  quote_amount: 'NOT_A_DECIMAL',
  stop_price: 'NOT_A_DECIMAL',
};

/** Turns the first zod issue into a stable error word naming the field (`words`: the word of a bad value per field). */
export function zodToApiError(error: z.ZodError, input?: unknown, words: Readonly<Record<string, ErrorWord>> = FIELD_WORDS): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError('INVALID_BODY');
  if (issue.code === 'unrecognized_keys') return new ApiError('UNKNOWN_FIELD', `unknown field(s): ${issue.keys.join(', ')}`);
  const field = String(issue.path[0] ?? '');
  if (field === '') return new ApiError('INVALID_BODY');
  const given = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[field] : undefined;
  if (given === undefined) return new ApiError('MISSING_FIELD', `${field} is required`);
  return new ApiError(words[field] ?? 'INVALID_FIELD', `${field}: ${issue.message}`);
}

/**
 * A JSON decimal as plain decimal text. Request bodies reach here with number literals already
 * turned into strings of the client's exact characters (json-numbers.ts); a number that still
 * arrives (another caller) is taken by its shortest round-trip form. Refused: signs, exponents,
 * NaN/Infinity spelled out, whitespace, over-long text.
 */
export function decimalText(value: string | number, field: string): string {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'NaN') : value;
  if (text.length > MAX_DECIMAL_LENGTH) throw new ApiError('OUT_OF_BOUNDS', `${field}: more than ${MAX_DECIMAL_LENGTH} characters`);
  if (!PLAIN_DECIMAL.test(text)) {
    throw new ApiError(
      'NOT_A_DECIMAL',
      `${field}: '${text}' is not a plain non-negative decimal (digits with an optional fraction; no sign, exponent or spaces)`,
    );
  }
  return text;
}

function fromDecimalError(error: DecimalError, field: string): ApiError {
  return new ApiError(error.code as RejectReason, `${field}: ${error.message}`);
}

function fail(word: RejectReason, message?: string): never {
  throw new ApiError(word, message);
}

export type PlaceOrderInput = Omit<PlaceOrderCommand, 'timestamp' | 'orderId'>;

/**
 * Converts the body to engine units and runs the engine's own stateless checks
 * (engine/validation.ts validatePlaceOrder), so an order the engine would refuse for its shape is
 * answered 400 without ever being journaled (no state change). Balance and book checks stay with
 * the engine: such an order is acknowledged and then shows status Rejected with its reason.
 */
export function toPlaceOrder(body: OrderBody, userId: number, config: EngineConfig): PlaceOrderInput {
  const market = findTradedMarket(config, body.symbol) ?? fail('UNKNOWN_SYMBOL', `no market '${body.symbol}'`);
  const perpetual = market.type === 'perpetual';
  if ((body.reduce_only === true || body.position_side !== undefined) && !perpetual) {
    fail('NOT_A_PERPETUAL', `reduce_only and position_side apply to perpetual markets; ${market.symbol} is a spot market`);
  }
  const orderType: OrderType = body.order_type;
  const isMarket = orderType === 'Market' || orderType === 'StopMarket' || orderType === 'TakeProfitMarket';
  const timeInForce = body.time_in_force ?? (isMarket ? 'IOC' : 'GTC');
  // Stricter than the engine: a market order cannot rest, so GTC on one is a client mistake.
  if (isMarket && timeInForce === 'GTC') fail('INVALID_TIME_IN_FORCE', 'market orders take IOC or FOK');

  const price = body.price != null ? positive(ticks(market, body.price, 'price'), 'INVALID_PRICE', 'price') : undefined;
  const stopPrice =
    body.stop_price != null ? positive(ticks(market, body.stop_price, 'stop_price'), 'INVALID_STOP_PRICE', 'stop_price') : undefined;
  let quantity: number | undefined;
  if (body.quantity != null) {
    const lots = quantityToLots(market, decimalText(body.quantity, 'quantity'));
    if (isDecimalError(lots)) throw fromDecimalError(lots, 'quantity');
    quantity = positive(lots, 'INVALID_QUANTITY', 'quantity');
  }
  let quoteAmount: number | undefined;
  if (body.quote_amount != null) {
    const quoteAsset = findAsset(config, market.quote);
    if (!quoteAsset) throw new Error(`market ${market.symbol} quotes unknown asset ${market.quote}`);
    const minor = amountToMinor(quoteAsset, decimalText(body.quote_amount, 'quote_amount'));
    if (isDecimalError(minor)) throw fromDecimalError(minor, 'quote_amount');
    quoteAmount = positive(minor, 'INVALID_QUOTE_AMOUNT', 'quote_amount');
  }

  // Built field by field (no conditional spreads: those cost more than all the parsing above).
  const command: Mutable<PlaceOrderInput> = {
    type: 'PlaceOrder',
    userId,
    symbol: market.symbol,
    side: body.side,
    orderType,
    timeInForce,
    postOnly: body.post_only ?? false,
    stp: body.self_trade_prevention ?? 'ExpireTaker',
  };
  if (price !== undefined) command.price = price;
  if (stopPrice !== undefined) command.stopPrice = stopPrice;
  if (quantity !== undefined) command.quantity = quantity;
  if (quoteAmount !== undefined) command.quoteAmount = quoteAmount;
  if (body.client_order_id !== undefined) command.clientOrderId = body.client_order_id;
  if (body.reduce_only === true) command.reduceOnly = true;
  if (body.position_side !== undefined) command.positionSide = body.position_side;
  // a perpetual stop or take-profit watches the mark price unless told otherwise (ARCHITECTURE.md)
  const workingType = body.working_type ?? (perpetual && stopPrice !== undefined ? 'MARK_PRICE' : undefined);
  if (workingType !== undefined) command.workingType = workingType;
  if (body.close_position === true) command.closePosition = true; // false says nothing (as reduce_only false)
  // orderId and timestamp are the sequencer's: any valid placeholders let the engine check the rest.
  const reason = validatePlaceOrder(market, {
    type: 'PlaceOrder',
    orderId: 1,
    timestamp: 0,
    userId,
    symbol: market.symbol,
    side: command.side,
    orderType,
    price,
    stopPrice,
    quantity,
    quoteAmount,
    timeInForce,
    postOnly: command.postOnly,
    stp: command.stp,
    clientOrderId: command.clientOrderId,
    reduceOnly: command.reduceOnly,
    positionSide: command.positionSide,
    workingType: command.workingType,
    closePosition: command.closePosition,
  });
  if (reason !== undefined) fail(reason);
  return command;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function positive(value: number, word: RejectReason, field: string): number {
  if (value <= 0) fail(word, `${field} must be greater than zero`);
  return value;
}

function ticks(market: MarketSpec, value: string | number, field: string): number {
  const result = priceToTicks(market, decimalText(value, field));
  if (isDecimalError(result)) throw fromDecimalError(result, field);
  return result;
}

/** The PATCH /v1/order/{id} body: the order's new total quantity (filled part included). */
export const amendBodySchema = z.strictObject({
  quantity: decimalInput.describe(
    "the order's new total quantity, filled part included: below the current quantity, above the filled quantity, a multiple of lot_size",
  ),
});

export type AmendBody = z.infer<typeof amendBodySchema>;

/**
 * The new quantity in lots, with the engine's amend rules checked first (engine.amendOrder), so a
 * refused amend is answered 400 without being journaled: only a reduction, still above what is filled,
 * and not a buy by quote amount (it has no quantity).
 */
export function toNewQuantity(body: AmendBody, order: OrderView, config: EngineConfig): number {
  const market = findTradedMarket(config, order.symbol);
  if (!market) throw new Error(`order ${order.orderId} on unknown market ${order.symbol}`);
  // A by-quote order's quantity is what it bought so far: nothing is left to reduce.
  if (order.quoteAmount !== undefined && order.remainingQuantity === 0) fail('AMEND_NOT_ALLOWED');
  const lots = quantityToLots(market, decimalText(body.quantity, 'quantity'));
  if (isDecimalError(lots)) throw fromDecimalError(lots, 'quantity');
  positive(lots, 'INVALID_QUANTITY', 'quantity');
  if (lots >= order.quantity)
    fail('AMEND_NOT_REDUCING', `quantity must be below the order's current ${lotsToQuantity(market, order.quantity)}`);
  if (lots <= order.filledQuantity)
    fail('AMEND_BELOW_FILLED', `quantity must stay above the ${lotsToQuantity(market, order.filledQuantity)} already filled`);
  return lots;
}
