/**
 * `npm run bench:recovery`: replay speed of the journal, and group-commit figures.
 *
 * 1. Builds a journal of 1,000,000 engine commands with the real sequencer (fdatasync on) from the
 *    seeded command mix (sequencer/testing/command-mix.ts): deposits for 1,000 users, then limit
 *    orders around a moving mid with some market orders and cancels, on BTC-KRW and ETH-KRW. They
 *    go in as bursts of 200,000 concurrent submits; the first burst gives the group-commit figures.
 * 2. In a fresh child process (as a restarting core would be: cold JIT, empty heap) opens a
 *    sequencer on that directory — no snapshot — and times it until ready: read from disk, verify
 *    checksums, decode and apply every command to a fresh engine. The page cache is warm (the journal
 *    was just written). A second child times the halves on their own: the journal's cost (read,
 *    check, decode into a no-op engine) and the engine's (apply already-decoded commands).
 * 3. The bounded case, as in production with snapshots on: a snapshot 50,000 commands before the end,
 *    then time to ready = load the snapshot + replay those 50,000.
 * Prints one JSON line.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../../engine/index.ts';
import type { EngineSnapshot, MatchingEngine } from '../../engine/index.ts';
import { openSequencer, readJournalRecords, replayJournal } from '../../sequencer/index.ts';
import { writeSnapshot } from '../../sequencer/snapshots.ts';
import { commandMix } from '../../sequencer/testing/command-mix.ts';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 1_000_000);
const BURST = 200_000;
const SNAPSHOT_TAIL = 50_000;
const config = DEFAULT_ENGINE_CONFIG;
const factory = {
  createEngine: () => new Engine(config),
  restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(config, snapshot),
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function buildJournal(dataDir: string) {
  const batchSizes: number[] = [];
  const fsyncMs: number[] = [];
  let recording = false;
  const builder = await openSequencer<MatchingEngine>({
    dataDir,
    ...factory,
    snapshotEvery: 0,
    maxPending: BURST,
    observer: {
      onBatch: (size, _bytes, ms) => {
        if (!recording) return;
        batchSizes.push(size);
        fsyncMs.push(ms);
      },
    },
  });
  const commands = commandMix({ count: COMMANDS, users: 1_000, seed: 42 });
  let burstMs = 0;
  let burstCommands = 0;
  for (let first = true; ; first = false) {
    const burst: Array<Promise<unknown>> = [];
    recording = first;
    const started = performance.now();
    for (let i = 0; i < BURST; i++) {
      const next = commands.next();
      if (next.done) break;
      burst.push(builder.submit(next.value));
    }
    if (burst.length === 0) break;
    await Promise.all(burst);
    if (first) {
      burstMs = performance.now() - started;
      burstCommands = burst.length;
    }
  }
  const result = { hash: builder.engine.stateHash(), lastSeq: builder.lastSeq };
  await builder.close();
  const sortedBatches = [...batchSizes].sort((a, b) => a - b);
  const sortedFsync = [...fsyncMs].sort((a, b) => a - b);
  return {
    ...result,
    figures: {
      burst_commands: burstCommands,
      burst_commands_per_sec: Math.round(burstCommands / (burstMs / 1000)),
      burst_batches: batchSizes.length,
      batch_size_p50: percentile(sortedBatches, 50),
      batch_size_max: sortedBatches.at(-1) ?? 0,
      write_fsync_ms_p50: round(percentile(sortedFsync, 50)),
      write_fsync_ms_p99: round(percentile(sortedFsync, 99)),
    },
  };
}

/** Child mode `--replay`: time recovery of `dataDir` the way a restarting core does it. */
async function replay(dataDir: string): Promise<void> {
  const openStarted = performance.now();
  const sequencer = await openSequencer<MatchingEngine>({ dataDir, ...factory, snapshotEvery: 0 });
  const readyMs = performance.now() - openStarted;
  console.log(JSON.stringify({ commands: sequencer.lastSeq, ready_ms: readyMs, hash: sequencer.engine.stateHash() }));
  await sequencer.close();
}

