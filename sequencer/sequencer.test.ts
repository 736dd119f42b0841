import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../engine/types.ts';
import {
  DataDirLockedError,
  InvalidCommandError,
  openSequencer,
  createSequencer,
  readJournalRecords,
  replayJournal,
  SequencerClosedError,
  SequencerNotReadyError,
  SequencerOverloadedError,
  type CommandInput,
  type EventBatchInfo,
  type Sequencer,
  type SequencerOptions,
} from './index.ts';
import { ToyEngine, toyFactory } from './testing/toy-engine.ts';
import { processIdentity } from './lock.ts';

const dirs: string[] = [];
const open: Sequencer[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-seq-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, options: Partial<SequencerOptions<ToyEngine>> = {}): Promise<Sequencer<ToyEngine>> {
  let clock = 1_700_000_000_000;
  const sequencer = await openSequencer({ dataDir, ...toyFactory, now: () => clock++, ...options });
  open.push(sequencer);
  return sequencer;
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const sequencer of open.splice(0)) await sequencer.close().catch(() => {});
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** a deterministic mix: deposits, orders, cancels of earlier orders, withdrawals (some rejected) */
function command(i: number): CommandInput {
  const userId = 1 + (i % 7);
  switch (i % 5) {
    case 0:
      return { type: 'Deposit', userId, asset: i % 2 ? 'BTC' : 'KRW', amount: 1_000 + i };
    case 1:
    case 2:
      return {
        type: 'PlaceOrder',
        userId,
        symbol: 'BTC-KRW',
        side: i % 2 ? 'Buy' : 'Sell',
        orderType: 'Limit',
        price: 50_000 + (i % 13),
        quantity: 1 + (i % 4),
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireTaker',
        ...(i % 3 === 0 ? { clientOrderId: `c-${i}` } : {}),
      };
    case 3:
      return { type: 'CancelOrder', userId, orderId: Math.max(1, i - 2) };
    default:
      return { type: 'Withdraw', userId, asset: 'KRW', amount: 500 + (i % 900) };
  }
}

function segmentFiles(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, 'journal')).sort();
}

