/**
 * JSON Schemas (draft-07, the base of AsyncAPI 3.0's schema format) of the wire envelopes typed in
 * envelopes.ts — one per envelope type, each self-contained (no $ref), `additionalProperties: false`
 * and every field required (nullable fields are `["string", "null"]`). /asyncapi.json serves them
 * as its components.schemas; broker tests validate what they read from Redis, Kafka and RabbitMQ
 * with them (envelope-schemas.test-support.ts).
 *
 * The field lists are `Record<keyof …Envelope, …>`: adding, renaming or dropping a field in
 * envelopes.ts without doing the same here is a compile error, and so is a new Side, OrderType,
 * OrderStatus, ExecType or ExpiryReason left out of an enum — and so is a new envelope type without
 * its schema (`buildEnvelopeSchemas` returns a `Record<EnvelopeType, …>`).
 */
import {
  DEFAULT_ENGINE_CONFIG,
  REJECT_CODES,
  type EngineConfig,
  type ExpiryReason,
  type OrderStatus,
  type MarginType,
  type OrderType,
  type PositionSide,
  type Side,
  type WalletChangeReason,
} from '../engine/index.ts';
import type {
  BalanceChangedEnvelope,
  BookDeltaEnvelope,
  Envelope,
  EnvelopeType,
  ExecType,
  ExecutionEnvelope,
  ExecutionReport,
  FundingPaidEnvelope,
  MarkPriceEnvelope,
  LiquidationEnvelope,
  PositionChangedEnvelope,
  TickerEnvelope,
  TradeEnvelope,
  WalletChangedEnvelope,
} from './envelopes.ts';
import { perpetualMarkets, tradedMarkets } from './markets.ts';
import {
  DECIMAL_PATTERN,
  ID_PATTERN,
  POSITIVE_DECIMAL_PATTERN,
  RATE_PATTERN,
  SIGNED_DECIMAL_PATTERN,
  USER_ID_PATTERN,
} from './decimal-text.ts';

export type JsonSchema = { readonly [keyword: string]: unknown };

/** What POST /v1/order accepts as client_order_id (api/order-input.ts CLIENT_ORDER_ID). */
const CLIENT_ORDER_ID_PATTERN = '^[A-Za-z0-9_.:-]{1,64}$';

export const SIDES: Readonly<Record<Side, string>> = {
  Buy: 'buy order; in a BookDelta, a bid level',
  Sell: 'sell order; in a BookDelta, an ask level',
};

export const ORDER_TYPES: Readonly<Record<OrderType, string>> = {
  Limit: 'limit order',
  Market: 'market order',
  StopLimit:
    'limit order placed when the watched price (last trade; on perpetuals working_type says) moves through stop_price (buy ≥, sell ≤)',
  StopMarket:
    'market order placed when the watched price (last trade; on perpetuals working_type says) moves through stop_price (buy ≥, sell ≤)',
  TakeProfitLimit: 'perpetuals: limit order placed when the working_type price reaches stop_price from the other side (buy ≤, sell ≥)',
  TakeProfitMarket: 'perpetuals: market order placed when the working_type price reaches stop_price from the other side (buy ≤, sell ≥)',
  Liquidation: 'reduce-only IOC order the engine places to close a position under its maintenance margin (no taker fee)',
};

export const ENVELOPE_ORDER_STATUSES: Readonly<Record<OrderStatus, string>> = {
  Pending: 'open, nothing filled',
  PartiallyFilled: 'open, some quantity filled',
  Filled: 'completely filled (final)',
  Cancelled: 'cancelled by its owner (final)',
  Expired: 'expired; expire_reason says why (final)',
  Rejected: 'refused by the engine; reject_reason says why (final)',
  Untriggered: 'stop order waiting for its stop price',
};

export const EXEC_TYPES: Readonly<Record<ExecType, string>> = {
  New: "the order's first report: accepted (Pending, or Untriggered for a stop), even when it fills at once",
  Trade: "a fill: price and quantity are the fill's, fee is this fill's, trade_id names the public Trade",
  Cancelled: 'cancelled by its owner',
  Expired:
    'IOC/FOK remainder, market order without liquidity, self-trade prevention, or a buy that could not pay for (more) lots (expire_reason says which)',
  Rejected: 'the engine refused the order: its only report',
  Triggered: "a stop order's stop price was reached; it now works as a Limit/Market order",
  Amended: 'quantity reduced, queue priority kept',
  ADL: "an auto-deleveraging fill (perpetuals): the position closed at the liquidated position's bankruptcy price, no fee; otherwise as Trade",
};

