/**
 * The core process: config → migrations → sequencer (recovery) → API → listen.
 * It listens before recovery so /health and /ready answer while the journal replays
 * (/ready is 503 until then). SIGTERM/SIGINT: stop taking connections, let the sequencer
 * write and apply what it already queued, close the journal and the pool, exit 0.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runIfEntry, stopOnSignals } from './process-kit.ts';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createApi, type Api } from '../api/app.ts';
import { configureHttpServer, HTTP_SERVER_SETTINGS, type HttpServerSettings } from './http-limits.ts';
import { CredentialStore } from '../api/credentials.ts';
import { EventFeed } from '../api/event-feed.ts';
import { ApiMetrics } from '../api/metrics.ts';
import { parseEncryptionKey, SecretBox } from '../api/secret-box.ts';
import { loadOrCreateSecretFile } from './secret-files.ts';
import { CandleStore } from '../db/candles/candle-store.ts';
import { HistoryStore } from '../db/history-store.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { DEFAULT_ENGINE_CONFIG, Engine, withFundingIntervalMs, type EngineConfig } from '../engine/index.ts';
import { FuturesMetrics } from '../api/futures-metrics.ts';
import { createSequencer, ENGINE_FACTORY_MODULE, type RecoveryInfo } from '../sequencer/index.ts';
import type { SequencerPort } from '../api/context.ts';
import { loadConfig, type Config } from './config.ts';
import { EventLogService } from './event-log-service.ts';
import { probeServices } from './service-health.ts';
import { loadWebPage } from './web-page.ts';

const SHUTDOWN_GRACE_MS = 5_000;

export interface RunningCore {
  readonly url: string;
  readonly adminToken: string;
  /** resolves when recovery finished and orders are accepted */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface CoreOptions {
  readonly logger?: Logger;
  readonly engineConfig?: EngineConfig;
  /** probe brokers for /health and /ready (default true) */
  readonly probe?: boolean;
  /** called once if the sequencer stops after being ready (journal I/O failed): restart to recover */
  readonly onSequencerFailure?: () => void;
}

