import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';

const config = loadConfig();

describe('Redis (REDIS_URL, project-owned with AOF)', () => {
  // Fail fast instead of queueing commands forever when the server is down.
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  const stream = `test:stream:${randomUUID()}`;

  redis.on('error', () => {}); // a refused connection surfaces as connect()'s rejection

  beforeAll(async () => {
    await redis.connect();
  });
  afterAll(async () => {
    await redis.del(stream).catch(() => {});
    redis.disconnect();
  });

  it('keeps an append-only file, fsynced every second', async () => {
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
  });

  it('round-trips XADD → XREADGROUP → XACK in a consumer group', async () => {
    await redis.xgroup('CREATE', stream, 'testers', '$', 'MKSTREAM');
    const id = await redis.xadd(stream, '*', 'seq', '1', 'payload', '{"type":"Trade"}');

    const read = (await redis.xreadgroup('GROUP', 'testers', 'consumer-1', 'COUNT', 10, 'STREAMS', stream, '>')) as
      [string, [string, string[]][]][] | null;
    expect(read).toEqual([[stream, [[id, ['seq', '1', 'payload', '{"type":"Trade"}']]]]]);

    expect(await redis.xack(stream, 'testers', id as string)).toBe(1);
    const pending = (await redis.xpending(stream, 'testers')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });
});
