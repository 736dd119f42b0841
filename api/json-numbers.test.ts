import { describe, expect, it } from 'vitest';
import { parseJsonObject } from './body.ts';
import { NUMBER_MARK, quoteJsonNumbers } from './json-numbers.ts';

/** what quoteJsonNumbers + JSON.parse give, with the number mark shown as a leading '#' */
const parse = (text: string): unknown => JSON.parse(quoteJsonNumbers(text).replaceAll('\\u0000', '#'));

describe('quoteJsonNumbers', () => {
  it('keeps the exact characters of a number the float would round', () => {
    expect(parse('{"quantity":0.010000000000000000000000000001}')).toEqual({ quantity: '#0.010000000000000000000000000001' });
    expect(parse('{"price":1000000.0000000000000001}')).toEqual({ price: '#1000000.0000000000000001' });
    expect(parse('{"a":99999999999999999999}')).toEqual({ a: '#99999999999999999999' });
  });

  it('keeps exponent and sign as sent, so the validator can refuse them', () => {
    expect(parse('{"a":1e3,"b":-2,"c":1.5E-2}')).toEqual({ a: '#1e3', b: '#-2', c: '#1.5E-2' });
  });

  it('leaves strings, booleans, null, nesting and whitespace alone', () => {
    expect(parse('{"s":"12 e3 \\"7\\" -1","t":true,"f":false,"n":null, "arr":[1, 2.5], "o":{"x": 3}}')).toEqual({
      s: '12 e3 "7" -1',
      t: true,
      f: false,
      n: null,
      arr: ['#1', '#2.5'],
      o: { x: '#3' },
    });
    const noNumbers = '{"symbol":"BTC-KRW","side":"Buy"}';
    expect(quoteJsonNumbers(noNumbers)).toBe(noNumbers);
  });

  it('never turns malformed JSON into valid JSON', () => {
    for (const bad of ['{"a":01}', '{"a":+1}', '{"a":1.}', '{"a":.5}', '{"a":1 2}', '{"a":--1}', '{"a":1e}', '{"a":0x10}']) {
      expect(() => parse(bad), bad).toThrow(SyntaxError);
    }
  });

  it('the mark cannot be confused with a client string: parsing keeps decimals exact and other numbers numbers', () => {
    expect(NUMBER_MARK).toBe('\u0000');
    expect(
      parseJsonObject(
        '{"quantity":0.0100000000000000000001,"price":"50000000","client_order_id":123,"post_only":true,"extra":[1,{"y":2}]}',
      ),
    ).toEqual({
      quantity: '0.0100000000000000000001',
      price: '50000000',
      client_order_id: 123,
      post_only: true,
      extra: [1, { y: 2 }],
    });
  });
});
