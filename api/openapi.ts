import type { EngineConfig, OrderStatus } from '../engine/index.ts';
import { rejectDomain } from '../engine/index.ts';
import { z } from 'zod';
import { errorCatalogue } from './errors.ts';
import { amendBodySchema, orderBodySchema } from './order-input.ts';
import { transferBody, userBody } from './routes-admin.ts';

/** Order status words (GET /v1/order/{id}); the first three are the seeds' own. */
export const ORDER_STATUSES: Record<OrderStatus, string> = {
  Pending: 'resting on the book, nothing filled yet',
  PartiallyFilled: 'some quantity filled, the rest still open',
  Filled: 'completely filled (final)',
  Cancelled: 'cancelled by its owner (final)',
  Expired: 'IOC/FOK remainder, market order without liquidity, self-trade prevention, or a market buy whose budget is spent; expire_reason says which (final)',
  Rejected: 'accepted for sequencing, then refused by the engine; reject_reason says why, e.g. INSUFFICIENT_FUNDS (final)',
  Untriggered: 'stop order waiting for its stop price',
};

const decimal = { type: 'string', pattern: '^\\d+(\\.\\d+)?$', description: 'decimal as a string (requests also accept a JSON number, read by its exact characters; no sign, no exponent)' };
/** A request body's JSON Schema from the zod schema that validates it (OpenAPI 3.1 is JSON Schema 2020-12). */
export function requestSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** The one thing zod leaves to the engine config: which symbols exist. */
function withSymbols(schema: Record<string, unknown>, symbols: readonly string[]): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  return { ...schema, properties: { ...properties, symbol: { ...properties.symbol, enum: [...symbols] } } };
}

const errorRef = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const err = (description: string) => ({ description, ...json(errorRef) });
const signedSecurity = [{ ApiKey: [], Timestamp: [], Signature: [] }];

/** Engine reject words the API also answers itself, before anything is sequenced. */
const ANSWERED_BY_API: Readonly<Record<string, string>> = {
  ORDER_NOT_FOUND: 'HTTP 404 (GET/PATCH/DELETE /v1/order/{id}); order reject_reason',
  ORDER_NOT_OPEN: 'HTTP 400 (PATCH/DELETE /v1/order/{id} of a finished order); order reject_reason',
  AMEND_NOT_REDUCING: 'HTTP 400 (PATCH /v1/order/{id}); 409 when the engine refuses it',
  AMEND_BELOW_FILLED: 'HTTP 400 (PATCH /v1/order/{id}); 409 when the engine refuses it (filled in between)',
  AMEND_NOT_ALLOWED: 'HTTP 400 (PATCH /v1/order/{id} of a buy by quote amount)',
  INSUFFICIENT_AVAILABLE: 'HTTP 400 (POST /admin/withdrawals beyond the available balance); reject reason',
};

