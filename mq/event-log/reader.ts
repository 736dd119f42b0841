/**
 * Tails the event log from a seq, for one publisher (its own process). Reads only whole records
 * that check; a record still being written, or torn by a crash of the writer, is waited for — the
 * restarted writer cuts the torn bytes and writes the same record again. Memory: one read buffer.
 */
import fs from 'node:fs';
import type { EngineEvent } from '../../engine/index.ts';
import {
  checkRecord,
  checkSegmentHeader,
  EventLogCorruptError,
  listEventSegments,
  SEGMENT_HEADER_BYTES,
  type EventSegment,
} from './segment-format.ts';
import { decodeEvent } from './event-json.ts';

export interface LogRecord {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly event: EngineEvent;
}

export interface ReadResult {
  readonly records: LogRecord[];
  /** set when the log no longer holds the seqs wanted (deleted before this reader got there): where it resumed */
  readonly skippedTo?: number;
}

const READ_CHUNK = 1 << 20;
/** an idle reader looks for a newer segment at most this often (a directory listing per poll adds up) */
const NEXT_SEGMENT_CHECK_MS = 50;
const TYPE_PREFIX = Buffer.from('{"type":"');

/** The event type of a payload written by JSON.stringify of an engine event (its `type` comes first), without parsing it; undefined if it does not start that way. */
function payloadType(bytes: Buffer, start: number, end: number): string | undefined {
  if (end - start < TYPE_PREFIX.length + 2 || bytes.compare(TYPE_PREFIX, 0, TYPE_PREFIX.length, start, start + TYPE_PREFIX.length) !== 0)
    return undefined;
  const from = start + TYPE_PREFIX.length;
  const quote = bytes.indexOf(0x22, from);
  return quote < 0 || quote > end ? undefined : bytes.toString('latin1', from, quote);
}

export class EventLogReader {
  readonly #dir: string;
  /** the next seq wanted */
  #nextSeq: number;
  #segment: EventSegment | undefined;
  #fd: number | undefined;
  #offset = 0;
  #buffer = Buffer.allocUnsafe(READ_CHUNK);
  #nextSegmentCheckedAt = 0;
  /** event types this reader's owner does not need: their records are stepped over unparsed */
  readonly #skipTypes: ReadonlySet<string>;

  constructor(dir: string, fromSeq: number, options: { readonly skipTypes?: Iterable<string> } = {}) {
    this.#dir = dir;
    this.#nextSeq = Math.max(1, fromSeq);
    this.#skipTypes = new Set(options.skipTypes ?? []);
  }

