import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandInput } from './types.ts';
import { createSequencer, JournalCorruptError, openSequencer, readJournalRecords, replayJournal, SequencerNotReadyError } from './index.ts';
import { SEGMENT_HEADER_BYTES } from './journal.ts';
import { toyFactory } from './testing/toy-engine.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xtrader-journal-'));
  dirs.push(dir);
  return dir;
}

const deposit = (i: number): CommandInput => ({
  type: 'Deposit',
  userId: 1 + (i % 3),
  asset: 'KRW',
  amount: 100 + i,
  ...(i % 2 ? { reference: `ref-${i}` } : {}),
});

async function writeJournal(dataDir: string, count: number, options: { snapshotEvery?: number } = {}): Promise<void> {
  const sequencer = await openSequencer({ dataDir, ...toyFactory, snapshotEvery: options.snapshotEvery ?? 0 });
  for (let i = 0; i < count; i++) await sequencer.submit(deposit(i));
  await sequencer.close();
}

function onlySegment(dataDir: string): string {
  const names = fs.readdirSync(path.join(dataDir, 'journal'));
  expect(names.length).toBe(1);
  return path.join(dataDir, 'journal', names[0]!);
}

/** byte offsets where each record starts, plus the file end */
function recordOffsets(file: string): number[] {
  const bytes = fs.readFileSync(file);
  const offsets: number[] = [];
  let at = SEGMENT_HEADER_BYTES;
  while (at < bytes.length) {
    offsets.push(at);
    at += 8 + bytes.readUInt32LE(at);
  }
  offsets.push(at);
  return offsets;
}

async function reopenAndAppend(dataDir: string) {
  const warnings: string[] = [];
  const sequencer = await openSequencer({ dataDir, ...toyFactory, observer: { onWarning: (message) => warnings.push(message) } });
  const lastSeq = sequencer.lastSeq;
  const appended = await sequencer.submit(deposit(99));
  await sequencer.close();
  return { lastSeq, appended, warnings };
}

describe('journal torn tail', () => {
  it('drops a last record cut at every byte offset inside it, truncates the file, and stays appendable', async () => {
    const original = tempDir();
    await writeJournal(original, 20);
    const offsets = recordOffsets(onlySegment(original));
    const lastStart = offsets[19]!;
    const end = offsets[20]!;
    expect(end - lastStart).toBeGreaterThan(30);

    for (let cut = lastStart + 1; cut < end; cut++) {
      const dataDir = tempDir();
      fs.cpSync(original, dataDir, { recursive: true });
      fs.truncateSync(onlySegment(dataDir), cut);

      const { lastSeq, appended, warnings } = await reopenAndAppend(dataDir);
      expect(lastSeq, `cut at ${cut}`).toBe(19);
      expect(
        warnings.some((w) => w.includes(`at byte ${lastStart}`)),
        `cut at ${cut}`,
      ).toBe(true);
      expect(appended.seq).toBe(20);
      const records = readJournalRecords(dataDir);
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(records[19]!.command).toMatchObject({ type: 'Deposit', amount: 199 });
      expect(recordOffsets(onlySegment(dataDir))[19]).toBe(lastStart);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('drops a complete last record whose checksum fails', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 10);
    const file = onlySegment(dataDir);
    const offsets = recordOffsets(file);
    const bytes = fs.readFileSync(file);
    bytes[offsets[9]! + 20] = bytes[offsets[9]! + 20]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    const { lastSeq, appended } = await reopenAndAppend(dataDir);
    expect(lastSeq).toBe(9);
    expect(appended.seq).toBe(10);
    expect(readJournalRecords(dataDir).length).toBe(10);
  });

  it('drops a zero-filled tail (file extended, data never written)', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 10);
    fs.appendFileSync(onlySegment(dataDir), Buffer.alloc(4096));
    const { lastSeq, appended } = await reopenAndAppend(dataDir);
    expect(lastSeq).toBe(10);
    expect(appended.seq).toBe(11);
  });

  it('rewrites a segment header that never made it to disk', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 5, { snapshotEvery: 5 }); // snapshot at 5 opens segment 6, header only
    const fresh = path.join(dataDir, 'journal', 'segment-0000000000000006.journal');
    fs.truncateSync(fresh, 7);
    const { lastSeq, appended } = await reopenAndAppend(dataDir);
    expect(lastSeq).toBe(5);
    expect(appended.seq).toBe(6);
    expect(readJournalRecords(dataDir, 6).map((r) => r.seq)).toEqual([6]);
  });

  it('leaves the files alone when replaying offline, reporting the torn tail', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 10);
    const file = onlySegment(dataDir);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 3);
    const result = await replayJournal({ dataDir, ...toyFactory });
    expect(result.lastSeq).toBe(9);
    expect(result.tornTail?.offset).toBe(recordOffsets(file)[9]);
    expect(fs.statSync(file).size).toBe(size - 3);
  });
});

