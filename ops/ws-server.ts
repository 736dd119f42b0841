/**
 * A ws-server process (`node --import tsx ops/ws-server.ts`; npm start runs two, on WS_PORT and
 * WS_PORT_2): WebSocket push on ws://WS_HOST:WS_PORT/ws, fed by its own RabbitMQ queue
 * (ws-server/adapters/rabbit-feed.ts). The books bootstrap from the core's GET /v1/orderbook;
 * `resume_from_seq` reads PostgreSQL and the Redis stream; auth checks API keys in PostgreSQL.
 * The same port answers GET /health (JSON) and GET /metrics (Prometheus).
 * SIGTERM/SIGINT: clients are closed with 1001, the queue is left to expire.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CredentialStore } from '../api/credentials.ts';
import { parseEncryptionKey, SecretBox } from '../api/secret-box.ts';
import { ExecutionHistoryStore } from '../db/adapters/execution-history.ts';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../engine/index.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import type { DepthSnapshot } from '../ws-server/book-feed.ts';
import { Hub } from '../ws-server/hub.ts';
import type { DepthSource } from '../ws-server/ports.ts';
import { RabbitFeed } from '../ws-server/adapters/rabbit-feed.ts';
import { RedisStreamTail } from '../ws-server/adapters/redis-stream-tail.ts';
import { POSITIONS_TYPES } from '../ws-server/positions-channel.ts';
import { WsTransport } from '../ws-server/adapters/ws-transport.ts';
import { WsAuthenticator } from './ws-auth.ts';
import { loadConfig, type Config } from './config.ts';
import { runIfEntry, stopOnSignals } from './process-kit.ts';
import { perpetualMarkets, tradedMarkets } from '../contract/markets.ts';

export interface RunningWsServer {
  readonly hub: Hub;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface WsServerOptions {
  readonly engineConfig?: EngineConfig;
  readonly logger?: Logger;
}

/** The core creates $DATA_DIR/secret-key on its first start; started beside it, wait for it (never create one). */
async function waitForSecretKey(file: string, logger: Logger): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    try {
      const value = (await readFile(file, 'utf8')).trim();
      if (value !== '') return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (Date.now() > deadline) throw new Error(`no ${file} after 60 s: start the core first (it creates it), or set SECRET_ENCRYPTION_KEY`);
    if (attempt === 0) logger.info({ file }, 'waiting for the core to create the API-secret encryption key');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The core's aggregated book, as REST serves it, for a bootstrap. */
export function httpDepthSource(coreUrl: string): DepthSource {
  return {
    async depth(symbol) {
      const response = await fetch(`${coreUrl}/v1/orderbook/${encodeURIComponent(symbol)}?depth=500`, {
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`GET /v1/orderbook/${symbol}: ${response.status}`);
      return (await response.json()) as DepthSnapshot;
    },
  };
}

export async function startWsServer(config: Config, options: WsServerOptions = {}): Promise<RunningWsServer> {
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL, base: { process: `ws-server-${config.WS_PORT}` } });
  const engineConfig = options.engineConfig ?? DEFAULT_ENGINE_CONFIG;
  const names = brokerNames(config.BROKER_NAMESPACE);
  const instance = config.WS_INSTANCE ?? `ws-${config.WS_PORT}`;

  const encryptionKey = parseEncryptionKey(
    config.SECRET_ENCRYPTION_KEY ?? (await waitForSecretKey(path.join(config.DATA_DIR, 'secret-key'), logger)),
  );
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4, connectionTimeoutMillis: 3_000, statement_timeout: 10_000 });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const credentials = new CredentialStore(pool, new SecretBox(encryptionKey), (apiKey, userId) =>
    logger.warn({ apiKey, userId }, 'API key secret does not open with this encryption key'),
  );
  const auth = new WsAuthenticator({
    credentials,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.BROKER_NAMESPACE ? `${config.BROKER_NAMESPACE}.` : '',
  });
  const history = new ExecutionHistoryStore({ pool, redisUrl: config.REDIS_URL, stream: names.stream });
  const positionsHistory = new ExecutionHistoryStore({ pool, redisUrl: config.REDIS_URL, stream: names.stream, feed: 'positions' });

  let lastErrorLog = 0;
  const hub = new Hub({
    // spot and perpetual markets: their books, trades and tickers are public alike
    symbols: tradedMarkets(engineConfig).map((market) => market.symbol),
    perpetualSymbols: perpetualMarkets(engineConfig).map((market) => market.symbol),
    auth,
    history,
    positionsHistory,
    depth: httpDepthSource(`http://${config.API_HOST}:${config.API_PORT}`),
    limits: {
      maxSubscriptions: config.WS_MAX_SUBSCRIPTIONS,
      maxConnectionsPerKey: config.WS_MAX_CONNECTIONS_PER_KEY,
      framesPerSecond: config.WS_MAX_FRAMES_PER_SEC,
      tradesWindowMs: config.WS_TRADES_WINDOW_MS,
      bookWindowMs: config.WS_BOOK_WINDOW_MS,
      maxCatchUpReports: config.WS_MAX_CATCH_UP_REPORTS,
    },
    onError: (where, error) => {
      if (Date.now() - lastErrorLog > 1_000) {
        lastErrorLog = Date.now();
        logger.warn({ err: error, where }, 'ws-server: retrying');
      }
    },
  });

  const feed = new RabbitFeed(
    {
      url: config.AMQP_URL,
      exchange: names.exchange,
      queue: `${names.exchange}.${instance}`,
      maxQueuedMessages: config.WS_QUEUE_MAX_MESSAGES,
    },
    {
      onConnected: () => {
        logger.info({ queue: `${names.exchange}.${instance}` }, 'RabbitMQ feed consuming; bootstrapping books');
        hub.onFeedConnected();
      },
      onMessage: (routingKey, envelopes) => hub.onMessage(routingKey, envelopes),
      onDisconnected: (error) => {
        hub.onFeedDisconnected();
        logger.warn({ err: error }, 'RabbitMQ feed down; reconnecting');
      },
    },
  );

  // the `positions` channel's feed: the Redis stream (WalletChanged and FundingPaid have no RabbitMQ key; docs/futures.md)
  const tail = new RedisStreamTail(
    { url: config.REDIS_URL, stream: names.stream, types: POSITIONS_TYPES },
    {
      onEntries: (envelopes, throughSeq) => hub.onStreamEntries(envelopes, throughSeq),
      onResumed: (afterSeq) => {
        logger.info({ afterSeq }, 'Redis stream tail reading again; sweeping positions subscribers');
        hub.onStreamResumed(afterSeq);
      },
      onError: (error) => logger.warn({ err: error }, 'Redis stream tail down; reconnecting'),
    },
  );

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('xtrader_ws_connections', 'open WebSocket connections', () => transport.connections);
  gauge('xtrader_ws_authenticated_connections', 'connections authenticated with an API key', () => hub.stats.authenticated);
  gauge('xtrader_ws_frames_sent_total', 'frames handed to sockets', () => hub.stats.framesSent);
  gauge('xtrader_ws_executions_pushed_total', 'execution reports pushed to their owners', () => hub.stats.executionsPushed);
  gauge('xtrader_ws_feed_messages_total', 'RabbitMQ messages consumed', () => feed.messages);
  gauge('xtrader_ws_positions_pushed_total', 'positions envelopes pushed to their owners', () => hub.stats.positionsPushed);
  gauge('xtrader_ws_stream_tail_entries_total', 'Redis stream entries read for the positions channel', () => tail.entries);
  gauge('xtrader_ws_stream_tail_up', '1 when the Redis stream tail is reading', () => (tail.state === 'up' ? 1 : 0));
  gauge('xtrader_ws_feed_up', '1 when the RabbitMQ feed is consuming', () => (feed.state === 'up' ? 1 : 0));
  gauge('xtrader_ws_feed_duplicates_total', 'envelopes dropped as already handled (a publisher resend)', () => hub.stats.duplicatesDropped);
  gauge('xtrader_ws_feed_gaps_total', 'holes found in prev_seq chains (repaired)', () => hub.stats.chainGaps);
  gauge('xtrader_ws_slow_clients_closed_total', 'connections closed 4008 (send buffer full)', () => transport.stats.slowClientsClosed);
  gauge('xtrader_ws_refused_connections_total', 'upgrades refused 503 (connection limit)', () => transport.stats.refusedConnections);
  gauge('xtrader_ws_dead_peers_cut_total', 'connections cut for not answering a ping', () => transport.stats.deadPeersCut);
  gauge('xtrader_ws_resumes_total', 'executions resumes served', () => hub.stats.resumes);
  gauge(
    'xtrader_ws_catch_up_overflows_total',
    'connections closed 1013: more live reports during their resume than WS_MAX_CATCH_UP_REPORTS',
    () => hub.stats.catchUpOverflows,
  );
  gauge('xtrader_ws_execution_sweeps_total', 'history sweeps of executions subscribers after a feed reconnect', () => hub.stats.sweeps);
  gauge('xtrader_ws_resume_failures_total', 'executions resumes refused (history unavailable or too far)', () => hub.stats.resumeFailures);

  const health = () => ({
    status: feed.state === 'up' && [...hub.books.values()].every((book) => book.state === 'live') ? 'ok' : 'degraded',
    instance,
    connections: transport.connections,
    feed: feed.state,
    // the positions channel's Redis stream tail (not in `status`: public channels and executions do not need it)
    positions_feed: tail.state,
    books: Object.fromEntries(
      [...hub.books.values()].map((book) => [book.symbol, { state: book.state, symbol_seq: book.book.symbolSeq, gaps: book.gaps }]),
    ),
  });
  const http: Server = createServer((request, response) => {
    const target = (request.url ?? '').split('?')[0];
    if (request.method === 'GET' && target === '/health') {
      const body = health();
      response.writeHead(body.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (request.method === 'GET' && target === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"code":"NOT_FOUND","message":"WebSocket at /ws; GET /health, GET /metrics"}');
  });
  http.headersTimeout = 10_000;
  http.requestTimeout = 10_000;
  const transport = new WsTransport(http, hub, {
    maxConnections: config.WS_MAX_CONNECTIONS,
    maxFrameBytes: config.WS_MAX_FRAME_BYTES,
    sendBufferBytes: config.WS_SEND_BUFFER_BYTES,
    pingIntervalMs: config.WS_PING_INTERVAL_MS,
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.WS_PORT, config.WS_HOST, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  feed.start();
  tail.start();
  logger.info({ url: `ws://${config.WS_HOST}:${port}/ws`, instance }, 'ws-server listening');

  return {
    hub,
    port,
    url: `ws://${config.WS_HOST}:${port}/ws`,
    async close() {
      hub.flushAll();
      await transport.close();
      await feed.close();
      await tail.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      auth.close();
      await history.close();
      await positionsHistory.close();
      await pool.end().catch(() => {});
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { process: `ws-server-${config.WS_PORT}` } });
  stopOnSignals(logger, await startWsServer(config, { logger }));
}

runIfEntry(import.meta.url, main);
