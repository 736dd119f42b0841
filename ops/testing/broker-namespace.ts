/**
 * Removes what a test stack's namespace left on the shared brokers — its Redis stream, its two
 * Kafka topics and its RabbitMQ exchange (the ws-servers' queues expire by themselves) — so that
 * repeated test runs on one machine do not pile up topics, partitions and exchanges. Best effort:
 * a broker that is down (an isolation test's doing) is skipped, never an error.
 */
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type { brokerNames } from '../../contract/broker-routes.ts';
import { loadConfig } from '../config.ts';

export async function removeBrokerNamespace(names: ReturnType<typeof brokerNames>): Promise<void> {
  const config = loadConfig();
  const bounded = <T>(work: Promise<T>): Promise<unknown> =>
    Promise.race([work.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  await Promise.all([
    bounded(
      (async () => {
        const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
        redis.on('error', () => {});
        try {
          await redis.connect();
          await redis.del(names.stream);
        } finally {
          redis.disconnect();
        }
      })(),
    ),
    bounded(
      (async () => {
        const admin = new Kafka({
          clientId: 'xtrader-test-cleanup',
          brokers: config.KAFKA_BROKERS.split(','),
          logLevel: logLevel.NOTHING,
          retry: { retries: 1 },
        }).admin();
        await admin.connect();
        try {
          const existing = new Set(await admin.listTopics());
          const topics = [names.marketData, names.executions].filter((topic) => existing.has(topic));
          if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 8_000 });
        } finally {
          await admin.disconnect();
        }
      })(),
    ),
    bounded(
      (async () => {
        const connection = await amqp.connect(config.AMQP_URL, { timeout: 3_000 });
        connection.on('error', () => {});
        try {
          const channel = await connection.createChannel();
          channel.on('error', () => {});
          await channel.deleteExchange(names.exchange);
        } finally {
          await connection.close().catch(() => {});
        }
      })(),
    ),
  ]);
}
