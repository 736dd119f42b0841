/**
 * /asyncapi.json: a valid AsyncAPI 3.0 document by the official parser (@asyncapi/parser, offline),
 * true to contract/broker-routes.ts's routes and to the schemas broker tests use, its examples valid, served by
 * the app next to /openapi.json. Unit tier: the app is built with stubs, no PostgreSQL.
 */
import { DiagnosticSeverity, Parser, type Diagnostic, type Input } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { buildEngineConfig, DEFAULT_ENGINE_CONFIG, DEFAULT_RAW_CONFIG, type MatchingEngine } from '../engine/index.ts';
import { envelopeSymbol, type Envelope } from '../contract/envelopes.ts';
import { perpetualMarkets } from '../contract/markets.ts';
import { routesOf } from '../contract/broker-routes.ts';
import { ENVELOPE_SCHEMAS } from '../contract/envelope-schemas.ts';
import { createApi } from './app.ts';
import { buildAsyncApi, EXAMPLES } from './asyncapi.ts';
import { WS_EXAMPLES } from './asyncapi-ws.ts';
import type { ApiDeps } from './context.ts';
import { EventFeed } from './event-feed.ts';
import { ApiMetrics } from './metrics.ts';

type Doc = {
  asyncapi: string;
  servers: Record<string, { host: string; protocol: string; pathname?: string }>;
  channels: Record<
    string,
    {
      address: string;
      servers: { $ref: string }[];
      parameters?: Record<string, { enum: string[] }>;
      messages: Record<string, { $ref: string }>;
      bindings?: Record<string, unknown>;
    }
  >;
  operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>;
  components: {
    schemas: Record<string, unknown>;
    messages: Record<string, { payload: Record<string, unknown>; examples?: { payload: unknown }[]; bindings?: Record<string, unknown> }>;
  };
};

const doc = buildAsyncApi(DEFAULT_ENGINE_CONFIG) as unknown as Doc;

async function diagnose(input: unknown): Promise<{ parsed: boolean; problems: string[] }> {
  const { document, diagnostics } = await new Parser().parse(input as Input);
  const problems = diagnostics
    // errors and warnings; infos and hints (e.g. "3.1.0 exists") are fine
    .filter(
      (diagnostic: Diagnostic) => diagnostic.severity === DiagnosticSeverity.Error || diagnostic.severity === DiagnosticSeverity.Warning,
    )
    .map(
      (diagnostic: Diagnostic) =>
        `${DiagnosticSeverity[diagnostic.severity]} ${diagnostic.code} at ${diagnostic.path.join('.')}: ${diagnostic.message}`,
    );
  return { parsed: document !== undefined, problems };
}

/** A validator for a message payload schema, its `#/components/schemas/…` refs resolved against the document. */
function payloadValidator(payload: Record<string, unknown>) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile({ ...payload, components: { schemas: doc.components.schemas } });
}

function resolve<T>(ref: string): T {
  let node: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`unresolved ${ref}`);
  return node as T;
}

