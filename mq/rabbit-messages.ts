/**
 * How one batch of envelopes becomes RabbitMQ messages, in publish order. RabbitMQ is the slowest
 * broker here (~25k persistent msg/s with batched confirms, BASELINES.md), so envelopes that share
 * a routing key travel together as one message (a JSON array in seq order) — with one exception:
 *
 * execution reports. A consumer bound to `execution.*` (a ws-server) pushes each user's reports on
 * every symbol down one connection, and a client resumes from the highest `seq` it has seen; if the
 * ETH-KRW message of a batch went out before the BTC-KRW one, a BTC-KRW report with a lower seq
 * would arrive after a higher ETH-KRW one, and a client cut between the two would resume past it
 * and never get it. So execution envelopes are grouped only in runs of one routing key with no
 * execution envelope of another key between them, and messages are published in the order of their
 * first seq: across all `execution.*` keys the reports leave in seq order. (One queue, one channel:
 * RabbitMQ keeps publish order.) Book, trade and ticker envelopes have one message per key per batch
 * — their consumers need order per key only.
 */
import type { Envelope } from '../contract/envelopes.ts';
import { routesOf } from '../contract/broker-routes.ts';

export interface RabbitMessage {
  readonly routingKey: string;
  /** in seq order; sent as the envelope itself when there is one, else as a JSON array */
  readonly envelopes: Envelope[];
}

export function rabbitMessages(envelopes: readonly Envelope[], maxEnvelopesPerMessage: number): RabbitMessage[] {
  const messages: RabbitMessage[] = [];
  /** the message each key's next envelope joins (for execution keys: only while the run lasts) */
  const open = new Map<string, RabbitMessage>();
  let executionRunKey: string | undefined;
  for (const envelope of envelopes) {
    const routingKey = routesOf(envelope).rabbitRoutingKey;
    if (routingKey === undefined) continue; // not for RabbitMQ (BalanceChanged)
    let message = open.get(routingKey);
    if (envelope.type === 'Execution') {
      if (executionRunKey !== routingKey) message = undefined; // another symbol's report came between: a new message
      executionRunKey = routingKey;
    }
    if (!message || message.envelopes.length >= maxEnvelopesPerMessage) {
      message = { routingKey, envelopes: [] };
      messages.push(message);
      open.set(routingKey, message);
    }
    message.envelopes.push(envelope);
  }
  return messages;
}
