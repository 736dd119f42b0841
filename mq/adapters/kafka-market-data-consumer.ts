/**
 * Kafka adapter (kafkajs) for consumers of topic `market-data` in a group of their own: the
 * market-data service (ops/market-data.ts) reads it to build candles. A batch per partition fetch
 * is handed to `handler`; only once the handler resolved (its PostgreSQL transaction committed) is
 * the batch resolved and its offset committed (autoCommit off). A handler that fails (PostgreSQL
 * down) is retried with back-off while the consumer keeps its partitions (heartbeats in between);
 * a crash kafkajs does not restart itself, or a broker unreachable at start, is retried here.
 * Offsets uncommitted at a crash are read again: the handler must be idempotent (it is, by seq).
 *
 * Lag is the group's committed offsets against the partitions' high watermarks (admin API), in
 * records (one record may carry many envelopes), and in seconds: how old the last record this
 * process committed is, on the partitions that still have records to read.
 */
import { Kafka, logLevel, type Admin, type EachBatchPayload, type ISocketFactory } from 'kafkajs';
import { Backoff } from '../../lib/backoff.ts';
import { ensureTopics } from './kafka-publisher.ts';

export interface MarketDataRecord {
  readonly value: string;
  /** the record's Kafka timestamp (producer create time), ms */
  readonly timestamp: number;
}

export interface MarketDataBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly MarketDataRecord[];
}

export interface ConsumerLag {
  /** records not yet committed by the group, all partitions */
  readonly messages: number;
  /** 0 when caught up; -1 when records wait on a partition this process has not committed anything on yet */
  readonly seconds: number;
  readonly partitions: ReadonlyArray<{ partition: number; high: number; committed: number }>;
}

export type ConsumerState = 'starting' | 'running' | 'retrying' | 'stopped';

export interface KafkaMarketDataConsumerOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  /** partitions when the topic must be created (the publisher creates it the same way) */
  readonly partitions?: number;
  readonly handler: (batch: MarketDataBatch) => Promise<void>;
  readonly onError?: (where: 'connect' | 'handler' | 'commit' | 'crash', error: unknown) => void;
  readonly sessionTimeoutMs?: number;
  /** bytes fetched per partition and request (bigger batches, fewer transactions) */
  readonly maxBytesPerPartition?: number;
  /** kafkajs's socket factory (default: plain TCP); tests pass one they can cut to take Kafka away from this consumer alone */
  readonly socketFactory?: ISocketFactory;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class KafkaMarketDataConsumer {
  readonly #options: KafkaMarketDataConsumerOptions;
  readonly #kafka: Kafka;
  #admin: Admin | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #state: ConsumerState = 'starting';
  /** per partition: the offset committed by this process and the timestamp of the record before it */
  readonly #committed = new Map<number, { offset: number; recordTimestamp: number }>();

  constructor(options: KafkaMarketDataConsumerOptions) {
    this.#options = options;
    this.#kafka = new Kafka({
      clientId: `xtrader-${options.groupId}`,
      brokers: [...options.brokers],
      connectionTimeout: 3_000,
      requestTimeout: 5_000,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    });
  }

  get state(): ConsumerState {
    return this.#state;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#state = 'stopped';
    await this.#admin?.disconnect().catch(() => {});
  }

  async #run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 250, maxMs: 5_000, jitter: 'none' });
    while (!this.#stopping) {
      const consumer = this.#kafka.consumer({
        groupId: this.#options.groupId,
        sessionTimeout: this.#options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: 1_000,
        maxWaitTimeInMs: 250,
        maxBytesPerPartition: this.#options.maxBytesPerPartition ?? 4 * 1024 * 1024,
        allowAutoTopicCreation: false,
        retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
      });
      // resolved when kafkajs gave up on this consumer for good (a crash it does not restart)
      const gaveUp = new Promise<void>((resolve) => {
        this.#wake = resolve;
        consumer.on(consumer.events.CRASH, (event) => {
          this.#options.onError?.('crash', event.payload.error);
          if (event.payload.restart) this.#state = 'retrying';
          else resolve();
        });
        consumer.on(consumer.events.GROUP_JOIN, () => {
          this.#state = 'running';
        });
      });
      try {
        await ensureTopics(this.#kafka, [this.#options.topic], this.#options.partitions ?? 3);
        await consumer.connect();
        await consumer.subscribe({ topics: [this.#options.topic], fromBeginning: true });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.#eachBatch(payload) });
        backoff.succeeded();
        await gaveUp;
      } catch (error) {
        this.#state = 'retrying';
        this.#options.onError?.('connect', error);
      }
      await consumer.disconnect().catch(() => {});
      if (!this.#stopping) await sleep(backoff.next());
    }
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const records = batch.messages.map((message) => ({
      value: message.value?.toString('utf8') ?? '',
      timestamp: Number(message.timestamp),
    }));
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000, jitter: 'none' });
    for (;;) {
      // stopping, or the partition was taken away (rebalance): leave the batch unresolved, it is read again
      if (!isRunning() || isStale() || this.#stopping) return;
      try {
        await this.#options.handler({ topic: batch.topic, partition: batch.partition, records });
        break;
      } catch (error) {
        this.#options.onError?.('handler', error);
        await sleep(backoff.next());
        await heartbeat().catch(() => {});
      }
    }
    const last = batch.lastOffset();
    resolveOffset(last);
    const next = Number(last) + 1;
    try {
      await commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(next) }] }],
      });
      this.#committed.set(batch.partition, { offset: next, recordTimestamp: records[records.length - 1]!.timestamp });
    } catch (error) {
      // the next commit on this partition covers it; a restart before then re-reads (dropped by seq)
      this.#options.onError?.('commit', error);
    }
    await heartbeat().catch(() => {});
  }

  /** undefined when Kafka does not answer within `timeoutMs` */
  async lag(timeoutMs = 3_000): Promise<ConsumerLag | undefined> {
    const work = (async () => {
      if (!this.#admin) {
        const admin = this.#kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
        this.#admin = admin;
      }
      const [highs, groups] = await Promise.all([
        this.#admin.fetchTopicOffsets(this.#options.topic),
        this.#admin.fetchOffsets({ groupId: this.#options.groupId, topics: [this.#options.topic] }),
      ]);
      const committed = new Map((groups[0]?.partitions ?? []).map((entry) => [entry.partition, Number(entry.offset)]));
      const now = Date.now();
      let messages = 0;
      let seconds = 0;
      const partitions = highs.map((entry) => {
        const high = Number(entry.high);
        const low = Number(entry.low);
        const offset = committed.get(entry.partition) ?? -1;
        const position = offset < 0 ? low : offset;
        const waiting = Math.max(0, high - position);
        messages += waiting;
        if (waiting > 0) {
          const mine = this.#committed.get(entry.partition);
          seconds = mine === undefined || seconds < 0 ? -1 : Math.max(seconds, (now - mine.recordTimestamp) / 1000);
        }
        return { partition: entry.partition, high, committed: position };
      });
      return { messages, seconds, partitions };
    })();
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
    try {
      return await Promise.race([work, timeout]);
    } catch {
      const admin = this.#admin;
      this.#admin = undefined;
      void admin?.disconnect().catch(() => {});
      return undefined;
    }
  }
}
