import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { Config } from './config.ts';

export type ServiceState = 'up' | 'down';
export interface ServicesHealth {
  postgres: ServiceState;
  redis: ServiceState;
  rabbitmq: ServiceState;
  kafka: ServiceState;
}

/** Each probe gives up after this long; they run side by side, so a full check stays under ~1.5 s. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Real round trips (SELECT 1, PING, AMQP open/close, Kafka cluster metadata) with short timeouts.
 * Every client is closed in `finally`, so a process calling this every few seconds leaks nothing.
 */
export async function probeServices(config: Config, timeoutMs = PROBE_TIMEOUT_MS): Promise<ServicesHealth> {
  const state = async (probe: Promise<void>): Promise<ServiceState> => {
    try {
      await withDeadline(probe, timeoutMs + 250);
      return 'up';
    } catch {
      return 'down';
    }
  };
  const [postgres, redis, rabbitmq, kafka] = await Promise.all([
    state(probePostgres(config.DATABASE_URL, timeoutMs)),
    state(probeRedis(config.REDIS_URL, timeoutMs)),
    state(probeRabbitmq(config.AMQP_URL, timeoutMs)),
    state(probeKafka(config.KAFKA_BROKERS, timeoutMs)),
  ]);
  return { postgres, redis, rabbitmq, kafka };
}

/** Stops waiting after `ms`; the probe itself still ends on its own timeouts and closes its client. */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a late failure after the deadline is not an unhandled rejection
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export async function probePostgres(databaseUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {}); // a dropped connection surfaces as the query's rejection
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

export async function probeRedis(redisUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
  } finally {
    client.disconnect();
  }
}

export async function probeRabbitmq(amqpUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const connection = await amqp.connect(amqpUrl, { timeout: timeoutMs });
  connection.on('error', () => {});
  await connection.close();
}

export async function probeKafka(brokers: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const kafka = new Kafka({
    clientId: 'xtrader-health',
    brokers: brokers.split(',').map((broker) => broker.trim()),
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('Kafka answered with no brokers');
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