/** The OpenAPI 3.1 description served at /openapi.json: every route, error word and order status. */
export function buildOpenApi(config: EngineConfig): Record<string, unknown> {
  const catalogue = errorCatalogue();
  const errorList = catalogue
    .map((entry) => {
      const where =
        entry.code >= 4000 ? `HTTP ${entry.status}` : rejectDomain(entry.code) === 'validation' ? 'HTTP 400' : (ANSWERED_BY_API[entry.error] ?? 'order reject_reason');
      return `| \`${entry.error}\` | ${entry.code} | ${where} | ${entry.message} |`;
    })
    .join('\n');
  const statusList = Object.entries(ORDER_STATUSES)
    .map(([status, meaning]) => `| \`${status}\` | ${meaning} |`)
    .join('\n');
  const symbols = config.markets.map((market) => market.symbol);
  const symbolParam = { name: 'symbol', in: 'path', required: true, schema: { type: 'string', enum: symbols } };
  const orderIdParam = { name: 'order_id', in: 'path', required: true, schema: { type: 'string', pattern: '^[1-9]\\d{0,15}$' } };
  const common = {
    '400': err('invalid request — see the error table'),
    '401': err('missing, unknown, stale, wrong or replayed signature'),
    '429': { ...err('rate limit exceeded'), headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } },
    '503': err('not ready, overloaded, or journal failure'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'xtrader HTTP API',
      version: '1.0.0',
      description: [
        'Spot exchange API. An order is answered `200 {order_id, status: "ACCEPTED"}` as soon as it is durable in the journal (fsync) and applied by the engine; matching outcome is read with GET /v1/order/{order_id}.',
        '',
        '**Signing.** Headers `X-API-KEY`, `X-TIMESTAMP` (ms since the epoch) and `X-SIGNATURE` = hex HMAC-SHA256(api_secret, timestamp + METHOD + path_with_query + body). The timestamp must be within 60 s of the server clock; a signature already used inside that window is refused (401 REPLAYED_SIGNATURE) — sign every request afresh. Two requests with the same method, path and body signed in the same millisecond have the same signature and are one request to the server: the second is REPLAYED_SIGNATURE; give each its own timestamp or a distinct client_order_id.',
        '',
        '**Decimals** are strings in responses; requests accept strings or JSON numbers, a number being read by the exact characters sent (never via a float) under the same rules as a string. More significant decimals than the asset has (trailing zeros do not count; KRW has 0, BTC and ETH 8) is 400 TOO_MANY_DECIMALS; within that but not a multiple of the tick or lot is OFF_TICK / OFF_LOT. Times are integer ms since the epoch. Ids are decimal strings.',
        '',
        '**Idempotency.** `client_order_id` is unique per user among open and recent orders: a retry with the same id returns the original `order_id` (`duplicate: true`) and places nothing, whatever the rest of the body says.',
        '',
        '**Rate limits** per API key: orders per second (POST /v1/order, PATCH and DELETE /v1/order/{id}, DELETE /v1/orders — one token for the whole cancel-all) and signed requests per minute; 429 with `Retry-After`.',
        '',
        '**Order statuses**',
        '',
        '| status | meaning |',
        '| --- | --- |',
        statusList,
        '',
        '**Error words** (`{"error": WORD, "message": text}`; the word is stable, the message is for people)',
        '',
        '| error | code | where | meaning |',
        '| --- | --- | --- | --- |',
        errorList,
      ].join('\n'),
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-KEY' },
        Timestamp: { type: 'apiKey', in: 'header', name: 'X-TIMESTAMP' },
        Signature: { type: 'apiKey', in: 'header', name: 'X-SIGNATURE' },
        Admin: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (generated into $DATA_DIR/admin-token when unset)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: { error: { type: 'string', enum: catalogue.map((entry) => entry.error) }, message: { type: 'string' } },
        },
        OrderStatus: { type: 'string', enum: Object.keys(ORDER_STATUSES) },
        // request bodies: generated from the zod schemas that validate them (no drift)
        PlaceOrder: withSymbols(requestSchema(orderBodySchema), symbols),
        Ack: {
          type: 'object',
          required: ['order_id', 'status', 'message'],
          properties: {
            order_id: { type: 'string' },
            status: { const: 'ACCEPTED' },
            message: { type: 'string' },
            order_status: { $ref: '#/components/schemas/OrderStatus' },
            duplicate: { type: 'boolean' },
          },
        },
        Amend: requestSchema(amendBodySchema),
        AmendAck: {
          type: 'object',
          required: ['order_id', 'status', 'message'],
          properties: {
            order_id: { type: 'string' },
            status: { const: 'ACCEPTED' },
            message: { type: 'string' },
            order_status: { $ref: '#/components/schemas/OrderStatus' },
            quantity: { type: ['string', 'null'], description: 'the total quantity after the amend' },
            remaining_quantity: { type: ['string', 'null'] },
          },
        },
        AmendRejected: {
          type: 'object',
          required: ['error', 'message', 'order_id', 'status', 'reject_reason'],
          properties: {
            error: { type: 'string' },
            message: { type: 'string' },
            order_id: { type: 'string' },
            status: { const: 'REJECTED' },
            reject_reason: { type: 'string', description: 'the engine\'s reason, e.g. ORDER_NOT_OPEN or AMEND_BELOW_FILLED' },
            order_status: { oneOf: [{ $ref: '#/components/schemas/OrderStatus' }, { type: 'null' }] },
          },
        },
        CancelAllAck: {
          type: 'object',
          required: ['symbol', 'status', 'message', 'cancelled'],
          properties: {
            symbol: { type: 'string' },
            status: { const: 'ACCEPTED' },
            message: { type: 'string' },
            cancelled: { type: 'array', items: { type: 'string' }, description: 'ids of the orders cancelled, oldest first' },
          },
        },
        Order: {
          type: 'object',
          properties: {
            order_id: { type: 'string' },
            client_order_id: { type: ['string', 'null'] },
            symbol: { type: 'string' },
            side: { type: 'string' },
            order_type: { type: 'string' },
            time_in_force: { type: ['string', 'null'], description: 'null for an order read from PostgreSQL' },
            post_only: { type: ['boolean', 'null'], description: 'null for an order read from PostgreSQL' },
            price: { type: ['string', 'null'] },
            stop_price: { type: ['string', 'null'] },
            quantity: { type: 'string' },
            quote_amount: { type: ['string', 'null'] },
            filled_quantity: { type: 'string' },
            remaining_quantity: { type: 'string' },
            filled_quote: { type: 'string' },
            avg_price: {
              type: ['string', 'null'],
              description: 'filled_quote / filled_quantity in price units, with 2 more decimals than the tick has, cut off (not rounded); null before the first fill',
            },
            fees: { type: 'string' },
            fee_asset: { type: 'string' },
            status: { $ref: '#/components/schemas/OrderStatus' },
            reject_reason: { type: ['string', 'null'] },
            expire_reason: {
              type: ['string', 'null'],
              enum: ['IOC', 'FOK', 'MarketNoLiquidity', 'SelfTradePrevention', 'QuoteAmountExhausted', null],
              description: 'set when status is Expired: IOC/FOK (time in force), MarketNoLiquidity (a market order ran out of book), SelfTradePrevention, QuoteAmountExhausted (a buy by quote amount that could not afford one lot, or a market buy by quantity whose balance ran out before the quantity; a buy by amount that spent its budget having bought something is Filled)',
            },
            created_at: { type: 'integer' },
            updated_at: { type: 'integer' },
          },
        },
        Fill: {
          type: 'object',
          description: 'one of your own Trade execution reports',
          properties: {
            seq: { type: 'integer', description: "the execution report's event seq (the after_seq cursor)" },
            order_id: { type: 'string' },
            trade_id: { type: 'string' },
            symbol: { type: 'string' },
            side: { type: 'string', enum: ['Buy', 'Sell'], description: "your order's side" },
            price: decimal,
            quantity: decimal,
            quote_quantity: { ...decimal, description: 'price × quantity, in the quote asset' },
            fee: { ...decimal, description: 'charged to you on this fill' },
            fee_asset: { type: 'string' },
            is_maker: { type: 'boolean' },
            timestamp: { type: 'integer' },
          },
        },
        Balances: {
          type: 'object',
          properties: {
            balances: {
              type: 'array',
              items: { type: 'object', properties: { asset: { type: 'string' }, available: decimal, locked: decimal, total: decimal } },
            },
          },
        },
        Book: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            symbol_seq: { type: 'integer', description: 'per-symbol sequence of book changes (gap-free), to join the WebSocket deltas' },
            bids: { type: 'array', items: { type: 'array', prefixItems: [decimal, decimal], description: '[price, quantity]' } },
            asks: { type: 'array', items: { type: 'array', prefixItems: [decimal, decimal] } },
          },
        },
        Candles: {
          type: 'object',
          required: ['symbol', 'interval', 'candles'],
          properties: {
            symbol: { type: 'string' },
            interval: { type: 'string', enum: ['1m', '5m', '15m', '1h', '4h', '1d'] },
            candles: {
              type: 'array',
              description: 'oldest first; intervals without trades are omitted (as Binance klines do): consecutive candles may be more than one interval apart',
              items: {
                type: 'object',
                required: ['open_time', 'close_time', 'open', 'high', 'low', 'close', 'volume', 'quote_volume', 'trades', 'first_trade_id', 'last_trade_id', 'closed'],
                properties: {
                  open_time: { type: 'integer', description: 'ms, the interval\'s first ms, aligned to UTC (1d: 00:00 UTC; 4h: 00, 04, … 20 UTC)' },
                  close_time: { type: 'integer', description: 'ms, the interval\'s last ms: open_time + interval − 1' },
                  open: { ...decimal, description: 'price of the interval\'s first trade' },
                  high: decimal,
                  low: decimal,
                  close: { ...decimal, description: 'price of the interval\'s last trade so far' },
                  volume: { ...decimal, description: 'Σ quantity, base asset' },
                  quote_volume: { ...decimal, description: 'Σ price × quantity, quote asset' },
                  trades: { type: 'integer', description: 'number of trades' },
                  first_trade_id: { type: 'string' },
                  last_trade_id: { type: 'string' },
                  closed: { type: 'boolean', description: 'false for the candle still being built (its interval has not ended by the server clock): its close, high, low and volumes still move' },
                },
              },
            },
          },
        },
        Trades: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            trades: {
              type: 'array',
              items: {
                type: 'object',
                properties: { trade_id: { type: 'string' }, price: decimal, quantity: decimal, quote_quantity: decimal, taker_side: { type: 'string' }, timestamp: { type: 'integer' } },
              },
            },
          },
        },
        Ticker: {
          type: 'object',
          properties: {
            symbol: { type: 'string' },
            volume_24h: decimal,
            quote_volume_24h: decimal,
            timestamp: { type: 'integer' },
            ...Object.fromEntries(
              ['last_price', 'open_24h', 'high_24h', 'low_24h', 'best_bid', 'best_bid_quantity', 'best_ask', 'best_ask_quantity'].map((name) => [name, { type: ['string', 'null'] }]),
            ),
          },
        },
        Markets: {
          type: 'object',
          properties: {
            markets: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  ...Object.fromEntries(['symbol', 'base', 'quote', 'fee_asset'].map((name) => [name, { type: 'string' }])),
                  ...Object.fromEntries(
                    ['tick_size', 'lot_size', 'min_price', 'max_price', 'min_quantity', 'max_quantity', 'min_notional', 'maker_fee_rate', 'taker_fee_rate'].map((name) => [name, decimal]),
                  ),
                },
              },
            },
          },
        },
        Health: {
          type: 'object',
          properties: {
            status: { enum: ['ok', 'degraded'] },
            services: { type: 'object', additionalProperties: { enum: ['up', 'down'] }, description: 'postgres, redis, rabbitmq, kafka' },
          },
        },
        Ready: {
          type: 'object',
          properties: {
            status: { enum: ['ready', 'recovering'] },
            last_seq: { type: ['integer', 'null'] },
            queue: { type: 'object', properties: { pending: { type: 'integer' }, max: { type: 'integer' } } },
            recovery: { type: ['object', 'null'], description: 'snapshotSeq, replayedCommands, lastSeq, ms' },
            services: { type: 'object', additionalProperties: { enum: ['up', 'down'] } },
            publishers: { type: 'object', description: 'per broker publisher: state and lag (filled by the mq publishers)' },
          },
        },
        TransferAck: {
          type: 'object',
          properties: {
            request_id: { type: 'string', description: 'the command seq' },
            status: { enum: ['APPLIED', 'REJECTED'], description: 'APPLIED (200): the balance moved; REJECTED (409): journaled, refused by the engine, nothing moved' },
            error: { type: 'string', description: 'REJECTED only: the engine reject reason' },
            message: { type: 'string' },
            outcome: { enum: ['Applied', 'Rejected'] },
            reject_reason: { type: ['string', 'null'] },
            balances: { type: 'array', items: { type: 'object' } },
          },
        },
        State: {
          type: 'object',
          properties: { last_seq: { type: 'integer' }, last_event_seq: { type: 'integer' }, state_hash: { type: 'string' }, pending: { type: 'integer' } },
        },
        Transfer: requestSchema(transferBody),
        CreateUser: requestSchema(userBody),
      },
    },
    paths: {
      '/v1/order': {
        post: {
          summary: 'Place an order (acknowledged once durable)',
          security: signedSecurity,
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/PlaceOrder' }) },
          responses: {
            '200': { description: 'sequenced', ...json({ $ref: '#/components/schemas/Ack' }) },
            ...common,
            '413': err('body larger than 16 KiB'),
            '415': err('UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json; UNSUPPORTED_CHARSET: a charset other than utf-8'),
          },
        },
      },
      '/v1/order/{order_id}': {
        get: {
          summary:
            "The order's full current state: from the engine while the order is open or among the 100,000 most recently finished, else from PostgreSQL (there `time_in_force`, `post_only`, `stop_price` and `quote_amount` are null: execution reports do not carry them)",
          security: signedSecurity,
          parameters: [orderIdParam],
          responses: {
            '200': { description: 'the order', ...json({ $ref: '#/components/schemas/Order' }) },
            ...common,
            '404': err('no such order, or not yours'),
            '503': err('not ready, overloaded; or STORE_UNAVAILABLE: the order is not in memory and PostgreSQL is unavailable'),
          },
        },
        patch: {
          summary:
            "Amend an open order: reduce its quantity (body `{quantity}`: the new total, filled part included); it keeps its place in the queue (price-time priority) and the freed funds are released. Acknowledged like an order; an `Amended` execution report follows on the WebSocket",
          security: signedSecurity,
          parameters: [orderIdParam],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/Amend' }) },
          responses: {
            '200': { description: 'amend sequenced and applied', ...json({ $ref: '#/components/schemas/AmendAck' }) },
            ...common,
            '400': err('AMEND_NOT_REDUCING (not below the current quantity), AMEND_BELOW_FILLED (not above the filled quantity), AMEND_NOT_ALLOWED (a buy by quote amount), ORDER_NOT_OPEN, INVALID_QUANTITY, OFF_LOT, TOO_MANY_DECIMALS, NOT_A_DECIMAL, MISSING_FIELD, UNKNOWN_FIELD, MALFORMED_JSON, DUPLICATE_KEY, INVALID_BODY, INVALID_ORDER_ID'),
            '404': err('no such order, or not yours'),
            '409': { description: 'journaled, but the engine refused it: the order filled or was cancelled in between (nothing changed)', ...json({ $ref: '#/components/schemas/AmendRejected' }) },
            '413': err('body larger than 16 KiB'),
            '415': err('UNSUPPORTED_MEDIA_TYPE: Content-Type is not application/json; UNSUPPORTED_CHARSET: a charset other than utf-8'),
          },
        },
        delete: {
          summary: 'Cancel an open order (acknowledged like an order)',
          security: signedSecurity,
          parameters: [orderIdParam],
          responses: {
            '200': { description: 'cancel sequenced', ...json({ $ref: '#/components/schemas/Ack' }) },
            ...common,
            '400': err('ORDER_NOT_OPEN: the order is already finished (Filled, Cancelled, Expired, Rejected); or another invalid request'),
            '404': err('no such order, or not yours'),
          },
        },
      },
      '/v1/orders': {
        get: {
          summary: 'Your open orders, oldest first, in pages of at most `limit` (default and maximum 1,000); `next_after_order_id` (null on the last page) is the `after_order_id` of the next page',
          security: signedSecurity,
          parameters: [
            { name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: symbols } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 } },
            { name: 'after_order_id', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
          ],
          responses: {
            '200': {
              description: 'open orders',
              ...json({
                type: 'object',
                properties: { orders: { type: 'array', items: { $ref: '#/components/schemas/Order' } }, next_after_order_id: { type: ['string', 'null'] } },
              }),
            },
            ...common,
          },
        },
        delete: {
          summary:
            'Cancel all your open orders in one market (untriggered stops included): one cancel per order, submitted together, answered once every cancel is durable and applied. Orders that finished in between are not in `cancelled`; none open answers `cancelled: []`',
          security: signedSecurity,
          parameters: [{ name: 'symbol', in: 'query', required: true, schema: { type: 'string', enum: symbols } }],
          responses: {
            '200': { description: 'cancels sequenced and applied', ...json({ $ref: '#/components/schemas/CancelAllAck' }) },
            ...common,
            '400': err('INVALID_QUERY (symbol missing), UNKNOWN_SYMBOL'),
          },
        },
      },
      '/v1/orders/history': {
        get: {
          summary:
            'Your finished orders (Filled, Cancelled, Expired, Rejected) from PostgreSQL, oldest first (ascending order_id), in pages of at most `limit` (default 500, maximum 1,000); `next_after_order_id` (null on the last page) is the `after_order_id` of the next page. `start`/`end` (ms, inclusive) select by created_at. Orders appear once the persister has written their final execution report (normally within a second). Orders read from PostgreSQL carry `time_in_force`, `post_only`, `stop_price` and `quote_amount` as null (execution reports do not carry them).',
          security: signedSecurity,
          parameters: [
            { name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: symbols } },
            { name: 'start', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch, inclusive' },
            { name: 'end', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch, inclusive; not before start' },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
            { name: 'after_order_id', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
          ],
          responses: {
            '200': {
              description: 'finished orders',
              ...json({
                type: 'object',
                properties: { orders: { type: 'array', items: { $ref: '#/components/schemas/Order' } }, next_after_order_id: { type: ['string', 'null'] } },
              }),
            },
            ...common,
            '400': err('UNKNOWN_SYMBOL, INVALID_TIME_RANGE (start/end not ms, or start after end), INVALID_QUERY (limit, after_order_id)'),
            '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable (placing and cancelling orders are not affected)'),
          },
        },
      },
      '/v1/fills': {
        get: {
          summary:
            'Your fills (your Trade execution reports) from PostgreSQL, oldest first (ascending seq), in pages of at most `limit` (default 500, maximum 1,000); `next_after_seq` (null on the last page) is the `after_seq` of the next page. `start`/`end` (ms, inclusive) select by the fill time.',
          security: signedSecurity,
          parameters: [
            { name: 'symbol', in: 'query', required: false, schema: { type: 'string', enum: symbols } },
            { name: 'start', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
            { name: 'end', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
            { name: 'after_seq', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d{1,16}$' } },
          ],
          responses: {
            '200': {
              description: 'fills',
              ...json({ type: 'object', properties: { fills: { type: 'array', items: { $ref: '#/components/schemas/Fill' } }, next_after_seq: { type: ['string', 'null'] } } }),
            },
            ...common,
            '400': err('UNKNOWN_SYMBOL, INVALID_TIME_RANGE, INVALID_QUERY'),
            '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable'),
          },
        },
      },
      '/v1/balances': {
        get: {
          summary: 'Your balances (available, locked, total)',
          security: signedSecurity,
          responses: { '200': { description: 'balances', ...json({ $ref: '#/components/schemas/Balances' }) }, ...common },
        },
      },
      '/v1/orderbook/{symbol}': {
        get: {
          summary: 'Aggregated book: {symbol, symbol_seq, bids: [[price, qty]…], asks}',
          parameters: [symbolParam, { name: 'depth', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 20 } }],
          responses: { '200': { description: 'book levels, best first', ...json({ $ref: '#/components/schemas/Book' }) }, '400': err('unknown symbol or bad depth'), '503': err('not ready') },
        },
      },
      '/v1/trades/{symbol}': {
        get: {
          summary:
            'Recent trades, newest first: from memory (the last 1,000 per symbol), topped up from PostgreSQL when memory holds fewer than `limit` (after a restart it holds only what was replayed since the latest snapshot)',
          parameters: [symbolParam, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }],
          responses: {
            '200': { description: 'trades', ...json({ $ref: '#/components/schemas/Trades' }) },
            '400': err('unknown symbol or bad limit'),
            '503': err('STORE_UNAVAILABLE: memory holds fewer than `limit` trades and PostgreSQL is unavailable'),
          },
        },
      },
      '/v1/candles/{symbol}': {
        get: {
          summary: 'OHLCV candles (public), oldest first, for charting clients (Binance klines conventions)',
          description: [
            'Built by the market-data service from the Kafka `market-data` trade feed: 1-minute candles in PostgreSQL; 5m … 1d are grouped from them in UTC-aligned buckets.',
            '',
            '- **Empty intervals are omitted**: an interval without trades has no candle (no flat bar is invented). A chart that wants continuous bars carries the previous close forward itself.',
            '- **The candle being built** is included with `closed: false`.',
            '- **Window**: with `start`, the candle containing `start` and the ones after it, up to `limit`, none opening after `end`; without `start`, the latest `limit` candles opening at or before `end` (default: now).',
            '- Decimals are strings (`Number(candle.open)` for a chart library); `open_time` is ms (lightweight-charts wants seconds: `open_time / 1000`).',
            '- Candles lag the trades by the service\'s consumer lag (its /metrics: `xtrader_market_data_lag_messages`, `xtrader_market_data_lag_seconds`); while Kafka is down they stop advancing and catch up after.',
          ].join('\n'),
          parameters: [
            symbolParam,
            { name: 'interval', in: 'query', required: true, schema: { type: 'string', enum: ['1m', '5m', '15m', '1h', '4h', '1d'] } },
            { name: 'start', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch' },
            { name: 'end', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'ms since the epoch, not before start' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
          ],
          responses: {
            '200': { description: 'candles', ...json({ $ref: '#/components/schemas/Candles' }) },
            '400': err('UNKNOWN_SYMBOL, INVALID_INTERVAL (missing or not one of the six), INVALID_TIME_RANGE (start/end not integer ms, or start after end), INVALID_QUERY (limit not 1–1000)'),
            '503': err('STORE_UNAVAILABLE: PostgreSQL is unavailable'),
          },
        },
      },
      '/v1/ticker/{symbol}': {
        get: {
          summary: 'Last price, 24 h open/high/low/volume, best bid/ask',
          parameters: [symbolParam],
          responses: { '200': { description: 'ticker', ...json({ $ref: '#/components/schemas/Ticker' }) }, '400': err('unknown symbol'), '503': err('not ready') },
        },
      },
      '/v1/markets': { get: { summary: 'Markets with tick, lot, limits and fees', responses: { '200': { description: 'markets', ...json({ $ref: '#/components/schemas/Markets' }) } } } },
      '/health': { get: { summary: 'Process alive; status "ok" or "degraded" with each service state', responses: { '200': { description: 'alive', ...json({ $ref: '#/components/schemas/Health' }) } } } },
      '/ready': {
        get: {
          summary: '200 only when orders can be accepted (recovery done); lists service and publisher states',
          responses: { '200': { description: 'ready', ...json({ $ref: '#/components/schemas/Ready' }) }, '503': { description: 'recovering', ...json({ $ref: '#/components/schemas/Ready' }) } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/docs': { get: { summary: 'HTML page rendering this document', responses: { '200': { description: 'text/html' } } } },
      '/admin/users': {
        post: {
          summary: 'Create a user with an API key and secret (the secret is shown only here)',
          security: [{ Admin: [] }],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/CreateUser' }) },
          responses: { '201': { description: 'created', ...json({ type: 'object', properties: { user_id: { type: 'string' }, api_key: { type: 'string' }, api_secret: { type: 'string' } } }) }, '400': err('invalid'), '401': err('admin token missing or wrong') },
        },
      },
      '/admin/deposits': {
        post: {
          summary: 'Credit a balance (through the sequencer, acknowledged like an order)',
          security: [{ Admin: [] }],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/Transfer' }) },
          responses: { '200': { description: 'applied (status APPLIED)', ...json({ $ref: '#/components/schemas/TransferAck' }) }, '409': { description: 'journaled but refused by the engine (status REJECTED, e.g. the total supply bound)', ...json({ $ref: '#/components/schemas/TransferAck' }) }, '400': err('invalid (user_id must be a JSON integer: INVALID_FIELD), DUPLICATE_KEY, or FEE_ACCOUNT_DEPOSIT (user 0, the fee account, takes no deposits)'), '401': err('admin'), '503': err('not ready or overloaded') },
        },
      },
      '/admin/withdrawals': {
        post: {
          summary: 'Debit an available balance (through the sequencer)',
          security: [{ Admin: [] }],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/Transfer' }) },
          responses: { '200': { description: 'applied (status APPLIED)', ...json({ $ref: '#/components/schemas/TransferAck' }) }, '409': { description: 'journaled but refused by the engine (status REJECTED: the balance was locked by an order in between)', ...json({ $ref: '#/components/schemas/TransferAck' }) }, '400': err('invalid or INSUFFICIENT_AVAILABLE'), '401': err('admin'), '503': err('not ready or overloaded') },
        },
      },
      '/admin/balances/{user_id}': {
        get: {
          summary: "Any user's balances (user 0 is the fee account)",
          security: [{ Admin: [] }],
          parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{1,15}$' } }],
          responses: { '200': { description: 'balances', ...json({ $ref: '#/components/schemas/Balances' }) }, '401': err('admin'), '404': err('no such user') },
        },
      },
      '/admin/state': {
        get: {
          summary: 'last_seq, last_event_seq and the engine stateHash (replay checks)',
          security: [{ Admin: [] }],
          responses: { '200': { description: 'state facts', ...json({ $ref: '#/components/schemas/State' }) }, '401': err('admin'), '503': err('not ready') },
        },
      },
    },
  };
}
