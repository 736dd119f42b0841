/**
 * UTF-8 bytes [start, end) of `bytes` as a string. Short ASCII strings (symbols, assets, client ids
 * in the journal) are built directly: cheaper than a UTF-8 decoder call on the replay hot path.
 */
export function decodeShortText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    let value = '';
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80) return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
      value += String.fromCharCode(byte);
    }
    return value;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}
