/**
 * Where each envelope goes on each broker, and the brokers' names (ARCHITECTURE.md "Broker layout").
 * A new envelope type needs its entry in `routesOf` (the switch is exhaustive: the compiler says so).
 */
import type { Envelope } from './envelopes.ts';

/** Where an envelope goes on each broker (ARCHITECTURE.md "Broker layout"). */
export interface Routes {
  /** stream `executions`: what PostgreSQL needs (execution reports, trades, balance changes) */
  readonly redis: boolean;
  /** Kafka topic, keyed by symbol */
  readonly kafkaTopic: 'market-data' | 'executions' | undefined;
  /** RabbitMQ routing key on `market-notifications` */
  readonly rabbitRoutingKey: string | undefined;
}

export const REDIS_STREAM = 'executions';
export const REDIS_GROUP = 'execution_processors';
export const KAFKA_TOPIC_MARKET_DATA = 'market-data';
export const KAFKA_TOPIC_EXECUTIONS = 'executions';
export const RABBIT_EXCHANGE = 'market-notifications';

export function routesOf(envelope: Envelope): Routes {
  switch (envelope.type) {
    case 'Execution':
      return { redis: true, kafkaTopic: KAFKA_TOPIC_EXECUTIONS, rabbitRoutingKey: `execution.${envelope.execution_report.symbol}` };
    case 'Trade':
      return { redis: true, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, rabbitRoutingKey: `trade.${envelope.symbol}` };
    case 'BookDelta':
      return { redis: false, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, rabbitRoutingKey: `orderbook.${envelope.symbol}` };
    case 'Ticker':
      return { redis: false, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, rabbitRoutingKey: `ticker.${envelope.symbol}` };
    case 'BalanceChanged':
      return { redis: true, kafkaTopic: undefined, rabbitRoutingKey: undefined };
  }
}

/** The broker-side names under an optional namespace (tests share one broker; production uses none). */
export function brokerNames(namespace = ''): { stream: string; group: string; marketData: string; executions: string; exchange: string } {
  const name = (base: string) => (namespace === '' ? base : `${namespace}.${base}`);
  return {
    stream: name(REDIS_STREAM),
    group: REDIS_GROUP,
    marketData: name(KAFKA_TOPIC_MARKET_DATA),
    executions: name(KAFKA_TOPIC_EXECUTIONS),
    exchange: name(RABBIT_EXCHANGE),
  };
}
