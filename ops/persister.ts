/**
 * The persister process (`node --import tsx ops/persister.ts`; npm start runs one): Redis stream
 * `executions` → PostgreSQL, PERSISTER_CONSUMERS consumers of the group `execution_processors`
 * (db/persister.ts). It applies the migrations itself (under the advisory lock), so it may start
 * before or after the core. Its lag is served on PERSISTER_HOST:PERSISTER_PORT (default
 * 127.0.0.1:7010): `/metrics` (Prometheus) and `/health` (JSON), for the core's /ready or anyone.
 * SIGTERM/SIGINT: consumers finish the batch they hold (commit, XACK), then the process exits 0.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RedisExecutionStream } from '../db/adapters/redis-execution-stream.ts';
import { Persister, type PersisterLag } from '../db/persister.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import { migrateOnStart } from './migrate-on-start.ts';
import { cachedFor, closeOnce, closeStatusServer, runServiceIfEntry, serveMetricsAndHealth } from './process-kit.ts';
import type { Config } from './config.ts';

export interface RunningPersister {
  readonly persister: Persister;
  /** http://host:port of /metrics and /health */
  readonly url: string;
  close(): Promise<void>;
}

/** How long a start waits for PostgreSQL (migrations) before giving up; the supervisor restarts us. */
const START_RETRY_MS = 60_000;

export async function startPersister(config: Config, logger: Logger): Promise<RunningPersister> {
  await migrateOnStart(config.DATABASE_URL, logger, START_RETRY_MS);

  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    // one connection per consumer, one spare for /health
    max: config.PERSISTER_CONSUMERS + 1,
    connectionTimeoutMillis: 5_000,
    // a batch statement that hangs longer than this is given up and retried (the XACK has not happened)
    query_timeout: 30_000,
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client failed'));

  const names = brokerNames(config.BROKER_NAMESPACE);
  const stream = new RedisExecutionStream({ url: config.REDIS_URL, stream: names.stream, group: names.group });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const batchSeconds = new Histogram({
    name: 'xtrader_persister_batch_seconds',
    help: 'time of one batch statement (one transaction), retries excluded',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const entriesTotal = new Counter({
    name: 'xtrader_persister_entries_total',
    help: 'stream entries committed and acknowledged',
    labelNames: ['source'],
    registers: [registry],
  });
  const insertedTotal = new Counter({
    name: 'xtrader_persister_rows_inserted_total',
    help: 'rows inserted (re-deliveries insert none)',
    labelNames: ['table'],
    registers: [registry],
  });
  const deadLettersTotal = new Counter({
    name: 'xtrader_persister_dead_letters_total',
    help: 'entries kept in stream_dead_letters instead of their tables',
    registers: [registry],
  });
  const errorsTotal = new Counter({
    name: 'xtrader_persister_errors_total',
    help: 'failures retried with back-off',
    labelNames: ['where'],
    registers: [registry],
  });
  const trimmedTotal = new Counter({
    name: 'xtrader_persister_trimmed_entries_total',
    help: 'stream entries removed by XTRIM MINID',
    registers: [registry],
  });

  let lastErrorLog = 0;
  const persister = new Persister({
    db: pool,
    stream,
    consumers: config.PERSISTER_CONSUMERS,
    name: config.PERSISTER_NAME,
    batchSize: config.PERSISTER_BATCH,
    claimIdleMs: config.PERSISTER_CLAIM_IDLE_MS,
    claimEveryMs: config.PERSISTER_CLAIM_EVERY_MS,
    trimEveryMs: config.PERSISTER_TRIM_EVERY_MS,
    observer: {
      onBatch: (info) => {
        batchSeconds.observe(info.writeMs / 1000);
        entriesTotal.inc({ source: info.source }, info.entries);
        insertedTotal.inc({ table: 'executions' }, info.written.executions);
        insertedTotal.inc({ table: 'trades' }, info.written.trades);
        insertedTotal.inc({ table: 'balance_changes' }, info.written.balances);
        if (info.source !== 'new')
          logger.info({ consumer: info.consumer, source: info.source, entries: info.entries }, 'took over pending entries');
      },
      onError: (where, error, consumer) => {
        errorsTotal.inc({ where });
        // one line per second at most: an outage retries many times
        if (Date.now() - lastErrorLog > 1_000) {
          lastErrorLog = Date.now();
          logger.warn({ err: error, where, consumer }, 'persister: retrying with back-off');
        }
      },
      onDeadLetters: (count, consumer) => {
        deadLettersTotal.inc(count);
        logger.error({ count, consumer }, 'stream entries could not be used: kept in stream_dead_letters');
      },
      onTrim: (removed) => trimmedTotal.inc(removed),
    },
  });

  // Lag is read from Redis when scraped, at most once a second.
  const lag = cachedFor(1_000, (): Promise<PersisterLag | undefined> => persister.lag().catch(() => undefined));
  new Gauge({
    name: 'xtrader_persister_pending_entries',
    help: 'entries delivered to a consumer and not yet committed + acknowledged (-1: Redis unreachable)',
    registers: [registry],
    async collect() {
      this.set((await lag())?.pending ?? -1);
    },
  });
  new Gauge({
    name: 'xtrader_persister_undelivered_entries',
    help: 'entries in the stream not yet read by any consumer (-1: unknown)',
    registers: [registry],
    async collect() {
      this.set((await lag())?.undelivered ?? -1);
    },
  });
  new Gauge({
    name: 'xtrader_persister_seconds_behind',
    help: 'age of the oldest entry not yet acknowledged, by its envelope timestamp (0 when caught up; -1: Redis unreachable)',
    registers: [registry],
    async collect() {
      this.set((await lag())?.secondsBehind ?? -1);
    },
  });
  new Gauge({
    name: 'xtrader_persister_last_committed_seq',
    help: 'highest envelope seq this process committed',
    registers: [registry],
    collect() {
      this.set(persister.stats().lastCommittedSeq);
    },
  });

  const { server, url } = await serveMetricsAndHealth(config.PERSISTER_HOST, config.PERSISTER_PORT, registry, async () => {
    const [current, postgres] = await Promise.all([
      lag(),
      pool.query('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
    ]);
    const stats = persister.stats();
    const redis = current ? 'up' : 'down';
    return {
      status: redis === 'up' && postgres === 'up' ? 'ok' : 'degraded',
      services: { redis, postgres },
      stream: names.stream,
      group: names.group,
      pending: current?.pending ?? null,
      undelivered: current?.undelivered ?? null,
      seconds_behind: current?.secondsBehind ?? null,
      last_committed_seq: stats.lastCommittedSeq,
      entries: stats.entries,
      dead_letters: stats.deadLetters,
      claimed: stats.claimed,
      trimmed: stats.trimmed,
      consumers: stats.consumers.map((consumer) => ({
        name: consumer.name,
        state: consumer.state,
        batches: consumer.batches,
        entries: consumer.entries,
        last_error: consumer.lastError ?? null,
      })),
    };
  });

  persister.start();
  logger.info({ url, stream: names.stream, group: names.group, consumers: config.PERSISTER_CONSUMERS }, 'persister started');

  return {
    persister,
    url,
    close: closeOnce(async () => {
      await persister.stop();
      await closeStatusServer(server);
      await stream.close();
      await pool.end();
      logger.info(persister.stats(), 'persister stopped');
    }),
  };
}

runServiceIfEntry(import.meta.url, 'persister', startPersister);
