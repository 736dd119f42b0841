/**
 * What a command field must be to go into the journal (sequencer/codec.ts): safe integers, strings
 * of at most 65,535 UTF-8 bytes, known enum values. Throws InvalidCommandError.
 */
import { InvalidCommandError } from './errors.ts';

const MAX_STRING_BYTES = 0xffff;

export function enumIndex<T>(values: readonly T[], value: T, field: string): number {
  const index = values.indexOf(value);
  if (index < 0) throw new InvalidCommandError(`${field}: unknown value ${JSON.stringify(value)}`);
  return index;
}

export function checkInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidCommandError(`${field} must be a safe integer, got ${String(value)}`);
  }
  return value;
}

export function checkOptionalInteger(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : checkInteger(value, field);
}

export function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidCommandError(`${field} must be a string`);
  // a UTF-16 code unit takes at most 3 UTF-8 bytes: short strings need no byte count
  if (value.length * 3 > MAX_STRING_BYTES && Buffer.byteLength(value, 'utf8') > MAX_STRING_BYTES) {
    throw new InvalidCommandError(`${field} is longer than ${MAX_STRING_BYTES} bytes`);
  }
  return value;
}

export function checkOptionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : checkString(value, field);
}
