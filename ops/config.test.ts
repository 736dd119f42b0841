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
