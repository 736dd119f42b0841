/** The Redis adapter against a real Redis: resends are duplicates, another exchange's stream is refused. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../contract/envelopes.ts';
import { ForeignStreamError, RedisPublisher } from './redis-publisher.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6380';
const STREAM = `redis-publisher-test-${process.pid}-${Date.now()}`;
let redis: Redis;

/** only what the adapter reads: seq and prev_seq (the JSON goes into the entry as it is) */
const envelopes = (from: number, to: number, prevSeq: number, timestamp = 1): Envelope[] =>
  Array.from(
    { length: to - from + 1 },
    (_, index) =>
      ({ v: 1, type: 'Trade', seq: from + index, prev_seq: index === 0 ? prevSeq : from + index - 1, timestamp }) as unknown as Envelope,
  );

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis.del(STREAM, `${STREAM}-foreign`);
  redis.disconnect();
});

describe('RedisPublisher', () => {
  it('takes a resend after a crash (ids the stream has) as duplicates, not errors', async () => {
    const publisher = new RedisPublisher({ url: REDIS_URL, stream: STREAM });
    await publisher.publish(envelopes(1, 5, 0));
    publisher.reset(); // a new connection, as after a crash before the cursor was saved
    await publisher.publish(envelopes(3, 8, 2));
    expect(publisher.duplicates).toBe(3);
    expect(await redis.xlen(STREAM)).toBe(8);
    // a crash after two more confirmed batches whose cursor was not saved yet: the stream holds more
    // than the (smaller) first batch read again — the same entries, so a resend, not another exchange
    await publisher.publish(envelopes(9, 12, 8));
    publisher.reset();
    await publisher.publish(envelopes(9, 10, 8));
    expect(publisher.duplicates).toBe(5);
    await publisher.close();
  });

  it("refuses a stream that already holds seqs beyond what it sends (another exchange's) and writes nothing", async () => {
    const stream = `${STREAM}-foreign`;
    await redis.xadd(stream, '1755-0', 'envelope', '{"seq":1755}');
    // its entries below 1755 are trimmed: told apart by the event log, which ends at 36
    const publisher = new RedisPublisher({ url: REDIS_URL, stream, logEnd: () => 36 });
    await expect(publisher.publish(envelopes(1, 36, 0))).rejects.toThrow(ForeignStreamError);
    await expect(publisher.publish(envelopes(1, 36, 0))).rejects.toThrow(/belongs to another exchange.*BROKER_NAMESPACE/);
    expect(publisher.duplicates).toBe(0);
    expect(await redis.xlen(stream)).toBe(1);
    await publisher.close();
  });

  it("tells another exchange's entries by their content, even when this exchange's log is longer", async () => {
    const stream = `${STREAM}-other`;
    const other = new RedisPublisher({ url: REDIS_URL, stream });
    await other.publish(envelopes(1, 50, 0, 111)); // another exchange's events: same seqs, other content
    await other.close();
    const publisher = new RedisPublisher({ url: REDIS_URL, stream, logEnd: () => 1_000 });
    await expect(publisher.publish(envelopes(1, 36, 0, 222))).rejects.toThrow(/belongs to another exchange/);
    expect(await redis.xlen(stream)).toBe(50);
    await publisher.close();
    await redis.del(stream);
  });
});
