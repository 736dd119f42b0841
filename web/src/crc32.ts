/**
 * CRC-32 (IEEE 802.3, the one zlib's `crc32` computes) of a string's UTF-8 bytes: the order-book
 * checksum of the WebSocket contract (ARCHITECTURE.md "WebSocket"). Written from the contract, not
 * shared with the server: web/src/book.test.ts checks it against node's zlib.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const encoder = new TextEncoder();

export function crc32(text: string): number {
  const bytes = encoder.encode(text);
  let crc = 0xffffffff;
  for (const byte of bytes) crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
