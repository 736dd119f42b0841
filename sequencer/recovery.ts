/**
 * Rebuilding the engine from disk: the newest usable snapshot, then every journal record after it.
 * Used by the sequencer on open (which then truncates a torn tail and appends) and, read-only, by
 * replayJournal for offline checks.
 */
import path from 'node:path';
import type { EngineEvent, MatchingEngine } from '../engine/types.ts';
import { JournalCorruptError } from './errors.ts';
import { listSegments, scanSegment, SegmentScanner, type SegmentFile, type SegmentScan, type TornTail } from './journal.ts';
import { listSnapshots, readSnapshot } from './snapshots.ts';
import type { EngineFactory, EventSink, JournalRecord } from './types.ts';

export interface ReplayOptions<E extends MatchingEngine> extends EngineFactory<E> {
  readonly dataDir: string;
  /** start from the latest valid snapshot (default true); false = replay the whole journal into a fresh engine (needs every segment) */
  readonly useSnapshots?: boolean;
  /** stop after this seq (inclusive) */
  readonly toSeq?: number;
  readonly onEvents?: EventSink;
  /** told about skipped snapshots and torn tails */
  readonly onWarning?: (message: string) => void;
  /** a loaded snapshot is used only if this accepts its engine (default: any) */
  readonly acceptSnapshot?: (engine: E) => boolean;
}

export interface ReplayResult<E extends MatchingEngine> {
  readonly engine: E;
  readonly lastSeq: number;
  readonly lastTimestamp: number;
  readonly snapshotSeq: number;
  readonly replayedCommands: number;
  /** set when the last record of the journal is torn (replayJournal leaves the file as it is) */
  readonly tornTail?: TornTail;
  readonly ms: number;
}

/** What the sequencer needs on top to continue appending. */
export interface Recovered<E extends MatchingEngine> extends ReplayResult<E> {
  /** the newest segment and where its valid data ends; undefined when there is none or it cannot be continued */
  readonly appendTo?: { readonly segment: SegmentFile; readonly validEnd: number; readonly headerTorn: boolean };
}

export const journalDirOf = (dataDir: string): string => path.join(dataDir, 'journal');
export const snapshotDirOf = (dataDir: string): string => path.join(dataDir, 'snapshots');

/** records per step between event-loop yields, and per onEvents call during replay */
const REPLAY_CHUNK = 65_536;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Picks the start point: the newest snapshot that loads, or an empty engine. */
function startingPoint<E extends MatchingEngine>(
  options: ReplayOptions<E>,
  segments: readonly SegmentFile[],
  warn: (message: string) => void,
) {
  const firstJournalSeq = segments[0]?.firstSeq;
  if (options.useSnapshots !== false) {
    const skipped: string[] = [];
    for (const snapshot of listSnapshots(snapshotDirOf(options.dataDir))) {
      if (options.toSeq !== undefined && snapshot.seq > options.toSeq) continue;
      let engine: E;
      let timestamp: number;
      try {
        const loaded = readSnapshot(snapshot);
        engine = options.restoreEngine(loaded.engine);
        timestamp = loaded.timestamp;
      } catch (error) {
        const message = `snapshot ${snapshot.file} skipped: ${(error as Error).message}`;
        skipped.push(message);
        warn(message);
        continue;
      }
      if (options.acceptSnapshot && !options.acceptSnapshot(engine)) {
        warn(`snapshot ${snapshot.file} not used: not accepted (the event log is behind it)`);
        continue;
      }
      if (firstJournalSeq !== undefined && firstJournalSeq > snapshot.seq + 1) {
        throw new JournalCorruptError(
          `snapshot ${snapshot.seq} needs the journal from seq ${snapshot.seq + 1} but it starts at ${firstJournalSeq}`,
          segments[0]!.file,
          0,
        );
      }
      return { engine, snapshotSeq: snapshot.seq, timestamp };
    }
    if (skipped.length > 0 && firstJournalSeq !== undefined && firstJournalSeq > 1) {
      throw new JournalCorruptError(
        `no usable snapshot (${skipped.join('; ')}) and the journal starts at seq ${firstJournalSeq}, not 1`,
        segments[0]!.file,
        0,
      );
    }
  }
  if (firstJournalSeq !== undefined && firstJournalSeq > 1) {
    throw new JournalCorruptError(
      `replay from an empty engine needs the journal from seq 1 but it starts at ${firstJournalSeq}`,
      segments[0]!.file,
      0,
    );
  }
  return { engine: options.createEngine(), snapshotSeq: 0, timestamp: 0 };
}

export interface RecoverOptions<E extends MatchingEngine> extends ReplayOptions<E> {
  /** continue an engine already at `seq` instead of loading a snapshot (the snapshot process's replica) */
  readonly startFrom?: { readonly engine: E; readonly seq: number; readonly timestamp: number };
}