export async function startCore(config: Config, options: CoreOptions = {}): Promise<RunningCore> {
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL, base: { process: 'core' } });
  const baseEngineConfig = options.engineConfig ?? DEFAULT_ENGINE_CONFIG;
  // FUNDING_INTERVAL_MS (tests, demos) replaces every perpetual's interval; like the markets it must
  // stay the same for a given journal (replay settles funding at the same times only then)
  const engineConfig =
    config.FUNDING_INTERVAL_MS === undefined ? baseEngineConfig : withFundingIntervalMs(baseEngineConfig, config.FUNDING_INTERVAL_MS);
  const perpetualSymbols = (engineConfig.perpetualMarkets ?? []).map((market) => market.symbol);
  // Journal, snapshots and generated secrets: the owner's only (a new directory; an existing one is left as it is).
  await mkdir(config.DATA_DIR, { recursive: true, mode: 0o700 });

  const adminToken = config.ADMIN_TOKEN ?? (await generatedSecret(path.join(config.DATA_DIR, 'admin-token'), 'admin token', logger));
  const encryptionKey = parseEncryptionKey(
    config.SECRET_ENCRYPTION_KEY ?? (await generatedSecret(path.join(config.DATA_DIR, 'secret-key'), 'API-secret encryption key', logger)),
  );

  await ensureDatabase(config.DATABASE_URL);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const applied = await migrate(pool);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  // History reads (orders beyond memory, order history, fills, older trades) on a pool of their own
  // with short timeouts: a slow or absent PostgreSQL answers 503 there and never holds the order path's pool.
  const historyPool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: 4,
    connectionTimeoutMillis: 2_000,
    statement_timeout: 5_000,
    query_timeout: 10_000,
  });
  historyPool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client (history reads) failed'));
  const persisterHealth = persisterProbe(`http://${config.PERSISTER_HOST}:${config.PERSISTER_PORT}/health`);

  const feed = new EventFeed();
  const metrics = new ApiMetrics();
  // read at scrape time (the sequencer below exists by then; while it recovers the read throws and is skipped)
  const futuresMetrics = new FuturesMetrics(metrics.registry, () => journaled.queries, perpetualSymbols);
  // The outbox every publisher reads: written from the sequencer's sink, after the batch's acks.
  const eventLog = new EventLogService({
    dataDir: config.DATA_DIR,
    publishers: config.PUBLISHERS,
    maxBytes: config.EVENT_LOG_MAX_BYTES,
    segmentBytes: config.EVENT_LOG_SEGMENT_BYTES,
    degradedLagMs: config.PUBLISHER_DEGRADED_LAG_MS,
    registry: metrics.registry,
    onWarning: (message) => logger.warn(message),
  });
  if (eventLog.startedEmpty) logger.info({ dir: eventLog.writer.dir }, 'event log is new: it starts with the first event after recovery');
  let recovery: RecoveryInfo | undefined;
  const journaled = createSequencer({
    dataDir: config.DATA_DIR,
    createEngine: () => new Engine(engineConfig),
    restoreEngine: (snapshot) => Engine.restore(engineConfig, snapshot),
    onEvents: (events) => {
      feed.onEvents(events);
      futuresMetrics.onEvents(events);
      // replayed events the log already holds are skipped by the writer: each event lands once
      eventLog.writer.append(events);
    },
    acceptSnapshot: (engine) => eventLog.acceptsSnapshot(engine),
    beforeSnapshot: () => eventLog.writer.syncNow(),
    maxPending: config.SEQUENCER_MAX_PENDING,
    maxBatch: config.SEQUENCER_MAX_BATCH,
    snapshotEvery: config.SNAPSHOT_EVERY,
    keepSnapshots: config.SNAPSHOT_KEEP,
    keepJournal: config.JOURNAL_KEEP_ALL,
    // Snapshots are serialized by a child process that follows the journal, not on this loop
    // (a synchronous one stalled every ack for 200–250 ms); if the child dies, the sequencer
    // falls back to synchronous snapshots.
    snapshotProcess: { module: ENGINE_FACTORY_MODULE, argument: engineConfig },
    observer: {
      ...metrics.sequencerObserver(),
      onRecovered: (info) => {
        recovery = info;
      },
      onWarning: (message) => logger.warn(message),
      onSinkError: (error) => logger.error({ err: error }, 'event sink failed'),
    },
  });

  // The log's disk bound is the one limit a broker outage can reach: then new commands get 503.
  let lastSubmitAt = 0;
  const sequencer: SequencerPort = {
    get ready() {
      return journaled.ready;
    },
    get queries() {
      return journaled.queries;
    },
    get lastSeq() {
      return journaled.lastSeq;
    },
    get pending() {
      return journaled.pending;
    },
    maxPending: journaled.maxPending,
    submit: (command) => {
      try {
        eventLog.checkRoom();
      } catch (error) {
        return Promise.reject(error as Error);
      }
      lastSubmitAt = Date.now();
      return journaled.submit(command);
    },
  };
  // With perpetual markets, a PriceTick every PRICE_TICK_INTERVAL_MS (the contract's second; journaled, so replay re-takes the same
  // indexes, samples and funding); it lets waiting Tickers out too. Without them, Tickers wait for a
  // command at least a second after the previous one; in a quiet market a Tick (journaled, so
  // replay emits the same Tickers) lets the last change out.
  let lastPriceTickAt = 0;
  const priceTicks = perpetualSymbols.length > 0 && config.PRICE_TICK_INTERVAL_MS > 0;
  const ticker = setInterval(() => {
    if (!journaled.ready) return;
    const now = Date.now();
    if (priceTicks) {
      if (now - lastPriceTickAt < config.PRICE_TICK_INTERVAL_MS) return;
      lastPriceTickAt = now;
      sequencer.submit({ type: 'PriceTick' }).catch(() => {});
      return;
    }
    if (now - lastSubmitAt < 1_000) return;
    if (journaled.engine.pendingTickers() === 0) return;
    sequencer.submit({ type: 'Tick' }).catch(() => {});
  }, 250);
  ticker.unref();

  metrics.watchQueueDepth(() => sequencer.pending);
  metrics.watchLiquidations(() => {
    if (!journaled.ready) return undefined; // opening: the engine is not there yet
    const engine = journaled.engine;
    const { book, insurance, adl, adlFills } = engine.liquidation.counts;
    return { stages: { book, insurance, adl }, adlFills, funds: engine.futures.insuranceFunds };
  });

  const credentials = new CredentialStore(pool, new SecretBox(encryptionKey), (apiKey, userId) =>
    logger.warn(
      { apiKey, userId },
      'API key exists but its secret does not open with this SECRET_ENCRYPTION_KEY / secret-key file: answered 401 INVALID_API_KEY',
    ),
  );
  let recovered = false;
  const api = createApi({
    sequencer,
    engineConfig,
    credentials,
    ready: () => recovered,
    feed,
    metrics,
    adminToken,
    rateLimits: { ordersPerSecond: config.RATE_LIMIT_ORDERS_PER_SEC, requestsPerMinute: config.RATE_LIMIT_REQUESTS_PER_MIN },
    ...(options.probe === false ? {} : { probeServices: async () => ({ ...(await probeServices(config)) }) }),
    publishers: () => ({ ...eventLog.reports() }),
    persister: () => persisterHealth(),
    history: new HistoryStore(historyPool),
    // candles (written by the market-data service) are read on the same short-timeout pool
    candles: new CandleStore(historyPool),
    degraded: () => eventLog.degraded(),
    eventLog: () => eventLog.summary(),
    recoveryInfo: () => recovery ?? null,
    web: await loadWebPage(config),
    logger,
  });

  const server = await listen(
    api,
    config.API_HOST,
    config.API_PORT,
    {
      ...HTTP_SERVER_SETTINGS,
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      maxConnectionsPerClient: config.HTTP_MAX_CONNECTIONS_PER_CLIENT,
    },
    metrics.registry,
  );
  const address = server.address() as AddressInfo;
  const url = `http://${config.API_HOST}:${address.port}`;
  logger.info({ url }, 'core listening; recovering');

  // Which client_order_ids are taken is engine state: recovered with the engine, nothing to rebuild.
  const ready = journaled.open().then(() => {
    recovered = true;
    logger.info({ recovery, lastSeq: sequencer.lastSeq }, 'core ready');
  });

  let closing: Promise<void> | undefined;
  // The sequencer stops for good when journal I/O fails (every submit then answers 503
  // OUTCOME_UNKNOWN). Recovery on a fresh start is the way back, so tell the owner of the process.
  const watchdog = setInterval(() => {
    if (recovered && !sequencer.ready && !closing) {
      clearInterval(watchdog);
      logger.fatal('sequencer stopped (journal failure); the core must restart to recover');
      options.onSequencerFailure?.();
    }
  }, 500);
  watchdog.unref();
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(watchdog);
      clearInterval(ticker);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        // Requests already inside get their answers; a client that keeps a connection busy past
        // the grace period is cut off so shutdown cannot hang.
        const grace = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, SHUTDOWN_GRACE_MS);
        grace.unref();
      });
      await ready.catch(() => {});
      await journaled.close();
      eventLog.close();
      await pool.end();
      await historyPool.end();
      logger.info('core stopped');
    })();
    return closing;
  };
  return { url, adminToken, ready, close };
}

