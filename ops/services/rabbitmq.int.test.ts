import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';

const config = loadConfig();

describe('RabbitMQ (AMQP_URL)', () => {
  const exchange = `test.topic.${randomUUID()}`;
  let connection: ChannelModel;
  let channel: ConfirmChannel;

  beforeAll(async () => {
    connection = await amqp.connect(config.AMQP_URL, { timeout: 3_000 });
    channel = await connection.createConfirmChannel();
  });
  afterAll(async () => {
    await channel?.deleteExchange(exchange).catch(() => {});
    await connection?.close().catch(() => {});
  });

  it('routes a confirmed publish on a topic exchange to the queue bound by pattern only', async () => {
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, 'execution.*');

    const received: { routingKey: string; body: string }[] = [];
    const arrived = new Promise<void>((resolve) => {
      void channel.consume(queue, (message) => {
        if (!message) return;
        received.push({ routingKey: message.fields.routingKey, body: message.content.toString() });
        channel.ack(message);
        resolve();
      });
    });

    // Not bound: must not arrive. Bound: arrives. Both are broker-confirmed before we wait.
    channel.publish(exchange, 'trade.BTC-USDT', Buffer.from('{"seq":1}'));
    channel.publish(exchange, 'execution.BTC-USDT', Buffer.from('{"seq":2}'), { persistent: true });
    await channel.waitForConfirms();
    await arrived;

    expect(received).toEqual([{ routingKey: 'execution.BTC-USDT', body: '{"seq":2}' }]);
  });
});
