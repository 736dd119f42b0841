/**
 * How a record sits in a segment: `[u32 LE length][u32 LE CRC-32 of the body][body]`. The body is
 * `length + uncountedBodyBytes` long: the journal's length counts its whole body, the event log's
 * leaves out the two f64 seqs in front of its payload. The CRC always covers the whole body.
 *
 * Reads and writes bytes one by one rather than through a Buffer or DataView method, so the
 * journal's encoder (a Uint8Array) and the logs' readers (Buffers) share it without a view per call.
 */
import { crc32 } from '../crc32.ts';

export const FRAME_HEADER_BYTES = 8;

export interface RecordFraming {
  /** body bytes the length field does not count */
  readonly uncountedBodyBytes: number;
  /** a length outside [minLength, maxLength] is damage, not a record */
  readonly minLength: number;
  readonly maxLength: number;
}

/** Why no record could be read at an offset (negative, so a valid end offset is told apart without an object). */
export const FrameDamage = {
  /** fewer bytes than the frame header and the uncounted body bytes */
  ShortHeader: -1,
  /** a length outside the framing's bounds */
  BadLength: -2,
  /** the length runs past the bytes available */
  ShortBody: -3,
  /** all bytes are there but the CRC does not match */
  BadChecksum: -4,
} as const;
export type FrameDamage = (typeof FrameDamage)[keyof typeof FrameDamage];

export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

/** where the record at `offset` ends by its length field (read that field only once the header is there) */
export function frameEnd(bytes: Uint8Array, offset: number, framing: RecordFraming): number {
  return offset + FRAME_HEADER_BYTES + framing.uncountedBodyBytes + readU32(bytes, offset);
}

/**
 * Checks the record at `offset` of `bytes`, of which the first `available` are the file's: returns
 * its end offset (its body starts at offset + FRAME_HEADER_BYTES), or a FrameDamage (< 0).
 */
export function checkFrame(bytes: Uint8Array, offset: number, available: number, framing: RecordFraming): number {
  if (available - offset < FRAME_HEADER_BYTES + framing.uncountedBodyBytes) return FrameDamage.ShortHeader;
  const length = readU32(bytes, offset);
  if (length < framing.minLength || length > framing.maxLength) return FrameDamage.BadLength;
  const end = offset + FRAME_HEADER_BYTES + framing.uncountedBodyBytes + length;
  if (end > available) return FrameDamage.ShortBody;
  if (crc32(bytes, offset + FRAME_HEADER_BYTES, end) !== readU32(bytes, offset + 4)) return FrameDamage.BadChecksum;
  return end;
}

/** Fills in the header of the record whose body was written at [start + FRAME_HEADER_BYTES, end). */
export function sealFrame(bytes: Uint8Array, start: number, end: number, framing: RecordFraming): void {
  writeU32(bytes, start, end - start - FRAME_HEADER_BYTES - framing.uncountedBodyBytes);
  writeU32(bytes, start + 4, crc32(bytes, start + FRAME_HEADER_BYTES, end));
}
