/**
 * The Trade envelopes in Kafka `market-data` record values, pure. A record carries one envelope or a
 * JSON array of envelopes in seq order (mq/adapters/kafka-publisher.ts); BookDelta and Ticker are
 * counted and skipped. A value that is not JSON, or an element that is not a well-formed envelope,
 * is counted as invalid and skipped: one bad record must not stop the feed.
 */
import { RECEIVED_DECIMAL } from '../../contract/decimal-text.ts';
import type { TradeEnvelope } from '../../contract/envelopes.ts';

export interface DecodedRecords {
  readonly trades: TradeEnvelope[];
  /** every envelope with a symbol, in order: for the prev_seq gap check */
  readonly chain: Array<{ readonly symbol: string; readonly seq: number; readonly prevSeq: number }>;
  others: number;
  invalid: number;
}

const ID = /^\d{1,20}$/;

const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function isTrade(value: Record<string, unknown>): boolean {
  return (
    isSeq(value.seq) &&
    value.seq > 0 &&
    isSeq(value.timestamp) &&
    typeof value.symbol === 'string' &&
    value.symbol !== '' &&
    typeof value.trade_id === 'string' &&
    ID.test(value.trade_id) &&
    typeof value.price === 'string' &&
    RECEIVED_DECIMAL.test(value.price) &&
    typeof value.quantity === 'string' &&
    RECEIVED_DECIMAL.test(value.quantity) &&
    typeof value.quote_quantity === 'string' &&
    RECEIVED_DECIMAL.test(value.quote_quantity)
  );
}

export function emptyDecoded(): DecodedRecords {
  return { trades: [], chain: [], others: 0, invalid: 0 };
}

/** Appends what one record value holds to `into`. */
export function decodeMarketDataRecord(value: string, into: DecodedRecords): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    into.invalid++;
    return;
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      into.invalid++;
      continue;
    }
    const envelope = item as Record<string, unknown>;
    if (envelope.type !== 'Trade') {
      if (typeof envelope.type === 'string' && isSeq(envelope.seq)) {
        into.others++;
        if (typeof envelope.symbol === 'string' && isSeq(envelope.prev_seq))
          into.chain.push({ symbol: envelope.symbol, seq: envelope.seq, prevSeq: envelope.prev_seq });
      } else {
        into.invalid++;
      }
      continue;
    }
    if (!isTrade(envelope)) {
      into.invalid++;
      continue;
    }
    into.trades.push(envelope as unknown as TradeEnvelope);
    if (isSeq(envelope.prev_seq))
      into.chain.push({ symbol: envelope.symbol as string, seq: envelope.seq as number, prevSeq: envelope.prev_seq });
  }
}

/**
 * Watches each symbol's prev_seq chain (in memory, from the first envelope this process sees): an
 * envelope whose prev_seq is above the last seq seen means envelopes were missed on the topic.
 */
export class SeqChainWatch {
  readonly #last = new Map<string, number>();

  /** 'gap' when envelopes between the last one seen and this one are missing */
  observe(symbol: string, seq: number, prevSeq: number): 'ok' | 'duplicate' | 'gap' {
    const last = this.#last.get(symbol);
    if (last !== undefined && seq <= last) return 'duplicate';
    this.#last.set(symbol, seq);
    return last !== undefined && prevSeq > last ? 'gap' : 'ok';
  }
}
