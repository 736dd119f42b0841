/** The RabbitMQ batching rule (mq/rabbit-messages.ts), on generated batches. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../contract/envelopes.ts';
import { routesOf } from '../contract/broker-routes.ts';
import { rabbitMessages } from './rabbit-messages.ts';

const SYMBOLS = ['BTC-KRW', 'ETH-KRW', 'XRP-KRW'] as const;
type Kind = 'Execution' | 'Trade' | 'BookDelta' | 'Ticker' | 'BalanceChanged';

/** only what routing reads: type, seq and the symbol (the rest of an envelope does not matter here) */
function envelope(kind: Kind, symbol: string, seq: number): Envelope {
  const base = { v: 1, seq, prev_seq: 0, timestamp: 1 };
  switch (kind) {
    case 'Execution':
      return { ...base, type: kind, order_status: 'Pending', execution_report: { symbol } } as unknown as Envelope;
    case 'BalanceChanged':
      return { ...base, type: kind, user_id: '1', asset: 'KRW', available: '0', locked: '0' } as unknown as Envelope;
    default:
      return { ...base, type: kind, symbol } as unknown as Envelope;
  }
}

const batch = fc
  .array(
    fc.tuple(
      fc.constantFrom<Kind>('Execution', 'Execution', 'Trade', 'BookDelta', 'Ticker', 'BalanceChanged'),
      fc.constantFrom(...SYMBOLS),
    ),
    { maxLength: 200 },
  )
  .map((items) => items.map(([kind, symbol], index) => envelope(kind, symbol, index + 1)));

describe('rabbitMessages', () => {
  it('publishes execution reports of every symbol in seq order, each key in seq order, every envelope once, within the size bound', () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 1, max: 8 }), (envelopes, limit) => {
        const messages = rabbitMessages(envelopes, limit);
        const flat = messages.flatMap((message) => message.envelopes);
        const sent = envelopes.filter((entry) => entry.type !== 'BalanceChanged');
        expect(flat.map((entry) => entry.seq).sort((a, b) => a - b)).toEqual(sent.map((entry) => entry.seq));
        for (const message of messages) {
          expect(message.envelopes.length).toBeGreaterThan(0);
          expect(message.envelopes.length).toBeLessThanOrEqual(limit);
          for (const entry of message.envelopes) expect(routesOf(entry).rabbitRoutingKey).toBe(message.routingKey);
        }
        const executions = flat.filter((entry) => entry.type === 'Execution').map((entry) => entry.seq);
        expect(executions, 'execution reports across symbols in seq order').toEqual([...executions].sort((a, b) => a - b));
        const byKey = new Map<string, number[]>();
        for (const message of messages)
          byKey.set(message.routingKey, [...(byKey.get(message.routingKey) ?? []), ...message.envelopes.map((entry) => entry.seq)]);
        for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }),
    );
  });

  it('keeps one message per key for market data, and splits execution reports only where another symbol comes between', () => {
    const envelopes = [
      envelope('Execution', 'BTC-KRW', 1),
      envelope('BookDelta', 'BTC-KRW', 2),
      envelope('Execution', 'BTC-KRW', 3),
      envelope('Execution', 'ETH-KRW', 4),
      envelope('BookDelta', 'BTC-KRW', 5),
      envelope('Execution', 'BTC-KRW', 6),
      envelope('Trade', 'ETH-KRW', 7),
    ];
    expect(rabbitMessages(envelopes, 500).map((message) => [message.routingKey, message.envelopes.map((entry) => entry.seq)])).toEqual([
      ['execution.BTC-KRW', [1, 3]],
      ['orderbook.BTC-KRW', [2, 5]],
      ['execution.ETH-KRW', [4]],
      ['execution.BTC-KRW', [6]],
      ['trade.ETH-KRW', [7]],
    ]);
  });
});
