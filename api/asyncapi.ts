import type { EngineConfig } from '../engine/index.ts';
import type { EnvelopeType } from '../contract/envelopes.ts';
import { KAFKA_TOPIC_EXECUTIONS, KAFKA_TOPIC_MARKET_DATA, RABBIT_EXCHANGE, REDIS_GROUP, REDIS_STREAM } from '../contract/broker-routes.ts';
import { buildEnvelopeSchemas, oneOrBatch, type JsonSchema } from '../contract/envelope-schemas.ts';
import { perpetualMarkets, tradedMarkets } from '../contract/markets.ts';
import { webSocketPart } from './asyncapi-ws.ts';

/**
 * Default broker and WebSocket addresses (ops/config.ts defaults; REDIS_URL, KAFKA_BROKERS,
 * AMQP_URL, WS_PORT and WS_PORT_2 override them — ops/asyncapi-servers.test.ts keeps the two in step).
 */
export const ASYNCAPI_DEFAULT_HOSTS = {
  redis: '127.0.0.1:6380',
  kafka: '127.0.0.1:9092',
  amqp: '127.0.0.1:5672',
  ws: '127.0.0.1:7001',
  ws2: '127.0.0.1:7002',
} as const;

const ref = (path: string) => ({ $ref: path });
const schemaRef = (type: EnvelopeType) => ref(`#/components/schemas/${type}`);

const DESCRIPTION = [
  'Every event the matching engine emits, as JSON envelopes (`v: 1`) on three brokers: the Redis stream `executions` (hand-off to PostgreSQL), the Kafka topics `market-data` and `executions` (external consumers) and the RabbitMQ topic exchange `market-notifications` (WebSocket servers).',
  '',
  '**Envelopes.** Every envelope carries `type`, `seq` (the engine\'s global, gap-free event seq), `prev_seq` and `timestamp` (integer ms: the engine command\'s time). Decimals are strings in canonical form (`"50000000"`, `"0.002"`: no sign, no exponent, no leading or trailing zeros), in the same units as the REST API; ids are decimal strings. Book data also carries `symbol_seq` (per symbol, gap-free, one per BookDelta).',
  '',
  "**Seq order.** One envelope per seq. A trade takes three consecutive seqs: the public `Trade` (S), then its maker's `Execution` (S + 1), then its taker's (S + 2). Every order's first execution report is `exec_type` `New` (status `Pending`, or `Untriggered` for a stop), even when it fills at once; an order the engine refuses has a single `Rejected` report. A refused command that is not an order (a cancel of a finished order, a withdrawal beyond the balance) has no execution report: its REST call already answered.",
  '',
  '**prev_seq and duplicates.** `prev_seq` is the `seq` of the last envelope published before this one under the same routing key — RabbitMQ: the routing key; Kafka: the same topic and key; Redis: the stream — and 0 for the first. A consumer holding a different last seq for that key missed something and can fetch it (REST, or the Redis stream). Publishers resend after an outage from their last broker-confirmed event, so a consumer may see an envelope twice: drop any whose `seq` it already has.',
  '',
  '**Batches.** A Kafka record value or a RabbitMQ message body is one envelope or a non-empty JSON array of envelopes of one routing key (Kafka: one key) in `seq` order, each with its own `prev_seq` (in an array, the seq of the one before it). A Redis stream entry holds exactly one envelope.',
  '',
  '**Futures.** `PositionChanged` (a user\'s perpetual position after a command that changed it) and `WalletChanged` (a user\'s futures wallet after a command that moved it) go to the Redis stream and the Kafka topic `executions`; `PositionChanged` also to RabbitMQ `position.{symbol}`, `WalletChanged` not to RabbitMQ (the contract gives it no routing key). A command that changes a position emits its `WalletChanged` envelopes, then its `PositionChanged` ones. Their figures that can be negative (`size` of a short, `realized_pnl`, `wallet_balance`) are signed decimals (`"-0.01"`, never `"-0"`); `leverage` is a JSON integer. At a funding time each open position gets a `FundingPaid` (Redis, Kafka `executions`, RabbitMQ `position.{symbol}`; `amount` < 0 paid, > 0 received), then its `WalletChanged` (reason `Funding`); each price tick (one a second) that changes a perpetual\'s figures gives a public `MarkPrice` (Redis, Kafka `market-data`, RabbitMQ `markprice.{symbol}`). Rates have eight decimals (`"0.00010000"`).',
  '',
  "**WebSocket.** The ws-server instances (servers `ws` and `ws2`, channel `webSocket` at `/ws`) push Execution and Ticker frames in these shapes without `prev_seq` (it chains broker routing keys, not a client's stream: drop repeats by `seq`), Trades frames (the trades of a short window) and OrderBook snapshots and deltas with a CRC-32 checksum; clients send auth, subscribe, unsubscribe and ping frames (ARCHITECTURE.md § WebSocket).",
].join('\n');