describe('partial replay', () => {
  it('stops exactly at toSeq, also when toSeq ends a segment', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 12, { snapshotEvery: 5 }); // snapshots 5 and 10; segments 6–10 and 11–12
    fs.rmSync(path.join(dataDir, 'snapshots', 'snapshot-0000000000000010.json'));
    for (const toSeq of [7, 10, 11]) {
      const result = await replayJournal({ dataDir, ...toyFactory, toSeq });
      expect(result.lastSeq).toBe(toSeq);
      expect(result.replayedCommands).toBe(toSeq - 5);
      expect(result.engine.applied).toBe(toSeq); // the toy engine counts the 5 in its snapshot too
    }
  });
});

describe('journal corruption', () => {
  it('refuses to start when a record in the middle is damaged, naming the file and offset, and changes nothing', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 10);
    const file = onlySegment(dataDir);
    const offsets = recordOffsets(file);
    const bytes = fs.readFileSync(file);
    bytes[offsets[4]! + 12] = bytes[offsets[4]! + 12]! ^ 0x01;
    fs.writeFileSync(file, bytes);
    const attempt = openSequencer({ dataDir, ...toyFactory });
    await expect(attempt).rejects.toBeInstanceOf(JournalCorruptError);
    const refused = createSequencer({ dataDir, ...toyFactory });
    await expect(refused.open()).rejects.toBeInstanceOf(JournalCorruptError);
    await expect(refused.submit(deposit(0))).rejects.toBeInstanceOf(SequencerNotReadyError);
    await expect(attempt).rejects.toThrow(`${file} at byte ${offsets[4]}`);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('refuses a damaged length field in the middle', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 10);
    const file = onlySegment(dataDir);
    const offsets = recordOffsets(file);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt32LE(5, offsets[3]!);
    fs.writeFileSync(file, bytes);
    await expect(openSequencer({ dataDir, ...toyFactory })).rejects.toBeInstanceOf(JournalCorruptError);
  });

  it('refuses a torn end in a segment that is not the last one', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 12, { snapshotEvery: 5 });
    // without the newest snapshot (10), recovery starts at snapshot 5 and must read segment 6 to its end
    fs.rmSync(path.join(dataDir, 'snapshots', 'snapshot-0000000000000010.json'));
    const older = path.join(dataDir, 'journal', 'segment-0000000000000006.journal');
    fs.truncateSync(older, fs.statSync(older).size - 2);
    await expect(replayJournal({ dataDir, ...toyFactory })).rejects.toBeInstanceOf(JournalCorruptError);
  });

  it('refuses a gap between segments', async () => {
    const dataDir = tempDir();
    await writeJournal(dataDir, 12, { snapshotEvery: 5 });
    fs.rmSync(path.join(dataDir, 'snapshots'), { recursive: true });
    fs.rmSync(path.join(dataDir, 'journal', 'segment-0000000000000006.journal'));
    await expect(openSequencer({ dataDir, ...toyFactory })).rejects.toThrow(/needs the journal from seq 1|starts at/);
  });
});
