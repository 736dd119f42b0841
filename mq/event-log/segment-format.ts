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
import path from 'node:path';
import { checkFrame, FRAME_HEADER_BYTES, FrameDamage, readU32, sealFrame, type RecordFraming } from '../../lib/segment-log/record-frame.ts';
import {
  headerProblem,
  listSegments,
  SEGMENT_HEADER_BYTES,
  type SegmentFile,
  type SegmentFormat,
} from '../../lib/segment-log/segment-files.ts';

export { SEGMENT_HEADER_BYTES };
export const EVENT_LOG_FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = FRAME_HEADER_BYTES + 16;
/** an engine event is well under 2 KiB; anything larger is damage, not a record */
export const MAX_RECORD_PAYLOAD = 1 << 20;

export const EVENT_SEGMENT_FORMAT: SegmentFormat = {
  prefix: 'events-',
  suffix: '.log',
  magic: 0x4c455458, // "XTEL" read as u32 LE
  version: EVENT_LOG_FORMAT_VERSION,
  fileMode: 0o600,
  replaceOnCreate: true,
};
/** the length counts the payload only, not the two seqs in front of it */
export const EVENT_FRAMING: RecordFraming = { uncountedBodyBytes: 16, minLength: 1, maxLength: MAX_RECORD_PAYLOAD };

export type EventSegment = SegmentFile;

export const eventLogDirOf = (dataDir: string): string => path.join(dataDir, 'events');

/** Segments in `dir`, by first seq ascending. */
export function listEventSegments(dir: string): EventSegment[] {
  return listSegments(EVENT_SEGMENT_FORMAT, dir);
}

export function checkSegmentHeader(bytes: Buffer, segment: EventSegment): boolean {
  return headerProblem(EVENT_SEGMENT_FORMAT, bytes, segment.firstSeq) === undefined;
}

/** Writes one framed record into `target` at `offset`; returns the offset after it. */
export function writeRecord(target: Buffer, offset: number, firstSeq: number, lastSeq: number, payload: Buffer): number {
  target.writeDoubleLE(firstSeq, offset + 8);
  target.writeDoubleLE(lastSeq, offset + 16);
  payload.copy(target, offset + RECORD_HEADER_BYTES);
  const end = offset + RECORD_HEADER_BYTES + payload.length;
  sealFrame(target, offset, end, EVENT_FRAMING);
  return end;
}

export type RecordCheck =
  | { readonly kind: 'record'; readonly firstSeq: number; readonly lastSeq: number; readonly payloadStart: number; readonly end: number }
  /** fewer bytes than the record needs: the writer may still be writing it (or died writing it) */
  | { readonly kind: 'incomplete' }
  /** all bytes are there but they do not check (torn write, or damage) */
  | { readonly kind: 'bad'; readonly reason: string };

const INCOMPLETE: RecordCheck = { kind: 'incomplete' };

/** Reads the record starting at `offset` of `bytes` (which hold the file's bytes up to `available`). */
export function checkRecord(bytes: Buffer, offset: number, available: number): RecordCheck {
  const end = checkFrame(bytes, offset, available, EVENT_FRAMING);
  if (end === FrameDamage.ShortHeader || end === FrameDamage.ShortBody) return INCOMPLETE;
  if (end === FrameDamage.BadLength) return { kind: 'bad', reason: `payload length ${readU32(bytes, offset)}` };
  if (end === FrameDamage.BadChecksum) return { kind: 'bad', reason: 'CRC mismatch' };
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
