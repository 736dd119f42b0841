/**
 * Journal segment files: `${dataDir}/journal/segment-<first seq, 16 digits>.journal`.
 *
 * File header (16 bytes): ASCII "XTRJ", u32 LE format version, f64 LE seq of the first record
 * (equal to the number in the name). Then records as framed in codec.ts, seqs consecutive.
 *
 * Torn tail: only the last segment is ever being appended to, and only the bytes of the batch in
 * flight can be incomplete after a crash. A bad record in the last segment counts as torn when it
 * cannot be followed by anything valid — fewer than 8 header bytes left, a length that runs to or
 * past the end of the file, or nothing but zero bytes from it to the end. Any other bad record
 * (more data after it, or in an older segment) is corruption, and recovery refuses to guess.
 */
import { checkFrame, FRAME_HEADER_BYTES, FrameDamage, frameEnd, readU32 } from '../lib/segment-log/record-frame.ts';
import {
  allZero,
  coveredSegmentCount,
  headerProblem,
  listSegments as listLogSegments,
  SEGMENT_HEADER_BYTES,
  type SegmentFile,
  type SegmentFormat,
} from '../lib/segment-log/segment-files.ts';
import { SegmentWriter as LogSegmentWriter } from '../lib/segment-log/segment-writer.ts';
import fs from 'node:fs';
import { decodePayload, JOURNAL_FORMAT_VERSION, JOURNAL_FRAMING, PayloadError } from './codec.ts';
import { JournalCorruptError } from './errors.ts';
import type { JournalRecord } from './types.ts';

export { coveredSegmentCount, SEGMENT_HEADER_BYTES, type SegmentFile };
export { fsyncDirectory } from '../lib/segment-log/segment-writer.ts';

export const JOURNAL_SEGMENT_FORMAT: SegmentFormat = {
  prefix: 'segment-',
  suffix: '.journal',
  magic: 0x4a525458, // "XTRJ" read as u32 LE
  version: JOURNAL_FORMAT_VERSION,
};

/** Segment files in `journalDir`, by first seq ascending. */
export function listSegments(journalDir: string): SegmentFile[] {
  return listLogSegments(JOURNAL_SEGMENT_FORMAT, journalDir);
}

/** The journal's open segment: the log's segment writer bound to the journal's format. */
export type SegmentWriter = LogSegmentWriter;
export const SegmentWriter = {
  create: (journalDir: string, firstSeq: number): SegmentWriter => LogSegmentWriter.create(JOURNAL_SEGMENT_FORMAT, journalDir, firstSeq),
  reopen: (journalDir: string, segment: SegmentFile, validEnd: number, headerTorn: boolean): SegmentWriter =>
    LogSegmentWriter.reopen(JOURNAL_SEGMENT_FORMAT, journalDir, segment, validEnd, headerTorn),
};

export interface TornTail {
  readonly file: string;
  /** where the valid data ends (the file should be truncated here) */
  readonly offset: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

export interface SegmentScan {
  /** seq of the last valid record, or firstSeq − 1 when there is none */
  readonly lastSeq: number;
  readonly lastTimestamp: number;
  /** byte offset just after the last valid record (or the header) */
  readonly validEnd: number;
  /** the header itself is missing or incomplete (only tolerated in the last segment) */
  readonly headerTorn: boolean;
  readonly torn?: TornTail;
  /** `toSeq` was reached before the end of the segment */
  readonly stopped: boolean;
}

export interface ScanOptions {
  /** the segment is the newest one (a torn tail is tolerated); otherwise any damage is corruption */
  readonly isLast: boolean;
  /** records with seq < fromSeq are checked but neither decoded nor visited */
  readonly fromSeq: number;
  /** stop after visiting this seq */
  readonly toSeq: number;
  readonly visit: (record: JournalRecord) => void;
}

/** the reason a bad record is reported with, and where it claims to end (see `damaged`) */
function frameDamage(damage: FrameDamage, bytes: Buffer, at: number): [reason: string, recordEnd: number] {
  const size = bytes.length;
  switch (damage) {
    case FrameDamage.ShortHeader:
      return ['incomplete record header', size];
    case FrameDamage.BadLength:
      return [`impossible record length ${readU32(bytes, at)}`, frameEnd(bytes, at, JOURNAL_FRAMING)];
    case FrameDamage.ShortBody:
      return ['incomplete record payload', frameEnd(bytes, at, JOURNAL_FRAMING)];
    case FrameDamage.BadChecksum:
      return ['record checksum mismatch', frameEnd(bytes, at, JOURNAL_FRAMING)];
  }
}

/**
 * Reads one segment, verifying framing, checksums and seq continuity, and calls `visit` for records
 * in [fromSeq, toSeq]. Works in steps (`step(maxRecords)`) so recovery can let the event loop
 * breathe between chunks (the HTTP server answers /ready with 503 meanwhile).
 */
export class SegmentScanner {
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private at = SEGMENT_HEADER_BYTES;
  private expected: number;
  private lastTimestamp = 0;
  private result: SegmentScan | undefined;

