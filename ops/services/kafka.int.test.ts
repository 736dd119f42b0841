import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';

const config = loadConfig();

describe('Kafka (KAFKA_BROKERS, KRaft single node)', () => {
  const kafka = new Kafka({
    clientId: 'xtrader-services-test',
    brokers: config.KAFKA_BROKERS.split(','),
    connectionTimeout: 3_000,
    retry: { retries: 2 },
    logLevel: logLevel.NOTHING,
  });
  const topic = `test-round-trip-${randomUUID()}`;
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('creates a topic, produces keyed messages and consumes them in order in a fresh group', async () => {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })).toBe(true);

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [1, 2, 3].map((seq) => ({ key: 'BTC-USDT', value: JSON.stringify({ type: 'Trade', seq }) })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `test-group-${randomUUID()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const seqs: number[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seqs.push((JSON.parse(message.value?.toString() ?? '{}') as { seq: number }).seq);
            if (seqs.length === 3) resolve();
          },
        });
      });
      expect(seqs).toEqual([1, 2, 3]);
    } finally {
      await consumer.disconnect();
    }
  });
});
