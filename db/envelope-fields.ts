/**
 * Field checks of the persister's envelopes (db/execution-rows.ts, db/futures-rows.ts): each throws
 * an EnvelopeError naming the field, so a malformed entry becomes a dead letter before it reaches SQL.
 */
import { RECEIVED_DECIMAL } from '../contract/decimal-text.ts';

/** an envelope the persister cannot use: it becomes a dead letter of its own */
export class EnvelopeError extends Error {}

const ID = /^\d{1,16}$/;
const SIDES = new Set(['Buy', 'Sell']);

export type Json = Record<string, unknown>;

export function field(object: Json, name: string): unknown {
  if (!(name in object)) throw new EnvelopeError(`missing ${name}`);
  return object[name];
}

export function text(object: Json, name: string): string {
  const value = field(object, name);
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) throw new EnvelopeError(`${name} must be a non-empty string`);
  return value;
}

export function optionalText(object: Json, name: string): string | null {
  const value = object[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 200) throw new EnvelopeError(`${name} must be a string or null`);
  return value;
}

export function decimal(object: Json, name: string): string {
  const value = field(object, name);
  if (typeof value !== 'string' || !RECEIVED_DECIMAL.test(value)) throw new EnvelopeError(`${name} must be a decimal string`);
  return value;
}

export function optionalDecimal(object: Json, name: string): string | null {
  const value = object[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !RECEIVED_DECIMAL.test(value)) throw new EnvelopeError(`${name} must be a decimal string or null`);
  return value;
}

export function id(object: Json, name: string): string {
  const value = field(object, name);
  if (typeof value !== 'string' || !ID.test(value)) throw new EnvelopeError(`${name} must be a decimal id string`);
  return value;
}

export function optionalId(object: Json, name: string): string | null {
  const value = object[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !ID.test(value)) throw new EnvelopeError(`${name} must be a decimal id string or null`);
  return value;
}

export function integer(object: Json, name: string): number {
  const value = field(object, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new EnvelopeError(`${name} must be a non-negative integer`);
  return value;
}

export function side(object: Json, name: string): string {
  const value = text(object, name);
  if (!SIDES.has(value)) throw new EnvelopeError(`${name} must be Buy or Sell`);
  return value;
}

export function optionalBoolean(object: Json, name: string): boolean | null {
  const value = object[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw new EnvelopeError(`${name} must be a boolean or null`);
  return value;
}

export function object(value: unknown, name: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EnvelopeError(`${name} must be an object`);
  return value as Json;
}

/** a signed decimal as the futures envelopes carry PnL, sizes and rates ("-12.5") */
const RECEIVED_SIGNED_DECIMAL = /^-?\d{1,40}(\.\d{1,40})?$/;

export function signedDecimal(object: Json, name: string): string {
  const value = field(object, name);
  if (typeof value !== 'string' || !RECEIVED_SIGNED_DECIMAL.test(value)) throw new EnvelopeError(`${name} must be a signed decimal string`);
  return value;
}

/** one of `allowed` */
export function oneOf(object: Json, name: string, allowed: ReadonlySet<string>): string {
  const value = text(object, name);
  if (!allowed.has(value)) throw new EnvelopeError(`${name} must be one of ${[...allowed].join(', ')}`);
  return value;
}
