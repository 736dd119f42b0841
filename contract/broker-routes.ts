/**
 * Where each envelope goes on each broker, and the brokers' names (ARCHITECTURE.md "Broker layout").
 * A new envelope type needs its entry in `routesOf` (the switch is exhaustive: the compiler says so).
 */
import type { Envelope } from './envelopes.ts';

/** Where an envelope goes on each broker (ARCHITECTURE.md "Broker layout"). */
export interface Routes {
  /** stream `executions`: what PostgreSQL needs (execution reports, trades, balance changes) */
  readonly redis: boolean;
  /** Kafka topic */
  readonly kafkaTopic: 'market-data' | 'executions' | undefined;
  /** Kafka record key: the symbol (a wallet, which has none: its asset); undefined when not on Kafka */
  readonly kafkaKey: string | undefined;
  /** RabbitMQ routing key on `market-notifications` */
  readonly rabbitRoutingKey: string | undefined;
}

export const REDIS_STREAM = 'executions';
export const REDIS_GROUP = 'execution_processors';
export const KAFKA_TOPIC_MARKET_DATA = 'market-data';
export const KAFKA_TOPIC_EXECUTIONS = 'executions';
export const RABBIT_EXCHANGE = 'market-notifications';

/**
 * The futures envelopes (ARCHITECTURE.md "Perpetual futures → Messages"): PositionChanged on the
 * stream, Kafka `executions` (key = symbol) and RabbitMQ `position.{SYMBOL}`; WalletChanged on the
 * stream and Kafka `executions` keyed by its asset (it has no symbol: one key per settlement asset
 * keeps each wallet's changes in order), and not on RabbitMQ — the contract gives it no routing key
 * (only position, markprice and liquidation); how the ws-server's `positions` channel gets it is
 * issue 20's to decide (docs/futures.md).
 */
export function routesOf(envelope: Envelope): Routes {
  switch (envelope.type) {
    case 'Execution':
      return {
        redis: true,
        kafkaTopic: KAFKA_TOPIC_EXECUTIONS,
        kafkaKey: envelope.execution_report.symbol,
        rabbitRoutingKey: `execution.${envelope.execution_report.symbol}`,
      };
    case 'Trade':
      return { redis: true, kafkaTopic: KAFKA_TOPIC_MARKET_DATA, kafkaKey: envelope.symbol, rabbitRoutingKey: `trade.${envelope.symbol}` };
    case 'BookDelta':
      return {
        redis: false,
        kafkaTopic: KAFKA_TOPIC_MARKET_DATA,
        kafkaKey: envelope.symbol,
        rabbitRoutingKey: `orderbook.${envelope.symbol}`,
      };
    case 'Ticker':
      return {
        redis: false,
        kafkaTopic: KAFKA_TOPIC_MARKET_DATA,
        kafkaKey: envelope.symbol,
        rabbitRoutingKey: `ticker.${envelope.symbol}`,
      };
    case 'BalanceChanged':
      return { redis: true, kafkaTopic: undefined, kafkaKey: undefined, rabbitRoutingKey: undefined };
    case 'PositionChanged':
      return {
        redis: true,
        kafkaTopic: KAFKA_TOPIC_EXECUTIONS,
        kafkaKey: envelope.symbol,
        rabbitRoutingKey: `position.${envelope.symbol}`,
      };
    case 'WalletChanged':
      return { redis: true, kafkaTopic: KAFKA_TOPIC_EXECUTIONS, kafkaKey: envelope.asset, rabbitRoutingKey: undefined };
    // A position's funding payment travels with the position's changes: the contract's private
    // `positions` channel carries both, and position.{SYMBOL} is the one key it names for them.
    case 'FundingPaid':
      return {
        redis: true,
        kafkaTopic: KAFKA_TOPIC_EXECUTIONS,
        kafkaKey: envelope.symbol,
        rabbitRoutingKey: `position.${envelope.symbol}`,
      };
    case 'Liquidation':
      return {
        redis: true,
        kafkaTopic: KAFKA_TOPIC_MARKET_DATA,
        kafkaKey: envelope.symbol,
        rabbitRoutingKey: `liquidation.${envelope.symbol}`,
      };
    case 'MarkPrice':
      return {
        redis: true,
        kafkaTopic: KAFKA_TOPIC_MARKET_DATA,
        kafkaKey: envelope.symbol,
        rabbitRoutingKey: `markprice.${envelope.symbol}`,
      };
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
