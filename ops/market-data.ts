/**
 * The market-data service (`node --import tsx ops/market-data.ts`; npm start runs one): Kafka topic
 * `market-data` → 1-minute candles in PostgreSQL, for GET /v1/candles. Its own consumer group
 * (MARKET_DATA_GROUP, prefixed by BROKER_NAMESPACE), Trade envelopes only. Each partition batch is
 * one PostgreSQL transaction (db/candles/candle-writer.ts: candle upserts and the symbols' last
 * applied seq together); Kafka offsets are committed after it. Kafka down: candles stop advancing,
 * nothing else depends on this process, and it resumes from the committed offsets. It applies the
 * migrations itself, like the persister. /metrics and /health on MARKET_DATA_HOST:MARKET_DATA_PORT
 * (default 127.0.0.1:7011), with the consumer lag in records and seconds.
 */
import type { ISocketFactory } from 'kafkajs';
import pg from 'pg';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CandleWriter } from '../db/candles/candle-writer.ts';
import { KafkaMarketDataConsumer, type ConsumerLag, type MarketDataBatch } from '../mq/adapters/kafka-market-data-consumer.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import { decodeMarketDataRecord, emptyDecoded, SeqChainWatch } from '../mq/market-data/trade-records.ts';
import { migrateOnStart } from './migrate-on-start.ts';
import { cachedFor, closeOnce, closeStatusServer, runServiceIfEntry, serveMetricsAndHealth } from './process-kit.ts';
import type { Config } from './config.ts';

export interface MarketDataStats {
  batches: number;
  records: number;
  tradesApplied: number;
  duplicates: number;
  others: number;
  invalid: number;
  gaps: number;
  /** ms (Date.now) of the first and last committed batch that applied a trade */
  firstAppliedAt: number | null;
  lastAppliedAt: number | null;
}

export interface RunningMarketData {
  readonly url: string;
  readonly consumer: KafkaMarketDataConsumer;
  stats(): MarketDataStats;
  close(): Promise<void>;
}

export function marketDataGroup(config: Pick<Config, 'BROKER_NAMESPACE' | 'MARKET_DATA_GROUP'>): string {
  return config.BROKER_NAMESPACE === '' ? config.MARKET_DATA_GROUP : `${config.BROKER_NAMESPACE}.${config.MARKET_DATA_GROUP}`;
}

const START_RETRY_MS = 60_000;

export interface MarketDataOptions {
  /** Kafka connections through this (tests: an outage of this process's Kafka alone, the shared broker untouched) */
  readonly kafkaSocketFactory?: ISocketFactory;
}

