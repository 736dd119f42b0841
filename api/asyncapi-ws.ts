/**
 * The WebSocket part of /asyncapi.json: the ws-servers' channel `/ws` (servers `ws`, `ws2`), the
 * frames a client sends (their schemas generated from contract/ws-frames.ts's zod schemas, which
 * validate them) and the frames it receives (Execution and Ticker envelopes without `prev_seq`,
 * Trades batches, order book snapshots and deltas with their CRC-32, answers and error frames).
 */
import { z } from 'zod';
import type { JsonSchema } from '../contract/envelope-schemas.ts';
import { CLIENT_FRAME_SCHEMAS, WS_ERROR_CODES } from '../contract/ws-frames.ts';

const ref = (path: string) => ({ $ref: path });

/** The envelope types of the private channel `positions` (ws-server/positions-channel.ts), by type string. */
const POSITIONS_ENVELOPES = ['PositionChanged', 'WalletChanged', 'FundingPaid'];
const PERPETUAL_PUBLIC_ENVELOPES = ['MarkPrice', 'Liquidation'];
const schemaRef = (name: string) => ref(`#/components/schemas/${name}`);

/** An envelope schema as the ws-servers send it: `prev_seq` chains broker routing keys, not a client's stream. */
function withoutPrevSeq(schema: JsonSchema): JsonSchema {
  const { prev_seq: _chain, ...properties } = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = ((schema.required ?? []) as string[]).filter((name) => name !== 'prev_seq');
  return { ...schema, properties, required };
}

function fromZod(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest as JsonSchema;
}

/** Real frames (a run on the default markets), one of each kind. */
export const WS_EXAMPLES = {
  OrderBookSnapshot: { type: 'OrderBook', symbol: 'BTC-KRW', symbol_seq: 0, snapshot: true, bids: [], asks: [], checksum: 1885708031 },
  OrderBookDelta: {
    type: 'OrderBook',
    symbol: 'BTC-KRW',
    prev_symbol_seq: 0,
    symbol_seq: 4,
    snapshot: false,
    bids: [['50000000', '0.001']],
    asks: [
      ['50100000', '0.25'],
      ['50000000', '0'],
    ],
    checksum: 2951406353,
  },
  Trades: {
    type: 'Trades',
    symbol: 'BTC-KRW',
    trades: [
      {
        v: 1,
        type: 'Trade',
        seq: 15,
        timestamp: 1796173582696,
        symbol: 'BTC-KRW',
        trade_id: '1',
        price: '50000000',
        quantity: '0.001',
        quote_quantity: '50000',
        taker_side: 'Buy',
      },
    ],
  },
  Error: { type: 'error', code: 'UNKNOWN_SYMBOL', message: 'unknown symbol "DOGE-KRW" in "trades.DOGE-KRW"', id: 3 },
} as const;