export const EXPIRE_REASONS: Readonly<Record<ExpiryReason, string>> = {
  IOC: 'immediate-or-cancel remainder',
  FOK: 'fill-or-kill that could not fill completely',
  MarketNoLiquidity: 'market order with nothing (more) to trade against',
  SelfTradePrevention: "would have traded with its owner's own order",
  QuoteAmountExhausted:
    'a buy by quote amount that could not afford one lot (bought nothing), or a market buy by quantity whose balance ran out before the quantity (a buy by amount that spent its budget having bought something is Filled)',
  ReduceOnly: 'a perpetual reduce-only (or hedge-mode closing) order whose position had nothing more to reduce',
  InsufficientMargin: 'a perpetual taker whose next opening fill its reserve and available balance could not cover',
};

export const POSITION_SIDES: Readonly<Record<PositionSide, string>> = {
  BOTH: 'one-way mode: the one position of the market, size signed',
  LONG: 'hedge mode: the long position (size ≥ 0)',
  SHORT: 'hedge mode: the short position (size ≤ 0)',
};

export const MARGIN_TYPES: Readonly<Record<MarginType, string>> = {
  CROSS: 'margined by the whole futures wallet',
  ISOLATED: 'margined by its own isolated margin only',
};

export const WALLET_CHANGE_REASONS: Readonly<Record<WalletChangeReason, string>> = {
  Transfer: 'POST /v1/futures/transfer',
  Fee: 'a fee alone (e.g. the fee account receiving it)',
  RealizedPnl: 'realized PnL alone',
  Trade: 'a fill: its realized PnL and fee together',
  IsolatedMargin: 'isolated margin moved between the wallet and a position (the balance includes it)',
  Funding: 'a funding payment paid or received (FundingPaid)',
  Liquidation: 'a liquidation: its surplus beyond the bankruptcy price to the insurance fund, or the fund covering a loss',
};

/** The order status each exec_type can leave an order in (ARCHITECTURE.md "Messages"); absent = any. */
const STATUSES_AFTER: Partial<Record<ExecType, readonly OrderStatus[]>> = {
  New: ['Pending', 'Untriggered'],
  Trade: ['PartiallyFilled', 'Filled'],
  ADL: ['PartiallyFilled', 'Filled'],
  Cancelled: ['Cancelled'],
  Expired: ['Expired'],
  Rejected: ['Rejected'],
};

const keys = <K extends string>(record: Readonly<Record<K, unknown>>): K[] => Object.keys(record) as K[];
/** `schema` or null (an enum gets null added too: enum is checked whatever the type). */
const nullable = (schema: JsonSchema): JsonSchema => ({
  ...schema,
  type: [schema.type, 'null'],
  ...(Array.isArray(schema.enum) ? { enum: [...(schema.enum as unknown[]), null] } : {}),
});
const decimal = (description: string): JsonSchema => ({ type: 'string', pattern: DECIMAL_PATTERN, description });
const positive = (description: string): JsonSchema => ({ type: 'string', pattern: POSITIVE_DECIMAL_PATTERN, description });
const id = (description: string): JsonSchema => ({ type: 'string', pattern: ID_PATTERN, description });
const signed = (description: string): JsonSchema => ({ type: 'string', pattern: SIGNED_DECIMAL_PATTERN, description });
const rate = (description: string): JsonSchema => ({
  type: 'string',
  pattern: RATE_PATTERN,
  description: `${description}; eight decimals`,
});
const described = (words: Readonly<Record<string, string>>): string =>
  Object.entries(words)
    .map(([word, meaning]) => `${word}: ${meaning}`)
    .join('; ');
const int = (minimum: number, description: string): JsonSchema => ({
  type: 'integer',
  minimum,
  maximum: Number.MAX_SAFE_INTEGER,
  description,
});

type Fields<E> = Record<Exclude<keyof E, 'v' | 'type' | 'seq' | 'prev_seq' | 'timestamp'>, JsonSchema>;

