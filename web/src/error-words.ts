/**
 * The API's stable error words (`{"error": WORD}` and reject reasons), in words a trader reads.
 * The server's own message is shown only for a word not listed here — never a stack.
 */
const WORDS: Readonly<Record<string, string>> = {
  // signing and limits
  MISSING_CREDENTIALS: 'You are not logged in.',
  INVALID_API_KEY: 'This API key is not known.',
  INVALID_SIGNATURE: 'The API secret does not match this key.',
  INVALID_TIMESTAMP_HEADER: 'The request carried a bad timestamp.',
  STALE_TIMESTAMP: "Your computer's clock is more than a minute away from the exchange's — set it right and log in again.",
  REPLAYED_SIGNATURE: 'That request was already sent once; please try again.',
  RATE_LIMITED: 'Too many requests — wait a moment and try again.',
  // service state
  OVERLOADED: 'The exchange is busy right now — try again in a moment.',
  NOT_READY: 'The exchange is starting up — try again in a moment.',
  OUTCOME_UNKNOWN: 'The exchange could not confirm this request. Check your open orders before trying again.',
  STORE_UNAVAILABLE: 'History is unavailable for the moment (trading is not affected).',
  INTERNAL: 'Something went wrong on the exchange.',
  // request shape
  MALFORMED_JSON: 'The request was malformed.',
  UNSUPPORTED_MEDIA_TYPE: 'The request was malformed.',
  UNSUPPORTED_CHARSET: 'The request was malformed.',
  DUPLICATE_KEY: 'The request named a field twice.',
  BODY_TOO_LARGE: 'The request was too large.',
  INVALID_BODY: 'The request was malformed.',
  UNKNOWN_FIELD: 'The request had a field the exchange does not know.',
  INVALID_FIELD: 'A field has the wrong format.',
  MISSING_FIELD: 'A required field is missing.',
  INVALID_QUERY: 'The request was malformed.',
  INVALID_INTERVAL: 'That chart interval is not offered.',
  NOT_FOUND: 'Not found.',
  ORDER_NOT_FOUND: 'That order was not found.',
  // order validation
  UNKNOWN_SYMBOL: 'That market does not exist.',
  INVALID_SIDE: 'Choose Buy or Sell.',
  INVALID_ORDER_TYPE: 'Choose Limit, Market, Stop-limit or Stop-market.',
  INVALID_TIME_IN_FORCE: 'That time in force is not allowed here (market orders are IOC or FOK).',
  INVALID_QUANTITY: 'Enter a quantity greater than zero.',
  QUANTITY_BELOW_MIN: 'The quantity is below the market minimum.',
  QUANTITY_ABOVE_MAX: 'The quantity is above the market maximum.',
  INVALID_PRICE: 'Enter a price greater than zero.',
  PRICE_BELOW_MIN: 'The price is below the market minimum.',
  PRICE_ABOVE_MAX: 'The price is above the market maximum.',
  PRICE_REQUIRED: 'Limit orders need a price.',
  PRICE_NOT_ALLOWED: 'Market orders take no price.',
  STOP_PRICE_REQUIRED: 'Stop orders need a stop price.',
  STOP_PRICE_NOT_ALLOWED: 'Only stop orders take a stop price.',
  INVALID_STOP_PRICE: 'Enter a stop price within the market limits.',
  NOTIONAL_BELOW_MIN: 'The order is too small: its value is below the market minimum.',
  INVALID_QUOTE_AMOUNT: 'Enter an amount greater than zero.',
  QUOTE_AMOUNT_NOT_ALLOWED: 'An amount to spend is only for market buys.',
  QUANTITY_REQUIRED: 'Enter a quantity (or, for a market buy, an amount to spend).',
  QUOTE_AMOUNT_REQUIRED: 'Stop-market buys need an amount to spend.',
  POST_ONLY_NOT_ALLOWED: 'Post-only needs a GTC limit order.',
  NOT_A_DECIMAL: 'Numbers must be plain decimals, like 0.25.',
  TOO_MANY_DECIMALS: 'Too many decimal places for this asset.',
  OFF_TICK: 'The price must be a multiple of the tick size.',
  OFF_LOT: 'The quantity must be a multiple of the lot size.',
  OUT_OF_BOUNDS: 'A value is out of range.',
  INVALID_CLIENT_ORDER_ID: 'The client order id has the wrong format.',
  INVALID_ORDER_ID: 'That is not an order id.',
  // funds and order state
  INSUFFICIENT_FUNDS: 'Not enough available balance for this order.',
  INSUFFICIENT_AVAILABLE: 'Not enough available balance.',
  ORDER_NOT_OPEN: 'That order is no longer open (filled or cancelled).',
  NOT_ORDER_OWNER: 'That order was not found.',
  POST_ONLY_WOULD_TAKE: 'A post-only order would have traded at once, so it was not placed.',
  AMEND_NOT_REDUCING: 'An amend can only lower the quantity.',
  AMEND_BELOW_FILLED: 'The new quantity must stay above what is already filled.',
  AMEND_NOT_ALLOWED: 'A buy by amount has no quantity to amend.',
  DUPLICATE_CLIENT_ORDER_ID: 'An order with this client order id already exists.',
  TOO_MANY_OPEN_ORDERS: 'You have as many open orders in this market as allowed.',
  // WebSocket
  RESUME_UNAVAILABLE: 'Catching up on missed reports — retrying.',
  RESUME_TOO_FAR: 'Too many missed reports to replay; history is reloaded instead.',
  TOO_MANY_CONNECTIONS: 'Too many connections for this key.',
  // futures
  INVALID_TRANSFER_DIRECTION: 'Choose a transfer direction: spot to futures or futures to spot.',
  INVALID_MARGIN_ACTION: 'Choose whether to add or remove margin.',
  NOT_A_SETTLEMENT_ASSET: 'Futures wallets hold only the settlement asset (KRW).',
  NOT_A_PERPETUAL: 'Reduce-only, position side and leverage apply to perpetual markets only.',
  LEVERAGE_ABOVE_TIER_MAX: 'That leverage is above the maximum for this position size.',
  INVALID_LEVERAGE: 'Leverage must be a whole number of at least 1.',
  POSITION_OR_ORDERS_OPEN: 'Close your position and cancel your orders in this market first.',
  INSUFFICIENT_MARGIN: 'Not enough available margin in your futures wallet.',
  REDUCE_ONLY_WOULD_INCREASE: 'A reduce-only order needs a position to reduce, and may not exceed it.',
  NO_POSITION: 'You have no position here.',
  NO_MARK_PRICE: 'This market has no mark price yet: positions cannot be opened.',
  POSITION_SIDE_MISMATCH: 'The position side does not match your position mode.',
  NOT_ISOLATED: 'Margin can be added or removed on an isolated position only.',
  INVALID_MARGIN_TYPE: 'Margin type must be cross or isolated.',
  INVALID_POSITION_SIDE: 'Position side must be both, long or short.',
  INDEX_STALE: 'The index price is stale: only orders that reduce a position are taken now.',
  INVALID_WORKING_TYPE: 'Working type must be mark price or last price, on a stop or take-profit order only.',
  CLOSE_POSITION_NOT_ALLOWED:
    'Close position works on a perpetual stop-market or take-profit-market order without quantity, on the closing side.',
};

/** Why an order expired (`expire_reason`), in words. */
const EXPIRY_WORDS: Readonly<Record<string, string>> = {
  IOC: 'the rest was cancelled (immediate-or-cancel)',
  FOK: 'it could not be filled in full at once (fill-or-kill)',
  MarketNoLiquidity: 'the book ran out of orders to fill it',
  SelfTradePrevention: 'it would have traded with your own order',
  QuoteAmountExhausted: 'the amount to spend was used up',
};

export function describeError(word: string | undefined, serverMessage?: string): string {
  if (word && WORDS[word]) return WORDS[word]!;
  if (serverMessage && serverMessage.length < 300) return serverMessage;
  return 'The exchange refused the request.';
}

export function describeExpiry(reason: string | null | undefined): string {
  return reason ? (EXPIRY_WORDS[reason] ?? reason) : '';
}

export function knownErrorWords(): string[] {
  return Object.keys(WORDS);
}
