import { loadConfig, type Config } from '../config.ts';

/** The config with PostgreSQL, Redis, RabbitMQ and Kafka all at 127.0.0.1:`port` (the probe tests' closed or silent port). */
export function allServicesAt(port: number): Config {
  return loadConfig({
    DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/xtrader`,
    REDIS_URL: `redis://127.0.0.1:${port}`,
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}`,
    KAFKA_BROKERS: `127.0.0.1:${port}`,
  });
}
