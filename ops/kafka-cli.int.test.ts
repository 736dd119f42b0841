/**
 * Kafka's own console consumer (npm run kafka -- console-consumer, ops/kafka-cli.ts) reads what the
 * stack publishes, as an outside consumer would: every record's key is its symbol, its value one
 * envelope or an array of them that the published AsyncAPI schemas accept, `prev_seq` chains per
 * key, and the trades made over HTTP are all there.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBody } from '../contract/envelope-schemas.test-support.ts';
import { PROJECT_ROOT } from './config.ts';
import { Stack, waitFor } from './testing/stack.ts';

let stack: Stack;

/** runs the console consumer to the end of the topic (it exits after 6 s without a record); stdout lines */
async function consoleConsumer(topic: string): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(PROJECT_ROOT, 'ops/kafka-cli.ts'),
      'console-consumer',
      '--topic',
      topic,
      '--from-beginning',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=|',
      '--timeout-ms',
      '6000',
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  // the tool exits 0 after its timeout (it logs the TimeoutException as an error line on stderr)
  expect(code, stderr.slice(-1_500)).toBe(0);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

beforeAll(async () => {
  stack = await Stack.start({ publishers: ['kafka'] });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('Kafka console consumer (Kafka’s own CLI, npm run kafka)', () => {
  it('reads the market-data topic: key = symbol, values as in AsyncAPI, prev_seq chained, every trade there', async () => {
    const [maker, taker] = [await stack.createUser('cli-maker'), await stack.createUser('cli-taker')];
    for (const [symbol, price, quantity] of [
      ['BTC-KRW', '50000000', '0.002'],
      ['ETH-KRW', '3000000', '0.05'],
      ['BTC-KRW', '50001000', '0.001'],
    ] as const) {
      await stack.order(maker, { symbol, side: 'Sell', order_type: 'Limit', price, quantity });
      await stack.order(taker, { symbol, side: 'Buy', order_type: 'Limit', price, quantity, time_in_force: 'IOC' });
    }
    // quiet (the Ticks due after the trades journaled), then every event sent
    await stack.client.settledState();
    await waitFor(
      async () => ((await stack.ready()) as { publishers: Record<string, { lag_events?: number }> }).publishers.kafka?.lag_events === 0,
      30_000,
      'the Kafka publisher to have sent every event',
    );

    const lines = await consoleConsumer(stack.names.marketData);
    const envelopes: Array<Record<string, unknown>> = [];
    const lastByKey = new Map<string, number>();
    for (const line of lines) {
      const split = line.indexOf('|');
      const key = line.slice(0, split);
      const value = JSON.parse(line.slice(split + 1)) as unknown;
      expect(validateBody(value, { broker: 'kafka', topic: 'market-data', key }), line).toEqual([]);
      for (const envelope of (Array.isArray(value) ? value : [value]) as Array<Record<string, unknown>>) {
        expect(envelope.symbol, 'the record key is the symbol').toBe(key);
        expect(envelope.prev_seq, `prev_seq chains ${key}`).toBe(lastByKey.get(key) ?? 0);
        lastByKey.set(key, envelope.seq as number);
        envelopes.push(envelope);
      }
    }
    // Kafka orders records per partition (per symbol) only: across symbols, by seq
    const trades = envelopes.filter((envelope) => envelope.type === 'Trade').sort((a, b) => (a.seq as number) - (b.seq as number));
    expect(trades.map((trade) => [trade.symbol, trade.price, trade.quantity])).toEqual([
      ['BTC-KRW', '50000000', '0.002'],
      ['ETH-KRW', '3000000', '0.05'],
      ['BTC-KRW', '50001000', '0.001'],
    ]);
    expect(new Set(envelopes.map((envelope) => envelope.type))).toEqual(new Set(['Trade', 'BookDelta', 'Ticker']));
  }, 120_000);
});
