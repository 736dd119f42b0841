/**
 * One publisher process: `node --import tsx ops/publisher.ts redis|kafka|rabbitmq`. npm start's
 * supervisor runs one per broker, so each broker's client library, outage or hang is confined to
 * its own process (and core's event loop never runs publisher code). It reads $DATA_DIR/events
 * from its cursor and writes its status next to the cursor, which the core serves on /ready and
 * /metrics.
 */
import { pino } from 'pino';
import { DEFAULT_ENGINE_CONFIG } from '../engine/index.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import { KafkaPublisher } from '../mq/adapters/kafka-publisher.ts';
import { RabbitPublisher } from '../mq/adapters/rabbitmq-publisher.ts';
import { RedisPublisher } from '../mq/adapters/redis-publisher.ts';
import { lastLoggedSeq } from '../mq/event-log/reader.ts';
import { eventLogDirOf } from '../mq/event-log/segment-format.ts';
import { PublishLoop } from '../mq/publish-loop.ts';
import type { BrokerName, BrokerPublisher } from '../mq/publisher.ts';
import { type Config, loadConfig } from './config.ts';
import { runIfEntry, stopOnSignals } from './process-kit.ts';

export function brokerPublisher(name: BrokerName, config: Config): BrokerPublisher {
  const names = brokerNames(config.BROKER_NAMESPACE);
  switch (name) {
    case 'redis':
      return new RedisPublisher({
        url: config.REDIS_URL,
        stream: names.stream,
        commandTimeoutMs: config.PUBLISH_TIMEOUT_MS,
        logEnd: () => lastLoggedSeq(eventLogDirOf(config.DATA_DIR)),
      });
    case 'kafka':
      return new KafkaPublisher({
        brokers: config.KAFKA_BROKERS.split(',').map((broker) => broker.trim()),
        partitions: config.KAFKA_PARTITIONS,
        requestTimeoutMs: config.PUBLISH_TIMEOUT_MS,
        topics: { marketData: names.marketData, executions: names.executions },
      });
    case 'rabbitmq':
      return new RabbitPublisher({ url: config.AMQP_URL, exchange: names.exchange });
  }
}

async function main(): Promise<void> {
  const name = process.argv[2] as BrokerName;
  if (!['redis', 'kafka', 'rabbitmq'].includes(name)) throw new Error('usage: ops/publisher.ts redis|kafka|rabbitmq');
  // kafkajs prints a one-time notice about its v2 partitioner otherwise
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { process: `publisher-${name}` } });
  let lastLogged = 0;
  const loop = new PublishLoop({
    eventLogDir: eventLogDirOf(config.DATA_DIR),
    engineConfig: DEFAULT_ENGINE_CONFIG,
    publisher: brokerPublisher(name, config),
    publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
    onError: (error, attempt) => {
      // one line per failure streak and then every 10 s, not one per retry
      if (attempt === 0 || Date.now() - lastLogged > 10_000) {
        lastLogged = Date.now();
        logger.warn({ err: error, attempt }, `${name}: publish failed; retrying with back-off`);
      }
    },
    onWarning: (message) => logger.warn(message),
  });
  loop.start();
  logger.info({ from: loop.confirmedSeq + 1 }, `${name} publisher started`);
  stopOnSignals(logger, { close: () => loop.stop() });
}

runIfEntry(import.meta.url, main);
