/**
 * Plain consumers of each broker, written the way an outside client would (its own client library,
 * the documented names, dedupe by seq): they collect envelopes with the time each arrived, for
 * the fan-out tests and the benchmark.
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { ensureTopics } from '../../mq/adapters/kafka-publisher.ts';
import type { Envelope } from '../../mq/envelope.ts';

export interface Received {
  readonly envelope: Envelope;
  readonly at: number;
}

/** Parses a Kafka value / RabbitMQ body: one envelope or an array of them. */
export function envelopesOf(text: string): Envelope[] {
  const value = JSON.parse(text) as Envelope | Envelope[];
  return Array.isArray(value) ? value : [value];
}

abstract class Collector {
  readonly received: Received[] = [];
  /** raw messages (before splitting arrays) */
  messages = 0;
  protected take(text: string): void {
    const at = Date.now();
    this.messages++;
    for (const envelope of envelopesOf(text)) this.received.push({ envelope, at });
  }
  /** envelopes with duplicates (by seq) dropped, first arrival kept */
  unique(): Received[] {
    const seen = new Set<number>();
    return this.received.filter((item) => (seen.has(item.envelope.seq) ? false : (seen.add(item.envelope.seq), true)));
  }
  seqs(): Set<number> {
    return new Set(this.received.map((item) => item.envelope.seq));
  }
}

export class RedisStreamCollector extends Collector {
  readonly #client: Redis;
  #lastId = '0-0';
  #timer: NodeJS.Timeout | undefined;
  /** raw entry ids in stream order */
  readonly ids: string[] = [];

  constructor(
    url: string,
    readonly stream: string,
  ) {
    super();
    this.#client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 100, 1_000) });
    this.#client.on('error', () => {});
  }

  /** polls XRANGE every `ms` (a reader that does not join the consumer group, so it never steals entries) */
  start(ms = 5): this {
    const tick = async () => {
      try {
        const entries = await this.#client.xrange(this.stream, `(${this.#lastId}`, '+', 'COUNT', 5_000);
        for (const [id, fields] of entries) {
          this.#lastId = id;
          this.ids.push(id);
          this.take(fields[fields.indexOf('envelope') + 1]!);
        }
      } catch {
        // Redis down: try again
      }
      if (this.#timer) this.#timer = setTimeout(tick, ms);
    };
    this.#timer = setTimeout(tick, 0);
    return this;
  }

  get client(): Redis {
    return this.#client;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#client.disconnect();
  }
}

export class KafkaCollector extends Collector {
  readonly #consumer: Consumer;
  readonly #kafka: Kafka;
  readonly topics = new Map<number, string>();

  constructor(brokers: readonly string[], groupId: string) {
    super();
    const kafka = (this.#kafka = new Kafka({ clientId: groupId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 50, initialRetryTime: 200, maxRetryTime: 2_000 } }));
    this.#consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 20, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
  }

  /** creates the topics first as the publisher would (3 partitions), so subscribing never races it */
  async start(topics: readonly string[], partitions = 3): Promise<this> {
    await ensureTopics(this.#kafka, topics, partitions);
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await this.#consumer.run({
      eachMessage: async ({ topic, message }) => {
        const before = this.received.length;
        this.take(message.value!.toString());
        for (let index = before; index < this.received.length; index++) this.topics.set(this.received[index]!.envelope.seq, topic);
      },
    });
    return this;
  }

  async close(): Promise<void> {
    await this.#consumer.disconnect().catch(() => {});
  }
}

export class RabbitCollector extends Collector {
  #connection: ChannelModel | undefined;
  #channel: Channel | undefined;
  readonly routingKeys = new Map<number, string>();

  async start(url: string, exchange: string, patterns: readonly string[] = ['#']): Promise<this> {
    this.#connection = await amqp.connect(url);
    this.#connection.on('error', () => {});
    const channel = (this.#channel = await this.#connection.createChannel());
    channel.on('error', () => {});
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, durable: false });
    for (const pattern of patterns) await channel.bindQueue(queue, exchange, pattern);
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        const before = this.received.length;
        this.take(message.content.toString());
        for (let index = before; index < this.received.length; index++) this.routingKeys.set(this.received[index]!.envelope.seq, message.fields.routingKey);
      },
      { noAck: true },
    );
    return this;
  }

  async close(): Promise<void> {
    await this.#channel?.close().catch(() => {});
    await this.#connection?.close().catch(() => {});
  }
}
