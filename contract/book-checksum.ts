/**
 * The order-book checksum of ARCHITECTURE.md "WebSocket": CRC-32 (IEEE 802.3, zlib's `crc32`) of
 * `ask:qty|ask:qty…#bid:qty|…` over the top 10 levels of each side, best first, decimals exactly as
 * sent. Table-driven here (node's zlib.crc32 exists only from 20.15); the test compares with zlib.
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

export function crc32(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let crc = 0xffffffff;
  for (let index = 0; index < bytes.length; index++) crc = TABLE[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export type Level = readonly [price: string, quantity: string];

export const CHECKSUM_LEVELS = 10;

/** The string the checksum covers: top asks then top bids (each best first), `price:qty` joined by `|`, sides by `#`. */
export function checksumText(asks: readonly Level[], bids: readonly Level[]): string {
  const side = (levels: readonly Level[]) =>
    levels
      .slice(0, CHECKSUM_LEVELS)
      .map(([price, quantity]) => `${price}:${quantity}`)
      .join('|');
  return `${side(asks)}#${side(bids)}`;
}

export function bookChecksum(asks: readonly Level[], bids: readonly Level[]): number {
  return crc32(checksumText(asks, bids));
}