describe('sequencer', () => {
  it('assigns gap-free seqs in submission order under concurrent submits, orderId = seq', async () => {
    const sequencer = await start(tempDir());
    const inputs = Array.from({ length: 5_000 }, (_, i) => command(i));
    const results = await Promise.all(inputs.map((input) => sequencer.submit(input)));
    results.forEach((result, i) => {
      expect(result.seq).toBe(i + 1);
      if (inputs[i]!.type === 'PlaceOrder') {
        expect(result.orderId).toBe(result.seq);
        expect(sequencer.engine.getOrder(result.seq)?.userId).toBe(inputs[i]!.userId);
      } else {
        expect(result.orderId).toBeUndefined();
      }
      expect(result.events.length).toBe(1);
      if (i > 0) expect(result.timestamp).toBeGreaterThanOrEqual(results[i - 1]!.timestamp);
    });
    expect(sequencer.lastSeq).toBe(5_000);
    expect(sequencer.engine.applied).toBe(5_000);
    expect(readJournalRecords(sequencer === undefined ? '' : dirs[0]!).map((r) => r.seq)).toEqual(results.map((r) => r.seq));
  });

  it('never lets timestamps go backwards even when the clock does', async () => {
    const times = [1_000, 900, 1_100, 800];
    const sequencer = await start(tempDir(), { now: () => times.shift() ?? 0 });
    const stamps = await Promise.all([0, 1, 2, 3].map((i) => sequencer.submit(command(i)).then((r) => r.timestamp)));
    expect(stamps).toEqual([1_000, 1_000, 1_100, 1_100]);
  });

  it('releases an ack only after the fdatasync of its batch completed', async () => {
    const dataDir = tempDir();
    const sequencer = await start(dataDir);
    const held: Array<() => void> = [];
    const real = fs.fdatasync;
    vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => real(fd, callback));
    }) as typeof fs.fdatasync);
    let acked = false;
    const ack = sequencer.submit(command(0)).then((result) => {
      acked = true;
      return result;
    });
    await vi.waitFor(() => expect(held.length).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acked).toBe(false);
    expect(sequencer.lastSeq).toBe(0); // not applied before durable either
    held.shift()!();
    expect((await ack).seq).toBe(1);
    expect(readJournalRecords(dataDir).map((r) => r.seq)).toEqual([1]);
  });

  it('commits many commands with few fsyncs (group commit)', async () => {
    const batches: number[] = [];
    const sequencer = await start(tempDir(), { observer: { onBatch: (size) => batches.push(size) } });
    await Promise.all(Array.from({ length: 20_000 }, (_, i) => sequencer.submit(command(i))));
    expect(batches.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(batches.length).toBeLessThan(20);
  });

  it('respects maxBatch', async () => {
    const batches: number[] = [];
    const sequencer = await start(tempDir(), { maxBatch: 100, observer: { onBatch: (size) => batches.push(size) } });
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => sequencer.submit(command(i))));
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(1_000);
  });

  it('caps a batch at about 4 MiB of records', async () => {
    const batches: Array<{ size: number; bytes: number }> = [];
    const sequencer = await start(tempDir(), { observer: { onBatch: (size, bytes) => batches.push({ size, bytes }) } });
    const reference = 'r'.repeat(60_000);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => sequencer.submit({ type: 'Deposit', userId: i, asset: 'KRW', amount: 1, reference })),
    );
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const batch of batches) expect(batch.bytes).toBeLessThan(4 * 1024 * 1024 + 61_000);
    expect(batches.reduce((sum, batch) => sum + batch.size, 0)).toBe(200);
  });

  it('refuses with SequencerOverloadedError when maxPending commands wait, without consuming a seq or changing state', async () => {
    const dataDir = tempDir();
    const sequencer = await start(dataDir, { maxPending: 100 });
    const outcomes = await Promise.allSettled(Array.from({ length: 150 }, (_, i) => sequencer.submit(command(i))));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused.length).toBe(50);
    for (const o of refused) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(SequencerOverloadedError);
    expect(outcomes.slice(0, 100).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(sequencer.lastSeq).toBe(100);
    expect(sequencer.engine.applied).toBe(100);
    // the queue drains, then accepts again with the next seq
    expect((await sequencer.submit(command(0))).seq).toBe(101);
    expect(readJournalRecords(dataDir).length).toBe(101);
  });

  it('refuses an unjournalable command with InvalidCommandError without consuming a seq', async () => {
    const sequencer = await start(tempDir());
    await expect(sequencer.submit({ type: 'Deposit', userId: 1, asset: 'KRW', amount: 0.5 })).rejects.toBeInstanceOf(InvalidCommandError);
    expect((await sequencer.submit(command(0))).seq).toBe(1);
  });

  it('is not ready before open and refuses after close, after writing what was queued', async () => {
    const dataDir = tempDir();
    const sequencer = createSequencer({ dataDir, ...toyFactory });
    expect(sequencer.ready).toBe(false);
    await expect(sequencer.submit(command(0))).rejects.toBeInstanceOf(SequencerNotReadyError);
    expect(() => sequencer.engine).toThrow(SequencerNotReadyError);
    expect(() => sequencer.queries).toThrow(SequencerNotReadyError);
    await sequencer.open();
    expect(sequencer.ready).toBe(true);
    const queued = Array.from({ length: 50 }, (_, i) => sequencer.submit(command(i)));
    const closed = sequencer.close();
    await expect(sequencer.submit(command(0))).rejects.toBeInstanceOf(SequencerClosedError);
    expect((await Promise.all(queued)).length).toBe(50);
    await closed;
    expect(sequencer.ready).toBe(false);
    expect(readJournalRecords(dataDir).length).toBe(50);
  });

  it('hands every batch of events to the sink, and a throwing sink does not stop it', async () => {
    const seen: Array<{ events: readonly EngineEvent[]; info: EventBatchInfo }> = [];
    const sinkErrors: unknown[] = [];
    let calls = 0;
    const sequencer = await start(tempDir(), {
      onEvents: (events, info) => {
        seen.push({ events, info });
        if (++calls === 1) throw new Error('sink bug');
      },
      observer: { onSinkError: (error) => sinkErrors.push(error) },
    });
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => sequencer.submit(command(i))));
    results.push(await sequencer.submit(command(300)));
    expect(sinkErrors.length).toBe(1);
    expect(seen.flatMap((s) => s.events)).toEqual(results.flatMap((r) => r.events));
    expect(seen.every((s) => !s.info.replay)).toBe(true);
    expect(seen.at(-1)!.info.lastSeq).toBe(301);
  });

  it('runs the sink before the acks of its batch settle, and survives a throwing sink during recovery', async () => {
    const dataDir = tempDir();
    const sunk = new Set<number>();
    const first = await start(dataDir, {
      onEvents: (_events, info) => {
        for (let seq = info.firstSeq; seq <= info.lastSeq; seq++) sunk.add(seq);
      },
    });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => first.submit(command(i)).then((result) => expect(sunk.has(result.seq)).toBe(true))),
    );
    await first.close();
    const sinkErrors: unknown[] = [];
    const second = await start(dataDir, {
      onEvents: () => {
        throw new Error('projection bug');
      },
      observer: { onSinkError: (error) => sinkErrors.push(error) },
    });
    expect(second.lastSeq).toBe(200);
    expect(sinkErrors.length).toBeGreaterThan(0);
  });
});

