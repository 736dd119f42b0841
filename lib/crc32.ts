/**
 * CRC-32 (IEEE 802.3, the same value as zlib.crc32) over a byte range.
 * Journal records are ~40–100 bytes; for ranges that small slice-by-8 in JS is several times faster
 * than calling zlib.crc32 on a subarray (the native call and the view allocation dominate). Large
 * ranges (snapshots) go to zlib, which is ~8× faster per byte.
 */
import zlib from 'node:zlib';

const NATIVE_FROM_BYTES = 4096;
const TABLE = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n]!;
  for (let k = 1; k < 8; k++) {
    c = TABLE[c & 0xff]! ^ (c >>> 8);
    TABLE[k * 256 + n] = c;
  }
}

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (end - start >= NATIVE_FROM_BYTES) return zlib.crc32(bytes.subarray(start, end));
  const t = TABLE;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const word = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (word & 0xff)]! ^
      t[1536 + ((word >>> 8) & 0xff)]! ^
      t[1280 + ((word >>> 16) & 0xff)]! ^
      t[1024 + (word >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
