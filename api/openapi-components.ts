/** The OpenAPI document's components: security schemes and every request and response schema the paths refer to. */
import type { errorCatalogue } from './errors.ts';
import { amendBodySchema, orderBodySchema } from './order-input.ts';
import { decimal, ORDER_STATUSES, requestSchema, withSymbols } from './openapi-shared.ts';
import { transferBody, userBody } from './routes-admin.ts';

/** The answer to an accepted order command (place, amend): its common fields, then `extra`. */
function acceptedAck(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    required: ['order_id', 'status', 'message'],
    properties: {
      order_id: { type: 'string' },
      status: { const: 'ACCEPTED' },
      message: { type: 'string' },
      order_status: { $ref: '#/components/schemas/OrderStatus' },
      ...extra,
    },
  };
}

export function apiComponents(catalogue: ReturnType<typeof errorCatalogue>, symbols: readonly string[]): Record<string, unknown> {
  return {
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
      Ack: acceptedAck({ duplicate: { type: 'boolean' } }),
      Amend: requestSchema(amendBodySchema),
      AmendAck: acceptedAck({
        quantity: { type: ['string', 'null'], description: 'the total quantity after the amend' },
        remaining_quantity: { type: ['string', 'null'] },
      }),
      AmendRejected: {
        type: 'object',
        required: ['error', 'message', 'order_id', 'status', 'reject_reason'],
        properties: {
          error: { type: 'string' },
          message: { type: 'string' },
          order_id: { type: 'string' },
          status: { const: 'REJECTED' },
          reject_reason: { type: 'string', description: "the engine's reason, e.g. ORDER_NOT_OPEN or AMEND_BELOW_FILLED" },
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
            description:
              'filled_quote / filled_quantity in price units, with 2 more decimals than the tick has, cut off (not rounded); null before the first fill',
          },
          fees: { type: 'string' },
          fee_asset: { type: 'string' },
          status: { $ref: '#/components/schemas/OrderStatus' },
          reject_reason: { type: ['string', 'null'] },
          expire_reason: {
            type: ['string', 'null'],
            enum: [
              'IOC',
              'FOK',
              'MarketNoLiquidity',
              'SelfTradePrevention',
              'QuoteAmountExhausted',
              'ReduceOnly',
              'InsufficientMargin',
              null,
            ],
            description:
              'set when status is Expired: IOC/FOK (time in force), MarketNoLiquidity (a market order ran out of book), SelfTradePrevention, QuoteAmountExhausted (a buy by quote amount that could not afford one lot, or a market buy by quantity whose balance ran out before the quantity; a buy by amount that spent its budget having bought something is Filled)',
          },
          created_at: { type: 'integer' },
          updated_at: { type: 'integer' },
          working_type: {
            type: ['string', 'null'],
            enum: ['MARK_PRICE', 'LAST_PRICE', null],
            description: 'perpetual markets only: the price a stop or take-profit order watches (null for other order types)',
          },
          close_position: {
            type: 'boolean',
            description: 'perpetual markets only: a close-position order (quantity 0 until it fires, then the size it closed)',
          },
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
            description:
              'oldest first; intervals without trades are omitted (as Binance klines do): consecutive candles may be more than one interval apart',
            items: {
              type: 'object',
              required: [
                'open_time',
                'close_time',
                'open',
                'high',
                'low',
                'close',
                'volume',
                'quote_volume',
                'trades',
                'first_trade_id',
                'last_trade_id',
                'closed',
              ],
              properties: {
                open_time: {
                  type: 'integer',
                  description: "ms, the interval's first ms, aligned to UTC (1d: 00:00 UTC; 4h: 00, 04, … 20 UTC)",
                },
                close_time: { type: 'integer', description: "ms, the interval's last ms: open_time + interval − 1" },
                open: { ...decimal, description: "price of the interval's first trade" },
                high: decimal,
                low: decimal,
                close: { ...decimal, description: "price of the interval's last trade so far" },
                volume: { ...decimal, description: 'Σ quantity, base asset' },
                quote_volume: { ...decimal, description: 'Σ price × quantity, quote asset' },
                trades: { type: 'integer', description: 'number of trades' },
                first_trade_id: { type: 'string' },
                last_trade_id: { type: 'string' },
                closed: {
                  type: 'boolean',
                  description:
                    'false for the candle still being built (its interval has not ended by the server clock): its close, high, low and volumes still move',
                },
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
              properties: {
                trade_id: { type: 'string' },
                price: decimal,
                quantity: decimal,
                quote_quantity: decimal,
                taker_side: { type: 'string' },
                timestamp: { type: 'integer' },
                liquidation: { type: 'boolean', description: 'present (true) on a liquidation or auto-deleveraging fill of a perpetual' },
              },
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
            ['last_price', 'open_24h', 'high_24h', 'low_24h', 'best_bid', 'best_bid_quantity', 'best_ask', 'best_ask_quantity'].map(
              (name) => [name, { type: ['string', 'null'] }],
            ),
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
                  [
                    'tick_size',
                    'lot_size',
                    'min_price',
                    'max_price',
                    'min_quantity',
                    'max_quantity',
                    'min_notional',
                    'maker_fee_rate',
                    'taker_fee_rate',
                  ].map((name) => [name, decimal]),
                ),
                type: { enum: ['spot', 'perpetual'] },
                settlement_asset: { type: 'string', description: 'perpetual only: the asset margin, PnL and fees are in' },
                funding_interval_ms: {
                  type: 'integer',
                  description: 'perpetual only: funding every this many ms, at multiples of it since the epoch',
                },
                index_spot_symbol: { type: 'string', description: 'perpetual only: the spot market of the built-in `spot` index source' },
                default_leverage: { type: 'integer', description: 'perpetual only' },
                risk_tiers: {
                  type: 'array',
                  description: 'perpetual only: by position notional at the mark price, ascending',
                  items: {
                    type: 'object',
                    properties: {
                      tier: { type: 'integer' },
                      max_notional: {
                        type: ['string', 'null'],
                        description: 'inclusive upper bound in the settlement asset; null for the last tier',
                      },
                      max_leverage: { type: 'integer' },
                      maintenance_margin_rate: { type: 'string', description: 'MMR with its eight decimals, e.g. "0.00400000" = 0.40 %' },
                      cum: {
                        type: 'string',
                        description: 'subtracted from notional × MMR (keeps the maintenance margin continuous across tiers)',
                      },
                    },
                  },
                },
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
          status: {
            enum: ['APPLIED', 'REJECTED'],
            description: 'APPLIED (200): the balance moved; REJECTED (409): journaled, refused by the engine, nothing moved',
          },
          error: { type: 'string', description: 'REJECTED only: the engine reject reason' },
          message: { type: 'string' },
          outcome: { enum: ['Applied', 'Rejected'] },
          reject_reason: { type: ['string', 'null'] },
          balances: { type: 'array', items: { type: 'object' } },
        },
      },
      State: {
        type: 'object',
        properties: {
          last_seq: { type: 'integer' },
          last_event_seq: { type: 'integer' },
          state_hash: { type: 'string' },
          pending: { type: 'integer' },
        },
      },
      Transfer: requestSchema(transferBody),
      CreateUser: requestSchema(userBody),
    },
  };
}
