/**
 * Stable reject codes: one numbered range per domain, each with a machine word.
 * Never renumber or reuse a code; append new ones at the end of their range.
 *
 *   1xxx validation — the command itself breaks a market or format rule
 *   2xxx funds      — the ledger cannot cover it
 *   3xxx matching   — order state: duplicates, unknown orders, post-only, amend rules
 *   4xxx auth       — reserved for the API (authentication, permissions, rate limits)
 *   5xxx, 6xxx      — the API's own (request format, not found: api/errors.ts)
 *   7xxx futures    — perpetual positions, margin, leverage, mark price
 */
export const REJECT_CODES = {
  // 1xxx validation
  UNKNOWN_SYMBOL: 1001,
  UNKNOWN_ASSET: 1002,
  INVALID_SIDE: 1003,
  INVALID_ORDER_TYPE: 1004,
  INVALID_TIME_IN_FORCE: 1005,
  INVALID_STP_MODE: 1006,
  INVALID_ORDER_ID: 1007,
  INVALID_USER_ID: 1008,
  INVALID_QUANTITY: 1009,
  QUANTITY_BELOW_MIN: 1010,
  QUANTITY_ABOVE_MAX: 1011,
  INVALID_PRICE: 1012,
  PRICE_BELOW_MIN: 1013,
  PRICE_ABOVE_MAX: 1014,
  PRICE_REQUIRED: 1015,
  PRICE_NOT_ALLOWED: 1016,
  STOP_PRICE_REQUIRED: 1017,
  STOP_PRICE_NOT_ALLOWED: 1018,
  INVALID_STOP_PRICE: 1019,
  NOTIONAL_BELOW_MIN: 1020,
  INVALID_QUOTE_AMOUNT: 1021,
  QUOTE_AMOUNT_NOT_ALLOWED: 1022,
  QUANTITY_REQUIRED: 1023,
  POST_ONLY_NOT_ALLOWED: 1024,
  INVALID_AMOUNT: 1025,
  INVALID_TIMESTAMP: 1026,
  INVALID_COMMAND: 1027,
  QUOTE_AMOUNT_REQUIRED: 1028,
  INVALID_CLIENT_ORDER_ID: 1029,
  // Decimal-string validation at the API edge (engine/markets.ts helpers).
  NOT_A_DECIMAL: 1050,
  TOO_MANY_DECIMALS: 1051,
  OFF_TICK: 1052,
  OFF_LOT: 1053,
  OUT_OF_BOUNDS: 1054,

  // 2xxx funds
  INSUFFICIENT_FUNDS: 2001,
  INSUFFICIENT_AVAILABLE: 2002,
  ASSET_SUPPLY_LIMIT: 2003,

  // 3xxx matching and order state
  DUPLICATE_ORDER_ID: 3001,
  ORDER_NOT_FOUND: 3002,
  NOT_ORDER_OWNER: 3003,
  ORDER_NOT_OPEN: 3004,
  POST_ONLY_WOULD_TAKE: 3005,
  AMEND_NOT_REDUCING: 3006,
  AMEND_BELOW_FILLED: 3007,
  AMEND_NOT_ALLOWED: 3008,
  DUPLICATE_CLIENT_ORDER_ID: 3009,
  TOO_MANY_OPEN_ORDERS: 3010,

  // 7xxx futures
  NOT_A_PERPETUAL: 7001,
  LEVERAGE_ABOVE_TIER_MAX: 7002,
  INVALID_LEVERAGE: 7003,
  POSITION_OR_ORDERS_OPEN: 7004,
  INSUFFICIENT_MARGIN: 7005,
  REDUCE_ONLY_WOULD_INCREASE: 7006,
  NO_POSITION: 7007,
  NO_MARK_PRICE: 7008,
  POSITION_SIDE_MISMATCH: 7009,
  NOT_ISOLATED: 7010,
  INVALID_MARGIN_TYPE: 7011,
  INVALID_POSITION_SIDE: 7012,
  INDEX_STALE: 7013,
  // TP/SL (issue 19; numbered from 7050 so that the other part-2 codes keep 7014 on)
  INVALID_WORKING_TYPE: 7050,
  CLOSE_POSITION_NOT_ALLOWED: 7051,
} as const;

export type RejectReason = keyof typeof REJECT_CODES;
export type RejectCode = (typeof REJECT_CODES)[RejectReason];

