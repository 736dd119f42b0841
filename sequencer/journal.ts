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
import fs from 'node:fs';
import path from 'node:path';
import { decodePayload, JOURNAL_FORMAT_VERSION, MAX_PAYLOAD_BYTES, PayloadError, RECORD_HEADER_BYTES } from './codec.ts';
import { crc32 } from './crc32.ts';
import { JournalCorruptError } from './errors.ts';
import type { JournalRecord } from './types.ts';

export const SEGMENT_HEADER_BYTES = 16;
const MAGIC = 0x4a525458; // "XTRJ" read as u32 LE
const SEGMENT_NAME = /^segment-(\d{16})\.journal$/;

export interface SegmentFile {
  readonly firstSeq: number;
  readonly file: string;
}

export function segmentFileName(firstSeq: number): string {
  return `segment-${String(firstSeq).padStart(16, '0')}.journal`;
}

/** Segment files in `journalDir`, by first seq ascending. */
export function listSegments(journalDir: string): SegmentFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(journalDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) segments.push({ firstSeq: Number(match[1]), file: path.join(journalDir, name) });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

export function segmentHeader(firstSeq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(JOURNAL_FORMAT_VERSION, 4);
  header.writeDoubleLE(firstSeq, 8);
  return header;
}

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

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
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
    const { bytes, view, segment } = this;
    const { file, firstSeq } = segment;
    if (bytes.length < SEGMENT_HEADER_BYTES || allZero(bytes, 0, bytes.length)) {
      if (!this.options.isLast) throw new JournalCorruptError('segment header missing in a closed segment', file, 0);
      this.result = { lastSeq: firstSeq - 1, lastTimestamp: 0, validEnd: 0, headerTorn: true, stopped: false };
      return;
    }
    if (view.getUint32(0, true) !== MAGIC) throw new JournalCorruptError('not a journal segment (bad magic)', file, 0);
    const version = view.getUint32(4, true);
    if (version !== JOURNAL_FORMAT_VERSION) throw new JournalCorruptError(`unsupported journal format version ${version}`, file, 4);
    const headerSeq = view.getFloat64(8, true);
    if (headerSeq !== firstSeq) throw new JournalCorruptError(`header first seq ${headerSeq} does not match the file name`, file, 8);
  }

  /** where a bad record at `this.at` claims to end decides between torn tail and corruption */
  private damaged(reason: string, recordEnd: number): SegmentScan {
    const { bytes, at } = this;
    const size = bytes.length;
    const tornShape = size - at < RECORD_HEADER_BYTES || recordEnd >= size || allZero(bytes, at, size);
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
        if (size - at < RECORD_HEADER_BYTES) {
          this.result = this.damaged('incomplete record header', size);
          return true;
        }
        const length = view.getUint32(at, true);
        const payloadStart = at + RECORD_HEADER_BYTES;
        const payloadEnd = payloadStart + length;
        // a payload holds at least seq, timestamp and the type byte
        if (length < 17 || length > MAX_PAYLOAD_BYTES) {
          this.result = this.damaged(`impossible record length ${length}`, payloadEnd);
          return true;
        }
        if (payloadEnd > size) {
          this.result = this.damaged('incomplete record payload', payloadEnd);
          return true;
        }
        if (crc32(bytes, payloadStart, payloadEnd) !== view.getUint32(at + 4, true)) {
          this.result = this.damaged('record checksum mismatch', payloadEnd);
          return true;
        }
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

export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The open segment being appended to. One writer; `write` is synchronous (into the page cache, a
 * few µs for a batch), `sync` is an async fdatasync on the libuv pool so the event loop keeps
 * accepting the next batch meanwhile.
 */
export class SegmentWriter {
  private constructor(
    readonly journalDir: string,
    readonly firstSeq: number,
    readonly file: string,
    private fd: number,
    /** bytes in the file, header included */
    public size: number,
  ) {}

  /** Creates a new segment whose first record will be `firstSeq` (header written and synced). */
  static create(journalDir: string, firstSeq: number): SegmentWriter {
    const file = path.join(journalDir, segmentFileName(firstSeq));
    const fd = fs.openSync(file, 'wx');
    try {
      const header = segmentHeader(firstSeq);
      writeFully(fd, header, 0);
      fs.fdatasyncSync(fd);
      fsyncDirectory(journalDir);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return new SegmentWriter(journalDir, firstSeq, file, fd, SEGMENT_HEADER_BYTES);
  }

  /**
   * Reopens the newest segment for appending after recovery scanned it: truncates anything after
   * `validEnd` (a torn tail) and rewrites a torn header.
   */
  static reopen(journalDir: string, segment: SegmentFile, validEnd: number, headerTorn: boolean): SegmentWriter {
    const fd = fs.openSync(segment.file, 'r+');
    try {
      if (headerTorn) {
        fs.ftruncateSync(fd, 0);
        writeFully(fd, segmentHeader(segment.firstSeq), 0);
        validEnd = SEGMENT_HEADER_BYTES;
      } else if (fs.fstatSync(fd).size !== validEnd) {
        fs.ftruncateSync(fd, validEnd);
      }
      fs.fdatasyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return new SegmentWriter(journalDir, segment.firstSeq, segment.file, fd, validEnd);
  }

  write(bytes: Uint8Array): void {
    writeFully(this.fd, bytes, this.size);
    this.size += bytes.length;
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.fd, (error) => (error ? reject(error) : resolve()));
    });
  }

  syncNow(): void {
    fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.closeSync(fd);
  }
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    written += fs.writeSync(fd, bytes, written, bytes.length - written, position + written);
  }
}
