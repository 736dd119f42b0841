/**
 * Plain consumers of each broker, written the way an outside client would (its own client library,
 * the documented names, dedupe by seq): they collect envelopes with the time each arrived, for
 * the fan-out tests and the benchmark.
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { ensureTopics } from '../../mq/adapters/kafka-publisher.ts';
import type { Envelope } from '../../contract/envelopes.ts';

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
  /** the clock arrivals are stamped with (ms; bench:e2e sets the generator's monotonic clock) */
  clock: () => number = Date.now;
  protected take(text: string): void {
    const at = this.clock();
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

export interface KafkaCollectorOptions {
  /** group session timeout (default 30,000 ms): a member that stopped heartbeating holds up a rejoin this long */
  readonly sessionTimeout?: number;
  readonly heartbeatInterval?: number;
  readonly rebalanceTimeout?: number;
}

export class KafkaCollector extends Collector {
  readonly #consumer: Consumer;
  readonly #kafka: Kafka;
  readonly topics = new Map<number, string>();
  /** the consumer's crashes and group joins, with their times (kafkajs instrumentation events) */
  readonly lifecycle: Array<{ at: number; event: string }> = [];

  constructor(brokers: readonly string[], groupId: string, options: KafkaCollectorOptions = {}) {
    super();
    const kafka = (this.#kafka = new Kafka({
      clientId: groupId,
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 50, initialRetryTime: 200, maxRetryTime: 2_000 },
    }));
    this.#consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 20,
      sessionTimeout: options.sessionTimeout ?? 30_000,
      heartbeatInterval: options.heartbeatInterval ?? 3_000,
      ...(options.rebalanceTimeout !== undefined ? { rebalanceTimeout: options.rebalanceTimeout } : {}),
    });
    const { CRASH, GROUP_JOIN } = this.#consumer.events;
    this.#consumer.on(CRASH, (event) => this.lifecycle.push({ at: Date.now(), event: `crash: ${event.payload.error.message}` }));
    this.#consumer.on(GROUP_JOIN, (event) => this.lifecycle.push({ at: Date.now(), event: `join after ${event.payload.duration} ms` }));
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

export interface RabbitCollectorOptions {
  /**
   * Consume from this named durable queue (created and bound if missing) with manual acks, and
   * connect and consume again whenever the connection or channel closes — so the collector lives
   * through `rabbitmqctl stop_app`/`start_app`, which would delete an exclusive queue. close()
   * deletes the queue.
   */
  readonly durableQueue?: string;
  /** delay between reconnect attempts (default 200 ms) */
  readonly reconnectMs?: number;
}

export class RabbitCollector extends Collector {
  #connection: ChannelModel | undefined;
  #channel: Channel | undefined;
  #closing = false;
  #reconnecting: Promise<void> | undefined;
  #target: { url: string; exchange: string; patterns: readonly string[]; options: RabbitCollectorOptions } | undefined;
  readonly routingKeys = new Map<number, string>();
  /** times the collector connected again after losing its connection (durable queue only) */
  reconnects = 0;

  async start(url: string, exchange: string, patterns: readonly string[] = ['#'], options: RabbitCollectorOptions = {}): Promise<this> {
    this.#target = { url, exchange, patterns, options };
    await this.#connect();
    return this;
  }

  async #connect(): Promise<void> {
    const { url, exchange, patterns, options } = this.#target!;
    const durable = options.durableQueue !== undefined;
    // a frozen broker never answers the handshake: give up on it and try again
    const connection = durable ? await amqp.connect(url, { timeout: 3_000 }) : await amqp.connect(url);
    connection.on('error', () => {});
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const { queue } = durable
        ? await channel.assertQueue(options.durableQueue!, { durable: true, exclusive: false, autoDelete: false })
        : await channel.assertQueue('', { exclusive: true, durable: false });
      for (const pattern of patterns) await channel.bindQueue(queue, exchange, pattern);
      if (durable) await channel.prefetch(2_000);
      await channel.consume(
        queue,
        (message) => {
          if (!message) return;
          const before = this.received.length;
          this.take(message.content.toString());
          for (let index = before; index < this.received.length; index++)
            this.routingKeys.set(this.received[index]!.envelope.seq, message.fields.routingKey);
          if (durable) channel.ack(message);
        },
        { noAck: !durable },
      );
      this.#connection = connection;
      this.#channel = channel;
      if (durable) {
        const lost = () => {
          if (this.#connection !== connection || this.#closing) return;
          this.#connection = undefined;
          this.#channel = undefined;
          void connection.close().catch(() => {});
          this.#reconnecting ??= this.#reconnect().finally(() => {
            this.#reconnecting = undefined;
          });
        };
        connection.on('close', lost);
        channel.on('close', lost);
      }
    } catch (error) {
      void connection.close().catch(() => {});
      throw error;
    }
  }

  async #reconnect(): Promise<void> {
    const delay = this.#target!.options.reconnectMs ?? 200;
    while (!this.#closing) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#closing) return;
      try {
        await this.#connect();
        this.reconnects++;
        return;
      } catch {
        // the broker is not back yet: try again
      }
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#reconnecting;
    const queue = this.#target?.options.durableQueue;
    if (queue !== undefined && this.#channel) await this.#channel.deleteQueue(queue).catch(() => {});
    await this.#channel?.close().catch(() => {});
    await this.#connection?.close().catch(() => {});
  }
}
