/**
 * Two exchanges on the same brokers and namespace (a second DATA_DIR whose journal starts again
 * at seq 1): the second one's Redis publisher refuses the first one's stream instead of taking its
 * own events for duplicates and dropping them, says so in /ready, and the first exchange's stream
 * is left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from './config.ts';
import { Stack, waitFor } from './testing/stack.ts';

let first: Stack;
let second: Stack | undefined;
let redis: Redis;

interface Ready {
  publishers: Record<string, { state: string; confirmed_seq: number; last_error: string | null; lag_events: number }>;
}

const lastGeneratedSeq = async (stream: string): Promise<number> => {
  const info = (await redis.xinfo('STREAM', stream)) as unknown[];
  return Number(String(info[info.indexOf('last-generated-id') + 1]).split('-')[0]);
};

beforeAll(async () => {
  redis = new Redis(loadConfig().REDIS_URL);
  first = await Stack.start({ publishers: ['redis'] });
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await first?.stop();
  redis?.disconnect();
}, 60_000);

describe('a second exchange on the first one’s namespace', () => {
  it('is refused by the stream, not silently deduplicated into it', async () => {
    const [maker, taker] = [await first.createUser('first-maker'), await first.createUser('first-taker')];
    for (let index = 0; index < 5; index++) {
      await first.order(maker, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.001' });
      await first.order(taker, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50000000', quantity: '0.001' });
    }
    await first.client.settledState();
    await waitFor(
      async () => ((await first.ready()) as unknown as Ready).publishers.redis?.lag_events === 0,
      30_000,
      'the first exchange published',
    );
    const held = await lastGeneratedSeq(first.names.stream);
    expect(held).toBeGreaterThan(20);

    // a fresh DATA_DIR (journal from seq 1) on the same namespace
    second = await Stack.start({ publishers: ['redis'], env: { BROKER_NAMESPACE: first.namespace } });
    const user = await second.createUser('second-user', { KRW: '1000000' });
    expect(user.userId).toBeTruthy();
    let ready: Ready | undefined;
    await waitFor(
      async () => {
        ready = (await second!.ready()) as unknown as Ready;
        return /belongs to another exchange/.test(ready.publishers.redis?.last_error ?? '');
      },
      30_000,
      'the second exchange to say the stream is not its own',
    );
    expect(ready!.publishers.redis).toMatchObject({ confirmed_seq: 0 });
    expect(ready!.publishers.redis!.last_error).toContain(`already holds seqs up to ${held}`);
    expect(ready!.publishers.redis!.state).not.toBe('up');
    // nothing of the second exchange went in, nothing of the first was touched
    expect(await lastGeneratedSeq(first.names.stream)).toBe(held);
  }, 120_000);
});
