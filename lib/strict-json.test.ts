import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicateKeyError, findDuplicateKey, parseStrictJson } from './strict-json.ts';

/** What JSON.parse does with `text`: its value, or that it threw. */
function nativeParse(text: string): { value: unknown } | { error: true } {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: true };
  }
}

function strictParse(text: string): { value: unknown } | { error: true } | { duplicate: string } {
  try {
    return { value: parseStrictJson(text) };
  } catch (error) {
    if (error instanceof DuplicateKeyError) return { duplicate: error.key };
    expect(error).toBeInstanceOf(SyntaxError);
    return { error: true };
  }
}

/**
 * A JSON text written entry by entry (so a key may repeat, which JSON.stringify of an object never
 * does), with random whitespace and keys sometimes spelled with \u escapes; and the model's answer:
 * does some object hold one key twice?
 */
interface Written {
  readonly text: string;
  readonly duplicate: boolean;
}

const spaces = fc.constantFrom('', ' ', '\n', '\t ', '  \r\n');
const keyText = fc.oneof(
  fc.constantFrom('a', 'b', 'side', 'quantity', 'é', '"', '\\', '__proto__', '', 'a:b', ':'),
  fc.string({ maxLength: 4 }),
);

/** the key as JSON text: plain, or every character as \uXXXX (the same key to JSON.parse) */
const spelledKey = (key: string, escaped: boolean): string =>
  escaped
    ? `"${[...key].map((char) => [...char].map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')).join('')}"`
    : JSON.stringify(key);

const written: fc.Memo<Written> = fc.memo((depth) => {
  // strings with colons: the count that settles most texts must not be fooled by them
  const leaf = fc.oneof(
    fc
      .oneof(fc.jsonValue({ maxDepth: 1 }), fc.string(), fc.constantFrom('12:30', ':', '{"a":1,"a":2}'))
      .map((value): Written => ({ text: JSON.stringify(value), duplicate: false })),
    // a colon the text spells as an escape: a parsed string holds a colon the text does not show
    fc.constantFrom('"\\u003a"', '"a\\u003A:b"').map((text): Written => ({ text, duplicate: false })),
  );
  if (depth <= 1) return leaf;
  const object = fc.array(fc.tuple(keyText, fc.boolean(), written(depth - 1), spaces, spaces), { maxLength: 6 }).map((entries): Written => {
    const keys = entries.map(([key]) => key);
    const duplicate = new Set(keys).size !== keys.length || entries.some(([, , value]) => value.duplicate);
    const body = entries
      .map(([key, escaped, value, before, after]) => `${before}${spelledKey(key, escaped)}${after}:${before}${value.text}${after}`)
      .join(',');
    return { text: `{${body}}`, duplicate };
  });
  const array = fc.array(fc.tuple(written(depth - 1), spaces), { maxLength: 4 }).map((items): Written => ({
    text: `[${items.map(([item, space]) => space + item.text).join(',')}]`,
    duplicate: items.some(([item]) => item.duplicate),
  }));
  return fc.oneof(leaf, object, array);
});

describe('parseStrictJson', () => {
  it('answers as JSON.parse does for every JSON text without repeated keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 3_000 },
    );
  });

  it('refuses exactly the texts where one object holds a key twice, at any depth, whatever the spelling of the key', () => {
    let duplicates = 0;
    fc.assert(
      fc.property(written(4), ({ text, duplicate }) => {
        const strict = strictParse(text);
        if (duplicate) {
          duplicates++;
          expect(strict, text).toHaveProperty('duplicate');
        } else {
          expect(strict, text).toEqual(nativeParse(text));
        }
      }),
      { numRuns: 5_000 },
    );
    expect(duplicates).toBeGreaterThan(500); // the generator reaches both answers
  });

  it('refuses what JSON.parse refuses, and agrees with it on everything else (mutated texts)', () => {
    const mutated = fc
      .tuple(written(3), fc.nat(), fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '', 'x', '1'), fc.boolean())
      .map(([{ text }, at, char, replace]) => {
        const index = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, index) + char + text.slice(replace ? index + 1 : index);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        const native = nativeParse(text);
        const strict = strictParse(text);
        if ('error' in native) expect(strict, text).toEqual({ error: true });
        else if (!('duplicate' in strict)) expect(strict, text).toEqual(native);
      }),
      { numRuns: 5_000 },
    );
  });

  it('names the key and the object it repeats in', () => {
    expect(findDuplicateKey('{"quantity":"5","quantity":"500"}')).toMatchObject({ key: 'quantity', path: '$' });
    expect(findDuplicateKey('{"side":"Buy","symbol":"BTC-KRW","\\u0073ide":"Sell"}')).toMatchObject({ key: 'side', path: '$' });
    expect(findDuplicateKey('{"a":[1,{"b":{"c":1,"d":"}","c":2}}]}')).toMatchObject({ key: 'c', path: '$.a[1].b' });
    expect(findDuplicateKey('{"k\\"":1,"k\\\\":2,"k":3}')).toBeUndefined();
    expect(findDuplicateKey('[{"a":1},{"a":1}]')).toBeUndefined();
    expect(findDuplicateKey('{"a":{"a":{"a":1}}}')).toBeUndefined();
    // many keys (past the list, into the Set)
    const many = Array.from({ length: 50 }, (_, index) => `"k${index}":${index}`);
    expect(findDuplicateKey(`{${many.join(',')}}`)).toBeUndefined();
    expect(findDuplicateKey(`{${many.join(',')},"k7":0}`)).toMatchObject({ key: 'k7', path: '$' });
    expect(() => parseStrictJson('{"a":1,"a":1}')).toThrow(DuplicateKeyError);
    // the counts that spare the scan, at their edges
    expect(() => parseStrictJson('{"t":"12:30","a":1,"a":2}')).toThrow(DuplicateKeyError);
    expect(() => parseStrictJson('{"x":"\\u003a","a":1,"a":2}')).toThrow(DuplicateKeyError);
    expect(() => parseStrictJson('{"a":"1:2","a":"3"}')).toThrow(DuplicateKeyError);
    expect(parseStrictJson('{"a:b":"c:d","e":["f:g"]}')).toEqual({ 'a:b': 'c:d', e: ['f:g'] });
    expect(() => parseStrictJson('{"a":1,')).toThrow(SyntaxError);
  });
});
