/**
 * Event log segment files: `${dataDir}/events/events-<first seq, 16 digits>.log`.
 *
 * File header (16 bytes): ASCII "XTEL", u32 LE format version, f64 LE first seq (the name's).
 * Then records: u32 LE payload length, u32 LE CRC-32 of everything after the CRC (the two seqs and
 * the payload), f64 LE first seq, f64 LE last seq, payload = the engine event as UTF-8 JSON.
 * A record covers the seqs [first, last]: one for most events, three for a Trade (the trade and
 * its two execution reports). Records are consecutive: each first seq is the previous last + 1.
 *
 * Only the newest segment is appended to, by one writer (the core). After a crash its tail may be
 * torn; the writer cuts it at the first record that does not check, and the deterministic replay
 * of the journal writes the lost records again, byte for byte.
 */
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';

export const EVENT_LOG_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 24;
/** an engine event is well under 2 KiB; anything larger is damage, not a record */
export const MAX_RECORD_PAYLOAD = 1 << 20;
const MAGIC = 0x4c455458; // "XTEL" read as u32 LE
const SEGMENT_NAME = /^events-(\d{16})\.log$/;

export interface EventSegment {
  readonly firstSeq: number;
  readonly file: string;
}

export const eventLogDirOf = (dataDir: string): string => path.join(dataDir, 'events');

export function segmentFileName(firstSeq: number): string {
  return `events-${String(firstSeq).padStart(16, '0')}.log`;
}

/** Segments in `dir`, by first seq ascending. */
export function listEventSegments(dir: string): EventSegment[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const segments: EventSegment[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) segments.push({ firstSeq: Number(match[1]), file: path.join(dir, name) });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

export function segmentHeader(firstSeq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(EVENT_LOG_FORMAT_VERSION, 4);
  header.writeDoubleLE(firstSeq, 8);
  return header;
}

export function checkSegmentHeader(bytes: Buffer, segment: EventSegment): boolean {
  return (
    bytes.length >= SEGMENT_HEADER_BYTES &&
    bytes.readUInt32LE(0) === MAGIC &&
    bytes.readUInt32LE(4) === EVENT_LOG_FORMAT_VERSION &&
    bytes.readDoubleLE(8) === segment.firstSeq
  );
}

/** Writes one framed record into `target` at `offset`; returns the offset after it. */
export function writeRecord(target: Buffer, offset: number, firstSeq: number, lastSeq: number, payload: Buffer): number {
  target.writeUInt32LE(payload.length, offset);
  target.writeDoubleLE(firstSeq, offset + 8);
  target.writeDoubleLE(lastSeq, offset + 16);
  payload.copy(target, offset + RECORD_HEADER_BYTES);
  const end = offset + RECORD_HEADER_BYTES + payload.length;
  target.writeUInt32LE(zlib.crc32(target.subarray(offset + 8, end)), offset + 4);
  return end;
}

export type RecordCheck =
  | { readonly kind: 'record'; readonly firstSeq: number; readonly lastSeq: number; readonly payloadStart: number; readonly end: number }
  /** fewer bytes than the record needs: the writer may still be writing it (or died writing it) */
  | { readonly kind: 'incomplete' }
  /** all bytes are there but they do not check (torn write, or damage) */
  | { readonly kind: 'bad'; readonly reason: string };

/** Reads the record starting at `offset` of `bytes` (which hold the file's bytes up to `available`). */
export function checkRecord(bytes: Buffer, offset: number, available: number): RecordCheck {
  if (available - offset < RECORD_HEADER_BYTES) return { kind: 'incomplete' };
  const length = bytes.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_PAYLOAD) return { kind: 'bad', reason: `payload length ${length}` };
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > available) return { kind: 'incomplete' };
  const crc = bytes.readUInt32LE(offset + 4);
  if (zlib.crc32(bytes.subarray(offset + 8, end)) !== crc) return { kind: 'bad', reason: 'CRC mismatch' };
  const firstSeq = bytes.readDoubleLE(offset + 8);
  const lastSeq = bytes.readDoubleLE(offset + 16);
  if (!(Number.isSafeInteger(firstSeq) && Number.isSafeInteger(lastSeq) && firstSeq >= 1 && lastSeq >= firstSeq)) {
    return { kind: 'bad', reason: `seqs ${firstSeq}..${lastSeq}` };
  }
  return { kind: 'record', firstSeq, lastSeq, payloadStart: offset + RECORD_HEADER_BYTES, end };
}

export class EventLogCorruptError extends Error {
  override name = 'EventLogCorruptError';
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(`${message} (${file} at byte ${offset})`);
  }
}
