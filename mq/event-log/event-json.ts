/**
 * An engine event as the text of an event-log record, and back. JSON, as it always was, except
 * that the futures events carry money and rates as `bigint` (their `…Krw` and `…1e8` fields, engine/perp/README.md
 * "Units"), which JSON.stringify refuses: those are written as decimal strings and read back as
 * bigints. Only the event types listed here pay for the conversion; every other event is plain
 * JSON.stringify / JSON.parse, byte for byte what the log held before.
 */
import type { EngineEvent } from '../../engine/index.ts';

/** Event types with bigint fields; each such field's name ends in `Krw` (money) or `1e8` (a rate). */
const BIGINT_EVENT_TYPES: ReadonlySet<EngineEvent['type']> = new Set<EngineEvent['type']>([
  'PositionChanged',
  'WalletChanged',
  'FundingPaid',
  'MarkPrice',
]);

const bigintAsText = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export function encodeEvent(event: EngineEvent): string {
  return BIGINT_EVENT_TYPES.has(event.type) ? JSON.stringify(event, bigintAsText) : JSON.stringify(event);
}

export function decodeEvent(text: string): EngineEvent {
  const event = JSON.parse(text) as EngineEvent;
  if (BIGINT_EVENT_TYPES.has(event.type)) {
    const fields = event as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if ((key.endsWith('Krw') || key.endsWith('1e8')) && typeof value === 'string') fields[key] = BigInt(value);
    }
  }
  return event;
}
