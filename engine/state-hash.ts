/**
 * A deterministic, fast, non-cryptographic hash of plain JSON-like data: FNV-1a's xor-multiply
 * step applied to 32-bit words in two independent lanes (64 bits of output), over a tagged walk
 * so that [1, "2"] and ["1", 2] differ. Used on the canonical snapshot, which already lists
 * books, orders, ledger and counters in a fixed order.
 */

const TAG_NULL = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_SMALL = 4;
const TAG_NUMBER = 5;
const TAG_STRING = 6;
const TAG_ARRAY = 7;
const TAG_OBJECT = 8;
const TWO_TO_32 = 4_294_967_296;

class WordHash {
  a = 0x811c9dc5;
  b = 0x6a09e667;

  word(value: number): void {
    this.a = Math.imul(this.a ^ value, 0x01000193);
    const b = Math.imul(this.b ^ value, 0x5bd1e995);
    this.b = b ^ (b >>> 15);
  }

  number(value: number): void {
    if (value >>> 0 === value) {
      this.word(TAG_SMALL);
      this.word(value);
    } else if (Number.isSafeInteger(value)) {
      const magnitude = value < 0 ? -value : value;
      this.word(value < 0 ? -TAG_NUMBER : TAG_NUMBER);
      this.word(magnitude >>> 0); // low 32 bits (exact for safe integers)
      this.word(Math.floor(magnitude / TWO_TO_32)); // high bits
    } else this.string(String(value));
  }

  string(value: string): void {
    this.word(TAG_STRING);
    this.word(value.length);
    for (let index = 0; index < value.length; index++) this.word(value.charCodeAt(index));
  }

  value(value: unknown): void {
    if (typeof value === 'number') this.number(value);
    else if (value === null || value === undefined) this.word(TAG_NULL);
    else if (value === false) this.word(TAG_FALSE);
    else if (value === true) this.word(TAG_TRUE);
    else if (typeof value === 'string') this.string(value);
    else if (Array.isArray(value)) {
      this.word(TAG_ARRAY);
      this.word(value.length);
      for (let index = 0; index < value.length; index++) this.value(value[index]);
    } else if (typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      this.word(TAG_OBJECT);
      this.word(keys.length);
      for (const key of keys) {
        this.string(key);
        this.value(record[key]);
      }
    } else throw new TypeError(`cannot hash a ${typeof value}`);
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

export function hashSnapshot(data: unknown): string {
  const hash = new WordHash();
  hash.value(data);
  return hash.digest();
}
