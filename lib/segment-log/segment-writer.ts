/**
 * The open segment being appended to. One writer; `write` is synchronous (into the page cache, a
 * few µs for a batch), `sync` is an async fdatasync on the libuv pool so the event loop keeps
 * working meanwhile (group commit), `syncNow` the same on this thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SEGMENT_HEADER_BYTES, segmentFileName, segmentHeader, type SegmentFile, type SegmentFormat } from './segment-files.ts';

export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeFully(fd: number, bytes: Uint8Array, position: number, length = bytes.length): void {
  let written = 0;
  while (written < length) {
    written += fs.writeSync(fd, bytes, written, length - written, position + written);
  }
}

export class SegmentWriter {
  private constructor(
    readonly dir: string,
    readonly firstSeq: number,
    readonly file: string,
    private fd: number,
    /** bytes in the file, header included */
    public size: number,
  ) {}

  /** Creates a new segment whose first record will be `firstSeq`; its header and directory entry are synced. */
  static create(format: SegmentFormat, dir: string, firstSeq: number): SegmentWriter {
    const file = path.join(dir, segmentFileName(format, firstSeq));
    const fd = fs.openSync(file, format.replaceOnCreate ? 'w' : 'wx', format.fileMode);
    try {
      writeFully(fd, segmentHeader(format, firstSeq), 0);
      fs.fdatasyncSync(fd);
      fsyncDirectory(dir);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return new SegmentWriter(dir, firstSeq, file, fd, SEGMENT_HEADER_BYTES);
  }

  /**
   * Reopens the newest segment for appending once its log scanned it: truncates anything after
   * `validEnd` (a torn tail), or rewrites the header when that is what was torn.
   */
  static reopen(format: SegmentFormat, dir: string, segment: SegmentFile, validEnd: number, headerTorn: boolean): SegmentWriter {
    const fd = fs.openSync(segment.file, 'r+');
    try {
      if (headerTorn) {
        fs.ftruncateSync(fd, 0);
        writeFully(fd, segmentHeader(format, segment.firstSeq), 0);
        validEnd = SEGMENT_HEADER_BYTES;
      } else if (fs.fstatSync(fd).size !== validEnd) {
        fs.ftruncateSync(fd, validEnd);
      }
      fs.fdatasyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return new SegmentWriter(dir, segment.firstSeq, segment.file, fd, validEnd);
  }

  /** Appends the first `length` bytes of `bytes`. */
  write(bytes: Uint8Array, length = bytes.length): void {
    writeFully(this.fd, bytes, this.size, length);
    this.size += length;
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
