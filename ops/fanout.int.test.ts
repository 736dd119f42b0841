/**
 * The fan-out end to end, with real processes and real brokers: the core writes the event log,
 * one publisher process per broker reads it, and each broker's own client sees the envelopes in
 * the documented shapes — every execution report once (after dropping repeats by seq), chained by
 * prev_seq per routing key, equal as a set to what the engine emitted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope, ExecutionEnvelope } from '../contract/envelopes.ts';
import { loadConfig } from './config.ts';
import { KafkaCollector, RabbitCollector, RedisStreamCollector } from './testing/broker-consumers.ts';
import { Stack, waitFor, type StackUser } from './testing/stack.ts';

const config = loadConfig();
let stack: Stack;
let redis: RedisStreamCollector;
let kafka: KafkaCollector;
let rabbit: RabbitCollector;
let maker: StackUser;
let taker: StackUser;

beforeAll(async () => {
  stack = await Stack.start();
  redis = new RedisStreamCollector(config.REDIS_URL, stack.names.stream).start();
  kafka = await new KafkaCollector(config.KAFKA_BROKERS.split(','), `${stack.namespace}-check`).start([
    stack.names.marketData,
    stack.names.executions,
  ]);
  rabbit = await new RabbitCollector().start(config.AMQP_URL, stack.names.exchange, ['#']);
  maker = await stack.createUser('fanout-maker');
  taker = await stack.createUser('fanout-taker');
}, 120_000);

afterAll(async () => {
  await Promise.all([redis?.close(), kafka?.close(), rabbit?.close()]);
  await stack?.stop();
});

/** the chain under one key: every envelope's prev_seq is the seq of the one before it */
function expectChained(envelopes: readonly Envelope[], what: string): void {
  for (let index = 1; index < envelopes.length; index++) {
    expect(envelopes[index]!.prev_seq, `${what}: prev_seq of seq ${envelopes[index]!.seq}`).toBe(envelopes[index - 1]!.seq);
  }
  if (envelopes.length > 0) expect(envelopes[0]!.prev_seq, `${what}: first prev_seq`).toBe(0);
}

const executionsOf = (items: readonly { envelope: Envelope }[], orderId: string) =>
  items
    .map((item) => item.envelope)
    .filter((envelope): envelope is ExecutionEnvelope => envelope.type === 'Execution' && envelope.execution_report.order_id === orderId);

