/**
 * The event log's one writer (the core): appends every engine event, in seq order, to the newest
 * segment. Off the ack path: append() is a write into the page cache on the writer loop, after the
 * acks of the batch were released; fdatasync runs on a timer in libuv's pool (and synchronously
 * before a snapshot, so no snapshot is ever ahead of the log on disk).
 *
 * Exactly once: open() cuts a torn tail and reports the last seq the log holds; the core's replay of
 * the journal then offers every event again and append() keeps only those after that seq.
 */
import fs from 'node:fs';
import { allZero, coveredSegmentCount, SEGMENT_HEADER_BYTES } from '../../lib/segment-log/segment-files.ts';
import { SegmentWriter } from '../../lib/segment-log/segment-writer.ts';
import type { EngineEvent } from '../../engine/index.ts';
import { encodeEvent } from './event-json.ts';
import {
  checkRecord,
  checkSegmentHeader,
  EVENT_SEGMENT_FORMAT,
  EventLogCorruptError,
  listEventSegments,
  RECORD_HEADER_BYTES,
  writeRecord,
  type EventSegment,
} from './segment-format.ts';

export interface EventLogWriterOptions {
  readonly dir: string;
  /** start a new segment once the current one is past this size; default 64 MiB */
  readonly segmentMaxBytes?: number;
  /** fdatasync at most this often while there is unsynced data; default 20 ms */
  readonly syncIntervalMs?: number;
  readonly onWarning?: (message: string) => void;
}

/** the last seq an engine event covers: a Trade also covers its maker's and taker's reports */
export function lastSeqOf(event: EngineEvent): number {
  return event.type === 'Trade' ? event.taker.seq : event.seq;
}

export class EventLogWriter {
  readonly dir: string;
  readonly #segmentMaxBytes: number;
  readonly #warn: (message: string) => void;
  #segments: EventSegment[];
  /** bytes of every segment but the current one */
  #closedBytes = 0;
  /** the newest segment, being appended to */
  #segment: SegmentWriter | undefined;
  #lastSeq = 0;
  #unsynced = false;
  #syncing = false;
  #timer: NodeJS.Timeout | undefined;
  #scratch = Buffer.allocUnsafe(1 << 20);
  #closed = false;

  private constructor(options: EventLogWriterOptions) {
    this.dir = options.dir;
    this.#segmentMaxBytes = options.segmentMaxBytes ?? 64 * 1024 * 1024;
    this.#warn = options.onWarning ?? (() => {});
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.#segments = listEventSegments(this.dir);
    this.#recoverTail();
    const interval = options.syncIntervalMs ?? 20;
    this.#timer = setInterval(() => this.#syncInBackground(), interval);
    this.#timer.unref();
  }

  static open(options: EventLogWriterOptions): EventLogWriter {
    return new EventLogWriter(options);
  }

  /** the last seq the log holds (0 = empty) */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** the first seq the oldest kept segment starts at (lastSeq + 1 when empty) */
  get firstSeq(): number {
    return this.#segments[0]?.firstSeq ?? this.#lastSeq + 1;
  }

