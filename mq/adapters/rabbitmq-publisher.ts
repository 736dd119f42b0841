/**
 * RabbitMQ adapter (amqplib): durable topic exchange `market-notifications`, routing keys
 * `execution.{SYMBOL}`, `orderbook.{SYMBOL}`, `trade.{SYMBOL}`, `ticker.{SYMBOL}`; a confirm
 * channel, persistent messages, one waitForConfirms per batch. The envelopes of one batch that
 * share a routing key travel as one message (a JSON array in seq order; a single envelope travels
 * as itself), execution reports across symbols in seq order (mq/rabbit-messages.ts). prev_seq
 * chains per routing key.
 */
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Envelope } from '../../contract/envelopes.ts';
import { RABBIT_EXCHANGE, routesOf } from '../../contract/broker-routes.ts';
import { rabbitMessages } from '../rabbit-messages.ts';
import type { BrokerPublisher } from '../publisher.ts';

export interface RabbitPublisherOptions {
  readonly url: string;
  readonly exchange?: string;
  /** envelopes per message at most; default 500 */
  readonly maxEnvelopesPerMessage?: number;
  /** AMQP heartbeat in seconds: a broker that stops answering is noticed within ~2 of them; default 5 */
  readonly heartbeatSeconds?: number;
}

export class RabbitPublisher implements BrokerPublisher {
  readonly name = 'rabbitmq' as const;
  readonly skipEventTypes = ['BalanceChanged'] as const;
  readonly #options: RabbitPublisherOptions;
  readonly #exchange: string;
  #connection: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #connecting: Promise<ConfirmChannel> | undefined;
  /** messages sent (several envelopes each) */
  messages = 0;

  constructor(options: RabbitPublisherOptions) {
    this.#options = options;
    this.#exchange = options.exchange ?? RABBIT_EXCHANGE;
  }

  chainKey(envelope: Envelope): string | undefined {
    return routesOf(envelope).rabbitRoutingKey;
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    const channel = await this.#connected();
    const limit = this.#options.maxEnvelopesPerMessage ?? 500;
    for (const { routingKey, envelopes: part } of rabbitMessages(envelopes, limit)) {
      const body = Buffer.from(JSON.stringify(part.length === 1 ? part[0] : part));
      const flowing = channel.publish(this.#exchange, routingKey, body, {
        persistent: true,
        contentType: 'application/json',
        // the first envelope's seq: a consumer can drop a repeated message without parsing it
        messageId: String(part[0]!.seq),
        timestamp: Math.floor(part[0]!.timestamp / 1000),
      });
      this.messages++;
      if (!flowing) await new Promise<void>((resolve) => channel.once('drain', () => resolve()));
    }
    await channel.waitForConfirms();
  }

  reset(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#channel = undefined;
    this.#connecting = undefined;
    if (!connection) return;
    // close() waits for the broker's close-ok, which a frozen broker never sends: cut the socket
    const socket = (connection as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    void connection.close().catch(() => {});
    socket?.destroy();
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#channel = undefined;
    if (connection) await Promise.race([connection.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }

  #connected(): Promise<ConfirmChannel> {
    if (this.#channel) return Promise.resolve(this.#channel);
    this.#connecting ??= (async () => {
      const url = new URL(this.#options.url);
      if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(this.#options.heartbeatSeconds ?? 5));
      // noDelay: amqplib writes a message as several frames; with Nagle on, each batch after the
      // first small write waited for the broker's delayed ACK (~40 ms per batch, ~100+ ms per envelope)
      const connection = await amqp.connect(url.toString(), { timeout: 3_000, noDelay: true });
      connection.on('error', () => {}); // surfaced by the failing publish
      connection.on('close', () => {
        if (this.#connection === connection) this.reset();
      });
      try {
        const channel = await connection.createConfirmChannel();
        channel.on('error', () => {});
        channel.on('close', () => {
          if (this.#channel === channel) this.reset();
        });
        await channel.assertExchange(this.#exchange, 'topic', { durable: true });
        this.#connection = connection;
        this.#channel = channel;
        return channel;
      } catch (error) {
        void connection.close().catch(() => {});
        throw error;
      }
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }
}