describe('data directory lock', () => {
  it('refuses a second sequencer on the same directory while the first is open', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await expect(openSequencer({ dataDir, ...toyFactory })).rejects.toBeInstanceOf(DataDirLockedError);
    await first.submit(command(0));
    await first.close();
    const second = await start(dataDir);
    expect(second.lastSeq).toBe(1);
  });

  it('takes over a lock whose owner is gone, and refuses one whose owner is alive', async () => {
    const dataDir = tempDir();
    const sleeper = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(path.join(dataDir, 'LOCK'), `${sleeper.pid}\n`);
      await expect(openSequencer({ dataDir, ...toyFactory })).rejects.toThrow(`pid ${sleeper.pid}`);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }
    const sequencer = await start(dataDir); // the owner is dead now
    expect(sequencer.ready).toBe(true);
    expect(fs.readFileSync(path.join(dataDir, 'LOCK'), 'utf8').trim()).toBe(`${process.pid} ${processIdentity(process.pid)}`);
    await sequencer.close();
    expect(fs.existsSync(path.join(dataDir, 'LOCK'))).toBe(false);
  });

  it('takes over a lock whose pid now belongs to another process (reboot, container restart)', async () => {
    const dataDir = tempDir();
    const sleeper = spawn('sleep', ['30']);
    try {
      const identity = processIdentity(sleeper.pid!);
      expect(identity).toMatch(/^\S+ \d+$/);
      const [bootId, startTime] = identity!.split(' ');
      // the real owner, identity and all: refused
      fs.writeFileSync(path.join(dataDir, 'LOCK'), `${sleeper.pid} ${bootId} ${startTime}\n`);
      await expect(openSequencer({ dataDir, ...toyFactory })).rejects.toThrow(`pid ${sleeper.pid}`);
      // same pid, written by a process that started at another time or in another boot: stale
      for (const stale of [`${bootId} ${Number(startTime) + 1}`, `another-boot ${startTime}`]) {
        fs.writeFileSync(path.join(dataDir, 'LOCK'), `${sleeper.pid} ${stale}\n`);
        const sequencer = await start(dataDir);
        expect(sequencer.ready).toBe(true);
        await sequencer.close();
      }
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }
  });
});

