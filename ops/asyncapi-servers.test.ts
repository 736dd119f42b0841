/** /asyncapi.json's server addresses are the defaults ops/config.ts starts the services on (api/ may not import ops/). */
import { describe, expect, it } from 'vitest';
import { ASYNCAPI_DEFAULT_HOSTS } from '../api/asyncapi.ts';
import { loadConfig } from './config.ts';

describe('AsyncAPI servers', () => {
  it('match the configuration defaults', () => {
    const config = loadConfig({});
    expect(ASYNCAPI_DEFAULT_HOSTS).toEqual({
      redis: new URL(config.REDIS_URL).host,
      kafka: config.KAFKA_BROKERS.split(',')[0]!.trim(),
      amqp: new URL(config.AMQP_URL).host,
      ws: `${config.API_HOST}:${config.WS_PORT}`,
      ws2: `${config.API_HOST}:${config.WS_PORT_2}`,
    });
  });
});
