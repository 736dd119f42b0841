/**
 * Recovery over a futures stream (issue 18): transfers, leverage, margin types, hedge mode, index
 * prices (with gaps that liquidate, issue 19) and perpetual orders (reduce-only and position sides included) go through the journal
 * codec, and a core restarted midway — from the journal alone or from a snapshot — ends in the
 * same state hash with the same events as one that never stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineEvent, type EngineSnapshot } from '../engine/index.ts';
import { openSequencer, replayJournal, type CommandInput } from './index.ts';
import { seededRandom } from './testing/command-mix.ts';

const factory = {
  createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
  restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
};
const PERP = 'BTC-KRW-PERP';
const USERS = 12;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-futures-recovery-'));
  dirs.push(dir);
  return dir;
}

function clock(): () => number {
  let time = 1_700_000_000_000;
  return () => (time += 3);
}

/** Bigints as decimal strings, as the event log writes them. */
const text = (events: EngineEvent[]): string =>
  JSON.stringify(events, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));

function* futuresMix(seed: number): Generator<CommandInput> {
  const random = seededRandom(seed);
  const pick = (count: number): number => Math.floor(random() * count);
  for (let userId = 1; userId <= USERS; userId++) {
    yield { type: 'Deposit', userId, asset: 'KRW', amount: 50_000_000 };
    yield { type: 'FuturesTransfer', userId, asset: 'KRW', amount: 20_000_000, direction: 'SpotToFutures' };
    if (userId % 3 === 0) yield { type: 'SetMarginType', userId, symbol: PERP, marginType: 'ISOLATED' };
    if (userId % 4 === 0) yield { type: 'SetPositionMode', userId, hedge: true };
    yield { type: 'SetLeverage', userId, symbol: PERP, leverage: 5 + pick(20) };
  }
  let mid = 100_000;
  for (let index = 0; ; index++) {
    if (index % 40 === 0) {
      mid += pick(5) * 100 - 200;
      // every 400th command a 10 % gap: liquidations (book, insurance, ADL) go through the journal too (issue 19)
      if (index % 400 === 0 && index > 0) mid = Math.round((mid * (random() < 0.5 ? 0.9 : 1.1)) / 100) * 100;
      yield {
        type: 'SetIndexPrices',
        prices: [
          { symbol: PERP, source: 'feed', price: mid },
          { symbol: PERP, source: 'other', price: mid + 100 },
        ],
      };
      continue;
    }
    const userId = 1 + pick(USERS);
    const roll = random();
    if (roll < 0.05) {
      yield {
        type: 'FuturesTransfer',
        userId,
        asset: 'KRW',
        amount: 1 + pick(1_000_000),
        direction: random() < 0.5 ? 'SpotToFutures' : 'FuturesToSpot',
      };
      continue;
    }
    if (roll < 0.08) {
      yield {
        type: 'AdjustIsolatedMargin',
        userId,
        symbol: PERP,
        positionSide: userId % 4 === 0 ? 'LONG' : 'BOTH',
        amount: 1 + pick(100_000),
        action: random() < 0.5 ? 'Add' : 'Remove',
      };
      continue;
    }
    const side: 'Buy' | 'Sell' = random() < 0.5 ? 'Buy' : 'Sell';
    const hedge = userId % 4 === 0;
    const positionSide: 'LONG' | 'SHORT' | undefined = hedge ? (random() < 0.5 ? 'LONG' : 'SHORT') : undefined;
    const reduceOnly = !hedge && random() < 0.15 ? true : undefined;
    const base = {
      type: 'PlaceOrder' as const,
      userId,
      symbol: PERP,
      side,
      postOnly: false,
      stp: 'ExpireTaker' as const,
      quantity: 1 + pick(30),
      reduceOnly,
      positionSide,
    };
    if (roll < 0.2) yield { ...base, orderType: 'Market', timeInForce: 'IOC' };
    else yield { ...base, orderType: 'Limit', price: mid + (pick(11) - 5) * 100, timeInForce: random() < 0.8 ? 'GTC' : 'IOC' };
  }
}

async function run(dataDir: string, commands: Iterator<CommandInput>, count: number, now: () => number, snapshotEvery: number) {
  const live: EngineEvent[] = [];
  const replayed: EngineEvent[] = [];
  const sequencer = await openSequencer({
    dataDir,
    ...factory,
    now,
    snapshotEvery,
    onEvents: (events, info) => (info.replay ? replayed : live).push(...events),
  });
  for (let done = 0; done < count;) {
    const burst: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1_000 && done < count; i++, done++) burst.push(sequencer.submit(commands.next().value as CommandInput));
    await Promise.all(burst);
  }
  const hash = sequencer.engine.stateHash();
  await sequencer.close();
  return { hash, live, replayed };
}

describe('recovery over a futures stream', () => {
  it('a restart midway, from the journal or a snapshot, gives the same events and state hash', async () => {
    const total = 6_000;
    const straight = await run(tempDir(), futuresMix(5), total, clock(), 0);
    const kinds = new Set(straight.live.map((event) => event.type));
    for (const kind of ['Trade', 'PositionChanged', 'WalletChanged', 'OrderRejected', 'Liquidation']) expect(kinds, kind).toContain(kind);
    for (const snapshotEvery of [0, 1_500]) {
      const dataDir = tempDir();
      const now = clock();
      const commands = futuresMix(5);
      const first = await run(dataDir, commands, 2_500, now, snapshotEvery);
      const second = await run(dataDir, commands, total - 2_500, now, snapshotEvery);
      expect(second.hash, `snapshotEvery ${snapshotEvery}`).toBe(straight.hash);
      const fromSnapshot = snapshotEvery === 0 ? 0 : first.live.length - second.replayed.length;
      expect(text(second.replayed)).toBe(text(first.live.slice(fromSnapshot)));
      expect(text([...first.live, ...second.live])).toBe(text(straight.live));
      const offline = await replayJournal({ dataDir, ...factory, useSnapshots: snapshotEvery > 0 });
      expect(offline.engine.stateHash()).toBe(straight.hash);
    }
  });
});