describe('recovery', () => {
  it('rebuilds the same state and the same events after a restart', async () => {
    const dataDir = tempDir();
    const live: EngineEvent[] = [];
    const first = await start(dataDir, { onEvents: (events) => live.push(...events), snapshotEvery: 0 });
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 400 }, (_, i) => first.submit(command(round * 400 + i))));
    const hash = first.engine.stateHash();
    await first.close();

    const replayed: EngineEvent[] = [];
    const flags = new Set<boolean>();
    const second = await start(dataDir, {
      onEvents: (events, info) => {
        replayed.push(...events);
        flags.add(info.replay);
      },
    });
    expect(second.lastSeq).toBe(2_000);
    expect(second.engine.stateHash()).toBe(hash);
    expect(replayed).toEqual(live);
    expect([...flags]).toEqual([true]);
    expect((await second.submit(command(2_000))).seq).toBe(2_001);

    const offline = await replayJournal({ dataDir, ...toyFactory });
    expect(offline.lastSeq).toBe(2_001);
    expect(offline.engine.stateHash()).toBe(second.engine.stateHash());
  });

  it('writes snapshots every N commands, keeps the last two and the journal they need, and recovers from the newest', async () => {
    const dataDir = tempDir();
    const snapshots: number[] = [];
    const first = await start(dataDir, { snapshotEvery: 100, observer: { onSnapshot: (seq) => snapshots.push(seq) } });
    for (let i = 0; i < 550; i++) await first.submit(command(i)); // one command per batch: snapshots land exactly on multiples of 100
    const hash = first.engine.stateHash();
    await first.close();

    expect(snapshots).toEqual([100, 200, 300, 400, 500]);
    expect(fs.readdirSync(path.join(dataDir, 'snapshots')).sort()).toEqual([
      'snapshot-0000000000000400.json',
      'snapshot-0000000000000500.json',
    ]);
    // segments start after each snapshot; the one ending at 400 is covered by the oldest kept snapshot
    expect(segmentFiles(dataDir)).toEqual(['segment-0000000000000401.journal', 'segment-0000000000000501.journal']);

    let recoveredFrom = -1;
    const second = await start(dataDir, { observer: { onRecovered: (info) => (recoveredFrom = info.snapshotSeq) } });
    expect(recoveredFrom).toBe(500);
    expect(second.lastSeq).toBe(550);
    expect(second.engine.stateHash()).toBe(hash);
  });

  it('writes snapshots in a background process that follows the journal, with the same state', async () => {
    const dataDir = tempDir();
    const snapshots: number[] = [];
    const first = await start(dataDir, {
      snapshotEvery: 100,
      snapshotProcess: {
        module: path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'toy-engine.ts'),
        exportName: 'toyFactory',
      },
      observer: { onSnapshot: (seq) => snapshots.push(seq) },
    });
    // a snapshot is requested at the first batch past each mark while none is in flight
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 150; i++) await first.submit(command(round * 150 + i));
      await vi.waitFor(() => expect(snapshots.length).toBeGreaterThanOrEqual(round + 1), { timeout: 20_000 });
    }
    const hash = first.engine.stateHash();
    expect([...snapshots].sort((a, b) => a - b)).toEqual(snapshots);
    await first.close();
    // retention ran after each answer; one more may have landed while close() stopped the child
    const kept = fs
      .readdirSync(path.join(dataDir, 'snapshots'))
      .filter((name) => name.endsWith('.json'))
      .sort();
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept).toContain(`snapshot-${String(snapshots.at(-1)).padStart(16, '0')}.json`);

    let recoveredFrom = -1;
    const second = await start(dataDir, { observer: { onRecovered: (info) => (recoveredFrom = info.snapshotSeq) } });
    expect(recoveredFrom).toBe(Number(/\d{16}/.exec(kept.at(-1)!)![0]));
    expect(second.lastSeq).toBe(450);
    expect(second.engine.stateHash()).toBe(hash);
  });

  it('falls back to the previous snapshot when the newest is corrupt', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir, { snapshotEvery: 100 });
    for (let i = 0; i < 250; i++) await first.submit(command(i));
    const hash = first.engine.stateHash();
    await first.close();
    const newest = path.join(dataDir, 'snapshots', 'snapshot-0000000000000200.json');
    const bytes = fs.readFileSync(newest);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0x01; // inside the engine JSON: still parses or not, the checksum fails either way
    fs.writeFileSync(newest, bytes);

    const warnings: string[] = [];
    let recoveredFrom = -1;
    const second = await start(dataDir, {
      observer: { onWarning: (message) => warnings.push(message), onRecovered: (info) => (recoveredFrom = info.snapshotSeq) },
    });
    expect(recoveredFrom).toBe(100);
    expect(warnings.some((w) => w.includes('snapshot-0000000000000200.json'))).toBe(true);
    expect(second.engine.stateHash()).toBe(hash);
  });

  it('replays the whole journal without snapshots when asked, to the same state', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir, { snapshotEvery: 100, keepJournal: true });
    for (let i = 0; i < 320; i++) await first.submit(command(i));
    const hash = first.engine.stateHash();
    const fromScratch = await replayJournal({ dataDir, ...toyFactory, useSnapshots: false });
    expect(fromScratch.snapshotSeq).toBe(0);
    expect(fromScratch.replayedCommands).toBe(320);
    expect(fromScratch.engine.stateHash()).toBe(hash);
    const upTo = await replayJournal({ dataDir, ...toyFactory, useSnapshots: false, toSeq: 150 });
    expect(upTo.lastSeq).toBe(150);
    expect(fs.readdirSync(path.join(dataDir, 'snapshots')).length).toBe(2);
    expect(segmentFiles(dataDir)[0]).toBe('segment-0000000000000001.journal');
  });
});
