import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, Engine, type EngineSnapshot } from '../engine/index.ts';
import { openSequencer, readJournalRecords, replayJournal } from './index.ts';
import { toyFactory } from './testing/toy-engine.ts';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'kill-child.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the child until it printed `killAfter` acks, SIGKILLs it, and returns every seq it reported as acked. */
function runAndKill(
  dataDir: string,
  killAfter: number,
  snapshotEvery: number,
  kind: 'toy' | 'engine',
): Promise<{ acked: number[]; startSeq: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, String(snapshotEvery), kind], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let startSeq = -1;
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ready ')) startSeq = Number(line.slice(6));
        else acked.push(Number(line));
      }
      if (!killed && acked.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${signal ?? _code}): ${stderr}`));
      // a partial last line was never fully printed: not counted as acked
      else resolve({ acked, startSeq });
    });
  });
}

describe('kill -9 of a process submitting as fast as it can', () => {
  it('loses no acknowledged command, at several kill points, and each restart continues the journal', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-kill-'));
    dirs.push(dataDir);
    const everAcked: number[] = [];
    for (const killAfter of [300, 5_000, 1_500, 20_000]) {
      const { acked, startSeq } = await runAndKill(dataDir, killAfter, 4_000, 'toy');
      expect(acked.length).toBeGreaterThanOrEqual(killAfter);
      expect(Math.min(...acked)).toBeGreaterThan(startSeq);
      everAcked.push(...acked);

      // what the journal holds right after the kill, before a restart touches it
      const journaled = new Set(readJournalRecords(dataDir).map((record) => record.seq));
      const oldestJournaled = Math.min(...journaled);
      for (const seq of acked) if (seq >= oldestJournaled) expect(journaled.has(seq), `acked seq ${seq}`).toBe(true);
      expect(Math.max(...journaled)).toBeGreaterThanOrEqual(Math.max(...acked));

      const sequencer = await openSequencer({ dataDir, ...toyFactory });
      expect(sequencer.lastSeq).toBe(Math.max(...journaled));
      const offline = await replayJournal({ dataDir, ...toyFactory });
      expect(offline.engine.stateHash()).toBe(sequencer.engine.stateHash());
      await sequencer.close();
    }
    // every command any run acknowledged is in the journal (or an older snapshot covers it), seqs gap-free
    const records = readJournalRecords(dataDir);
    const firstInJournal = records[0]!.seq;
    records.forEach((record, i) => expect(record.seq).toBe(firstInJournal + i));
    const lastInJournal = records.at(-1)!.seq;
    for (const seq of everAcked) expect(seq).toBeLessThanOrEqual(lastInJournal);
    expect(new Set(everAcked).size).toBe(everAcked.length);
  });

  it('with the real engine: the restarted state equals a fresh replay of the whole journal', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-kill-engine-'));
    dirs.push(dataDir);
    const factory = {
      createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
      restoreEngine: (snapshot: EngineSnapshot) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
    };
    for (const killAfter of [3_000, 700, 9_000]) {
      const { acked } = await runAndKill(dataDir, killAfter, 5_000, 'engine');
      const sequencer = await openSequencer({ dataDir, ...factory });
      expect(sequencer.lastSeq).toBeGreaterThanOrEqual(Math.max(...acked));
      const fresh = await replayJournal({ dataDir, ...factory, useSnapshots: false });
      expect(fresh.lastSeq).toBe(sequencer.lastSeq);
      expect(fresh.engine.stateHash()).toBe(sequencer.engine.stateHash());
      await sequencer.close();
    }
    expect(readJournalRecords(dataDir).filter((record) => record.command.type === 'PlaceOrder').length).toBeGreaterThan(1_000);
  });
});