describe('fan-out to Redis, Kafka and RabbitMQ', () => {
  it('one crossing order: its execution reports reach every broker in the documented shape', async () => {
    const resting = await stack.order(maker, {
      symbol: 'BTC-KRW',
      side: 'Sell',
      order_type: 'Limit',
      price: '50000000',
      quantity: '0.01',
      client_order_id: 'maker-1',
    });
    const crossing = await stack.order(taker, {
      symbol: 'BTC-KRW',
      side: 'Buy',
      order_type: 'Limit',
      price: '50000000',
      quantity: '0.01',
      client_order_id: 'taker-1',
    });
    const last = (await stack.adminState()).last_event_seq;
    await waitFor(() => redis.seqs().size > 0 && Math.max(...redis.seqs()) >= last - 20, 20_000, 'redis');
    await waitFor(
      () => executionsOf(kafka.received, crossing).length >= 2 && executionsOf(rabbit.received, crossing).length >= 2,
      30_000,
      'kafka and rabbitmq',
    );

    for (const [name, items] of [
      ['redis', redis.unique()],
      ['kafka', kafka.unique()],
      ['rabbitmq', rabbit.unique()],
    ] as const) {
      const taker = executionsOf(items, crossing);
      expect(
        taker.map((envelope) => [envelope.execution_report.exec_type, envelope.order_status]),
        name,
      ).toEqual([
        ['New', 'Pending'],
        ['Trade', 'Filled'],
      ]);
      const fill = taker[1]!;
      expect(fill).toMatchObject({
        v: 1,
        type: 'Execution',
        execution_report: {
          order_id: crossing,
          client_order_id: 'taker-1',
          user_id: taker[0]!.execution_report.user_id,
          symbol: 'BTC-KRW',
          side: 'Buy',
          order_type: 'Limit',
          exec_type: 'Trade',
          price: '50000000',
          quantity: '0.01',
          order_price: '50000000',
          order_quantity: '0.01',
          filled_quantity: '0.01',
          remaining_quantity: '0',
          avg_price: '50000000',
          fee_asset: 'KRW',
          is_maker: false,
          reject_reason: null,
          expire_reason: null,
        },
      });
      expect(fill.execution_report.trade_id).toMatch(/^\d+$/);
      expect(fill.execution_report.fee).toMatch(/^\d+$/);
      const makerReports = executionsOf(items, resting);
      expect(makerReports.at(-1)!.execution_report).toMatchObject({ exec_type: 'Trade', is_maker: true, filled_quantity: '0.01' });
      // a trade's seq S: the maker's report S + 1, the taker's S + 2
      const trade = items
        .map((item) => item.envelope)
        .find((envelope) => envelope.type === 'Trade' && envelope.trade_id === fill.execution_report.trade_id);
      if (name !== 'redis' || trade) {
        expect(trade, `${name} carries the Trade`).toBeDefined();
        expect(makerReports.at(-1)!.seq).toBe(trade!.seq + 1);
        expect(fill.seq).toBe(trade!.seq + 2);
      }
    }
    // each broker's routing: Redis ids {seq}-0; Kafka topic by type; RabbitMQ routing key by type and symbol
    expect(redis.ids.every((id, index) => id === `${redis.received[index]!.envelope.seq}-0`)).toBe(true);
    expect(new Set(redis.received.map((item) => item.envelope.type))).toEqual(new Set(['Execution', 'Trade', 'BalanceChanged']));
    for (const item of kafka.received) {
      expect(kafka.topics.get(item.envelope.seq)).toBe(
        item.envelope.type === 'Execution' ? stack.names.executions : stack.names.marketData,
      );
    }
    for (const item of rabbit.received) {
      const key = rabbit.routingKeys.get(item.envelope.seq);
      const prefix = {
        Execution: 'execution',
        Trade: 'trade',
        BookDelta: 'orderbook',
        Ticker: 'ticker',
        BalanceChanged: 'none',
        PositionChanged: 'position',
        WalletChanged: 'none',
        FundingPaid: 'position',
        MarkPrice: 'markprice',
        Liquidation: 'liquidation',
      }[item.envelope.type];
      expect(key).toBe(`${prefix}.BTC-KRW`);
    }
  });

  it('every broker carries the same envelopes, chained per routing key, and /ready reports each publisher', async () => {
    const users = [maker, taker];
    for (let index = 0; index < 60; index++) {
      const user = users[index % 2]!;
      await stack.order(user, {
        symbol: index % 3 ? 'BTC-KRW' : 'ETH-KRW',
        side: index % 2 ? 'Buy' : 'Sell',
        order_type: 'Limit',
        price: index % 3 ? '50000000' : '3000000',
        quantity: '0.01',
      });
    }
    const last = (await stack.adminState()).last_event_seq;
    const confirmed = async () => {
      const ready = await stack.ready();
      const publishers = ready.publishers as Record<string, { confirmed_seq: number; lag_events: number; state: string }>;
      return ['redis', 'kafka', 'rabbitmq'].every((name) => publishers[name]!.confirmed_seq >= last);
    };
    await waitFor(confirmed, 30_000, 'all publishers confirmed');
    await waitFor(() => kafka.seqs().size >= rabbit.seqs().size && rabbit.seqs().size > 0, 20_000, 'kafka consumer caught up');
    const ready = await stack.ready();
    expect(ready.status).toBe('ready');
    expect(ready.event_log).toMatchObject({ last_seq: last });
    for (const name of ['redis', 'kafka', 'rabbitmq'])
      expect((ready.publishers as Record<string, unknown>)[name]).toMatchObject({ state: 'up', lag_events: 0 });

    const kafkaSeqs = [...kafka.seqs()].sort((a, b) => a - b);
    const rabbitSeqs = [...rabbit.seqs()].sort((a, b) => a - b);
    expect(rabbitSeqs).toEqual(kafkaSeqs); // the same non-balance envelopes on both
    const redisExecutions = redis
      .unique()
      .filter((item) => item.envelope.type === 'Execution')
      .map((item) => item.envelope.seq);
    const kafkaExecutions = kafka
      .unique()
      .filter((item) => item.envelope.type === 'Execution')
      .map((item) => item.envelope.seq)
      .sort((a, b) => a - b);
    expect(redisExecutions).toEqual(kafkaExecutions);

    expectChained(
      redis.unique().map((item) => item.envelope),
      'redis stream',
    );
    const byKey = new Map<string, Envelope[]>();
    for (const item of rabbit.unique()) {
      const key = rabbit.routingKeys.get(item.envelope.seq)!;
      byKey.set(key, [...(byKey.get(key) ?? []), item.envelope]);
    }
    for (const [key, envelopes] of byKey) expectChained(envelopes, `rabbitmq ${key}`);
    const byTopicKey = new Map<string, Envelope[]>();
    for (const item of kafka.unique()) {
      const symbol =
        item.envelope.type === 'Execution' ? item.envelope.execution_report.symbol : (item.envelope as { symbol: string }).symbol;
      const key = `${kafka.topics.get(item.envelope.seq)}/${symbol}`;
      byTopicKey.set(key, [...(byTopicKey.get(key) ?? []), item.envelope]);
    }
    for (const [key, envelopes] of byTopicKey) expectChained(envelopes, `kafka ${key}`);
  });
});