  get sizeBytes(): number {
    return this.#closedBytes + (this.#segment?.size ?? 0);
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Appends the events after lastSeq (earlier ones are already in the log: replay after a crash). */
  append(events: readonly EngineEvent[]): void {
    if (this.#closed) throw new Error('event log is closed');
    let bytes = 0;
    let scratch = this.#scratch;
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      const last = lastSeqOf(event);
      if (last <= this.#lastSeq) continue;
      if (this.#lastSeq > 0 && event.seq !== this.#lastSeq + 1) {
        this.#warn(
          `event log: seq ${event.seq} follows ${this.#lastSeq} (events ${this.#lastSeq + 1}..${event.seq - 1} are not in the log)`,
        );
      }
      if (this.#segment === undefined || this.#segment.size + bytes >= this.#segmentMaxBytes) {
        if (bytes > 0) this.#writeOut(scratch, bytes);
        bytes = 0;
        this.#startSegment(event.seq);
      }
      const payload = Buffer.from(encodeEvent(event));
      const needed = bytes + RECORD_HEADER_BYTES + payload.length;
      if (needed > scratch.length) {
        const grown = Buffer.allocUnsafe(Math.max(needed, scratch.length * 2));
        scratch.copy(grown, 0, 0, bytes);
        scratch = this.#scratch = grown;
      }
      bytes = writeRecord(scratch, bytes, event.seq, last, payload);
      this.#lastSeq = last;
    }
    if (bytes > 0) this.#writeOut(scratch, bytes);
    // a burst grew the buffer: do not keep holding it
    if (this.#scratch.length > 8 << 20) this.#scratch = Buffer.allocUnsafe(1 << 20);
  }

  /** fdatasync now, on this thread (before a snapshot; at close). */
  syncNow(): void {
    // a background fdatasync in flight may have started before the last write: sync again here
    if (this.#segment !== undefined && (this.#unsynced || this.#syncing)) {
      this.#unsynced = false;
      this.#segment.syncNow();
    }
  }

  /**
   * Deletes every segment whose records are all at or before `confirmedSeq` (the lowest cursor of
   * all publishers). The newest segment is always kept. Returns the number removed.
   */
  retain(confirmedSeq: number): number {
    let removed = 0;
    for (let covered = coveredSegmentCount(this.#segments, confirmedSeq); covered > 0; covered--) {
      const old = this.#segments.shift()!;
      try {
        this.#closedBytes -= fs.statSync(old.file).size;
        fs.rmSync(old.file, { force: true });
        removed++;
      } catch (error) {
        this.#warn(`event log retention: ${old.file}: ${(error as Error).message}`);
      }
    }
    if (this.#closedBytes < 0) this.#closedBytes = 0;
    return removed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#segment !== undefined) {
      try {
        this.syncNow();
      } finally {
        this.#segment.close();
        this.#segment = undefined;
      }
    }
  }

  #writeOut(buffer: Buffer, length: number): void {
    this.#segment!.write(buffer, length);
    this.#unsynced = true;
  }

  #startSegment(firstSeq: number): void {
    if (this.#segment !== undefined) {
      this.syncNow();
      this.#segment.close();
      this.#closedBytes += this.#segment.size;
    }
    this.#segment = SegmentWriter.create(EVENT_SEGMENT_FORMAT, this.dir, firstSeq);
    this.#segments.push({ firstSeq, file: this.#segment.file });
  }

  #syncInBackground(): void {
    if (this.#segment === undefined || !this.#unsynced || this.#syncing) return;
    this.#unsynced = false;
    this.#syncing = true;
    this.#segment.sync().then(
      () => {
        this.#syncing = false;
      },
      (error: Error) => {
        this.#syncing = false;
        this.#unsynced = true;
        this.#warn(`event log fdatasync failed: ${error.message}`);
      },
    );
  }

  /** Finds where the newest segment's valid records end, cuts anything after, and continues there. */
  #recoverTail(): void {
    for (let index = 0; index + 1 < this.#segments.length; index++) this.#closedBytes += fs.statSync(this.#segments[index]!.file).size;
    const last = this.#segments[this.#segments.length - 1];
    if (!last) return;
    const bytes = fs.readFileSync(last.file);
    if (!checkSegmentHeader(bytes, last)) {
      if (bytes.length >= SEGMENT_HEADER_BYTES && !allZero(bytes, 0, SEGMENT_HEADER_BYTES)) {
        throw new EventLogCorruptError('bad segment header', last.file, 0);
      }
      // created but its header never reached the disk: start it again
      this.#warn(`event log: ${last.file} has a torn header; rewritten`);
      this.#segment = SegmentWriter.reopen(EVENT_SEGMENT_FORMAT, this.dir, last, 0, true);
      this.#lastSeq = last.firstSeq - 1;
      return;
    }
    let offset = SEGMENT_HEADER_BYTES;
    let lastSeq = last.firstSeq - 1;
    for (;;) {
      const check = checkRecord(bytes, offset, bytes.length);
      if (check.kind !== 'record') break;
      if (check.firstSeq !== lastSeq + 1) throw new EventLogCorruptError(`record ${check.firstSeq} after ${lastSeq}`, last.file, offset);
      lastSeq = check.lastSeq;
      offset = check.end;
    }
    if (offset < bytes.length) {
      this.#warn(`event log: torn tail in ${last.file} at byte ${offset} (${bytes.length - offset} bytes cut; replay writes them again)`);
    }
    this.#segment = SegmentWriter.reopen(EVENT_SEGMENT_FORMAT, this.dir, last, offset, false);
    this.#lastSeq = lastSeq; // an empty newest segment: the log ends just before it
  }
}
