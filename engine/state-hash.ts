/**
 * A deterministic, fast, non-cryptographic hash of plain JSON-like data: two 32-bit FNV-1a
 * lanes with different offsets over a tagged walk (so [1,"2"] and ["1",2] differ). Used on the
 * canonical snapshot, which already lists books, orders, ledger and counters in a fixed order.
 */

const FNV_PRIME = 0x01000193;
const TAG_NULL = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_NUMBER = 4;
const TAG_STRING = 5;
const TAG_ARRAY = 6;
const TAG_OBJECT = 7;
const TWO_TO_32 = 4_294_967_296;

class Fnv {
  a = 0x811c9dc5;
  b = 0x01234567;

  word(value: number): void {
    // Feeds a 32-bit word byte by byte into both lanes.
    for (let shift = 0; shift < 32; shift += 8) {
      const byte = (value >>> shift) & 0xff;
      this.a = Math.imul(this.a ^ byte, FNV_PRIME);
      this.b = Math.imul(this.b ^ byte ^ 0x5a, FNV_PRIME);
    }
  }

  number(value: number): void {
    if (Number.isSafeInteger(value)) {
      const negative = value < 0;
      const magnitude = negative ? -value : value;
      this.word(negative ? 1 : 0);
      this.word(magnitude >>> 0); // low 32 bits (exact for safe integers)
      this.word(Math.floor(magnitude / TWO_TO_32)); // high bits
    } else {
      this.word(2);
      this.string(String(value));
    }
  }

  string(value: string): void {
    this.word(value.length);
    for (let index = 0; index < value.length; index++) this.word(value.charCodeAt(index));
  }

  value(value: unknown): void {
    if (value === null || value === undefined) this.word(TAG_NULL);
    else if (value === false) this.word(TAG_FALSE);
    else if (value === true) this.word(TAG_TRUE);
    else if (typeof value === 'number') {
      this.word(TAG_NUMBER);
      this.number(value);
    } else if (typeof value === 'string') {
      this.word(TAG_STRING);
      this.string(value);
    } else if (Array.isArray(value)) {
      this.word(TAG_ARRAY);
      this.word(value.length);
      for (const item of value) this.value(item);
    } else if (typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      this.word(TAG_OBJECT);
      this.word(entries.length);
      for (const [key, item] of entries) {
        this.string(key);
        this.value(item);
      }
    } else throw new TypeError(`cannot hash a ${typeof value}`);
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

export function hashSnapshot(data: unknown): string {
  const fnv = new Fnv();
  fnv.value(data);
  return fnv.digest();
}
