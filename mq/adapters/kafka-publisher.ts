/**
 * Kafka adapter (kafkajs): topics `market-data` (Trade, BookDelta, Ticker) and `executions`
 * (Execution, PositionChanged, WalletChanged: contract/broker-routes.ts), created at start-up with
 * explicit partitions; key = symbol (a wallet's: its asset), so a symbol stays in
 * order within its partition. Idempotent producer, acks -1 (all in-sync replicas), one sendBatch
 * per batch. prev_seq chains per topic and key. The envelopes of one batch that share a topic and
 * key travel as one record, a JSON array in seq order (up to 200 per record; one alone travels as
 * itself): kafkajs spends its CPU per record (framing, CRC-32C in JS), so this cuts the
 * publisher's CPU several times over at 10,000 events/s (bench:fanout).
 *
 * kafkajs is in maintenance mode: it stays behind this file (KAFKA.md) so a move is cheap.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { Envelope } from '../../contract/envelopes.ts';
import { KAFKA_TOPIC_EXECUTIONS, KAFKA_TOPIC_MARKET_DATA, routesOf } from '../../contract/broker-routes.ts';
import type { BrokerPublisher } from '../publisher.ts';

export interface KafkaPublisherOptions {
  readonly brokers: readonly string[];
  readonly partitions?: number;
  readonly requestTimeoutMs?: number;
  readonly topics?: { readonly marketData: string; readonly executions: string };
}

/** envelopes per Kafka record at most (a record of 200 is ~80 KB, well under the 1 MB default) */
const RECORD_ENVELOPES = 200;

export class KafkaPublisher implements BrokerPublisher {
  readonly name = 'kafka' as const;
  readonly skipEventTypes = ['BalanceChanged'] as const;
  readonly #options: KafkaPublisherOptions;
  readonly #topics: { readonly marketData: string; readonly executions: string };
  #kafka: Kafka | undefined;
  #producer: Producer | undefined;
  #connecting: Promise<Producer> | undefined;
  #topicsCreated = false;

  constructor(options: KafkaPublisherOptions) {
    this.#options = options;
    this.#topics = options.topics ?? { marketData: KAFKA_TOPIC_MARKET_DATA, executions: KAFKA_TOPIC_EXECUTIONS };
  }

  chainKey(envelope: Envelope): string | undefined {
    const topic = this.#topicOf(envelope);
    return topic === undefined ? undefined : `${topic}/${routesOf(envelope).kafkaKey}`;
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    const producer = await this.#connected();
    const groups = new Map<string, { topic: string; key: string; envelopes: Envelope[] }>();
    for (const envelope of envelopes) {
      const topic = this.#topicOf(envelope)!;
      const key = routesOf(envelope).kafkaKey!;
      const id = `${topic}/${key}`;
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { topic, key, envelopes: [] }));
      group.envelopes.push(envelope);
    }
    const byTopic = new Map<string, Array<{ key: string; value: string }>>();
    for (const { topic, key, envelopes: group } of groups.values()) {
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      for (let start = 0; start < group.length; start += RECORD_ENVELOPES) {
        const part = group.slice(start, start + RECORD_ENVELOPES);
        messages.push({ key, value: JSON.stringify(part.length === 1 ? part[0] : part) });
      }
    }
    await producer.sendBatch({
      acks: -1,
      timeout: this.#options.requestTimeoutMs ?? 5_000,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  reset(): void {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#connecting = undefined;
    // a hung broker may never answer the disconnect: do not wait for it
    void producer?.disconnect().catch(() => {});
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) await Promise.race([producer.disconnect().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }

  /** routesOf's topic under this publisher's (possibly namespaced) names */
  #topicOf(envelope: Envelope): string | undefined {
    switch (routesOf(envelope).kafkaTopic) {
      case KAFKA_TOPIC_EXECUTIONS:
        return this.#topics.executions;
      case KAFKA_TOPIC_MARKET_DATA:
        return this.#topics.marketData;
      default:
        return undefined;
    }
  }

  #connected(): Promise<Producer> {
    if (this.#producer) return Promise.resolve(this.#producer);
    this.#connecting ??= (async () => {
      const timeout = this.#options.requestTimeoutMs ?? 5_000;
      this.#kafka ??= new Kafka({
        clientId: 'xtrader-publisher',
        brokers: [...this.#options.brokers],
        connectionTimeout: 3_000,
        requestTimeout: timeout,
        logLevel: logLevel.NOTHING,
        // the loop owns retries; kafkajs retries a little inside one attempt (idempotence needs retries > 0)
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      if (!this.#topicsCreated) {
        await ensureTopics(this.#kafka, [this.#topics.marketData, this.#topics.executions], this.#options.partitions ?? 3);
        this.#topicsCreated = true;
      }
      const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      try {
        await producer.connect();
      } catch (error) {
        void producer.disconnect().catch(() => {});
        throw error;
      }
      this.#producer = producer;
      return producer;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }
}

/** Creates the topics if missing (explicit partitions, replication factor 1 on the single-node broker). */
export async function ensureTopics(kafka: Kafka, topics: readonly string[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      });
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
