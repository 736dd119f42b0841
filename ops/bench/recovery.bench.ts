/**
 * `npm run bench:recovery`: replay speed of the journal, and group-commit figures.
 *
 * 1. Builds a journal of 1,000,000 engine commands with the real sequencer (fdatasync on), from a
 *    seeded generator: deposits for 1,000 users, then limit orders around a moving mid with some
 *    market orders and cancels, on two symbols. The order commands go in as bursts of 200,000
 *    concurrent submits; the first burst's batches give the group-commit figures.
 * 2. Opens a fresh sequencer on that directory (no snapshot: snapshotEvery 0) and times recovery:
 *    read from disk, check, decode and apply every command to a fresh engine.
 * Prints one JSON line. The page cache is warm (the journal was just written); see sequencer/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../../engine/index.ts';
import type { EngineSnapshot, MatchingEngine } from '../../engine/index.ts';
import { openSequencer, replayJournal } from '../../sequencer/index.ts';
import { commandMix } from '../../sequencer/testing/command-mix.ts';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 1_000_000);
const BURST = 200_000;
const config = DEFAULT_ENGINE_CONFIG;
const factory = {
  createEngine: () => new Engine(config),
  restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(config, snapshot),
};

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-recovery-bench-'));
  const keep = process.env.BENCH_KEEP_DIR === '1'; // leave the journal behind for profiling
  try {
    // ---- build the journal through the real sequencer
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
    let first = true;
    while (true) {
      const chunk: Array<Promise<unknown>> = [];
      recording = first;
      const started = performance.now();
      for (let i = 0; i < BURST; i++) {
        const next = commands.next();
        if (next.done) break;
        chunk.push(builder.submit(next.value));
      }
      if (chunk.length === 0) break;
      await Promise.all(chunk);
      if (first) {
        burstMs = performance.now() - started;
        burstCommands = chunk.length;
        first = false;
      }
    }
    recording = false;
    const liveHash = builder.engine.stateHash();
    const lastSeq = builder.lastSeq;
    await builder.close();
    const journalBytes = fs.readdirSync(path.join(dataDir, 'journal')).reduce((sum, name) => sum + fs.statSync(path.join(dataDir, 'journal', name)).size, 0);

    // ---- decode only (no engine work), to separate the journal's cost from the engine's
    const decodeStarted = performance.now();
    const decoded = await replayJournal<MatchingEngine>({
      dataDir,
      createEngine: () => ({ apply: () => [] }) as unknown as MatchingEngine,
      restoreEngine: () => {
        throw new Error('no snapshot expected');
      },
    });
    const decodeMs = performance.now() - decodeStarted;

    // ---- the figure: open a fresh sequencer on the journal (replay into a fresh engine)
    const openStarted = performance.now();
    let recoveryMs = 0;
    const reopened = await openSequencer<MatchingEngine>({ dataDir, ...factory, snapshotEvery: 0, observer: { onRecovered: (info) => (recoveryMs = info.ms) } });
    const readyMs = performance.now() - openStarted;
    const replayed = reopened.lastSeq;
    const hashMatches = reopened.engine.stateHash() === liveHash;
    await reopened.close();

    const sortedBatches = [...batchSizes].sort((a, b) => a - b);
    const sortedFsync = [...fsyncMs].sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        commands: replayed,
        replay_commands_per_sec: Math.round(replayed / (readyMs / 1000)),
        ready_ms: round(readyMs, 1),
        replay_ms: round(recoveryMs, 1),
        decode_only_commands_per_sec: Math.round(decoded.lastSeq / (decodeMs / 1000)),
        journal_bytes: journalBytes,
        state_hash_matches: hashMatches && replayed === lastSeq,
        burst_commands: burstCommands,
        burst_commands_per_sec: Math.round(burstCommands / (burstMs / 1000)),
        burst_batches: batchSizes.length,
        batch_size_p50: percentile(sortedBatches, 50),
        batch_size_max: sortedBatches.at(-1) ?? 0,
        fsync_ms_p50: round(percentile(sortedFsync, 50)),
        fsync_ms_p99: round(percentile(sortedFsync, 99)),
      }),
    );
  } finally {
    if (keep) console.error(`journal kept in ${dataDir}`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