/** One example of each envelope (the default markets: BTC-KRW, tick 1000 KRW, lot 0.001 BTC). */
export const EXAMPLES = {
  Trade: {
    v: 1,
    type: 'Trade',
    seq: 41,
    prev_seq: 35,
    timestamp: 1_700_000_000_123,
    symbol: 'BTC-KRW',
    trade_id: '7',
    price: '50000000',
    quantity: '0.002',
    quote_quantity: '100000',
    taker_side: 'Buy',
  },
  Execution: {
    v: 1,
    type: 'Execution',
    seq: 43,
    prev_seq: 42,
    timestamp: 1_700_000_000_123,
    order_status: 'PartiallyFilled',
    execution_report: {
      order_id: '1002',
      client_order_id: 'my-order-1',
      user_id: '2',
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      exec_type: 'Trade',
      price: '50000000',
      quantity: '0.002',
      order_price: '50001000',
      order_quantity: '0.005',
      filled_quantity: '0.002',
      remaining_quantity: '0.003',
      avg_price: '50000000',
      fee: '200',
      fee_asset: 'KRW',
      is_maker: false,
      trade_id: '7',
      reject_reason: null,
      expire_reason: null,
    },
  },
  BookDelta: {
    v: 1,
    type: 'BookDelta',
    seq: 44,
    prev_seq: 12,
    timestamp: 1_700_000_000_123,
    symbol: 'BTC-KRW',
    symbol_seq: 19,
    side: 'Sell',
    price: '50000000',
    quantity: '0.001',
  },
  Ticker: {
    v: 1,
    type: 'Ticker',
    seq: 47,
    prev_seq: 20,
    timestamp: 1_700_000_000_123,
    symbol: 'BTC-KRW',
    last_price: '50000000',
    best_bid: '49999000',
    best_ask: '50000000',
    open_24h: '49000000',
    high_24h: '50100000',
    low_24h: '48900000',
    volume_24h: '1.25',
    quote_volume_24h: '62000000',
  },
  BalanceChanged: {
    v: 1,
    type: 'BalanceChanged',
    seq: 45,
    prev_seq: 43,
    timestamp: 1_700_000_000_123,
    user_id: '2',
    asset: 'KRW',
    available: '749497',
    locked: '150303',
  },
  // a long of 0.01 BTC opened 10× isolated at 50,000,000 KRW: margin 500,000 / 10 = 50,000, taker fee 500 ppm = 250
  WalletChanged: {
    v: 1,
    type: 'WalletChanged',
    seq: 62,
    prev_seq: 45,
    timestamp: 1_700_000_000_456,
    user_id: '2',
    asset: 'KRW',
    wallet_balance: '999750',
    reason: 'Trade',
  },
  // F = 0.01 % at a mark of 50,000,000 KRW: 0.01 BTC pays 50 KRW
  FundingPaid: {
    v: 1,
    type: 'FundingPaid',
    seq: 90,
    prev_seq: 63,
    timestamp: 1_700_006_400_000,
    user_id: '2',
    symbol: 'BTC-KRW-PERP',
    position_side: 'BOTH',
    size: '0.01',
    mark_price: '50000000',
    rate: '0.00010000',
    amount: '-50',
  },
  MarkPrice: {
    v: 1,
    type: 'MarkPrice',
    seq: 88,
    prev_seq: 71,
    timestamp: 1_700_000_001_000,
    symbol: 'BTC-KRW-PERP',
    mark_price: '50000000',
    index_price: '50000000',
    estimated_funding_rate: '0.00012500',
    next_funding_time: 1_700_006_400_000,
  },
  PositionChanged: {
    v: 1,
    type: 'PositionChanged',
    seq: 63,
    prev_seq: 62,
    timestamp: 1_700_000_000_456,
    user_id: '2',
    symbol: 'BTC-KRW-PERP',
    position_side: 'BOTH',
    size: '0.01',
    entry_price: '50000000',
    realized_pnl: '0',
    margin_type: 'ISOLATED',
    isolated_margin: '50000',
    leverage: 10,
  },
  // worked example (a) of issue 19: a 10× isolated long of 0.1 BTC sold into a bid at 90,200,000 (bankruptcy 90,000,000)
  Liquidation: {
    v: 1,
    type: 'Liquidation',
    seq: 71,
    prev_seq: 70,
    timestamp: 1_700_000_000_789,
    symbol: 'BTC-KRW-PERP',
    side: 'Sell',
    price: '90200000',
    quantity: '0.1',
    stage: 'book',
  },
} as const;

