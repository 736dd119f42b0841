import { describe, expect, it } from 'vitest';
import { addExact, compareExact, formatExact, parseExact } from '../../contract/decimal-text.ts';
import { aggregateMinutes, minuteOf, type CandleTrade } from './minute-candles.ts';

const T0 = Date.UTC(2025, 0, 1); // a UTC midnight

let nextId = 0;
const trade = (seq: number, offsetMs: number, price: string, quantity: string, quote: string, symbol = 'BTC-KRW'): CandleTrade => ({
  seq,
  timestamp: T0 + offsetMs,
  symbol,
  trade_id: String(++nextId),
  price,
  quantity,
  quote_quantity: quote,
});

describe('exact decimals', () => {
  it('adds and compares without rounding where floats would', () => {
    expect(formatExact(addExact(parseExact('0.1'), parseExact('0.2')))).toBe('0.3');
    expect(formatExact(addExact(parseExact('9007199254740993'), parseExact('0.00000001')))).toBe('9007199254740993.00000001');
    expect(compareExact(parseExact('10'), parseExact('9.99999999'))).toBe(1);
    expect(compareExact(parseExact('1.50'), parseExact('1.5'))).toBe(0);
    expect(formatExact(addExact(parseExact('0.5'), parseExact('0.5')))).toBe('1');
    expect(formatExact(parseExact('0.002'))).toBe('0.002');
    expect(() => parseExact('1e3')).toThrow();
    expect(() => parseExact('-1')).toThrow();
  });
});

describe('aggregateMinutes', () => {
  it('folds trades into one candle per symbol and UTC minute, open/close by seq', () => {
    const trades = [
      trade(10, 10_000, '100000', '1', '100000'),
      trade(11, 20_000, '100000', '1', '100000', 'ETH-KRW'),
      trade(13, 50_000, '120000', '0.5', '60000'),
      trade(16, 59_999, '90000', '0.25', '22500'),
      trade(19, 60_000, '95000', '2', '190000'),
    ];
    const result = aggregateMinutes(trades, () => 0);
    expect(result.applied).toBe(5);
    expect(result.duplicates).toBe(0);
    expect(result.candles).toEqual([
      {
        symbol: 'BTC-KRW',
        openTime: T0,
        open: '100000',
        high: '120000',
        low: '90000',
        close: '90000',
        volume: '1.75',
        quoteVolume: '182500',
        tradeCount: 3,
        firstTradeId: trades[0]!.trade_id,
        lastTradeId: trades[3]!.trade_id,
      },
      {
        symbol: 'ETH-KRW',
        openTime: T0,
        open: '100000',
        high: '100000',
        low: '100000',
        close: '100000',
        volume: '1',
        quoteVolume: '100000',
        tradeCount: 1,
        firstTradeId: trades[1]!.trade_id,
        lastTradeId: trades[1]!.trade_id,
      },
      {
        symbol: 'BTC-KRW',
        openTime: T0 + 60_000,
        open: '95000',
        high: '95000',
        low: '95000',
        close: '95000',
        volume: '2',
        quoteVolume: '190000',
        tradeCount: 1,
        firstTradeId: trades[4]!.trade_id,
        lastTradeId: trades[4]!.trade_id,
      },
    ]);
    expect(result.progress).toEqual(
      new Map([
        ['BTC-KRW', { lastSeq: 19, lastTradeId: trades[4]!.trade_id }],
        ['ETH-KRW', { lastSeq: 11, lastTradeId: trades[1]!.trade_id }],
      ]),
    );
  });

  it('skips trades at or below the stored seq and repeats within the batch', () => {
    const first = trade(10, 0, '100', '1', '100');
    const second = trade(12, 1_000, '200', '1', '200');
    const third = trade(14, 2_000, '50', '1', '50');
    const result = aggregateMinutes([first, second, first, second, third, second], (symbol) => (symbol === 'BTC-KRW' ? 10 : 0));
    expect(result.applied).toBe(2);
    expect(result.duplicates).toBe(4);
    expect(result.candles).toHaveLength(1);
    expect(result.candles[0]).toMatchObject({
      open: '200',
      high: '200',
      low: '50',
      close: '50',
      volume: '2',
      quoteVolume: '250',
      tradeCount: 2,
    });
    expect(result.progress.get('BTC-KRW')?.lastSeq).toBe(14);
  });

  it('keeps the text of the extreme prices as sent and sums volumes exactly', () => {
    const trades = Array.from({ length: 10 }, (_, index) => trade(100 + index, index, '0.1', '0.1', '0.01'));
    const [candle] = aggregateMinutes(trades, () => 0).candles;
    expect(candle).toMatchObject({ volume: '1', quoteVolume: '0.1', tradeCount: 10, high: '0.1', low: '0.1' });
  });

  it('gives nothing for an empty or all-duplicate batch', () => {
    expect(aggregateMinutes([], () => 0)).toMatchObject({ candles: [], applied: 0, duplicates: 0 });
    expect(aggregateMinutes([trade(5, 0, '1', '1', '1')], () => 5)).toMatchObject({ candles: [], applied: 0, duplicates: 1 });
    expect(aggregateMinutes([trade(5, 0, '1', '1', '1')], () => 5).progress.size).toBe(0);
  });

  it('aligns minutes to UTC', () => {
    expect(minuteOf(T0 + 59_999)).toBe(T0);
    expect(minuteOf(T0 + 60_000)).toBe(T0 + 60_000);
    expect(minuteOf(0)).toBe(0);
  });
});
