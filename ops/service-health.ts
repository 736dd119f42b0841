import net from 'node:net';
import amqp from 'amqplib';
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

/**
 * PING over a raw socket (AUTH first when the URL carries credentials). ioredis leaves a ~2 s timer
 * behind after a refused connection; a probe called every few seconds should leave nothing.
 */
export function probeRedis(redisUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const url = new URL(redisUrl);
  const commands: string[][] = [];
  if (url.password)
    commands.push(
      url.username
        ? ['AUTH', decodeURIComponent(url.username), decodeURIComponent(url.password)]
        : ['AUTH', decodeURIComponent(url.password)],
    );
  commands.push(['PING']);
  const request = commands
    .map((words) => `*${words.length}\r\n${words.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join('')}`)
    .join('');
  const expected = `${url.password ? '+OK\r\n' : ''}+PONG\r\n`;

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 6379 : Number(url.port) });
    let reply = '';
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.startsWith('-')) finish(new Error(`Redis answered ${reply.trim()}`));
      else if (reply.length >= expected.length)
        finish(reply.startsWith(expected) ? undefined : new Error(`Redis answered ${reply.trim()}`));
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('Redis closed the connection')));
  });
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
