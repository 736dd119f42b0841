/**
 * Stateless checks of a PlaceOrder against its market, shared by the engine and the API (which
 * can refuse a bad order with the same code before sequencing it). Commands arrive from JSON,
 * so every field is checked for type as well as range.
 */
import type { RejectReason } from './reject-codes.ts';
import type { MarketSpec, PlaceOrderCommand } from './types.ts';

function isPositiveSafe(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export function isNonNegativeSafe(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The first rule the order breaks, or undefined when it is well-formed for the market. */
export function validatePlaceOrder(market: MarketSpec | undefined, command: PlaceOrderCommand): RejectReason | undefined {
  if (!isPositiveSafe(command.orderId)) return 'INVALID_ORDER_ID';
  if (!isNonNegativeSafe(command.userId)) return 'INVALID_USER_ID';
  if (!isNonNegativeSafe(command.timestamp)) return 'INVALID_TIMESTAMP';
  if (market === undefined) return 'UNKNOWN_SYMBOL';
  // Plain comparisons: cheaper than set lookups on the hot path.
  const side = command.side;
  if (side !== 'Buy' && side !== 'Sell') return 'INVALID_SIDE';
  const type = command.orderType;
  const takeProfit = type === 'TakeProfitLimit' || type === 'TakeProfitMarket';
  if (type !== 'Limit' && type !== 'Market' && type !== 'StopLimit' && type !== 'StopMarket' && !takeProfit) return 'INVALID_ORDER_TYPE';
  const timeInForce = command.timeInForce;
  if (timeInForce !== 'GTC' && timeInForce !== 'IOC' && timeInForce !== 'FOK') return 'INVALID_TIME_IN_FORCE';
  const stp = command.stp;
  if (stp !== 'ExpireTaker' && stp !== 'ExpireMaker' && stp !== 'ExpireBoth') return 'INVALID_STP_MODE';
  if (typeof command.postOnly !== 'boolean') return 'INVALID_COMMAND';
  const clientOrderId = command.clientOrderId;
  if (clientOrderId !== undefined && (typeof clientOrderId !== 'string' || clientOrderId.length === 0 || clientOrderId.length > 64)) {
    return 'INVALID_CLIENT_ORDER_ID';
  }

  const isLimit = type === 'Limit' || type === 'StopLimit' || type === 'TakeProfitLimit';
  const isStop = type === 'StopLimit' || type === 'StopMarket' || takeProfit;
  const isBuy = command.side === 'Buy';
  // TP/SL fields (perp/README decisions 50–53): take-profit, working type and close position are
  // perpetual notions; a spot order keeps its last-price stops and is refused them
  const perpetual = market.type === 'perpetual';
  const conditional = conditionalRule(command, perpetual, isStop, takeProfit);
  if (conditional !== undefined) return conditional;
  const closePosition = command.closePosition === true;

  const price = command.price;
  if (isLimit) {
    if (price === undefined) return 'PRICE_REQUIRED';
    if (!isPositiveSafe(price)) return 'INVALID_PRICE';
    if (price < market.minPrice) return 'PRICE_BELOW_MIN';
    if (price > market.maxPrice) return 'PRICE_ABOVE_MAX';
  } else if (price !== undefined) return 'PRICE_NOT_ALLOWED';

  const stopPrice = command.stopPrice;
  if (isStop) {
    if (stopPrice === undefined) return 'STOP_PRICE_REQUIRED';
    if (!isPositiveSafe(stopPrice) || stopPrice < market.minPrice || stopPrice > market.maxPrice) return 'INVALID_STOP_PRICE';
  } else if (stopPrice !== undefined) return 'STOP_PRICE_NOT_ALLOWED';

  const quoteAmount = command.quoteAmount;
  // a perpetual order is sized in lots only: spending a quote amount is a spot buy's notion
  if (quoteAmount !== undefined) {
    if (isLimit || !isBuy || perpetual) return 'QUOTE_AMOUNT_NOT_ALLOWED';
    if (!isPositiveSafe(quoteAmount)) return 'INVALID_QUOTE_AMOUNT';
    if (quoteAmount < market.minNotional) return 'NOTIONAL_BELOW_MIN';
  } else if (command.orderType === 'StopMarket' && isBuy && !perpetual) return 'QUOTE_AMOUNT_REQUIRED';

  const quantity = command.quantity;
  if (closePosition) {
    // sized when it fires (the whole leg then): no quantity of its own
    if (quantity !== undefined) return 'CLOSE_POSITION_NOT_ALLOWED';
  } else if (quantity === undefined) {
    if (quoteAmount === undefined) return 'QUANTITY_REQUIRED';
    // A buy by quote amount alone cannot be all-or-nothing: lots rarely add up to the amount.
    if (command.timeInForce === 'FOK') return 'INVALID_TIME_IN_FORCE';
  } else {
    if (!isPositiveSafe(quantity)) return 'INVALID_QUANTITY';
    if (quantity < market.minQuantity) return 'QUANTITY_BELOW_MIN';
    if (quantity > market.maxQuantity) return 'QUANTITY_ABOVE_MAX';
    // price ≤ maxPrice and quantity ≤ maxQuantity keep this product exact (arithmetic.ts).
    if (isLimit && (price as number) * quantity * market.quotePerTickLot < market.minNotional) return 'NOTIONAL_BELOW_MIN';
    // A stop-market by quantity is valued at its stop price (a market order at the book's best: engine.ts).
    if (
      (type === 'StopMarket' || type === 'TakeProfitMarket') &&
      (stopPrice as number) * quantity * market.quotePerTickLot < market.minNotional
    )
      return 'NOTIONAL_BELOW_MIN';
  }

  if (command.postOnly && (command.orderType !== 'Limit' || command.timeInForce !== 'GTC')) return 'POST_ONLY_NOT_ALLOWED';
  // reduce-only and position side are perpetual fields (a false reduceOnly says nothing)
  if (!perpetual && (command.reduceOnly === true || command.positionSide !== undefined)) return 'NOT_A_PERPETUAL';
  return undefined;
}

/**
 * The TP/SL fields: take-profit types, a working type and close position only on perpetuals
 * (NOT_A_PERPETUAL); a working type only on a stop or take-profit order; close position only on a
 * StopMarket or TakeProfitMarket, never with reduce-only (it is reduce-only by nature).
 */
function conditionalRule(command: PlaceOrderCommand, perpetual: boolean, isStop: boolean, takeProfit: boolean): RejectReason | undefined {
  const workingType = command.workingType;
  const closePosition = command.closePosition;
  // closePosition false says nothing (as reduceOnly false)
  if (workingType === undefined && (closePosition === undefined || closePosition === false) && !takeProfit) return undefined;
  if (!perpetual) return 'NOT_A_PERPETUAL';
  if (workingType !== undefined && ((workingType !== 'MARK_PRICE' && workingType !== 'LAST_PRICE') || !isStop))
    return 'INVALID_WORKING_TYPE';
  if (closePosition === undefined) return undefined;
  if (typeof closePosition !== 'boolean') return 'INVALID_COMMAND';
  const type = command.orderType;
  if (closePosition && ((type !== 'StopMarket' && type !== 'TakeProfitMarket') || command.reduceOnly === true))
    return 'CLOSE_POSITION_NOT_ALLOWED';
  return undefined;
}