/** Human explanation for each reason, for API messages and docs. */
export const REJECT_MESSAGES: Readonly<Record<RejectReason, string>> = {
  UNKNOWN_SYMBOL: 'no such market',
  UNKNOWN_ASSET: 'no such asset',
  INVALID_SIDE: "side must be 'Buy' or 'Sell'",
  INVALID_ORDER_TYPE: 'order type must be Limit, Market, StopLimit or StopMarket (TakeProfitLimit, TakeProfitMarket on perpetuals)',
  INVALID_TIME_IN_FORCE: 'time in force must be GTC, IOC or FOK (FOK needs a quantity)',
  INVALID_STP_MODE: 'self-trade prevention must be ExpireTaker, ExpireMaker or ExpireBoth',
  INVALID_ORDER_ID: 'order id must be a positive safe integer',
  INVALID_USER_ID: 'user id must be a non-negative safe integer',
  INVALID_QUANTITY: 'quantity must be a positive integer number of lots',
  QUANTITY_BELOW_MIN: 'quantity below the market minimum',
  QUANTITY_ABOVE_MAX: 'quantity above the market maximum',
  INVALID_PRICE: 'price must be a positive integer number of ticks',
  PRICE_BELOW_MIN: 'price below the market minimum',
  PRICE_ABOVE_MAX: 'price above the market maximum',
  PRICE_REQUIRED: 'limit and stop-limit orders need a price',
  PRICE_NOT_ALLOWED: 'market orders take no price',
  STOP_PRICE_REQUIRED: 'stop orders need a stop price',
  STOP_PRICE_NOT_ALLOWED: 'only stop orders take a stop price',
  INVALID_STOP_PRICE: 'stop price must be a positive integer number of ticks within the market bounds',
  NOTIONAL_BELOW_MIN: 'order value below the market minimum notional',
  INVALID_QUOTE_AMOUNT: 'quote amount must be a positive integer in quote minor units',
  QUOTE_AMOUNT_NOT_ALLOWED: 'quote amount is only for market and stop-market buys',
  QUANTITY_REQUIRED: 'a quantity is required (or a quote amount for market buys)',
  POST_ONLY_NOT_ALLOWED: 'post-only needs a GTC limit order',
  INVALID_AMOUNT: 'amount must be a positive safe integer in minor units',
  INVALID_TIMESTAMP: 'timestamp must be a non-negative safe integer',
  INVALID_COMMAND: 'unknown command type or malformed field',
  QUOTE_AMOUNT_REQUIRED: 'stop-market buys need a quote amount (the funds they lock)',
  INVALID_CLIENT_ORDER_ID: 'client order id must be a string of 1–64 characters',
  NOT_A_DECIMAL: 'not a plain decimal number',
  TOO_MANY_DECIMALS: 'more significant decimals than the asset has (trailing zeros do not count)',
  OFF_TICK: 'price is not a multiple of the tick size',
  OFF_LOT: 'quantity is not a multiple of the lot size',
  OUT_OF_BOUNDS: 'value outside the allowed range',
  INSUFFICIENT_FUNDS: 'available balance does not cover the order',
  INSUFFICIENT_AVAILABLE: 'withdrawal exceeds the available balance',
  ASSET_SUPPLY_LIMIT: 'deposit would push the asset total above 2^53 − 1 minor units',
  DUPLICATE_ORDER_ID: 'an order with this id already exists',
  ORDER_NOT_FOUND: 'no such order',
  NOT_ORDER_OWNER: 'the order belongs to another user',
  ORDER_NOT_OPEN: 'the order is already finished',
  POST_ONLY_WOULD_TAKE: 'post-only order would take liquidity',
  AMEND_NOT_REDUCING: 'amend may only reduce the quantity',
  AMEND_BELOW_FILLED: 'amended quantity must stay above the filled quantity',
  AMEND_NOT_ALLOWED: 'a buy by quote amount has no quantity to amend',
  DUPLICATE_CLIENT_ORDER_ID: 'this user already has an order with this client order id (open or among the remembered finished ones)',
  TOO_MANY_OPEN_ORDERS: 'this user already has as many open orders in this market as allowed (maxOpenOrdersPerUserMarket)',
  NOT_A_PERPETUAL: 'reduce-only, position side and futures settings apply to perpetual markets only',
  LEVERAGE_ABOVE_TIER_MAX: "leverage above the risk tier's maximum for the position's notional at the mark price",
  INVALID_LEVERAGE: 'leverage must be an integer ≥ 1',
  POSITION_OR_ORDERS_OPEN: 'not while a position or an open order exists (in that market, or any perpetual for the position mode)',
  INSUFFICIENT_MARGIN: 'available futures balance does not cover the initial margin and fee (or the transfer or margin removal)',
  REDUCE_ONLY_WOULD_INCREASE:
    "a reduce-only order needs a position on the other side to reduce, and a leg's reduce-only orders may not add up to more than it",
  NO_POSITION: 'no position to adjust',
  NO_MARK_PRICE: 'no mark price yet for this market: nothing can open a position',
  POSITION_SIDE_MISMATCH: 'hedge mode needs position side LONG or SHORT, one-way mode BOTH or none',
  NOT_ISOLATED: 'isolated margin can be adjusted on an isolated position only',
  INVALID_MARGIN_TYPE: "margin type must be 'CROSS' or 'ISOLATED'",
  INVALID_POSITION_SIDE: "position side must be 'BOTH', 'LONG' or 'SHORT'",
  INDEX_STALE: 'the index price is stale: orders that open or grow a position are refused',
  INVALID_WORKING_TYPE: "working type must be 'MARK_PRICE' or 'LAST_PRICE', and only on a stop or take-profit order",
  CLOSE_POSITION_NOT_ALLOWED:
    'close position is for a perpetual StopMarket or TakeProfitMarket without quantity or reduce-only, on the side that closes its leg',
};

const WORD_BY_CODE = new Map<number, RejectReason>();
for (const word of Object.keys(REJECT_CODES) as RejectReason[]) WORD_BY_CODE.set(REJECT_CODES[word], word);

/** The machine word of a code, or undefined for an unknown code. */
export function rejectReason(code: number): RejectReason | undefined {
  return WORD_BY_CODE.get(code);
}

/** The domain a code belongs to, from its thousands digit. */
export function rejectDomain(code: number): 'validation' | 'funds' | 'matching' | 'auth' | 'futures' | undefined {
  switch (Math.floor(code / 1000)) {
    case 1:
      return 'validation';
    case 2:
      return 'funds';
    case 3:
      return 'matching';
    case 4:
      return 'auth';
    case 7:
      return 'futures';
    default:
      return undefined;
  }
}