function envelope<E extends Envelope>(type: E['type'], description: string, fields: Fields<E>, extra: JsonSchema = {}): JsonSchema {
  const properties: Record<keyof E & string, JsonSchema> = {
    v: { const: 1, description: 'envelope version' },
    type: { const: type },
    seq: int(1, "the engine's global, gap-free event seq; consumers drop an envelope whose seq they already have"),
    prev_seq: int(
      0,
      'seq of the previous envelope published under the same routing key (RabbitMQ: routing key; Kafka: topic + key; Redis: the stream), 0 for the first; prev_seq ≠ the last seq a consumer holds there means it missed something',
    ),
    timestamp: int(0, 'ms since the epoch: the time of the engine command that caused the event'),
    ...fields,
  } as Record<keyof E & string, JsonSchema>;
  return {
    title: `${type} envelope`,
    description,
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties),
    properties,
    ...extra,
  };
}

/** The envelope schemas for the markets and assets of `config` (symbol and asset enums). */
export function buildEnvelopeSchemas(config: EngineConfig): Readonly<Record<EnvelopeType, JsonSchema>> {
  const symbol: JsonSchema = { type: 'string', enum: tradedMarkets(config).map((market) => market.symbol), description: 'market symbol' };
  const asset: JsonSchema = { type: 'string', enum: config.assets.map((spec) => spec.code) };
  const side: JsonSchema = { type: 'string', enum: keys(SIDES) };
  const perpSymbols = perpetualMarkets(config).map((market) => market.symbol);
  // a configuration without perpetuals has no valid PositionChanged (an empty enum is not a schema)
  const perpSymbol: JsonSchema =
    perpSymbols.length > 0
      ? { type: 'string', enum: perpSymbols, description: 'perpetual market symbol' }
      : { type: 'string', not: {}, description: 'no perpetual market configured' };
  const userId: JsonSchema = { type: 'string', pattern: USER_ID_PATTERN, description: 'the owner' };

  const report: Record<Exclude<keyof ExecutionReport, 'working_type' | 'close_position'>, JsonSchema> = {
    order_id: id('order id (decimal string)'),
    client_order_id: nullable({
      type: 'string',
      pattern: CLIENT_ORDER_ID_PATTERN,
      description: "the owner's client_order_id, null when none was given",
    }),
    user_id: { type: 'string', pattern: USER_ID_PATTERN, description: "the order's owner" },
    symbol,
    side,
    order_type: { type: 'string', enum: keys(ORDER_TYPES) },
    exec_type: {
      type: 'string',
      enum: keys(EXEC_TYPES),
      description: keys(EXEC_TYPES)
        .map((word) => `${word}: ${EXEC_TYPES[word]}`)
        .join('; '),
    },
    price: nullable(positive("Trade: the fill's price; otherwise null")),
    quantity: decimal('Trade: the fill\'s quantity; otherwise "0"'),
    order_price: nullable(positive("the order's limit price; null for market orders")),
    order_quantity: decimal("the order's quantity after amends (a market buy by quote amount: the quantity bought so far)"),
    filled_quantity: decimal('cumulative'),
    remaining_quantity: decimal(
      'order_quantity − filled_quantity: while the order is open, what is still open; on its final report, what it did not fill (so "0" when Filled, the unfilled rest when Cancelled, Expired or Rejected); a buy by quote amount alone: "0" (its quantity is what it bought)',
    ),
    avg_price: nullable(
      positive('cumulative traded quote / filled_quantity, 2 more decimals than the tick has, cut off; null before the first fill'),
    ),
    fee: decimal('charged by this report (Trade only; otherwise "0")'),
    fee_asset: { ...asset, description: "the market's quote asset" },
    is_maker: { type: ['boolean', 'null'], description: 'Trade: whether this side was the resting order; otherwise null' },
    trade_id: nullable(id("Trade: the public Trade's trade_id; otherwise null")),
    reject_reason: nullable({
      type: 'string',
      enum: Object.keys(REJECT_CODES),
      description: 'Rejected: the stable reject word (as in the REST API); otherwise null',
    }),
    expire_reason: nullable({
      type: 'string',
      enum: keys(EXPIRE_REASONS),
      description: keys(EXPIRE_REASONS)
        .map((word) => `${word}: ${EXPIRE_REASONS[word]}`)
        .join('; '),
    }),
  };
  // the TP/SL fields are the one exception to "every field required": present only on perpetual
  // stop and take-profit orders' reports (envelopes.ts), so spot reports are unchanged
  const conditional: Record<'working_type' | 'close_position', JsonSchema> = {
    working_type: {
      type: 'string',
      enum: ['MARK_PRICE', 'LAST_PRICE'],
      description: 'perpetual stop and take-profit orders only, on reports other than Trade: the price the stop watches',
    },
    close_position: { type: 'boolean', description: 'with working_type: a close-position order (order_quantity 0 until it fires)' },
  };
  const reportSchema: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(report),
    properties: { ...report, ...conditional },
    allOf: [
      {
        if: { properties: { exec_type: { enum: ['Trade', 'ADL'] } } },
        then: {
          properties: {
            price: { type: 'string' },
            quantity: { pattern: POSITIVE_DECIMAL_PATTERN },
            is_maker: { type: 'boolean' },
            trade_id: { type: 'string' },
          },
        },
        else: {
          properties: {
            price: { type: 'null' },
            quantity: { const: '0' },
            fee: { const: '0' },
            is_maker: { type: 'null' },
            trade_id: { type: 'null' },
          },
        },
      },
      {
        if: { properties: { exec_type: { const: 'Rejected' } } },
        then: { properties: { reject_reason: { type: 'string' } } },
        else: { properties: { reject_reason: { type: 'null' } } },
      },
      { if: { properties: { exec_type: { const: 'Expired' } } }, then: {}, else: { properties: { expire_reason: { type: 'null' } } } },
    ],
  };
  const statusRules = Object.entries(STATUSES_AFTER).map(([execType, statuses]) => ({
    if: { properties: { execution_report: { properties: { exec_type: { const: execType } } } } },
    then: { properties: { order_status: { enum: statuses } } },
  }));

  return {
    Execution: envelope<ExecutionEnvelope>(
      'Execution',
      "An execution report (FIX sense) for one change of an order's state, addressed to the order's owner. A Trade event with seq S is followed by its maker's Execution (S + 1) and its taker's (S + 2).",
      {
        order_status: { type: 'string', enum: keys(ENVELOPE_ORDER_STATUSES), description: "the order's status after this report" },
        execution_report: reportSchema,
      },
      { allOf: statusRules },
    ),
    Trade: envelope<TradeEnvelope>(
      'Trade',
      "A public trade (no user ids). Seq S; the maker's Execution is S + 1 and the taker's S + 2.",
      {
        symbol,
        trade_id: id('gap-free per engine'),
        price: positive('trade price'),
        quantity: positive('traded quantity'),
        quote_quantity: positive('price × quantity, in the quote asset'),
        taker_side: side,
        liquidation: { const: true, description: "present only on a liquidation order's fill or an auto-deleveraging fill (perpetuals)" },
      },
      {
        required: ['v', 'type', 'seq', 'prev_seq', 'timestamp', 'symbol', 'trade_id', 'price', 'quantity', 'quote_quantity', 'taker_side'],
      },
    ),
    BookDelta: envelope<BookDeltaEnvelope>('BookDelta', 'The new total of one price level after a command.', {
      symbol,
      symbol_seq: int(1, "per symbol, gap-free: one per BookDelta (as GET /v1/orderbook's symbol_seq)"),
      side: { ...side, description: 'Buy: a bid level; Sell: an ask level' },
      price: positive("the level's price"),
      quantity: decimal('the level\'s new total; "0" removes it'),
    }),
    Ticker: envelope<TickerEnvelope>(
      'Ticker',
      "A symbol's market summary over the last 24 h, at most once per symbol per second, when it changed.",
      {
        symbol,
        last_price: nullable(positive("the last trade's price; null before any trade")),
        best_bid: nullable(positive('null when no bids')),
        best_ask: nullable(positive('null when no asks')),
        open_24h: nullable(positive('first trade price in the window; null when none')),
        high_24h: nullable(positive('null when no trade in the window')),
        low_24h: nullable(positive('null when no trade in the window')),
        volume_24h: decimal('base quantity traded in the window'),
        quote_volume_24h: decimal('quote traded in the window'),
      },
    ),
    BalanceChanged: envelope<BalanceChangedEnvelope>(
      'BalanceChanged',
      "A user's balance of one asset after a command (Redis stream only).",
      {
        user_id: { type: 'string', pattern: USER_ID_PATTERN, description: 'user 0 is the fee account' },
        asset,
        available: decimal('available after the command'),
        locked: decimal('locked in open orders after the command'),
      },
    ),
    PositionChanged: envelope<PositionChangedEnvelope>(
      'PositionChanged',
      "A user's perpetual position after a command that changed it (one per user, symbol and position side the command touched; after that command's Execution, BalanceChanged and WalletChanged envelopes). Private: Redis stream, Kafka executions (key = symbol), RabbitMQ position.{SYMBOL}.",
      {
        user_id: userId,
        symbol: perpSymbol,
        position_side: { type: 'string', enum: keys(POSITION_SIDES), description: described(POSITION_SIDES) },
        size: signed('base quantity, signed: > 0 long, < 0 short, "0" closed'),
        entry_price: nullable(positive('cost / size, to the nearest tick (half up); null when the position is closed')),
        realized_pnl: signed('cumulative realized PnL of this position, in the settlement asset, gross (fees and funding apart)'),
        margin_type: { type: 'string', enum: keys(MARGIN_TYPES), description: described(MARGIN_TYPES) },
        isolated_margin: signed(
          'the isolated margin held by the position; "0" for a cross one (negative only when a funding payment took more than it held: liquidation follows)',
        ),
        leverage: { type: 'integer', minimum: 1, maximum: 1000, description: "the user's leverage in this market" },
      },
    ),
    Liquidation: envelope<LiquidationEnvelope>(
      'Liquidation',
      "What one stage of one position's liquidation closed (public, no user id): book (a liquidation order filled at or better than the bankruptcy price), insurance (filled beyond it, the insurance fund paying), adl (auto-deleveraged at the bankruptcy price). After the stage's Trade envelopes. Kafka market-data (key = symbol), RabbitMQ liquidation.{SYMBOL}, the Redis stream.",
      {
        symbol: perpSymbol,
        side: { ...side, description: "the liquidation order's side: Sell closes a long, Buy a short" },
        price: positive("the stage's average fill price (to the nearest tick, half up); the bankruptcy price for adl"),
        quantity: positive('base quantity the stage closed'),
        stage: { type: 'string', enum: ['book', 'insurance', 'adl'] },
      },
    ),
    WalletChanged: envelope<WalletChangedEnvelope>(
      'WalletChanged',
      "A user's futures wallet of one settlement asset after a command that moved it (the fee account's, user 0, too). Private: Redis stream and Kafka executions (key = the asset); not on RabbitMQ.",
      {
        user_id: { ...userId, description: 'user 0 is the fee account' },
        asset,
        wallet_balance: signed('the wallet balance after the command, isolated margins included'),
        reason: {
          type: 'string',
          enum: keys(WALLET_CHANGE_REASONS),
          description: `the command's first cause — ${described(WALLET_CHANGE_REASONS)}`,
        },
      },
    ),
    FundingPaid: envelope<FundingPaidEnvelope>(
      'FundingPaid',
      "One open position's payment at a funding settlement (every open position of the market gets one, in user id then position side order; the WalletChanged with reason Funding follows). Private: Redis stream, Kafka executions (key = symbol), RabbitMQ position.{SYMBOL}.",
      {
        user_id: userId,
        symbol: perpSymbol,
        position_side: { type: 'string', enum: keys(POSITION_SIDES), description: described(POSITION_SIDES) },
        size: signed('the position, signed base quantity, at the settlement'),
        mark_price: positive('the mark price the payment was computed at'),
        rate: rate('the funding rate F of this settlement (longs pay shorts when > 0)'),
        amount: signed('|size| × mark × F in the settlement asset: > 0 received (rounded down), < 0 paid (rounded up)'),
      },
    ),
    MarkPrice: envelope<MarkPriceEnvelope>(
      'MarkPrice',
      "A perpetual's prices at a price tick (one a second), when any of them changed. Public: Redis stream, Kafka market-data (key = symbol), RabbitMQ markprice.{SYMBOL}.",
      {
        symbol: perpSymbol,
        mark_price: positive('mark price = index price'),
        index_price: positive('median of the sources fresh at the tick'),
        estimated_funding_rate: rate('F if the interval ended now (from its premium samples so far)'),
        next_funding_time: int(0, 'ms since the epoch: the next funding settlement'),
      },
    ),
  };
}

/** The schemas for DEFAULT_ENGINE_CONFIG's markets and assets. */
export const ENVELOPE_SCHEMAS = buildEnvelopeSchemas(DEFAULT_ENGINE_CONFIG);

/** "One envelope or a JSON array of envelopes in seq order" (a Kafka value, a RabbitMQ body). */
export function oneOrBatch(single: JsonSchema): JsonSchema {
  return {
    oneOf: [
      single,
      { type: 'array', minItems: 1, items: single, description: 'several envelopes of one routing key (Kafka: one key), in seq order' },
    ],
  };
}
