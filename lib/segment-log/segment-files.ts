/**
 * The files of a segmented, append-only log: `<prefix><first seq, 16 digits><suffix>` in one
 * directory, each opening with a 16-byte header — u32 LE magic, u32 LE format version, f64 LE seq
 * of its first record (the number in the name). What differs from one log to another (name, magic,
 * version, how a new file is created) is its SegmentFormat; the bytes are the log's own.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SEGMENT_HEADER_BYTES = 16;

export interface SegmentFormat {
  /** file name before the 16 digits, e.g. `segment-` */
  readonly prefix: string;
  /** file name after the 16 digits, e.g. `.journal` */
  readonly suffix: string;
  /** the header's first four bytes, read as u32 LE */
  readonly magic: number;
  readonly version: number;
  /** permissions of a new segment file (default 0o666 less the umask) */
  readonly fileMode?: number;
  /** a new segment replaces a file of the same name instead of failing on it */
  readonly replaceOnCreate?: boolean;
}

export interface SegmentFile {
  readonly firstSeq: number;
  readonly file: string;
}

export function segmentFileName(format: SegmentFormat, firstSeq: number): string {
  return `${format.prefix}${String(firstSeq).padStart(16, '0')}${format.suffix}`;
}

const namePatterns = new WeakMap<SegmentFormat, RegExp>();

function namePattern(format: SegmentFormat): RegExp {
  let pattern = namePatterns.get(format);
  if (!pattern) {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(`^${escape(format.prefix)}(\\d{16})${escape(format.suffix)}$`);
    namePatterns.set(format, pattern);
  }
  return pattern;
}

/** The segment files in `dir`, by first seq ascending; none when the directory does not exist. */
export function listSegments(format: SegmentFormat, dir: string): SegmentFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const pattern = namePattern(format);
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match) segments.push({ firstSeq: Number(match[1]), file: path.join(dir, name) });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

export function segmentHeader(format: SegmentFormat, firstSeq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32LE(format.magic, 0);
  header.writeUInt32LE(format.version, 4);
  header.writeDoubleLE(firstSeq, 8);
  return header;
}

/** What is wrong with a segment's header, at which byte; each log decides what that means (torn or corrupt). */
export type HeaderProblem =
  | { readonly kind: 'short'; readonly offset: 0 }
  | { readonly kind: 'magic'; readonly offset: 0 }
  | { readonly kind: 'version'; readonly offset: 4; readonly version: number }
  | { readonly kind: 'first-seq'; readonly offset: 8; readonly firstSeq: number };

/** undefined when `bytes` (the file from its start) open with the header of `firstSeq` in `format` */
export function headerProblem(format: SegmentFormat, bytes: Buffer, firstSeq: number): HeaderProblem | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { kind: 'short', offset: 0 };
  if (bytes.readUInt32LE(0) !== format.magic) return { kind: 'magic', offset: 0 };
  const version = bytes.readUInt32LE(4);
  if (version !== format.version) return { kind: 'version', offset: 4, version };
  const headerSeq = bytes.readDoubleLE(8);
  if (headerSeq !== firstSeq) return { kind: 'first-seq', offset: 8, firstSeq: headerSeq };
  return undefined;
}

export function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * How many segments, from the oldest, hold only seqs at or before `throughSeq` — segment i holds
 * [first_i, first_{i+1} − 1], so it is covered once the next one starts at or before
 * `throughSeq + 1`. The newest segment is never counted: it is the one being appended to.
 */
export function coveredSegmentCount(segments: readonly SegmentFile[], throughSeq: number): number {
  let count = 0;
  while (count + 1 < segments.length && segments[count + 1]!.firstSeq <= throughSeq + 1) count++;
  return count;
}