/**
 * Serves the app as @hono/node-server's serve() would (same listener), with the API's POST /v1/order
 * fast path in front: it answers the common order request itself and leaves everything else to the
 * app. Timeouts and connection caps: ops/http-limits.ts configureHttpServer().
 */
function listen(
  { app, orderFastPath }: Api,
  hostname: string,
  port: number,
  settings: HttpServerSettings,
  registry: Registry,
): Promise<Server> {
  const honoListener = getRequestListener(app.fetch, { hostname });
  return new Promise((resolve, reject) => {
    const server = createServer((incoming, outgoing) => {
      if (!admission.admit(incoming, outgoing)) return;
      if (orderFastPath(incoming, outgoing)) return;
      void honoListener(incoming, outgoing);
    });
    const admission = configureHttpServer(server, settings, registry);
    server.once('error', reject);
    server.listen(port, hostname, () => resolve(server));
  });
}

/**
 * The persister's own /health (its lag in entries and seconds), for /ready: fetched at most once a
 * second in the background, so /ready never waits on it; null while it does not answer.
 */
function persisterProbe(url: string): () => Record<string, unknown> | null {
  let last: { at: number; body: Record<string, unknown> | null } = { at: 0, body: null };
  let inFlight = false;
  return () => {
    const now = Date.now();
    if (!inFlight && now - last.at > 1_000) {
      inFlight = true;
      fetch(url, { signal: AbortSignal.timeout(500) })
        .then((response) => response.json() as Promise<Record<string, unknown>>)
        .then(
          (body) => (last = { at: Date.now(), body }),
          () => (last = { at: Date.now(), body: null }),
        )
        .finally(() => (inFlight = false));
    }
    return last.body === null ? null : { state: 'up', ...last.body };
  };
}

async function generatedSecret(file: string, what: string, logger: Logger): Promise<string> {
  const { value, created, tightened } = await loadOrCreateSecretFile(file, () => randomBytes(32).toString('hex'));
  if (created) logger.info({ file }, `generated ${what} (mode 600)`);
  if (tightened) logger.warn({ file }, `${what} was readable by others: set to mode 600`);
  return value;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { process: 'core' } });
  const core = await startCore(config, { logger, onSequencerFailure: () => process.exit(1) });
  if (!config.ADMIN_TOKEN) logger.info({ file: path.join(config.DATA_DIR, 'admin-token') }, 'admin token location (ADMIN_TOKEN unset)');
  stopOnSignals(logger, core);
  try {
    await core.ready;
  } catch (error) {
    logger.fatal({ err: error }, 'recovery failed');
    process.exit(1);
  }
}

runIfEntry(import.meta.url, main);
