/**
 * The publish loop around an in-memory broker double (pure code: the real brokers are exercised
 * in ops/fanout.int.test.ts): order and prev_seq chains, cursor and restart, retries with back-off and
 * the state table, a hung publish cut by the timeout, and a rewind when the broker lost data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../engine/index.ts';
import type { Envelope } from '../contract/envelopes.ts';
import { CursorStore } from './event-log/cursor-store.ts';
import { EventLogWriter } from './event-log/writer.ts';
import { PublishLoop } from './publish-loop.ts';
import type { BrokerPublisher } from './publisher.ts';
import { RewindRequired } from './retry.ts';
import { nextState } from './publisher-state.ts';
import { syntheticEvents } from './testing/synthetic-events.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

class MemoryBroker implements BrokerPublisher {
  readonly name = 'redis' as const;
  received: Envelope[] = [];
  failNext = 0;
  hangNext = 0;
  rewindTo: number | undefined;
  calls = 0;
  chainKey(envelope: Envelope): string | undefined {
    return envelope.type === 'BookDelta' ? undefined : 'stream';
  }
  async publish(envelopes: readonly Envelope[]): Promise<void> {
    this.calls++;
    if (this.rewindTo !== undefined) {
      const held = this.rewindTo;
      this.rewindTo = undefined;
      this.received = this.received.filter((envelope) => envelope.seq <= held);
      throw new RewindRequired(held, 'lost');
    }
    if (this.hangNext > 0) {
      this.hangNext--;
      return new Promise(() => {});
    }
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker down');
    }
    this.received.push(...envelopes.map((envelope) => ({ ...envelope })));
  }
  reset(): void {}
  async close(): Promise<void> {}
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function setup(count: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-loop-'));
  dirs.push(dir);
  const writer = EventLogWriter.open({ dir });
  const events = syntheticEvents(1, count);
  writer.append(events);
  return { dir, writer, lastSeq: writer.lastSeq };
}

const loopOf = (dir: string, broker: MemoryBroker, extra: Partial<ConstructorParameters<typeof PublishLoop>[0]> = {}) =>
  new PublishLoop({
    eventLogDir: dir,
    engineConfig: DEFAULT_ENGINE_CONFIG,
    publisher: broker,
    maxBatchRecords: 50,
    backoff: { initialMs: 1, maxMs: 5 },
    random: () => 0.5,
    ...extra,
  });

/** every envelope once, in seq order, each prev_seq the one before it */
function expectChained(received: readonly Envelope[]): void {
  const seqs = received.map((envelope) => envelope.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  for (let index = 0; index < received.length; index++) {
    expect(received[index]!.prev_seq).toBe(index === 0 ? 0 : received[index - 1]!.seq);
  }
}

describe('publish loop', () => {
  it('sends every envelope for its broker once, in order, chained, and moves the cursor to the log end', async () => {
    const { dir, writer, lastSeq } = setup(400);
    const broker = new MemoryBroker();
    const loop = loopOf(dir, broker);
    loop.start();
    await until(() => loop.confirmedSeq === lastSeq);
    await loop.stop();
    expectChained(broker.received);
    expect(broker.received.some((envelope) => envelope.type === 'BookDelta')).toBe(false);
    expect(broker.received.filter((envelope) => envelope.type === 'Execution').length).toBe(2 * 80);
    expect(new CursorStore(dir).load('redis').seq).toBe(lastSeq);
    writer.close();
  });

  it('a restarted loop resumes after its cursor with the same chains', async () => {
    const { dir, writer } = setup(100);
    const broker = new MemoryBroker();
    let loop = loopOf(dir, broker);
    loop.start();
    await until(() => loop.confirmedSeq === writer.lastSeq);
    await loop.stop();
    writer.append(syntheticEvents(writer.lastSeq + 1, 100));
    loop = loopOf(dir, broker);
    loop.start();
    await until(() => loop.confirmedSeq === writer.lastSeq);
    await loop.stop();
    expectChained(broker.received);
    writer.close();
  });

  it('retries a failing broker with back-off, goes retrying then down, and loses nothing', async () => {
    const { dir, writer, lastSeq } = setup(300);
    const broker = new MemoryBroker();
    broker.failNext = 30;
    const states = new Set<string>();
    // the state after every failed attempt, from the loop's own error hook (a timer could miss one on a busy machine)
    const loop: PublishLoop = loopOf(dir, broker, { downAfterMs: 20, onError: () => queueMicrotask(() => states.add(loop.state)) });
    loop.start();
    await until(() => loop.confirmedSeq === lastSeq);
    await loop.stop();
    expect([...states]).toEqual(expect.arrayContaining(['retrying', 'down']));
    expect(loop.state).toBe('up');
    expect(loop.status().resends).toBe(30);
    expectChained(broker.received);
    writer.close();
  });

  it('a publish that never answers is cut by the timeout and sent again', async () => {
    const { dir, writer, lastSeq } = setup(60);
    const broker = new MemoryBroker();
    broker.hangNext = 2;
    const loop = loopOf(dir, broker, { publishTimeoutMs: 50 });
    loop.start();
    await until(() => loop.confirmedSeq === lastSeq);
    await loop.stop();
    expect(loop.status().last_error).toMatch(/no answer within 50 ms/);
    expectChained(broker.received);
    writer.close();
  });

  it('a broker that lost confirmed data gets it again from the log (rewind)', async () => {
    const { dir, writer } = setup(200);
    const broker = new MemoryBroker();
    const loop = loopOf(dir, broker);
    loop.start();
    await until(() => loop.confirmedSeq === writer.lastSeq);
    const held = broker.received[40]!.seq;
    broker.rewindTo = held;
    writer.append(syntheticEvents(writer.lastSeq + 1, 50));
    await until(() => loop.confirmedSeq === writer.lastSeq && broker.calls > 6);
    await loop.stop();
    expectChained(broker.received);
    writer.close();
  });

  it('the state table refuses moves it does not know', () => {
    expect(nextState('up', 'failed')).toBe('retrying');
    expect(nextState('retrying', 'failing-long')).toBe('down');
    expect(nextState('down', 'confirmed')).toBe('up');
    expect(() => nextState('up', 'failing-long')).toThrow(/does not take/);
  });
});