describe('the AsyncAPI document', () => {
  it('is valid AsyncAPI 3.0.0 by the official parser', async () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(await diagnose(doc)).toEqual({ parsed: true, problems: [] });
  }, 60_000);

  it('the parser does refuse a broken document (so the check above means something)', async () => {
    const broken = structuredClone(doc) as unknown as Record<string, Record<string, Record<string, unknown>>>;
    broken.operations!.publishRabbitTrade!.messages = [{ $ref: '#/channels/rabbitTicker/messages/Ticker' }];
    delete broken.info!.version;
    const { problems } = await diagnose(broken);
    expect(problems.join('\n')).toMatch(/operation-messages-from-referred-channel/);
    expect(problems.join('\n')).toMatch(/version/);
  }, 60_000);

  it('serves the envelope schemas the broker tests validate with, unchanged (and the WebSocket frames beside them)', () => {
    const envelopes = Object.fromEntries(Object.entries(doc.components.schemas).filter(([name]) => !name.startsWith('Ws')));
    expect(envelopes).toEqual(ENVELOPE_SCHEMAS);
    // the ws frames are the envelopes without prev_seq
    const execution = ENVELOPE_SCHEMAS.Execution as { properties: Record<string, unknown>; required: string[] };
    const wsExecution = doc.components.schemas.WsExecution as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(wsExecution.properties).sort()).toEqual(
      Object.keys(execution.properties)
        .filter((name) => name !== 'prev_seq')
        .sort(),
    );
    expect(wsExecution.required).not.toContain('prev_seq');
  });

  it('has the brokers and the ws-servers at their default addresses', () => {
    expect(
      Object.fromEntries(
        Object.entries(doc.servers).map(([name, server]) => [name, `${server.protocol}://${server.host}${server.pathname ?? ''}`]),
      ),
    ).toEqual({
      redis: 'redis://127.0.0.1:6380',
      kafka: 'kafka://127.0.0.1:9092',
      amqp: 'amqp://127.0.0.1:5672',
      ws: 'ws://127.0.0.1:7001/ws',
      ws2: 'ws://127.0.0.1:7002/ws',
    });
    const used = new Set(Object.values(doc.channels).flatMap((channel) => channel.servers.map((server) => server.$ref)));
    expect([...used].sort()).toEqual(['#/servers/amqp', '#/servers/kafka', '#/servers/redis', '#/servers/ws', '#/servers/ws2']);
  });

  it('has the channels of ARCHITECTURE.md "Broker layout", the RabbitMQ ones with a symbol parameter from the engine config', () => {
    const addresses = Object.values(doc.channels).map((channel) => `${channel.servers[0]!.$ref.split('/').pop()} ${channel.address}`);
    expect(addresses.sort()).toEqual([
      'amqp execution.{symbol}',
      'amqp liquidation.{symbol}',
      'amqp markprice.{symbol}',
      'amqp orderbook.{symbol}',
      'amqp position.{symbol}',
      'amqp ticker.{symbol}',
      'amqp trade.{symbol}',
      'kafka executions',
      'kafka market-data',
      'redis executions',
      'ws /ws',
    ]);
    const spot = ['BTC-KRW', 'ETH-KRW'];
    const perpetual = perpetualMarkets(DEFAULT_ENGINE_CONFIG).map((market) => market.symbol);
    for (const channel of Object.values(doc.channels).filter((candidate) => candidate.address.includes('{symbol}'))) {
      // position.{symbol}, markprice.{symbol} and liquidation.{symbol}: the perpetuals only; the others: every market
      if (channel.address.startsWith('position.') || channel.address.startsWith('markprice.') || channel.address.startsWith('liquidation.'))
        expect(channel.parameters?.symbol?.enum).toEqual(perpetual.length > 0 ? perpetual : undefined);
      else expect(channel.parameters?.symbol?.enum).toEqual([...spot, ...perpetual]);
      expect(channel.bindings).toEqual({
        amqp: {
          is: 'routingKey',
          exchange: { name: 'market-notifications', type: 'topic', durable: true, autoDelete: false, vhost: '/' },
          bindingVersion: '0.3.0',
        },
      });
    }
    const oneMarket = buildEngineConfig({ ...DEFAULT_RAW_CONFIG, markets: DEFAULT_RAW_CONFIG.markets.slice(0, 1) });
    const narrow = buildAsyncApi(oneMarket) as unknown as Doc;
    expect(narrow.channels.rabbitTrade!.parameters!.symbol!.enum).toEqual(['BTC-KRW']);
    expect((narrow.components.messages.Trade!.bindings as { kafka: { key: { enum: string[] } } }).kafka.key.enum).toEqual(['BTC-KRW']);
    expect((narrow.components.schemas.Trade as { properties: { symbol: { enum: string[] } } }).properties.symbol.enum).toEqual(['BTC-KRW']);
  });

  it('one send operation per broker channel, with all of its messages; the WebSocket channel sends and receives', () => {
    const byChannel = new Map<string, Doc['operations'][string][]>();
    for (const operation of Object.values(doc.operations))
      byChannel.set(operation.channel.$ref, [...(byChannel.get(operation.channel.$ref) ?? []), operation]);
    expect(byChannel.size).toBe(Object.keys(doc.channels).length);
    for (const [name, channel] of Object.entries(doc.channels)) {
      const operations = byChannel.get(`#/channels/${name}`)!;
      expect(operations.map((operation) => operation.action).sort(), name).toEqual(name === 'webSocket' ? ['receive', 'send'] : ['send']);
      expect(operations.flatMap((operation) => operation.messages.map((message) => message.$ref)).sort()).toEqual(
        Object.keys(channel.messages)
          .map((message) => `#/channels/${name}/messages/${message}`)
          .sort(),
      );
    }
  });

  it('sends each envelope type exactly where routesOf (contract/broker-routes.ts) sends it', () => {
    /** the envelope types a channel's messages can carry, read from their payload schemas */
    const typesOf = (channel: Doc['channels'][string]) =>
      new Set(
        Object.values(channel.messages)
          .flatMap(
            (message) => JSON.stringify(resolve<{ payload: unknown }>(message.$ref).payload).match(/#\/components\/schemas\/\w+/g) ?? [],
          )
          .map((ref) => ref.split('/').pop()),
      );
    for (const example of Object.values(EXAMPLES) as unknown as Envelope[]) {
      const routes = routesOf(example);
      const symbol = envelopeSymbol(example) ?? 'BTC-KRW';
      const carrying = Object.entries(doc.channels)
        .filter(([name, channel]) => name !== 'webSocket' && typesOf(channel).has(example.type))
        .map(([, channel]) => `${channel.servers[0]!.$ref.split('/').pop()} ${channel.address.replace('{symbol}', symbol)}`)
        .sort();
      const expected = [
        routes.redis ? 'redis executions' : undefined,
        routes.kafkaTopic && `kafka ${routes.kafkaTopic}`,
        routes.rabbitRoutingKey && `amqp ${routes.rabbitRoutingKey}`,
      ]
        .filter(Boolean)
        .sort();
      expect(carrying, example.type).toEqual(expected);
    }
  });

  it('message payloads take one envelope or a non-empty array (Kafka values, RabbitMQ bodies), a Redis entry exactly one', () => {
    const trade = payloadValidator(doc.components.messages.Trade!.payload);
    expect(trade(EXAMPLES.Trade)).toBe(true);
    expect(trade([EXAMPLES.Trade, { ...EXAMPLES.Trade, seq: 50, prev_seq: 41, trade_id: '8' }])).toBe(true);
    expect(trade([])).toBe(false);
    expect(trade([EXAMPLES.Trade, EXAMPLES.BookDelta])).toBe(false);
    expect(trade({ ...EXAMPLES.Trade, price: 50_000_000 })).toBe(false);
    const mixed = payloadValidator(doc.components.messages.MarketDataBatch!.payload);
    expect(mixed([EXAMPLES.Trade, EXAMPLES.BookDelta, EXAMPLES.Ticker])).toBe(true);
    expect(mixed([EXAMPLES.Trade, EXAMPLES.Execution])).toBe(false);
    const entry = payloadValidator(doc.components.messages.RedisExecution!.payload);
    expect(entry(EXAMPLES.Execution)).toBe(true);
    expect(entry([EXAMPLES.Execution])).toBe(false);
  });

  it('every message example is valid against its payload schema', () => {
    for (const [name, message] of Object.entries(doc.components.messages)) {
      if (!message.examples) continue;
      const validate = payloadValidator(message.payload);
      for (const example of message.examples) expect(validate(example.payload) ? [] : validate.errors, name).toEqual([]);
    }
  });

  it('every broker message has an example, and the WebSocket frames of a real run validate', () => {
    for (const [name, message] of Object.entries(doc.components.messages))
      if (!name.startsWith('Ws')) expect(message.examples?.length, name).toBeGreaterThan(0);
    const validate = (schema: string, frame: unknown) => {
      const check = payloadValidator({ $ref: `#/components/schemas/${schema}` });
      return check(frame) ? [] : check.errors;
    };
    const { prev_seq: _chain, ...execution } = EXAMPLES.Execution;
    expect(validate('WsExecution', execution)).toEqual([]);
    expect(validate('WsOrderBookDelta', { ...WS_EXAMPLES.OrderBookDelta, checksum: -1 })).not.toEqual([]);
    expect(validate('WsSubscribe', { op: 'subscribe', channels: ['executions'], resume_from_seq: 10, id: 1 })).toEqual([]);
    expect(validate('WsSubscribe', { op: 'subscribe', channels: [] })).not.toEqual([]);
    expect(validate('WsAuth', { op: 'auth', api_key: 'xk_1', timestamp: '1700000000000', signature: 'ab' })).toEqual([]);
    expect(validate('WsError', { type: 'error', code: 'NOT_A_CODE', message: 'x' })).not.toEqual([]);
  });

  it('documents prev_seq per routing key, dedupe by seq, the Trade/maker/taker seqs and batches', () => {
    const description = (buildAsyncApi(DEFAULT_ENGINE_CONFIG) as { info: { description: string } }).info.description;
    for (const phrase of [
      'Kafka: the same topic and key',
      'Redis: the stream',
      'drop any whose `seq` it already has',
      '(S + 1)',
      '(S + 2)',
      'JSON array of envelopes',
    ]) {
      expect(description).toContain(phrase);
    }
  });
});

describe('GET /asyncapi.json', () => {
  const stubs = {
    sequencer: {
      ready: true,
      engine: {} as MatchingEngine,
      lastSeq: 0,
      pending: 0,
      maxPending: 1,
      submit: () => Promise.reject(new Error('not in this test')),
    },
    engineConfig: DEFAULT_ENGINE_CONFIG,
    credentials: {
      cached: () => undefined,
      lookup: () => Promise.resolve(undefined),
      createUser: () => Promise.reject(new Error('not in this test')),
      userExists: () => Promise.resolve(false),
    },
    feed: new EventFeed(),
    metrics: new ApiMetrics({ defaultMetrics: false }),
    adminToken: 'test-admin-token-0123456789',
    rateLimits: { ordersPerSecond: 10, requestsPerMinute: 100 },
  } as unknown as ApiDeps;
  const { app } = createApi(stubs);

  it('serves the document without authentication, next to /openapi.json', async () => {
    const response = await app.request('/asyncapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(buildAsyncApi(DEFAULT_ENGINE_CONFIG))));
    expect((await app.request('/openapi.json')).status).toBe(200);
  });

  it('is linked from the docs page', async () => {
    expect(await (await app.request('/docs')).text()).toContain('href="/asyncapi.json"');
  });
});
