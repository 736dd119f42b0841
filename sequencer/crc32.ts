/**
 * CRC-32 (IEEE 802.3, the same value as zlib.crc32) over a byte range, table-driven in JS.
 * Journal records are ~40–100 bytes; for ranges that small this is about twice as fast as calling
 * zlib.crc32 on a subarray (the native call and the view allocation dominate).
 */
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
