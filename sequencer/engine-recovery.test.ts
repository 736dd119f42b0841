/** Recovery with the real matching engine: a restarted core equals one that never stopped, event for event. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineEvent, type EngineSnapshot } from '../engine/index.ts';
import { openSequencer, replayJournal, type CommandInput, type SequencerOptions } from './index.ts';
import { ENGINE_FACTORY_MODULE } from './engine-factory.ts';
import { commandMix } from './testing/command-mix.ts';

const factory = {
  createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
  restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-engine-recovery-'));
  dirs.push(dir);
  return dir;
}

/** A clock shared across restarts, so the same command gets the same timestamp in every run. */
function clock(): () => number {
  let time = 1_700_000_000_000;
  return () => (time += 3);
}

async function run(
  dataDir: string,
  commands: Iterator<CommandInput>,
  count: number,
  options: Partial<SequencerOptions<Engine>> & { now: () => number },
): Promise<{ hash: string; live: EngineEvent[]; replayed: EngineEvent[]; lastSeq: number }> {
  const live: EngineEvent[] = [];
  const replayed: EngineEvent[] = [];
  const sequencer = await openSequencer({
    dataDir,
    ...factory,
    ...options,
    onEvents: (events, info) => (info.replay ? replayed : live).push(...events),
  });
  for (let done = 0; done < count;) {
    const burst: Array<Promise<unknown>> = [];
    for (let i = 0; i < 2_000 && done < count; i++, done++) burst.push(sequencer.submit(commands.next().value as CommandInput));
    await Promise.all(burst);
  }
  const hash = sequencer.engine.stateHash();
  const lastSeq = sequencer.lastSeq;
  await sequencer.close();
  return { hash, live, replayed, lastSeq };
}

describe('recovery with the real engine', () => {
  it('restarting midway gives the same state hash and the same events as an uninterrupted run', async () => {
    const total = 24_000;
    const straight = await run(tempDir(), commandMix({ count: total, users: 60, tickEvery: 50 }), total, {
      now: clock(),
      snapshotEvery: 0,
    });
    expect(straight.lastSeq).toBe(total);
    expect(straight.live.some((event) => event.type === 'Trade')).toBe(true);
    // Tickers too (the clock moves 3 ms a command), some sent by the journaled Ticks
    expect(straight.live.filter((event) => event.type === 'Ticker').length).toBeGreaterThan(50);

    for (const snapshotEvery of [0, 5_000]) {
      const dataDir = tempDir();
      const now = clock();
      const commands = commandMix({ count: total, users: 60, tickEvery: 50 });
      const firstHalf = await run(dataDir, commands, 10_000, { now, snapshotEvery });
      const secondHalf = await run(dataDir, commands, total - 10_000, { now, snapshotEvery });
      expect(secondHalf.hash, `snapshotEvery ${snapshotEvery}`).toBe(straight.hash);
      // replay re-emits what the first run emitted after the snapshot it restarted from
      const fromSnapshot = snapshotEvery === 0 ? 0 : firstHalf.live.length - secondHalf.replayed.length;
      expect(JSON.stringify(secondHalf.replayed)).toBe(JSON.stringify(firstHalf.live.slice(fromSnapshot)));
      expect(JSON.stringify([...firstHalf.live, ...secondHalf.live])).toBe(JSON.stringify(straight.live));

      const offline = await replayJournal({ dataDir, ...factory });
      expect(offline.lastSeq).toBe(total);
      expect(offline.engine.stateHash()).toBe(straight.hash);
    }
  });

  it('replays from snapshot and from seq 1 to the same state', async () => {
    const dataDir = tempDir();
    const result = await run(dataDir, commandMix({ count: 12_000, users: 40, seed: 7, tickEvery: 40 }), 12_000, {
      now: clock(),
      snapshotEvery: 3_000,
      keepJournal: true,
    });
    expect(fs.readdirSync(path.join(dataDir, 'snapshots')).length).toBe(2);
    const fromSnapshot = await replayJournal({ dataDir, ...factory });
    const fromScratch = await replayJournal({ dataDir, ...factory, useSnapshots: false });
    expect(fromSnapshot.snapshotSeq).toBeGreaterThan(0);
    expect(fromScratch.replayedCommands).toBe(12_000);
    expect(fromSnapshot.engine.stateHash()).toBe(result.hash);
    expect(fromScratch.engine.stateHash()).toBe(result.hash);
  });

  it('snapshots written by the background process restore to the same state', async () => {
    const dataDir = tempDir();
    const snapshots: number[] = [];
    const warnings: string[] = [];
    const commands = commandMix({ count: 16_000, users: 50, seed: 11, tickEvery: 40 });
    const now = clock();
    const sequencer = await openSequencer({
      dataDir,
      ...factory,
      now,
      snapshotEvery: 4_000,
      snapshotProcess: { module: ENGINE_FACTORY_MODULE, argument: DEFAULT_ENGINE_CONFIG },
      observer: { onSnapshot: (seq) => snapshots.push(seq), onWarning: (message) => warnings.push(message) },
    });
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 4_000 }, () => sequencer.submit(commands.next().value as CommandInput)));
      if (round < 3) await expect.poll(() => snapshots.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(round + 1);
    }
    const hash = sequencer.engine.stateHash();
    await sequencer.close();
    expect(warnings).toEqual([]);

    const newest = snapshots.at(-1)!;
    const fromSnapshot = await replayJournal({ dataDir, ...factory });
    expect(fromSnapshot.snapshotSeq).toBeGreaterThanOrEqual(newest);
    expect(fromSnapshot.engine.stateHash()).toBe(hash);
  });
});