export async function startMarketData(config: Config, logger: Logger, options: MarketDataOptions = {}): Promise<RunningMarketData> {
  await migrateOnStart(config.DATABASE_URL, logger, START_RETRY_MS);
  // batches are handled one at a time (one partition at a time): one connection, one spare for /health
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle PostgreSQL client failed'));
  const writer = new CandleWriter(pool);
  const topic = brokerNames(config.BROKER_NAMESPACE).marketData;
  const groupId = marketDataGroup(config);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const batchSeconds = new Histogram({
    name: 'xtrader_market_data_batch_seconds',
    help: 'one partition batch: decode, aggregate and the PostgreSQL transaction (retries excluded)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const tradesTotal = new Counter({
    name: 'xtrader_market_data_trades_total',
    help: 'Trade envelopes read: applied to candles, or skipped as already applied',
    labelNames: ['result'],
    registers: [registry],
  });
  const envelopesSkipped = new Counter({
    name: 'xtrader_market_data_skipped_envelopes_total',
    help: 'envelopes that are not trades (BookDelta, Ticker) or not valid',
    labelNames: ['reason'],
    registers: [registry],
  });
  const gapsTotal = new Counter({
    name: 'xtrader_market_data_seq_gaps_total',
    help: 'envelopes whose prev_seq shows envelopes of the same symbol missing on the topic',
    registers: [registry],
  });
  const errorsTotal = new Counter({
    name: 'xtrader_market_data_errors_total',
    help: 'failures retried with back-off',
    labelNames: ['where'],
    registers: [registry],
  });

  const stats: MarketDataStats = {
    batches: 0,
    records: 0,
    tradesApplied: 0,
    duplicates: 0,
    others: 0,
    invalid: 0,
    gaps: 0,
    firstAppliedAt: null,
    lastAppliedAt: null,
  };
  const chain = new SeqChainWatch();
  const progress = new Map<string, number>();
  let lastErrorLog = 0;

  const handle = async (batch: MarketDataBatch): Promise<void> => {
    const started = performance.now();
    const decoded = emptyDecoded();
    for (const record of batch.records) decodeMarketDataRecord(record.value, decoded);
    const result = await writer.write(decoded.trades);
    // counted once the transaction committed (a retried batch is counted once)
    batchSeconds.observe((performance.now() - started) / 1000);
    let gaps = 0;
    for (const link of decoded.chain) if (chain.observe(link.symbol, link.seq, link.prevSeq) === 'gap') gaps++;
    if (gaps > 0) {
      gapsTotal.inc(gaps);
      logger.warn({ gaps, partition: batch.partition }, 'market-data: envelopes missing on the topic (prev_seq gap)');
    }
    tradesTotal.inc({ result: 'applied' }, result.applied);
    tradesTotal.inc({ result: 'duplicate' }, result.duplicates);
    envelopesSkipped.inc({ reason: 'not_trade' }, decoded.others);
    if (decoded.invalid > 0) {
      envelopesSkipped.inc({ reason: 'invalid' }, decoded.invalid);
      logger.warn(
        { invalid: decoded.invalid, partition: batch.partition },
        'market-data: records or envelopes that are not valid envelopes were skipped',
      );
    }
    for (const [symbol, symbolProgress] of result.progress) progress.set(symbol, symbolProgress.lastSeq);
    stats.batches++;
    stats.records += batch.records.length;
    stats.tradesApplied += result.applied;
    stats.duplicates += result.duplicates;
    stats.others += decoded.others;
    stats.invalid += decoded.invalid;
    stats.gaps += gaps;
    if (result.applied > 0) {
      stats.firstAppliedAt ??= Date.now();
      stats.lastAppliedAt = Date.now();
    }
  };

  const consumer = new KafkaMarketDataConsumer({
    brokers: config.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
    topic,
    groupId,
    partitions: config.KAFKA_PARTITIONS,
    sessionTimeoutMs: config.MARKET_DATA_SESSION_TIMEOUT_MS,
    handler: handle,
    ...(options.kafkaSocketFactory ? { socketFactory: options.kafkaSocketFactory } : {}),
    onError: (where, error) => {
      errorsTotal.inc({ where });
      if (Date.now() - lastErrorLog > 1_000) {
        lastErrorLog = Date.now();
        logger.warn({ err: error, where }, 'market-data: retrying with back-off');
      }
    },
  });

  const lag = cachedFor(1_000, (): Promise<ConsumerLag | undefined> => consumer.lag());
  new Gauge({
    name: 'xtrader_market_data_lag_messages',
    help: 'Kafka records of the topic the group has not committed yet (-1: Kafka unreachable)',
    registers: [registry],
    async collect() {
      this.set((await lag())?.messages ?? -1);
    },
  });
  new Gauge({
    name: 'xtrader_market_data_lag_seconds',
    help: 'age of the last record committed on a partition that still has records to read (0 when caught up; -1: unknown or Kafka unreachable)',
    registers: [registry],
    async collect() {
      this.set((await lag())?.seconds ?? -1);
    },
  });
  new Gauge({
    name: 'xtrader_market_data_last_applied_seq',
    help: 'per symbol, the seq of the last trade applied by this process',
    labelNames: ['symbol'],
    registers: [registry],
    collect() {
      for (const [symbol, seq] of progress) this.set({ symbol }, seq);
    },
  });

  const { server, url } = await serveMetricsAndHealth(config.MARKET_DATA_HOST, config.MARKET_DATA_PORT, registry, async () => {
    const [current, postgres] = await Promise.all([
      lag(),
      pool.query('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
    ]);
    const kafka = current ? 'up' : 'down';
    return {
      status: kafka === 'up' && postgres === 'up' && consumer.state === 'running' ? 'ok' : 'degraded',
      services: { kafka, postgres },
      consumer: consumer.state,
      topic,
      group: groupId,
      lag_messages: current?.messages ?? null,
      lag_seconds: current?.seconds ?? null,
      partitions: current?.partitions ?? null,
      batches: stats.batches,
      records: stats.records,
      trades_applied: stats.tradesApplied,
      duplicates: stats.duplicates,
      skipped: { not_trade: stats.others, invalid: stats.invalid },
      seq_gaps: stats.gaps,
      first_applied_at: stats.firstAppliedAt,
      last_applied_at: stats.lastAppliedAt,
      last_applied_seq: Object.fromEntries(progress),
    };
  });

  consumer.start();
  logger.info({ url, topic, group: groupId }, 'market-data service started');

  return {
    url,
    consumer,
    stats: () => ({ ...stats }),
    close: closeOnce(async () => {
      await consumer.stop();
      await closeStatusServer(server);
      await pool.end();
      logger.info(stats, 'market-data service stopped');
    }),
  };
}

runServiceIfEntry(import.meta.url, 'market-data', startMarketData);