export function webSocketPart(envelopeSchemas: Readonly<Record<string, JsonSchema>>, symbols: readonly string[]) {
  const level: JsonSchema = {
    type: 'array',
    prefixItems: [
      { type: 'string', description: 'price' },
      { type: 'string', description: 'the level\'s total quantity; "0" removes it (deltas)' },
    ],
    minItems: 2,
    maxItems: 2,
  };
  const symbol: JsonSchema = { type: 'string', enum: [...symbols] };
  const checksum: JsonSchema = {
    type: 'integer',
    minimum: 0,
    maximum: 4294967295,
    description:
      'CRC-32 (IEEE 802.3, zlib crc32) of the UTF-8 text: the top 10 asks (best first) then the top 10 bids (best first), each `price:quantity` as sent, levels joined by `|`, asks and bids joined by `#`',
  };
  const id: JsonSchema = { description: "the request's id, echoed", oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const schemas: Record<string, JsonSchema> = {
    WsExecution: withoutPrevSeq(envelopeSchemas.Execution!),
    WsTicker: withoutPrevSeq(envelopeSchemas.Ticker!),
    WsTrade: withoutPrevSeq(envelopeSchemas.Trade!),
    // perpetuals only: markprice.{SYMBOL} and liquidations.{SYMBOL}, one envelope a frame like Ticker
    ...Object.fromEntries(
      PERPETUAL_PUBLIC_ENVELOPES.filter((type) => envelopeSchemas[type]).map((type) => [
        `Ws${type}`,
        withoutPrevSeq(envelopeSchemas[type]!),
      ]),
    ),
    // channel positions: the user's futures envelopes as the Redis stream carries them (FundingPaid once its schema exists)
    ...Object.fromEntries(
      POSITIONS_ENVELOPES.filter((type) => envelopeSchemas[type]).map((type) => [`Ws${type}`, withoutPrevSeq(envelopeSchemas[type]!)]),
    ),
    WsOrderBookSnapshot: {
      type: 'object',
      required: ['type', 'symbol', 'symbol_seq', 'snapshot', 'bids', 'asks', 'checksum'],
      properties: {
        type: { const: 'OrderBook' },
        symbol,
        symbol_seq: { type: 'integer', minimum: 0 },
        snapshot: { const: true },
        bids: { type: 'array', items: level, maxItems: 500 },
        asks: { type: 'array', items: level, maxItems: 500 },
        checksum,
      },
      description: 'The whole book (up to 500 levels a side), on subscribe and after the server repaired a hole',
    },
    WsOrderBookDelta: {
      type: 'object',
      required: ['type', 'symbol', 'prev_symbol_seq', 'symbol_seq', 'snapshot', 'bids', 'asks', 'checksum'],
      properties: {
        type: { const: 'OrderBook' },
        symbol,
        prev_symbol_seq: {
          type: 'integer',
          minimum: 0,
          description: 'applies only if it equals the symbol_seq the client holds; otherwise resubscribe',
        },
        symbol_seq: { type: 'integer', minimum: 0 },
        snapshot: { const: false },
        bids: { type: 'array', items: level },
        asks: { type: 'array', items: level },
        checksum,
      },
      description: "Each changed level's new total (several engine deltas of one short window merged)",
    },
    WsTrades: {
      type: 'object',
      required: ['type', 'symbol', 'trades'],
      properties: { type: { const: 'Trades' }, symbol, trades: { type: 'array', minItems: 1, items: schemaRef('WsTrade') } },
      description: 'The trades of one short window (≤ 100 ms)',
    },
    WsError: {
      type: 'object',
      required: ['type', 'code', 'message'],
      properties: {
        type: { const: 'error' },
        code: { type: 'string', enum: Object.keys(WS_ERROR_CODES) },
        message: { type: 'string' },
        id,
      },
    },
    WsAuthAnswer: { type: 'object', required: ['type', 'ok'], properties: { type: { const: 'auth' }, ok: { const: true }, id } },
    WsSubscribed: {
      type: 'object',
      required: ['type', 'channels'],
      properties: { type: { const: 'subscribed' }, channels: { type: 'array', items: { type: 'string' } }, id },
    },
    WsUnsubscribed: {
      type: 'object',
      required: ['type', 'channels'],
      properties: { type: { const: 'unsubscribed' }, channels: { type: 'array', items: { type: 'string' } }, id },
    },
    WsPong: { type: 'object', required: ['type'], properties: { type: { const: 'pong' }, id } },
    WsAuth: {
      ...fromZod(CLIENT_FRAME_SCHEMAS.auth),
      description: 'signature = hex HMAC-SHA256(secret, timestamp + "GET" + "/ws"); the 60 s window and replay refusal of signed HTTP',
    },
    WsSubscribe: {
      ...fromZod(CLIENT_FRAME_SCHEMAS.subscribe),
      description:
        'channels: executions and positions (after auth), orderbook.{SYMBOL}, trades.{SYMBOL}, ticker.{SYMBOL}, and for a perpetual symbol markprice.{SYMBOL} and liquidations.{SYMBOL}; resume_from_seq: first every execution report (executions) and PositionChanged, WalletChanged, FundingPaid (positions) of yours with a larger seq, then live ones',
    },
    WsUnsubscribe: fromZod(CLIENT_FRAME_SCHEMAS.unsubscribe),
    WsPing: fromZod(CLIENT_FRAME_SCHEMAS.ping),
  };
  const message = (name: string, title: string, schema: string, examples?: readonly unknown[]) => ({
    name,
    title,
    contentType: 'application/json',
    payload: schemaRef(schema),
    ...(examples ? { examples: examples.map((payload, index) => ({ name: `${name}-${index + 1}`, payload })) } : {}),
  });
  const received = {
    WsExecution: message('Execution', 'Execution report (yours only, channel executions)', 'WsExecution'),
    ...Object.fromEntries(
      POSITIONS_ENVELOPES.filter((type) => envelopeSchemas[type]).map((type) => [
        `Ws${type}`,
        message(type, `${type} (yours only, channel positions)`, `Ws${type}`),
      ]),
    ),
    WsOrderBookSnapshot: message('OrderBookSnapshot', 'Order book snapshot (orderbook.{SYMBOL})', 'WsOrderBookSnapshot', [
      WS_EXAMPLES.OrderBookSnapshot,
    ]),
    WsOrderBookDelta: message('OrderBookDelta', 'Order book delta (orderbook.{SYMBOL})', 'WsOrderBookDelta', [WS_EXAMPLES.OrderBookDelta]),
    WsTrades: message('Trades', 'Trades of a short window (trades.{SYMBOL})', 'WsTrades', [WS_EXAMPLES.Trades]),
    WsTicker: message('Ticker', 'Market summary (ticker.{SYMBOL})', 'WsTicker'),
    ...(envelopeSchemas.MarkPrice
      ? { WsMarkPrice: message('MarkPrice', 'Mark and index price at each tick (markprice.{SYMBOL}, perpetuals)', 'WsMarkPrice') }
      : {}),
    ...(envelopeSchemas.Liquidation
      ? { WsLiquidation: message('Liquidation', 'A liquidation step, no user id (liquidations.{SYMBOL}, perpetuals)', 'WsLiquidation') }
      : {}),
    WsAuthAnswer: message('AuthAnswer', 'auth accepted', 'WsAuthAnswer'),
    WsSubscribed: message('Subscribed', 'subscribe answered', 'WsSubscribed'),
    WsUnsubscribed: message('Unsubscribed', 'unsubscribe answered', 'WsUnsubscribed'),
    WsPong: message('Pong', 'ping answered', 'WsPong'),
    WsError: message('Error', 'a refused frame (the connection stays open)', 'WsError', [WS_EXAMPLES.Error]),
  };
  const sent = {
    WsAuth: message('Auth', 'authenticate (for executions and positions)', 'WsAuth'),
    WsSubscribe: message('Subscribe', 'subscribe to channels', 'WsSubscribe'),
    WsUnsubscribe: message('Unsubscribe', 'unsubscribe', 'WsUnsubscribe'),
    WsPing: message('Ping', 'application ping', 'WsPing'),
  };
  const channel = {
    address: '/ws',
    title: 'WebSocket /ws',
    description:
      'Each ws-server binds its own RabbitMQ queue and pushes to its clients; a user may be connected to several instances. Client frames are JSON text frames; a frame over the size limit closes the connection with 1009, a client whose send buffer passes its bound is closed with 4008, and one for which more live execution reports arrive during a resume than the instance holds (WS_MAX_CATCH_UP_REPORTS) is closed with 1013 (reconnect and resume from the last seq). Protocol-level pings drop dead peers. The private channel positions (PositionChanged, WalletChanged, FundingPaid of the authenticated user) is fed from the Redis stream `executions` rather than RabbitMQ (WalletChanged and FundingPaid have no routing key), in seq order, and resumes with resume_from_seq like executions.',
    servers: [ref('#/servers/ws'), ref('#/servers/ws2')],
    messages: Object.fromEntries(
      [...Object.keys(received), ...Object.keys(sent)].map((name) => [name, ref(`#/components/messages/${name}`)]),
    ),
  };
  const operations = {
    wsClientFrames: {
      action: 'receive',
      title: 'Frames a client sends to a ws-server',
      channel: ref('#/channels/webSocket'),
      messages: Object.keys(sent).map((name) => ref(`#/channels/webSocket/messages/${name}`)),
    },
    wsServerFrames: {
      action: 'send',
      title: 'Frames a ws-server pushes to its clients',
      channel: ref('#/channels/webSocket'),
      messages: Object.keys(received).map((name) => ref(`#/channels/webSocket/messages/${name}`)),
    },
  };
  return { schemas, messages: { ...received, ...sent }, channel, operations };
}
