/** The persister's Redis adapter against a real Redis: callers arriving while it connects share the connection attempt. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisExecutionStream } from './redis-execution-stream.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6380';
const STREAM = `execution-stream-test-${process.pid}-${Date.now()}`;

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  await redis.del(STREAM);
  redis.disconnect();
});

describe('RedisExecutionStream', () => {
  it('serves commands issued at once on a fresh adapter (none fails with "Stream isn\'t writeable")', async () => {
    const stream = new RedisExecutionStream({ url: REDIS_URL, stream: STREAM });
    // what the persister does at start: the group, its progress and a trim, all before the first connection is up
    const results = await Promise.allSettled([stream.ensureGroup(), stream.groups(), stream.firstFrom('-'), stream.trimBelow('0-1')]);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect((await stream.groups()).map((group) => group.name)).toEqual(['execution_processors']);
    await stream.close();
  });
});