  constructor(
    readonly segment: SegmentFile,
    private readonly options: ScanOptions,
  ) {
    this.bytes = fs.readFileSync(segment.file);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.expected = segment.firstSeq;
    this.checkHeader();
  }

  /** the outcome once `step` has returned true */
  get scan(): SegmentScan {
    if (!this.result) throw new Error('segment scan not finished');
    return this.result;
  }

  private checkHeader(): void {
    const { bytes, segment } = this;
    const { file, firstSeq } = segment;
    if (bytes.length < SEGMENT_HEADER_BYTES || allZero(bytes, 0, bytes.length)) {
      if (!this.options.isLast) throw new JournalCorruptError('segment header missing in a closed segment', file, 0);
      this.result = { lastSeq: firstSeq - 1, lastTimestamp: 0, validEnd: 0, headerTorn: true, stopped: false };
      return;
    }
    const problem = headerProblem(JOURNAL_SEGMENT_FORMAT, bytes, firstSeq);
    if (problem?.kind === 'magic' || problem?.kind === 'short') throw new JournalCorruptError('not a journal segment (bad magic)', file, 0);
    if (problem?.kind === 'version') throw new JournalCorruptError(`unsupported journal format version ${problem.version}`, file, 4);
    if (problem?.kind === 'first-seq')
      throw new JournalCorruptError(`header first seq ${problem.firstSeq} does not match the file name`, file, 8);
  }

  /** where a bad record at `this.at` claims to end decides between torn tail and corruption */
  private damaged(reason: string, recordEnd: number): SegmentScan {
    const { bytes, at } = this;
    const size = bytes.length;
    const tornShape = size - at < FRAME_HEADER_BYTES || recordEnd >= size || allZero(bytes, at, size);
    if (this.options.isLast && tornShape) {
      return {
        lastSeq: this.expected - 1,
        lastTimestamp: this.lastTimestamp,
        validEnd: at,
        headerTorn: false,
        torn: { file: this.segment.file, offset: at, droppedBytes: size - at, reason },
        stopped: false,
      };
    }
    throw new JournalCorruptError(`${reason} in the middle of the journal (seq ${this.expected} expected)`, this.segment.file, at);
  }

  /** Processes up to `maxRecords` records; true when the segment is done (see `scan`). */
  step(maxRecords: number): boolean {
    if (this.result) return true;
    const { bytes, view } = this;
    const { fromSeq, toSeq, visit } = this.options;
    const { file } = this.segment;
    const size = bytes.length;
    let at = this.at;
    let expected = this.expected;
    let done = 0;
    try {
      while (at < size) {
        if (done === maxRecords) return false;
        const payloadEnd = checkFrame(bytes, at, size, JOURNAL_FRAMING);
        if (payloadEnd < 0) {
          this.result = this.damaged(...frameDamage(payloadEnd as FrameDamage, bytes, at));
          return true;
        }
        const payloadStart = at + FRAME_HEADER_BYTES;
        const seq = view.getFloat64(payloadStart, true);
        if (seq !== expected) throw new JournalCorruptError(`record seq ${seq} where seq ${expected} was expected`, file, at);
        if (seq > toSeq) {
          this.result = { lastSeq: seq - 1, lastTimestamp: this.lastTimestamp, validEnd: at, headerTorn: false, stopped: true };
          return true;
        }
        this.lastTimestamp = view.getFloat64(payloadStart + 8, true);
        if (seq >= fromSeq) {
          let record: JournalRecord;
          try {
            record = decodePayload(bytes, view, payloadStart, payloadEnd);
          } catch (error) {
            if (error instanceof PayloadError) throw new JournalCorruptError(`undecodable record seq ${seq}: ${error.message}`, file, at);
            throw error;
          }
          visit(record);
        }
        at = payloadEnd;
        expected++;
        done++;
        // keep `this.at`/`this.expected` current for damaged() and for a resumed step
        this.at = at;
        this.expected = expected;
        if (seq >= toSeq) {
          this.result = { lastSeq: seq, lastTimestamp: this.lastTimestamp, validEnd: at, headerTorn: false, stopped: at < size };
          return true;
        }
      }
      this.result = { lastSeq: expected - 1, lastTimestamp: this.lastTimestamp, validEnd: at, headerTorn: false, stopped: false };
      return true;
    } finally {
      this.at = at;
      this.expected = expected;
    }
  }
}

/** Scans a whole segment in one go. */
export function scanSegment(segment: SegmentFile, options: ScanOptions): SegmentScan {
  const scanner = new SegmentScanner(segment, options);
  scanner.step(Infinity);
  return scanner.scan;
}
