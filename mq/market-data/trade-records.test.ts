import { describe, expect, it } from 'vitest';
import { decodeMarketDataRecord, emptyDecoded, SeqChainWatch } from './trade-records.ts';

const tradeEnvelope = (seq: number, prev: number) => ({
  v: 1,
  type: 'Trade',
  seq,
  prev_seq: prev,
  timestamp: 1_735_689_600_000,
  symbol: 'BTC-KRW',
  trade_id: String(seq),
  price: '50000000',
  quantity: '0.002',
  quote_quantity: '100000',
  taker_side: 'Buy',
});
const delta = (seq: number, prev: number) => ({
  v: 1,
  type: 'BookDelta',
  seq,
  prev_seq: prev,
  timestamp: 1,
  symbol: 'BTC-KRW',
  symbol_seq: 1,
  side: 'Buy',
  price: '1000',
  quantity: '0',
});

describe('decodeMarketDataRecord', () => {
  it('reads one envelope or an array, keeps trades only, counts the rest', () => {
    const into = emptyDecoded();
    decodeMarketDataRecord(JSON.stringify(tradeEnvelope(1, 0)), into);
    decodeMarketDataRecord(
      JSON.stringify([delta(2, 1), tradeEnvelope(3, 2), { type: 'Ticker', seq: 4, prev_seq: 3, symbol: 'BTC-KRW' }]),
      into,
    );
    expect(into.trades.map((trade) => trade.seq)).toEqual([1, 3]);
    expect(into.others).toBe(2);
    expect(into.invalid).toBe(0);
    expect(into.chain.map((link) => link.seq)).toEqual([1, 2, 3, 4]);
  });

  it("counts envelope types it does not know (a perpetual market's MarkPrice, a PositionChanged) as others, not invalid, and keeps their chain", () => {
    const into = emptyDecoded();
    decodeMarketDataRecord(
      JSON.stringify([
        { v: 1, type: 'MarkPrice', seq: 10, prev_seq: 0, timestamp: 1, symbol: 'BTC-KRW-PERP', mark_price: '50000000' },
        { ...tradeEnvelope(11, 10), symbol: 'BTC-KRW-PERP' },
      ]),
      into,
    );
    decodeMarketDataRecord(
      JSON.stringify({
        v: 1,
        type: 'PositionChanged',
        seq: 12,
        prev_seq: 0,
        timestamp: 1,
        user_id: '1',
        symbol: 'BTC-KRW-PERP',
        size: '-0.01',
      }),
      into,
    );
    expect(into.trades.map((trade) => trade.symbol)).toEqual(['BTC-KRW-PERP']);
    expect(into.others).toBe(2);
    expect(into.invalid).toBe(0);
  });

  it('skips what is not JSON or not a well-formed trade, without throwing', () => {
    const into = emptyDecoded();
    decodeMarketDataRecord('not json', into);
    decodeMarketDataRecord('[1, null, []]', into);
    decodeMarketDataRecord(JSON.stringify({ ...tradeEnvelope(5, 4), price: 5 }), into);
    decodeMarketDataRecord(JSON.stringify({ ...tradeEnvelope(6, 5), quantity: '1e3' }), into);
    decodeMarketDataRecord(JSON.stringify({ ...tradeEnvelope(7, 6), seq: 1.5 }), into);
    decodeMarketDataRecord(JSON.stringify({ ...tradeEnvelope(8, 7), trade_id: 8 }), into);
    expect(into.trades).toEqual([]);
    expect(into.invalid).toBe(8);
  });
});

describe('SeqChainWatch', () => {
  it('reports a gap when prev_seq is beyond the last seq seen, and repeats as duplicates', () => {
    const watch = new SeqChainWatch();
    expect(watch.observe('BTC-KRW', 10, 7)).toBe('ok'); // first seen: nothing to compare with
    expect(watch.observe('BTC-KRW', 12, 10)).toBe('ok');
    expect(watch.observe('BTC-KRW', 12, 10)).toBe('duplicate');
    expect(watch.observe('BTC-KRW', 20, 15)).toBe('gap');
    expect(watch.observe('ETH-KRW', 21, 0)).toBe('ok');
  });
});