/** Snapshot + journal → engine. Never writes. */
export async function recover<E extends MatchingEngine>(options: RecoverOptions<E>): Promise<Recovered<E>> {
  const started = performance.now();
  const warn = options.onWarning ?? (() => {});
  const segments = listSegments(journalDirOf(options.dataDir));
  const { engine, snapshotSeq, timestamp } = options.startFrom
    ? { engine: options.startFrom.engine, snapshotSeq: options.startFrom.seq, timestamp: options.startFrom.timestamp }
    : startingPoint(options, segments, warn);
  if (options.startFrom && segments[0] && segments[0].firstSeq > snapshotSeq + 1) {
    throw new JournalCorruptError(`the journal starts at seq ${segments[0].firstSeq}, after ${snapshotSeq + 1}`, segments[0].file, 0);
  }
  const fromSeq = snapshotSeq + 1;
  const toSeq = options.toSeq ?? Number.MAX_SAFE_INTEGER;
  const sink = options.onEvents;

  let lastSeq = snapshotSeq;
  let lastTimestamp = timestamp;
  let replayedCommands = 0;
  let pending: EngineEvent[] = [];
  let pendingFirstSeq = fromSeq;
  const flush = (): void => {
    if (sink && pending.length > 0) sink(pending, { replay: true, firstSeq: pendingFirstSeq, lastSeq });
    pending = [];
    pendingFirstSeq = lastSeq + 1;
  };
  const visit = (record: JournalRecord): void => {
    const events = engine.apply(record.command);
    lastSeq = record.seq;
    replayedCommands++;
    if (sink) for (let i = 0; i < events.length; i++) pending.push(events[i]!);
  };

  let appendTo: Recovered<E>['appendTo'];
  let tornTail: TornTail | undefined;
  let previous: { segment: SegmentFile; scan: SegmentScan } | undefined;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    const next = segments[index + 1];
    // records [firstSeq, next.firstSeq − 1]: nothing after the start point → skip unread
    if (next && next.firstSeq <= fromSeq) continue;
    if (segment.firstSeq > toSeq) break;
    if (previous && previous.scan.lastSeq !== segment.firstSeq - 1) {
      throw new JournalCorruptError(
        `segment ends at seq ${previous.scan.lastSeq} but the next one starts at ${segment.firstSeq}`,
        previous.segment.file,
        previous.scan.validEnd,
      );
    }
    const scanner = new SegmentScanner(segment, { isLast: next === undefined, fromSeq, toSeq, visit });
    while (!scanner.step(REPLAY_CHUNK)) {
      flush();
      await yieldToEventLoop();
    }
    flush();
    const scan = scanner.scan;
    if (scan.lastSeq > lastSeq) lastSeq = scan.lastSeq; // records before the snapshot were only checked
    if (scan.lastSeq >= fromSeq) lastTimestamp = scan.lastTimestamp;
    if (scan.torn) {
      tornTail = scan.torn;
      warn(`torn last record in ${scan.torn.file} at byte ${scan.torn.offset} (${scan.torn.droppedBytes} bytes: ${scan.torn.reason})`);
    }
    if (scan.stopped) break;
    if (!next) {
      // the journal may end before the snapshot when it was cut by hand; then a new segment starts after the snapshot
      if (scan.lastSeq >= snapshotSeq) appendTo = { segment, validEnd: scan.validEnd, headerTorn: scan.headerTorn };
      else warn(`journal ends at seq ${scan.lastSeq}, before snapshot ${snapshotSeq}; continuing in a new segment`);
    }
    previous = { segment, scan };
  }
  lastSeq = Math.max(lastSeq, snapshotSeq);
  const result: Recovered<E> = {
    engine,
    lastSeq,
    lastTimestamp,
    snapshotSeq,
    replayedCommands,
    ms: performance.now() - started,
    ...(tornTail ? { tornTail } : {}),
    ...(appendTo ? { appendTo } : {}),
  };
  return result;
}

/**
 * Offline, read-only rebuild of the engine from `dataDir` (snapshot + journal). Safe to run while a
 * live sequencer appends to the same directory: it stops at the last complete record.
 */
export async function replayJournal<E extends MatchingEngine>(options: ReplayOptions<E>): Promise<ReplayResult<E>> {
  const { appendTo: _appendTo, ...result } = await recover(options);
  return result;
}

/** Every complete journal record with seq ≥ fromSeq, in order (read-only; a torn tail ends the list). */
export function readJournalRecords(dataDir: string, fromSeq = 1): JournalRecord[] {
  const records: JournalRecord[] = [];
  const segments = listSegments(journalDirOf(dataDir));
  for (let index = 0; index < segments.length; index++) {
    const next = segments[index + 1];
    if (next && next.firstSeq <= fromSeq) continue;
    scanSegment(segments[index]!, {
      isLast: next === undefined,
      fromSeq,
      toSeq: Number.MAX_SAFE_INTEGER,
      visit: (record) => records.push(record),
    });
  }
  return records;
}
