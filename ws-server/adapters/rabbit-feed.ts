/**
 * The RabbitMQ adapter of the ws-server (amqplib): its own queue, bound to the topic exchange
 * `market-notifications` for `execution.*`, `orderbook.*`, `trade.*`, `ticker.*`, `markprice.*`,
 * `liquidation.*`, consumed with
 * manual acks and a bounded prefetch.
 *
 * The queue is named per instance, not exclusive, not durable, and expires 60 s after its last
 * consumer left (`x-expires`): a restarted ws-server finds what arrived while it was away; one that
 * never comes back leaves nothing behind. It holds at most `maxQueuedMessages` (oldest dropped:
 * `drop-head`), so a stuck instance never fills the broker; the hole that leaves shows in the
 * `prev_seq` chains and is repaired by the hub. Transient (not durable): the broker keeps these
 * messages in memory and never fsyncs them, so this queue adds nothing to the publisher's confirms.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { backoffDelay } from '../../lib/backoff.ts';
import type { Envelope } from '../../contract/envelopes.ts';

export interface RabbitFeedOptions {
  readonly url: string;
  readonly exchange: string;
  readonly queue: string;
  readonly prefetch?: number;
  readonly maxQueuedMessages?: number;
  readonly expiresMs?: number;
  readonly heartbeatSeconds?: number;
}

/** As the contract types it; the JSON is parsed, not validated (the hub tolerates a malformed one). */
export type FeedEnvelope = Envelope;

export interface FeedHandler {
  onConnected(): void;
  onMessage(routingKey: string, envelopes: readonly FeedEnvelope[]): void;
  onDisconnected(error: unknown): void;
}

export const FEED_BINDINGS = ['execution.*', 'orderbook.*', 'trade.*', 'ticker.*', 'markprice.*', 'liquidation.*'] as const;

export class RabbitFeed {
  state: 'connecting' | 'up' | 'down' = 'connecting';
  messages = 0;
  badMessages = 0;
  readonly #options: RabbitFeedOptions;
  readonly #handler: FeedHandler;
  #connection: ChannelModel | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(options: RabbitFeedOptions, handler: FeedHandler) {
    this.#options = options;
    this.#handler = handler;
  }

  start(): void {
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    // a broker still booting may accept the socket and then never answer: give the whole set-up 10 s
    let pending: ChannelModel | undefined;
    const setupTimer = setTimeout(() => {
      const socket = (pending as unknown as { connection?: { stream?: { destroy(error?: Error): void } } } | undefined)?.connection?.stream;
      socket?.destroy(new Error('RabbitMQ set-up timed out'));
    }, 10_000);
    try {
      const url = new URL(this.#options.url);
      if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.#options.heartbeatSeconds ?? 5));
      const connection = (pending = await amqp.connect(url.toString(), { timeout: 3_000, noDelay: true }));
      connection.on('error', () => {});
      connection.on('close', (error: unknown) => this.#lost(connection, error));
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      await channel.assertExchange(this.#options.exchange, 'topic', { durable: true });
      await channel.assertQueue(this.#options.queue, {
        durable: false,
        exclusive: false,
        autoDelete: false,
        arguments: {
          'x-expires': this.#options.expiresMs ?? 60_000,
          'x-max-length': this.#options.maxQueuedMessages ?? 100_000,
          'x-overflow': 'drop-head',
        },
      });
      for (const pattern of FEED_BINDINGS) await channel.bindQueue(this.#options.queue, this.#options.exchange, pattern);
      await channel.prefetch(this.#options.prefetch ?? 500);
      if (this.#stopped) {
        await connection.close().catch(() => {});
        return;
      }
      this.#connection = connection;
      await channel.consume(this.#options.queue, (message) => this.#deliver(channel, message), { noAck: false });
      this.state = 'up';
      this.#failures = 0;
      this.#handler.onConnected();
    } catch (error) {
      if (pending && this.#connection !== pending) void pending.close().catch(() => {});
      this.#handler.onDisconnected(error);
      this.#scheduleRetry();
    } finally {
      clearTimeout(setupTimer);
    }
  }

  #deliver(channel: Channel, message: ConsumeMessage | null): void {
    if (!message) return; // the queue was deleted: the connection's close follows
    this.messages++;
    let envelopes: FeedEnvelope[];
    try {
      const value = JSON.parse(message.content.toString('utf8')) as FeedEnvelope | FeedEnvelope[];
      envelopes = Array.isArray(value) ? value : [value];
    } catch {
      this.badMessages++;
      channel.ack(message);
      return;
    }
    try {
      this.#handler.onMessage(message.fields.routingKey, envelopes);
    } finally {
      channel.ack(message);
    }
  }

  #lost(connection: ChannelModel, error: unknown): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    if (this.#stopped) return;
    this.state = 'down';
    this.#handler.onDisconnected(error);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    this.state = 'down';
    this.#failures++;
    // capped at 2 s: while this instance has no queue, what the publisher sends does not reach it
    const delay = backoffDelay(this.#failures, { initialMs: 100, maxMs: 2_000, maxExponent: 5 });
    this.#retry = setTimeout(() => void this.#connect(), delay);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) await Promise.race([connection.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }
}
