/**
 * The order-book checksum of ARCHITECTURE.md "WebSocket": CRC-32 (IEEE 802.3, zlib's `crc32`) of
 * `ask:qty|ask:qty…#bid:qty|…` over the top 10 levels of each side, best first, decimals exactly as
 * sent. The CRC itself is lib/crc32.ts, the server's one; the test compares with zlib.
 */
import { crc32 as crc32OfBytes } from '../lib/crc32.ts';

export function crc32(text: string): number {
  return crc32OfBytes(Buffer.from(text, 'utf8'));
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
