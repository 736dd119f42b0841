import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives the defaults that services:up starts when nothing is set', () => {
    const config = loadConfig({});
    expect(config.API_PORT).toBe(7000);
    expect(config.WS_PORT).toBe(7001);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6380');
    expect(config.KAFKA_BROKERS).toBe('127.0.0.1:9092');
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ API_PORT: 'seventy' })).toThrow(ConfigError);
    expect(() => loadConfig({ API_PORT: 'seventy' })).toThrow(/API_PORT/);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'nohost' })).toThrow(/KAFKA_BROKERS/);
  });
});

describe('loadConfig — core settings (api, sequencer)', () => {
  it('defaults rate limits and sequencer bounds, and reads them as integers', () => {
    const config = loadConfig({});
    expect(config.RATE_LIMIT_ORDERS_PER_SEC).toBe(200);
    expect(config.RATE_LIMIT_REQUESTS_PER_MIN).toBe(12_000);
    expect(config.SEQUENCER_MAX_PENDING).toBe(100_000);
    expect(config.SNAPSHOT_EVERY).toBe(100_000);
    expect(config.SNAPSHOT_KEEP).toBe(2);
    expect(config.JOURNAL_KEEP_ALL).toBe(false);
    expect(loadConfig({ JOURNAL_KEEP_ALL: 'true' }).JOURNAL_KEEP_ALL).toBe(true);
    expect(() => loadConfig({ JOURNAL_KEEP_ALL: 'yes' })).toThrow(/JOURNAL_KEEP_ALL/);
    expect(config.SECRET_ENCRYPTION_KEY).toBeUndefined();
    expect(loadConfig({ RATE_LIMIT_ORDERS_PER_SEC: '5000', SNAPSHOT_EVERY: '0' })).toMatchObject({
      RATE_LIMIT_ORDERS_PER_SEC: 5000,
      SNAPSHOT_EVERY: 0,
    });
  });

  it('refuses a secret-encryption key that is not 32 bytes, and a zero rate limit', () => {
    expect(loadConfig({ SECRET_ENCRYPTION_KEY: 'ab'.repeat(32) }).SECRET_ENCRYPTION_KEY).toBe('ab'.repeat(32));
    expect(() => loadConfig({ SECRET_ENCRYPTION_KEY: 'ab'.repeat(16) })).toThrow(/SECRET_ENCRYPTION_KEY/);
    expect(() => loadConfig({ RATE_LIMIT_ORDERS_PER_SEC: '0' })).toThrow(/RATE_LIMIT_ORDERS_PER_SEC/);
  });
});