/**
 * Child mode `--split`: the two halves of replay on their own — reading, checking and decoding the
 * journal with a no-op engine, then applying the already-decoded commands to a fresh engine.
 */
async function split(dataDir: string): Promise<void> {
  const decodeStarted = performance.now();
  const decoded = await replayJournal<MatchingEngine>({
    dataDir,
    createEngine: () => ({ apply: () => [] }) as unknown as MatchingEngine,
    restoreEngine: () => {
      throw new Error('no snapshot expected');
    },
  });
  const decodeMs = performance.now() - decodeStarted;
  const commands = readJournalRecords(dataDir).map((record) => record.command);
  const engine = factory.createEngine();
  const applyStarted = performance.now();
  for (const command of commands) engine.apply(command);
  const applyMs = performance.now() - applyStarted;
  console.log(
    JSON.stringify({
      decode_only_commands_per_sec: Math.round(decoded.lastSeq / (decodeMs / 1000)),
      engine_only_commands_per_sec: Math.round(commands.length / (applyMs / 1000)),
    }),
  );
}

/**
 * Child mode `--snapshot`: the bounded case. Writes a snapshot of the state at seq lastSeq − 50,000
 * (as the sequencer would have every `snapshotEvery` commands), then times opening a sequencer that
 * loads it and replays the 50,000 commands after it.
 */
async function withSnapshot(dataDir: string): Promise<void> {
  const records = readJournalRecords(dataDir);
  const snapshotSeq = records.length - SNAPSHOT_TAIL;
  const partial = await replayJournal({ dataDir, ...factory, toSeq: snapshotSeq });
  const written = writeSnapshot(path.join(dataDir, 'snapshots'), snapshotSeq, partial.lastTimestamp, partial.engine.snapshot());
  const started = performance.now();
  let replayedCommands = 0;
  const sequencer = await openSequencer<MatchingEngine>({
    dataDir,
    ...factory,
    snapshotEvery: 0,
    observer: { onRecovered: (info) => (replayedCommands = info.replayedCommands) },
  });
  const readyMs = performance.now() - started;
  const hash = sequencer.engine.stateHash();
  await sequencer.close();
  fs.rmSync(written.file);
  console.log(
    JSON.stringify({
      snapshot_bytes: written.bytes,
      snapshot_replayed_commands: replayedCommands,
      snapshot_ready_ms: readyMs,
      snapshot_hash: hash,
    }),
  );
}

function child(mode: '--replay' | '--split' | '--snapshot', dataDir: string): Record<string, unknown> {
  const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode, dataDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`${mode} child failed (${run.status ?? run.signal})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-recovery-bench-'));
  try {
    const built = await buildJournal(dataDir);
    const journalBytes = fs
      .readdirSync(path.join(dataDir, 'journal'))
      .reduce((sum, name) => sum + fs.statSync(path.join(dataDir, 'journal', name)).size, 0);
    const replayed = child('--replay', dataDir) as { commands: number; ready_ms: number; hash: string };
    const halves = child('--split', dataDir);
    const {
      snapshot_hash: snapshotHash,
      snapshot_ready_ms: snapshotReadyMs,
      ...snapshot
    } = child('--snapshot', dataDir) as {
      snapshot_hash: string;
      snapshot_ready_ms: number;
    };
    console.log(
      JSON.stringify({
        commands: replayed.commands,
        replay_commands_per_sec: Math.round(replayed.commands / (replayed.ready_ms / 1000)),
        ready_ms: round(replayed.ready_ms, 1),
        ...halves,
        journal_bytes: journalBytes,
        state_hash_matches: replayed.hash === built.hash && replayed.commands === built.lastSeq && snapshotHash === built.hash,
        ...snapshot,
        snapshot_ready_ms: round(snapshotReadyMs, 1),
        ...built.figures,
      }),
    );
  } finally {
    if (process.env.BENCH_KEEP_DIR === '1') console.error(`journal kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === '--replay') await replay(process.argv[3]!);
else if (mode === '--split') await split(process.argv[3]!);
else if (mode === '--snapshot') await withSnapshot(process.argv[3]!);
else await main();