/**
 * The AsyncAPI 3.0 description served at /asyncapi.json: servers, channels, send operations and the
 * envelope schemas of contract/envelope-schemas.ts (the same objects the broker tests validate with).
 */
export function buildAsyncApi(config: EngineConfig): Record<string, unknown> {
  const symbols = tradedMarkets(config).map((market) => market.symbol);
  const perpSymbols = perpetualMarkets(config).map((market) => market.symbol);
  const settlementAssets = [...new Set(perpetualMarkets(config).map((market) => market.settlementAsset))];
  const schemas = buildEnvelopeSchemas(config);
  const symbolParameter = { enum: symbols, description: 'market symbol (GET /v1/markets)' };
  const keyBinding = (keys: readonly string[], description: string) => ({
    kafka: { key: { type: 'string', ...(keys.length > 0 ? { enum: [...keys] } : {}), description }, bindingVersion: '0.5.0' },
  });
  const kafkaKey = keyBinding(symbols, "the envelope's symbol: each symbol stays in order within its partition");
  const amqpChannel = {
    amqp: {
      is: 'routingKey',
      exchange: { name: RABBIT_EXCHANGE, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
      bindingVersion: '0.3.0',
    },
  };
  const json = 'application/json';

  const messages: Record<string, unknown> = {
    Execution: {
      name: 'Execution',
      title: 'Execution report(s)',
      summary: 'One Execution envelope, or an array of them for one symbol in seq order.',
      contentType: json,
      payload: oneOrBatch(schemaRef('Execution')),
      examples: [{ name: 'fill', summary: "a taker's fill", payload: EXAMPLES.Execution }],
    },
    Trade: {
      name: 'Trade',
      title: 'Public trade(s)',
      summary: 'One Trade envelope, or an array of them for one symbol in seq order.',
      contentType: json,
      payload: oneOrBatch(schemaRef('Trade')),
      examples: [{ name: 'trade', payload: EXAMPLES.Trade }],
    },
    BookDelta: {
      name: 'BookDelta',
      title: 'Order book level change(s)',
      summary: 'One BookDelta envelope, or an array of them for one symbol in seq order.',
      contentType: json,
      payload: oneOrBatch(schemaRef('BookDelta')),
      examples: [{ name: 'level', payload: EXAMPLES.BookDelta }],
    },
    Ticker: {
      name: 'Ticker',
      title: 'Market summary',
      summary: 'One Ticker envelope, or an array of them for one symbol in seq order.',
      contentType: json,
      payload: oneOrBatch(schemaRef('Ticker')),
      examples: [{ name: 'ticker', payload: EXAMPLES.Ticker }],
    },
    MarketDataBatch: {
      name: 'MarketDataBatch',
      title: 'Market data of one symbol',
      summary:
        'A Kafka `market-data` record holding an array that mixes Trade, BookDelta and Ticker envelopes of one symbol, in seq order.',
      contentType: json,
      payload: { type: 'array', minItems: 1, items: { oneOf: [schemaRef('Trade'), schemaRef('BookDelta'), schemaRef('Ticker')] } },
      examples: [{ name: 'trade and its book change', payload: [EXAMPLES.Trade, { ...EXAMPLES.BookDelta, prev_seq: EXAMPLES.Trade.seq }] }],
    },
    PositionChanged: {
      name: 'PositionChanged',
      title: 'Position change(s)',
      summary:
        "One PositionChanged envelope, or an array of them for one perpetual symbol in seq order: a user's position after a command that changed it (private: forward it to its user only).",
      contentType: json,
      payload: oneOrBatch(schemaRef('PositionChanged')),
      examples: [{ name: 'opened', summary: 'a long of 0.01 BTC, 10× isolated', payload: EXAMPLES.PositionChanged }],
    },
    WalletChanged: {
      name: 'WalletChanged',
      title: 'Futures wallet change(s)',
      summary:
        "One WalletChanged envelope, or an array of them for one settlement asset in seq order: a user's futures wallet after a command that moved it.",
      contentType: json,
      payload: oneOrBatch(schemaRef('WalletChanged')),
      examples: [{ name: 'fee of an opening fill', payload: EXAMPLES.WalletChanged }],
    },
    FundingPaid: {
      name: 'FundingPaid',
      title: 'Funding payment(s)',
      summary:
        "One FundingPaid envelope, or an array of them for one perpetual symbol in seq order: an open position's payment at a funding settlement (private: forward it to its user only).",
      contentType: json,
      payload: oneOrBatch(schemaRef('FundingPaid')),
      examples: [{ name: 'a long pays', summary: '0.01 BTC at F = 0.01 %', payload: EXAMPLES.FundingPaid }],
    },
    MarkPrice: {
      name: 'MarkPrice',
      title: 'Mark price(s)',
      summary:
        "One MarkPrice envelope, or an array of them for one perpetual symbol in seq order: the perpetual's figures at a price tick.",
      contentType: json,
      payload: oneOrBatch(schemaRef('MarkPrice')),
      examples: [{ name: 'a tick', payload: EXAMPLES.MarkPrice }],
    },
    Liquidation: {
      name: 'Liquidation',
      title: 'Liquidation(s)',
      summary:
        "One Liquidation envelope, or an array of them for one perpetual symbol in seq order: what one stage (book, insurance, adl) of one position's liquidation closed (public, no user id).",
      contentType: json,
      payload: oneOrBatch(schemaRef('Liquidation')),
      examples: [
        { name: 'book stage', summary: 'worked example (a): sold into a bid above the bankruptcy price', payload: EXAMPLES.Liquidation },
      ],
    },
    ...Object.fromEntries(
      (
        ['Execution', 'Trade', 'BalanceChanged', 'PositionChanged', 'WalletChanged', 'FundingPaid', 'MarkPrice', 'Liquidation'] as const
      ).map((type) => [
        `Redis${type}`,
        {
          name: type,
          title: `${type} stream entry`,
          summary: `One ${type} envelope, as the JSON text of the entry's only field, \`envelope\`; entry id \`{seq}-0\`.`,
          contentType: json,
          payload: schemaRef(type),
          examples: [{ name: type, payload: EXAMPLES[type] }],
        },
      ]),
    ),
  };

  const rabbit = (kind: string, message: string, what: string) => ({
    address: `${kind}.{symbol}`,
    title: `RabbitMQ ${kind}.{symbol}`,
    description: `${what}, published on the durable topic exchange \`${RABBIT_EXCHANGE}\` with routing key \`${kind}.{symbol}\`; each ws-server binds its own queue to it. prev_seq chains per routing key.`,
    servers: [ref('#/servers/amqp')],
    parameters: { symbol: symbolParameter },
    messages: { [message]: ref(`#/components/messages/${message}`) },
    bindings: amqpChannel,
  });

  const perpSymbolParameter = {
    ...(perpSymbols.length > 0 ? { enum: perpSymbols } : {}),
    description: 'perpetual market symbol (GET /v1/markets, type "perpetual")',
  };
  const ws = webSocketPart(schemas, symbols);
  Object.assign(messages, ws.messages);

  const channels = {
    redisExecutions: {
      address: REDIS_STREAM,
      title: `Redis stream ${REDIS_STREAM}`,
      description: `What PostgreSQL needs: execution reports, trades, balance changes, and the futures position and wallet changes, one entry per envelope. Entry id \`{seq}-0\`, so a resend is refused as a duplicate; one field, \`envelope\`, holding the envelope's JSON. Read by consumer group \`${REDIS_GROUP}\` (the persister). prev_seq chains over the whole stream.`,
      servers: [ref('#/servers/redis')],
      messages: {
        Execution: ref('#/components/messages/RedisExecution'),
        Trade: ref('#/components/messages/RedisTrade'),
        BalanceChanged: ref('#/components/messages/RedisBalanceChanged'),
        PositionChanged: ref('#/components/messages/RedisPositionChanged'),
        WalletChanged: ref('#/components/messages/RedisWalletChanged'),
        FundingPaid: ref('#/components/messages/RedisFundingPaid'),
        MarkPrice: ref('#/components/messages/RedisMarkPrice'),
        Liquidation: ref('#/components/messages/RedisLiquidation'),
      },
      'x-redis': { type: 'stream', entryId: '{seq}-0', field: 'envelope', consumerGroup: REDIS_GROUP },
    },
    kafkaMarketData: {
      address: KAFKA_TOPIC_MARKET_DATA,
      title: `Kafka topic ${KAFKA_TOPIC_MARKET_DATA}`,
      description: 'Trades, book deltas and tickers; record key = symbol. prev_seq chains per topic and key.',
      servers: [ref('#/servers/kafka')],
      messages: {
        Trade: ref('#/components/messages/Trade'),
        BookDelta: ref('#/components/messages/BookDelta'),
        Ticker: ref('#/components/messages/Ticker'),
        Liquidation: ref('#/components/messages/Liquidation'),
        MarketDataBatch: ref('#/components/messages/MarketDataBatch'),
        MarkPrice: ref('#/components/messages/MarkPrice'),
      },
      bindings: { kafka: { topic: KAFKA_TOPIC_MARKET_DATA, bindingVersion: '0.5.0' } },
    },
    kafkaExecutions: {
      address: KAFKA_TOPIC_EXECUTIONS,
      title: `Kafka topic ${KAFKA_TOPIC_EXECUTIONS}`,
      description:
        'Every execution report and every futures position and wallet change; record key = symbol (a WalletChanged, which has none: its asset). prev_seq chains per topic and key.',
      servers: [ref('#/servers/kafka')],
      messages: {
        Execution: ref('#/components/messages/Execution'),
        PositionChanged: ref('#/components/messages/PositionChanged'),
        WalletChanged: ref('#/components/messages/WalletChanged'),
        FundingPaid: ref('#/components/messages/FundingPaid'),
      },
      bindings: { kafka: { topic: KAFKA_TOPIC_EXECUTIONS, bindingVersion: '0.5.0' } },
    },
    rabbitExecution: rabbit(
      'execution',
      'Execution',
      "Execution reports of the symbol's orders (the ws-servers forward each only to its owner)",
    ),
    rabbitOrderbook: rabbit('orderbook', 'BookDelta', 'Book level changes of the symbol'),
    rabbitTrade: rabbit('trade', 'Trade', 'Public trades of the symbol'),
    rabbitTicker: rabbit('ticker', 'Ticker', 'Market summaries of the symbol'),
    // WalletChanged has no RabbitMQ routing key in the contract: it is not published there
    rabbitPosition: {
      ...rabbit(
        'position',
        'PositionChanged',
        "Position changes and funding payments of the perpetual symbol's users (private: forward each only to its user)",
      ),
      messages: { PositionChanged: ref('#/components/messages/PositionChanged'), FundingPaid: ref('#/components/messages/FundingPaid') },
      parameters: { symbol: perpSymbolParameter },
    },
    rabbitMarkprice: {
      ...rabbit(
        'markprice',
        'MarkPrice',
        'Mark and index price and funding figures of the perpetual symbol at each price tick that changed them',
      ),
      parameters: { symbol: perpSymbolParameter },
    },
    rabbitLiquidation: {
      ...rabbit('liquidation', 'Liquidation', 'Liquidations in the perpetual symbol (public)'),
      parameters: {
        symbol: {
          ...(perpSymbols.length > 0 ? { enum: perpSymbols } : {}),
          description: 'perpetual market symbol (GET /v1/markets, type "perpetual")',
        },
      },
    },
    webSocket: ws.channel,
  };

  const send = (channel: Exclude<keyof typeof channels, 'webSocket'>, title: string, bindings?: unknown) => ({
    action: 'send',
    title,
    channel: ref(`#/channels/${channel}`),
    messages: Object.keys(channels[channel].messages).map((name) => ref(`#/channels/${channel}/messages/${name}`)),
    ...(bindings ? { bindings } : {}),
  });

  const messageBindings = (names: readonly string[], bindings: unknown) => {
    for (const name of names) (messages[name] as Record<string, unknown>).bindings = bindings;
  };
  // Kafka key = symbol. The same message objects also describe RabbitMQ bodies: a binding for
  // another protocol is ignored there.
  messageBindings(['Execution', 'Trade', 'BookDelta', 'Ticker', 'MarketDataBatch'], kafkaKey);
  messageBindings(['PositionChanged', 'FundingPaid'], keyBinding(perpSymbols, "the position's symbol"));
  messageBindings(['MarkPrice', 'Liquidation'], keyBinding(perpSymbols, 'the perpetual symbol'));
  messageBindings(
    ['WalletChanged'],
    keyBinding(settlementAssets, "the wallet's settlement asset (it has no symbol): each asset's wallet changes stay in order"),
  );

  return {
    asyncapi: '3.0.0',
    id: 'urn:xtrader:messages',
    info: {
      title: 'xtrader messages',
      version: '1.0.0',
      description: DESCRIPTION,
    },
    defaultContentType: json,
    servers: {
      redis: { host: ASYNCAPI_DEFAULT_HOSTS.redis, protocol: 'redis', description: 'Redis with AOF on (REDIS_URL)' },
      kafka: { host: ASYNCAPI_DEFAULT_HOSTS.kafka, protocol: 'kafka', description: 'Kafka, KRaft single node by default (KAFKA_BROKERS)' },
      amqp: { host: ASYNCAPI_DEFAULT_HOSTS.amqp, protocol: 'amqp', protocolVersion: '0.9.1', description: 'RabbitMQ (AMQP_URL)' },
      ws: {
        host: ASYNCAPI_DEFAULT_HOSTS.ws,
        pathname: '/ws',
        protocol: 'ws',
        description: 'ws-server (WS_PORT); protocol: ARCHITECTURE.md § WebSocket',
      },
      ws2: { host: ASYNCAPI_DEFAULT_HOSTS.ws2, pathname: '/ws', protocol: 'ws', description: 'second ws-server (WS_PORT_2)' },
    },
    channels,
    operations: {
      publishRedisExecutions: send('redisExecutions', `XADD to ${REDIS_STREAM}`),
      publishKafkaMarketData: send('kafkaMarketData', `Produce to ${KAFKA_TOPIC_MARKET_DATA}`),
      publishKafkaExecutions: send('kafkaExecutions', `Produce to ${KAFKA_TOPIC_EXECUTIONS}`),
      publishRabbitExecution: send('rabbitExecution', `Publish execution.{symbol} on ${RABBIT_EXCHANGE}`),
      publishRabbitOrderbook: send('rabbitOrderbook', `Publish orderbook.{symbol} on ${RABBIT_EXCHANGE}`),
      publishRabbitTrade: send('rabbitTrade', `Publish trade.{symbol} on ${RABBIT_EXCHANGE}`),
      publishRabbitTicker: send('rabbitTicker', `Publish ticker.{symbol} on ${RABBIT_EXCHANGE}`),
      publishRabbitPosition: send('rabbitPosition', `Publish position.{symbol} on ${RABBIT_EXCHANGE}`),
      publishRabbitMarkprice: send('rabbitMarkprice', `Publish markprice.{symbol} on ${RABBIT_EXCHANGE}`),
      publishRabbitLiquidation: send('rabbitLiquidation', `Publish liquidation.{symbol} on ${RABBIT_EXCHANGE}`),
      ...ws.operations,
    },
    components: {
      schemas: { ...(schemas satisfies Record<EnvelopeType, JsonSchema>), ...ws.schemas },
      messages,
    },
  };
}