  /** the last seq read, counting records skipped by type (≥ the last returned record's lastSeq) */
  get readThrough(): number {
    return this.#nextSeq - 1;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  /**
   * Up to `maxRecords` records from nextSeq on: fewer, or none, when the writer has not written more
   * yet — or, at the end of a segment, when the next one appeared less than 50 ms ago (it is found
   * on a later call). Poll it; `readThrough` says how far it got.
   */
  read(maxRecords: number): ReadResult {
    let skippedTo: number | undefined;
    if (this.#fd === undefined) {
      const opened = this.#openAt(this.#nextSeq);
      if (!opened) return { records: [] };
      skippedTo = opened.skippedTo;
    }
    const records: LogRecord[] = [];
    for (;;) {
      const got = this.#readFromSegment(maxRecords - records.length, records);
      if (records.length >= maxRecords) break;
      if (got > 0 && records.length > 0 && records.length * 4 >= maxRecords) break; // enough for one batch
      if (got > 0) continue;
      // nothing more in this segment: move on only once a newer one exists and this one is whole
      const next = this.#nextSegment();
      if (!next) break;
      if (this.#readFromSegment(maxRecords - records.length, records) > 0) continue;
      this.#close();
      this.#open(next);
    }
    return skippedTo !== undefined ? { records, skippedTo } : { records };
  }

  close(): void {
    this.#close();
  }

  #readFromSegment(max: number, out: LogRecord[]): number {
    if (max <= 0 || this.#fd === undefined) return 0;
    const length = fs.readSync(this.#fd, this.#buffer, 0, this.#buffer.length, this.#offset);
    let position = 0;
    let count = 0;
    let skipped = 0;
    while (count < max) {
      const check = checkRecord(this.#buffer, position, length);
      if (check.kind === 'incomplete') {
        // a record bigger than the buffer: grow it and read again
        if (position === 0 && length === this.#buffer.length) {
          this.#buffer = Buffer.allocUnsafe(this.#buffer.length * 2);
          return this.#readFromSegment(max, out);
        }
        break;
      }
      if (check.kind === 'bad') {
        if (this.#nextSegment()) throw new EventLogCorruptError(check.reason, this.#segment!.file, this.#offset + position);
        break; // the tail being written or torn: wait for the writer
      }
      if (
        check.lastSeq >= this.#nextSeq &&
        this.#skipTypes.size > 0 &&
        this.#skipTypes.has(payloadType(this.#buffer, check.payloadStart, check.end) ?? '')
      ) {
        this.#nextSeq = check.lastSeq + 1;
        skipped++;
      } else if (check.lastSeq >= this.#nextSeq) {
        const payload = this.#buffer.toString('utf8', check.payloadStart, check.end);
        out.push({ firstSeq: check.firstSeq, lastSeq: check.lastSeq, event: decodeEvent(payload) });
        this.#nextSeq = check.lastSeq + 1;
        count++;
      }
      position = check.end;
    }
    this.#offset += position;
    // records consumed, returned or skipped: 0 means nothing more is there yet
    return count + skipped;
  }

  /** Opens the segment holding `seq` (or the oldest one, if the log starts later) and skips to it. */
  #openAt(seq: number): { skippedTo?: number } | undefined {
    const segments = listEventSegments(this.#dir);
    if (segments.length === 0) return undefined;
    let chosen = segments[0]!;
    for (const segment of segments) if (segment.firstSeq <= seq) chosen = segment;
    if (!this.#open(chosen)) return undefined;
    if (chosen.firstSeq > seq) {
      this.#nextSeq = chosen.firstSeq;
      return { skippedTo: chosen.firstSeq };
    }
    return {};
  }

  #open(segment: EventSegment): boolean {
    let fd: number;
    try {
      fd = fs.openSync(segment.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const read = fs.readSync(fd, header, 0, SEGMENT_HEADER_BYTES, 0);
    if (read < SEGMENT_HEADER_BYTES || !checkSegmentHeader(header, segment)) {
      fs.closeSync(fd);
      return false; // just created, header not there yet: try again later
    }
    this.#fd = fd;
    this.#segment = segment;
    this.#offset = SEGMENT_HEADER_BYTES;
    // a reader catching up crosses segments without waiting; only one at the live end waits between looks
    this.#nextSegmentCheckedAt = 0;
    return true;
  }

  #nextSegment(): EventSegment | undefined {
    const current = this.#segment;
    if (!current) return undefined;
    const now = Date.now();
    if (now - this.#nextSegmentCheckedAt < NEXT_SEGMENT_CHECK_MS) return undefined;
    this.#nextSegmentCheckedAt = now;
    return listEventSegments(this.#dir).find((segment) => segment.firstSeq > current.firstSeq);
  }

  #close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    this.#segment = undefined;
  }
}

/**
 * The last seq the event log in `dir` holds (0 when empty), read from its newest segment — for a
 * publisher that must tell a broker's data from another exchange's (mq/adapters/redis-publisher.ts).
 */
export function lastLoggedSeq(dir: string): number {
  const newest = listEventSegments(dir).at(-1);
  if (!newest) return 0;
  const reader = new EventLogReader(dir, newest.firstSeq);
  try {
    while (reader.read(10_000).records.length > 0);
    return reader.readThrough;
  } finally {
    reader.close();
  }
}
