/**
 * AsyncAPI schemas against real broker messages: a short trading session through the real core
 * and publishers, then every Redis entry (XRANGE), every Kafka record on both topics (a plain
 * kafkajs consumer) and every RabbitMQ message (a queue bound to `#`) validated, raw, against the
 * schemas served in /asyncapi.json — the topic, key and routing key included.
 */
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../mq/adapters/kafka-publisher.ts';
import { validateBody, validateRedisEntry } from '../contract/envelope-schemas.test-support.ts';
import { runWorkedExample } from '../api/futures-example.test-support.ts';
import { loadConfig } from './config.ts';
import { Stack, waitFor, type StackUser } from './testing/stack.ts';

const config = loadConfig();
let stack: Stack;
const kafkaRecords: Array<{ topic: string; key: string | null; value: string }> = [];
const rabbitMessages: Array<{ routingKey: string; body: string }> = [];
let stopConsumers: () => Promise<void> = async () => {};

beforeAll(async () => {
  stack = await Stack.start();
  const kafka = new Kafka({ clientId: 'schema-check', brokers: config.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  await ensureTopics(kafka, [stack.names.marketData, stack.names.executions], 3);
  const consumer = kafka.consumer({ groupId: `${stack.namespace}-schema`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [stack.names.marketData, stack.names.executions], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) =>
      void kafkaRecords.push({ topic, key: message.key?.toString() ?? null, value: message.value!.toString() }),
  });
  const connection = await amqp.connect(config.AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(stack.names.exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, stack.names.exchange, '#');
  await channel.consume(
    queue,
    (message) => message && rabbitMessages.push({ routingKey: message.fields.routingKey, body: message.content.toString() }),
    { noAck: true },
  );
  stopConsumers = async () => {
    await consumer.disconnect().catch(() => {});
    await connection.close().catch(() => {});
  };
}, 120_000);

afterAll(async () => {
  await stopConsumers();
  await stack?.stop();
});

describe('real broker messages match the AsyncAPI schemas', () => {
  it('every Redis entry, Kafka record and RabbitMQ message of a trading session validates', async () => {
    const users: StackUser[] = [await stack.createUser('schema-a'), await stack.createUser('schema-b')];
    // every kind of report: New, Trade, Cancelled, Expired (IOC), Rejected (funds), Triggered (stop), Amended is engine-only over HTTP today
    const resting = await stack.order(users[0]!, {
      symbol: 'BTC-KRW',
      side: 'Sell',
      order_type: 'Limit',
      price: '50000000',
      quantity: '0.05',
    });
    await stack.order(users[1]!, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.02' });
    await stack.order(users[1]!, {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'StopLimit',
      stop_price: '50000000',
      price: '51000000',
      quantity: '0.01',
    });
    await stack.order(users[0]!, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.01' });
    await stack.order(users[1]!, {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: '40000000',
      quantity: '0.01',
      time_in_force: 'IOC',
    });
    const poor = await stack.createUser('schema-poor', { KRW: '10000' });
    await stack.order(poor, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.01' }); // Rejected: INSUFFICIENT_FUNDS
    const cancel = await stack.signed(users[0]!, 'DELETE', `/v1/order/${resting}`);
    expect(cancel.status).toBe(200);
    // a perpetual session: transfers, settings, index prices, a position opened and half closed (PositionChanged, WalletChanged)
    await runWorkedExample(stack.client, `schema-${stack.namespace}`);
    const last = (await stack.adminState()).last_event_seq;
    await waitFor(
      async () => {
        const publishers = (await stack.ready()).publishers as Record<string, { confirmed_seq: number }>;
        return ['redis', 'kafka', 'rabbitmq'].every((name) => publishers[name]!.confirmed_seq >= last);
      },
      30_000,
      'publishers confirmed',
    );
    // WalletChanged goes to Kafka but not to RabbitMQ (contract/broker-routes.ts)
    const kafkaSeqs = () =>
      new Set(
        kafkaRecords.flatMap((record) =>
          ([] as Array<{ seq: number }>)
            .concat(JSON.parse(record.value))
            .filter((envelope) => (envelope as { type?: string }).type !== 'WalletChanged')
            .map((envelope) => envelope.seq),
        ),
      );
    const rabbitSeqs = () =>
      new Set(
        rabbitMessages.flatMap((message) =>
          ([] as Array<{ seq: number }>).concat(JSON.parse(message.body)).map((envelope) => envelope.seq),
        ),
      );
    await waitFor(() => kafkaSeqs().size > 0 && kafkaSeqs().size === rabbitSeqs().size, 20_000, 'consumers caught up');

    const redis = new Redis(config.REDIS_URL);
    const entries = await redis.xrange(stack.names.stream, '-', '+');
    redis.disconnect();
    const problems: string[] = [];
    for (const [id, fields] of entries) problems.push(...validateRedisEntry(id, fields));
    const unprefixed = (topic: string) => topic.slice(stack.namespace.length + 1);
    for (const record of kafkaRecords)
      problems.push(
        ...validateBody(record.value, { broker: 'kafka', topic: unprefixed(record.topic), key: record.key }).map(
          (problem) => `kafka ${record.topic}: ${problem}`,
        ),
      );
    for (const message of rabbitMessages)
      problems.push(
        ...validateBody(message.body, { broker: 'rabbitmq', routingKey: message.routingKey }).map(
          (problem) => `rabbitmq ${message.routingKey}: ${problem}`,
        ),
      );
    expect(problems).toEqual([]);

    // the session produced every envelope type and the report kinds it can reach over HTTP
    const types = new Set(entries.map(([, fields]) => (JSON.parse(fields[1]!) as { type: string }).type));
    expect(types).toEqual(new Set(['Execution', 'Trade', 'BalanceChanged', 'PositionChanged', 'WalletChanged']));
    const marketTypes = new Set(
      kafkaRecords.flatMap((record) => ([] as Array<{ type: string }>).concat(JSON.parse(record.value)).map((envelope) => envelope.type)),
    );
    expect(marketTypes).toEqual(new Set(['Execution', 'Trade', 'BookDelta', 'Ticker', 'PositionChanged', 'WalletChanged']));
    expect(new Set(rabbitMessages.map((message) => message.routingKey))).toContain('position.BTC-KRW-PERP');
    expect(kafkaRecords.some((record) => record.key === 'KRW' && record.value.includes('"WalletChanged"'))).toBe(true);
    const execTypes = new Set(
      entries
        .map(([, fields]) => JSON.parse(fields[1]!) as { type: string; execution_report?: { exec_type: string } })
        .filter((envelope) => envelope.type === 'Execution')
        .map((envelope) => envelope.execution_report!.exec_type),
    );
    expect(execTypes).toEqual(new Set(['New', 'Trade', 'Cancelled', 'Expired', 'Rejected', 'Triggered']));
    expect(entries.length).toBeGreaterThan(20);
    expect(rabbitMessages.length).toBeGreaterThan(0);
    expect(rabbitSeqs()).toEqual(kafkaSeqs()); // the same envelopes, whatever the batching
  });
});
