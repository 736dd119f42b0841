import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command } from '../engine/types.ts';
import { canonicalCommand, decodePayload, RecordWriter, RECORD_HEADER_BYTES } from './codec.ts';
import { crc32 } from '../lib/crc32.ts';
import { InvalidCommandError } from './errors.ts';

function encode(seq: number, command: Command): Buffer {
  const writer = new RecordWriter(16);
  writer.append(seq, canonicalCommand(command));
  return Buffer.from(writer.bytes());
}

function decode(bytes: Buffer) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodePayload(bytes, view, RECORD_HEADER_BYTES, bytes.length);
}

const limitBuy: Command = {
  type: 'PlaceOrder',
  timestamp: 1_700_000_000_000,
  orderId: 7,
  userId: 42,
  symbol: 'BTC-KRW',
  side: 'Buy',
  orderType: 'Limit',
  timeInForce: 'GTC',
  stp: 'ExpireTaker',
  postOnly: false,
  price: 50_000,
  quantity: 3,
  clientOrderId: 'c1',
};

describe('journal record codec', () => {
  it('encodes a limit buy to the golden bytes of format version 1', () => {
    // [len 67][crc][seq 7][ts][type 1][orderId 7][userId 42][u16 7 "BTC-KRW"][Buy Limit GTC ExpireTaker][flags price|quantity|clientOrderId][50000][3][u16 2 "c1"]
    expect(encode(7, limitBuy).toString('hex')).toBe(
      '430000004968a92f0000000000001c4000008056febc7842010000000000001c40000000000000454007004254432d4b5257' +
        '000000002a00000000006ae840000000000000084002006331',
    );
  });

  it('encodes a deposit to the golden bytes of format version 1', () => {
    const deposit: Command = { type: 'Deposit', timestamp: 1_700_000_000_001, userId: 42, asset: 'KRW', amount: 1_000_000 };
    expect(encode(8, deposit).toString('hex')).toBe(
      '27000000566fd08b000000000000204000108056febc784204000000000000454003004b52570000000080842e4100',
    );
  });

  it('encodes a Tick to the golden bytes of format version 1 (type 6, nothing but seq and timestamp)', () => {
    const tick: Command = { type: 'Tick', timestamp: 1_700_000_000_002 };
    const bytes = encode(9, tick);
    // [len 17][crc][seq 9][ts][type 6]
    expect(bytes.toString('hex')).toBe('11000000010d7cf3000000000000224000208056febc784206');
    expect(bytes.readUInt32LE(0)).toBe(17); // f64 seq + f64 timestamp + u8 type
    expect(bytes.readDoubleLE(8)).toBe(9);
    expect(bytes.readDoubleLE(16)).toBe(1_700_000_000_002);
    expect(bytes[24]).toBe(6);
    expect(decode(bytes)).toStrictEqual({ seq: 9, command: tick });
    expect(canonicalCommand({ type: 'Tick', timestamp: 5, extra: 1 } as unknown as Command)).toStrictEqual({ type: 'Tick', timestamp: 5 });
  });

  it('stores the CRC-32 that zlib computes over the payload', () => {
    const bytes = encode(7, limitBuy);
    const payload = bytes.subarray(RECORD_HEADER_BYTES);
    expect(bytes.readUInt32LE(0)).toBe(payload.length);
    expect(bytes.readUInt32LE(4)).toBe(zlib.crc32(payload));
    expect(crc32(payload)).toBe(zlib.crc32(payload));
  });

  it('computes the same CRC-32 as zlib for any bytes and range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9_000 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32(bytes, start, end)).toBe(zlib.crc32(bytes.subarray(start, end)));
      }),
      { numRuns: 500 },
    );
  });

  it('computes the same CRC-32 as zlib on large ranges (the native path)', () => {
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    for (const [start, end] of [
      [0, 4_095],
      [0, 4_096],
      [3, 99_999],
      [50_000, 100_000],
    ] as const) {
      expect(crc32(bytes, start, end)).toBe(zlib.crc32(bytes.subarray(start, end)));
    }
  });

  it('decodes what it encodes, for every command shape', () => {
    const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
    const int = fc.maxSafeInteger();
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record(
        {
          type: fc.constant('PlaceOrder' as const),
          timestamp: int,
          orderId: int,
          userId: int,
          symbol: text,
          side: fc.constantFrom('Buy' as const, 'Sell' as const),
          orderType: fc.constantFrom('Limit' as const, 'Market' as const, 'StopLimit' as const, 'StopMarket' as const),
          timeInForce: fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const),
          stp: fc.constantFrom('ExpireTaker' as const, 'ExpireMaker' as const, 'ExpireBoth' as const),
          postOnly: fc.boolean(),
          price: int,
          stopPrice: int,
          quantity: int,
          quoteAmount: int,
          clientOrderId: text,
        },
        { requiredKeys: ['type', 'timestamp', 'orderId', 'userId', 'symbol', 'side', 'orderType', 'timeInForce', 'stp', 'postOnly'] },
      ),
      fc.record({ type: fc.constant('CancelOrder' as const), timestamp: int, orderId: int, userId: int }),
      fc.record({ type: fc.constant('AmendOrder' as const), timestamp: int, orderId: int, userId: int, newQuantity: int }),
      fc.record(
        {
          type: fc.constantFrom('Deposit' as const, 'Withdraw' as const),
          timestamp: int,
          userId: int,
          asset: text,
          amount: int,
          reference: text,
        },
        { requiredKeys: ['type', 'timestamp', 'userId', 'asset', 'amount'] },
      ),
      fc.record({ type: fc.constant('Tick' as const), timestamp: int }),
    );
    fc.assert(
      fc.property(seq, command, (s, c) => {
        const record = decode(encode(s, c));
        expect(record.seq).toBe(s);
        expect(record.command).toStrictEqual(canonicalCommand(c));
        expect(record.command).toEqual(c);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps one property order so the engine sees the same object shape live and on replay', () => {
    const reordered = { quantity: 3, price: 50_000, ...limitBuy } as Command;
    expect(Object.keys(decode(encode(7, reordered)).command)).toEqual(Object.keys(canonicalCommand(limitBuy)));
  });

  it.each([
    ['a fractional price', { ...limitBuy, price: 1.5 }],
    ['a NaN quantity', { ...limitBuy, quantity: Number.NaN }],
    ['an unsafe integer', { ...limitBuy, userId: 2 ** 53 }],
    ['an unknown side', { ...limitBuy, side: 'Long' }],
    ['a non-boolean postOnly', { ...limitBuy, postOnly: 1 }],
    ['an over-long client id', { ...limitBuy, clientOrderId: 'x'.repeat(70_000) }],
    ['an unknown command type', { type: 'Transfer', timestamp: 1 }],
  ])('refuses %s with InvalidCommandError', (_name, command) => {
    expect(() => canonicalCommand(command as unknown as Command)).toThrow(InvalidCommandError);
  });
});
