/**
 * The event log on a real directory: append and tail, segment rotation, a torn tail cut and
 * written again, replayed events kept once, retention by cursor, and a reader that waits on a
 * record still being written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticEvents } from '../testing/synthetic-events.ts';
import type { EngineEvent } from '../../engine/index.ts';
import { EventLogReader } from './reader.ts';
import { listEventSegments } from './segment-format.ts';
import { EventLogWriter } from './writer.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-eventlog-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const events = syntheticEvents;

/** every record's first seq from `from` to the end of the log (a reader looks for the next segment at most every 50 ms: poll until the end) */
const seqsOf = (dir: string, from = 1): number[] => {
  const last = new EventLogWriterProbe(dir).lastSeq;
  const reader = new EventLogReader(dir, from);
  const seqs: number[] = [];
  const deadline = Date.now() + 5_000;
  while (reader.readThrough < last && Date.now() < deadline) {
    for (const record of reader.read(1_000).records) seqs.push(record.firstSeq);
  }
  reader.close();
  return seqs;
};

/** the log's last seq, read the way the writer finds it on open (without keeping it open) */
class EventLogWriterProbe {
  readonly lastSeq: number;
  constructor(dir: string) {
    const writer = EventLogWriter.open({ dir });
    this.lastSeq = writer.lastSeq;
    writer.close();
  }
}

describe('event log', () => {
  it('keeps every event once, in order, across segments, and a reader tails it from any seq', () => {
    const dir = tempDir();
    const writer = EventLogWriter.open({ dir, segmentMaxBytes: 4_096 });
    const all = events(1, 500);
    for (let index = 0; index < all.length; index += 37) writer.append(all.slice(index, index + 37));
    expect(listEventSegments(dir).length).toBeGreaterThan(5);
    expect(writer.lastSeq).toBe(all.at(-1)!.seq + 2 * Number(all.at(-1)!.type === 'Trade'));
    expect(seqsOf(dir)).toEqual(all.map((event) => event.seq));
    // from the middle of a Trade's three seqs: that Trade is the first record
    const trade = all.find((event) => event.type === 'Trade' && event.seq > 300)!;
    expect(seqsOf(dir, trade.seq + 1)[0]).toBe(trade.seq);
    writer.close();
  });

  it("keeps the futures events' bigint money exact through the log (decimal text on disk, bigint again when read)", () => {
    const dir = tempDir();
    const writer = EventLogWriter.open({ dir });
    const big = 2n ** 70n;
    const futures: EngineEvent[] = [
      { type: 'WalletChanged', seq: 1, timestamp: 5, userId: 2, asset: 'KRW', walletBalanceKrw: -big, reason: 'Trade' },
      {
        type: 'PositionChanged',
        seq: 2,
        timestamp: 5,
        userId: 2,
        symbol: 'BTC-KRW-PERP',
        positionSide: 'BOTH',
        size: -10,
        costKrw: -500_000n,
        entryPrice: 50_000,
        realizedPnlKrw: big,
        marginType: 'ISOLATED',
        isolatedMarginKrw: 50_000n,
        leverage: 10,
      },
      ...events(3, 5),
    ];
    writer.append(futures);
    writer.close();
    const text = fs.readFileSync(listEventSegments(dir)[0]!.file, 'latin1');
    expect(text).toContain(`"walletBalanceKrw":"-${big}"`);
    const reader = new EventLogReader(dir, 1);
    const read: EngineEvent[] = [];
    for (let attempt = 0; attempt < 100 && read.length < futures.length; attempt++)
      read.push(...reader.read(100).records.map((record) => record.event));
    reader.close();
    expect(read.slice(0, 2)).toEqual(futures.slice(0, 2));
    expect(typeof (read[1] as { costKrw: unknown }).costKrw).toBe('bigint');
  });

  it('replayed events it already holds are not written twice', () => {
    const dir = tempDir();
    const all = events(1, 100);
    let writer = EventLogWriter.open({ dir });
    writer.append(all.slice(0, 60));
    writer.close();
    writer = EventLogWriter.open({ dir });
    writer.append(all); // a replay offers everything again
    writer.close();
    expect(seqsOf(dir)).toEqual(all.map((event) => event.seq));
  });

  it('cuts a torn tail on open and takes the same events again after it', () => {
    const dir = tempDir();
    const all = events(1, 50);
    const writer = EventLogWriter.open({ dir });
    writer.append(all);
    writer.close();
    const [segment] = listEventSegments(dir);
    const size = fs.statSync(segment!.file).size;
    fs.truncateSync(segment!.file, size - 7); // the last record lost its end
    const warnings: string[] = [];
    const reopened = EventLogWriter.open({ dir, onWarning: (message) => warnings.push(message) });
    expect(warnings.join()).toMatch(/torn tail/);
    expect(reopened.lastSeq).toBe(all.at(-2)!.seq + (all.at(-2)!.type === 'Trade' ? 2 : 0));
    reopened.append(all);
    reopened.close();
    expect(seqsOf(dir)).toEqual(all.map((event) => event.seq));
    expect(fs.statSync(segment!.file).size).toBe(size);
  });

  it('a reader waits at a half-written record and goes on once it is whole', () => {
    const dir = tempDir();
    const writer = EventLogWriter.open({ dir });
    writer.append(events(1, 3));
    writer.close();
    const [segment] = listEventSegments(dir);
    const whole = fs.readFileSync(segment!.file);
    fs.writeFileSync(segment!.file, whole.subarray(0, whole.length - 10));
    const reader = new EventLogReader(dir, 1);
    expect(reader.read(10).records.map((record) => record.firstSeq)).toEqual([1, 2]);
    expect(reader.read(10).records).toEqual([]);
    fs.writeFileSync(segment!.file, whole);
    expect(reader.read(10).records.map((record) => record.firstSeq)).toEqual([3]);
    reader.close();
  });

  it('retention deletes only segments every cursor is past, never the newest', () => {
    const dir = tempDir();
    const writer = EventLogWriter.open({ dir, segmentMaxBytes: 2_048 });
    const all = events(1, 300);
    for (let index = 0; index < all.length; index += 10) writer.append(all.slice(index, index + 10));
    const before = listEventSegments(dir);
    const bytesBefore = writer.sizeBytes;
    writer.retain(0);
    expect(listEventSegments(dir)).toEqual(before);
    const cut = before[3]!.firstSeq - 1; // everything in the first three segments confirmed
    expect(writer.retain(cut)).toBe(3);
    expect(listEventSegments(dir)[0]!.firstSeq).toBe(before[3]!.firstSeq);
    expect(writer.sizeBytes).toBeLessThan(bytesBefore);
    writer.retain(Number.MAX_SAFE_INTEGER);
    expect(listEventSegments(dir).length).toBe(1);
    // a reader behind the kept log is told where it resumes
    const reader = new EventLogReader(dir, 1);
    expect(reader.read(1).skippedTo).toBe(listEventSegments(dir)[0]!.firstSeq);
    reader.close();
    writer.close();
  });
});
