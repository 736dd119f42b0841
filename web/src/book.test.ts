/**
 * The page's pure parts, in node: its CRC-32 against zlib's, the book's join of snapshot and deltas
 * (a gap and a checksum mismatch are told, so the feed resubscribes), exact decimal checks, and an
 * error word for every word the API can answer.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../api/errors.ts';
import { OrderBook, type BookFrame, type Level } from './book.ts';
import { crc32 } from './crc32.ts';
import { addSteps, compareDecimal, group, isMultipleOf, multiply, toScaled } from './decimal.ts';
import { describeError, knownErrorWords } from './error-words.ts';

const zlibCrc = (text: string) => (zlib as unknown as { crc32(data: string): number }).crc32(text);
const checksumOf = (asks: Level[], bids: Level[]) =>
  zlibCrc(`${asks.map(([p, q]) => `${p}:${q}`).join('|')}#${bids.map(([p, q]) => `${p}:${q}`).join('|')}`);

function frame(fields: Partial<BookFrame> & { asks: Level[]; bids: Level[] }, book: { asks: Level[]; bids: Level[] }): BookFrame {
  return {
    type: 'OrderBook',
    symbol: 'BTC-KRW',
    snapshot: false,
    symbol_seq: 1,
    checksum: checksumOf(book.asks.slice(0, 10), book.bids.slice(0, 10)),
    ...fields,
  };
}

describe('crc32', () => {
  it('equals zlib on the contract example, on empty and on non-ASCII text', () => {
    for (const text of ['50001000:0.5|50002000:1#50000000:0.25', '', '#', 'ü€𝄞', 'x'.repeat(1000)]) expect(crc32(text)).toBe(zlibCrc(text));
  });
});

describe('OrderBook', () => {
  it('applies a snapshot and deltas in seq order, removes a level at "0", verifies each checksum', () => {
    const book = new OrderBook('BTC-KRW');
    const asks: Level[] = [
      ['50001000', '0.5'],
      ['50002000', '1'],
    ];
    const bids: Level[] = [
      ['50000000', '0.25'],
      ['49999000', '2'],
    ];
    expect(book.apply(frame({ snapshot: true, symbol_seq: 5, asks, bids }, { asks, bids }))).toBe('ok');
    expect(
      book.apply(
        frame(
          { prev_symbol_seq: 5, symbol_seq: 7, asks: [['50001000', '0']], bids: [['50000500', '0.1']] },
          { asks: [['50002000', '1']], bids: [['50000500', '0.1'], ...bids] },
        ),
      ),
    ).toBe('ok');
    expect(book.levels('asks')).toEqual([['50002000', '1']]);
    expect(book.levels('bids')).toEqual([
      ['50000500', '0.1'],
      ['50000000', '0.25'],
      ['49999000', '2'],
    ]);
    expect(book.symbolSeq).toBe(7);
  });

  it('orders levels by exact decimal value, not as text', () => {
    const book = new OrderBook('X');
    const bids: Level[] = [
      ['100.5', '1'],
      ['99', '1'],
      ['9.25', '1'],
    ];
    expect(
      book.apply(
        frame(
          {
            snapshot: true,
            asks: [],
            bids: [
              ['9.25', '1'],
              ['100.5', '1'],
              ['99', '1'],
            ],
          },
          { asks: [], bids },
        ),
      ),
    ).toBe('ok');
    expect(book.levels('bids').map(([price]) => price)).toEqual(['100.5', '99', '9.25']);
  });

  it('tells a gap (prev_symbol_seq is not the seq held) and a checksum mismatch, and waits for a snapshot after either', () => {
    const book = new OrderBook('BTC-KRW');
    const asks: Level[] = [['50001000', '0.5']];
    book.apply(frame({ snapshot: true, symbol_seq: 5, asks, bids: [] }, { asks, bids: [] }));
    expect(book.apply(frame({ prev_symbol_seq: 6, symbol_seq: 8, asks: [], bids: [] }, { asks, bids: [] }))).toBe('gap');
    expect(book.synced).toBe(false);
    book.apply(frame({ snapshot: true, symbol_seq: 9, asks, bids: [] }, { asks, bids: [] }));
    const wrong = {
      ...frame({ prev_symbol_seq: 9, symbol_seq: 10, asks: [['50001000', '0.4']], bids: [] }, { asks: [['50001000', '0.4']], bids: [] }),
      checksum: 12345,
    };
    expect(book.apply(wrong)).toBe('checksum');
    expect(book.synced).toBe(false);
    expect(book.apply(frame({ prev_symbol_seq: 10, symbol_seq: 11, asks: [], bids: [] }, { asks, bids: [] }))).toBe('gap');
  });
});

describe('decimal', () => {
  it('checks multiples and bounds exactly (0.1 + 0.2 style floats never enter)', () => {
    expect(isMultipleOf('50000000', '1000')).toBe(true);
    expect(isMultipleOf('50000500', '1000')).toBe(false);
    expect(isMultipleOf('0.003', '0.001')).toBe(true);
    expect(isMultipleOf('0.0035', '0.001')).toBe(false);
    expect(isMultipleOf('0.3', '0.1')).toBe(true);
    expect(compareDecimal('0.30', '0.3')).toBe(0);
    expect(compareDecimal('10', '9.99')).toBe(1);
    expect(toScaled('1.123', 2)).toBeUndefined();
    expect(multiply('50022000', '0.001')).toBe('50022');
    expect(multiply('0.1', '0.2')).toBe('0.02');
    expect(addSteps('0.001', '0.001', -1)).toBe('0');
    expect(addSteps('0', '0.001', -1)).toBe('0');
    expect(addSteps('49999000', '1000', 2)).toBe('50001000');
    expect(group('100000000')).toBe('100,000,000');
    expect(group('1234.5678')).toBe('1,234.5678');
  });
});

describe('error words', () => {
  it('has words for every error the API can answer', () => {
    const known = new Set(knownErrorWords());
    const missing = errorCatalogue()
      .map((entry) => entry.error)
      .filter(
        (word) =>
          !known.has(word) &&
          ![
            'INVALID_USER_ID',
            'UNKNOWN_USER',
            'USER_NOT_FOUND',
            'ADMIN_UNAUTHORIZED',
            'UNKNOWN_ASSET',
            'INVALID_AMOUNT',
            'INVALID_TIMESTAMP',
            'INVALID_COMMAND',
            'ASSET_SUPPLY_LIMIT',
            'DUPLICATE_ORDER_ID',
            'INVALID_STP_MODE',
            'INVALID_TIME_RANGE',
            'FEE_ACCOUNT_DEPOSIT',
            'INVALID_INDEX_PRICES',
          ].includes(word),
      );
    expect(missing).toEqual([]);
    expect(describeError('SOMETHING_NEW', 'a new reason')).toBe('a new reason');
    expect(describeError(undefined, 'x'.repeat(400))).toBe('The exchange refused the request.');
  });
});
