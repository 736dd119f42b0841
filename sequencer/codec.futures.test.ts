/**
 * The futures commands and PlaceOrder's futures fields in the journal codec (issue 18): each
 * round-trips to its canonical shape, a spot PlaceOrder's bytes are unchanged by them, and bad
 * values are refused before they reach the journal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, PlaceOrderCommand } from '../engine/types.ts';
import { canonicalCommand, decodePayload, RecordWriter, RECORD_HEADER_BYTES } from './codec.ts';
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

const T = 1_700_000_000_000;
const perpOrder: PlaceOrderCommand = {
  type: 'PlaceOrder',
  timestamp: T,
  orderId: 9,
  userId: 3,
  symbol: 'BTC-KRW-PERP',
  side: 'Sell',
  orderType: 'Limit',
  timeInForce: 'GTC',
  stp: 'ExpireTaker',
  postOnly: false,
  price: 100_000,
  quantity: 5,
};

const futuresCommands: Command[] = [
  { ...perpOrder, reduceOnly: true },
  { ...perpOrder, reduceOnly: false, positionSide: 'SHORT' },
  { ...perpOrder, reduceOnly: true, positionSide: 'LONG', clientOrderId: 'x' },
  { ...perpOrder, reduceOnly: false, positionSide: 'BOTH' },
  // TP/SL (issue 19)
  { ...perpOrder, orderType: 'TakeProfitLimit', stopPrice: 99_000, reduceOnly: false, workingType: 'MARK_PRICE' },
  { ...perpOrder, orderType: 'StopLimit', stopPrice: 99_000, reduceOnly: true, workingType: 'LAST_PRICE' },
  {
    ...perpOrder,
    orderType: 'TakeProfitMarket',
    price: undefined,
    quantity: undefined,
    stopPrice: 99_000,
    reduceOnly: false,
    positionSide: 'LONG',
    workingType: 'MARK_PRICE',
    closePosition: true,
  },
  { type: 'FuturesTransfer', timestamp: T, userId: 1, asset: 'KRW', amount: 1_000_000, direction: 'SpotToFutures' },
  { type: 'FuturesTransfer', timestamp: T, userId: 1, asset: 'KRW', amount: 5, direction: 'FuturesToSpot' },
  { type: 'SetPositionMode', timestamp: T, userId: 1, hedge: true },
  { type: 'SetPositionMode', timestamp: T, userId: 1, hedge: false },
  { type: 'SetLeverage', timestamp: T, userId: 1, symbol: 'BTC-KRW-PERP', leverage: 10 },
  { type: 'SetMarginType', timestamp: T, userId: 1, symbol: 'ETH-KRW-PERP', marginType: 'ISOLATED' },
  { type: 'AdjustIsolatedMargin', timestamp: T, userId: 1, symbol: 'BTC-KRW-PERP', positionSide: 'SHORT', amount: 7, action: 'Remove' },
  { type: 'SetIndexPrices', timestamp: T, prices: [] },
  {
    type: 'SetIndexPrices',
    timestamp: T,
    prices: [
      { symbol: 'BTC-KRW-PERP', source: 'upbit', price: 100_000 },
      { symbol: 'ETH-KRW-PERP', source: 'bithumb', price: 5_000 },
    ],
  },
  { type: 'PriceTick', timestamp: T },
];

describe('journal codec: futures commands', () => {
  it('round-trips every futures command and PlaceOrder futures field to the same object', () => {
    for (const [index, command] of futuresCommands.entries()) {
      const record = decode(encode(index + 1, command));
      expect(record).toEqual({ seq: index + 1, command: canonicalCommand(command) });
      expect(record.command).toEqual(command);
    }
  });

  it('writes a PriceTick as the header and its type code 13 alone', () => {
    const payload = encode(7, { type: 'PriceTick', timestamp: T }).subarray(8);
    expect(payload.length).toBe(17); // f64 seq, f64 timestamp, u8 type
    expect(payload[16]).toBe(13);
  });

  it('writes a PlaceOrder without futures fields exactly as before (flags bit 6 clear, no extra byte)', () => {
    const spot = encode(1, perpOrder);
    const futures = encode(1, { ...perpOrder, reduceOnly: true });
    expect(futures.length).toBe(spot.length + 1);
    const flagsAt = spot.length - 1 - 8 - 8; // flags, then price and quantity
    expect(spot[flagsAt]! & 0x40).toBe(0);
    expect(futures[flagsAt]! & 0x40).toBe(0x40);
    expect(futures[futures.length - 1]).toBe(1); // reduceOnly, no position side
  });

  it('writes the TP/SL fields in bits 3–5 of the futures byte', () => {
    const close = { ...perpOrder, orderType: 'StopMarket', price: undefined, quantity: undefined, stopPrice: 95_000 } as const;
    const mark = encode(1, { ...close, workingType: 'MARK_PRICE', closePosition: true });
    expect(mark[mark.length - 1]).toBe((2 << 3) | (1 << 5)); // MARK_PRICE, close position, not reduce-only
    const last = encode(1, { ...close, quantity: 5, workingType: 'LAST_PRICE', closePosition: false });
    expect(last[last.length - 1]).toBe(1 << 3);
    // closePosition false is left out of the canonical command (it says nothing)
    expect(decode(last).command).toEqual({ ...close, quantity: 5, workingType: 'LAST_PRICE', reduceOnly: false });
    // an unknown working type code in a record is damage
    const damaged = Buffer.from(mark);
    damaged[damaged.length - 1] = 3 << 3;
    expect(() => decode(damaged)).toThrow(/futures bits/);
  });

  it('makes reduceOnly explicit when a position side is given', () => {
    const command = canonicalCommand({ ...perpOrder, positionSide: 'LONG' }) as PlaceOrderCommand;
    expect(command.reduceOnly).toBe(false);
    expect(decode(encode(1, command)).command).toEqual(command);
  });

  it('refuses malformed futures fields', () => {
    const bad: unknown[] = [
      { ...perpOrder, reduceOnly: 'yes' },
      { ...perpOrder, positionSide: 'UP' },
      { ...perpOrder, workingType: 'INDEX_PRICE' },
      { ...perpOrder, closePosition: 'yes' },
      { type: 'FuturesTransfer', timestamp: T, userId: 1, asset: 'KRW', amount: 1.5, direction: 'SpotToFutures' },
      { type: 'FuturesTransfer', timestamp: T, userId: 1, asset: 'KRW', amount: 1, direction: 'Sideways' },
      { type: 'SetPositionMode', timestamp: T, userId: 1, hedge: 1 },
      { type: 'SetMarginType', timestamp: T, userId: 1, symbol: 'BTC-KRW-PERP', marginType: 'HALF' },
      { type: 'AdjustIsolatedMargin', timestamp: T, userId: 1, symbol: 'BTC-KRW-PERP', positionSide: 'BOTH', amount: 1, action: 'Take' },
      { type: 'SetIndexPrices', timestamp: T, prices: [{ symbol: 'BTC-KRW-PERP', source: 's', price: 0.5 }] },
      { type: 'SetIndexPrices', timestamp: T, prices: 'none' },
    ];
    for (const command of bad) expect(() => canonicalCommand(command as Command), JSON.stringify(command)).toThrow(InvalidCommandError);
  });

  it('round-trips random SetIndexPrices and futures orders', () => {
    const side = fc.constantFrom<'BOTH' | 'LONG' | 'SHORT' | undefined>('BOTH', 'LONG', 'SHORT', undefined);
    fc.assert(
      fc.property(
        fc.boolean(),
        side,
        fc.array(fc.record({ symbol: fc.string({ maxLength: 20 }), source: fc.string({ maxLength: 20 }), price: fc.nat() }), {
          maxLength: 20,
        }),
        (reduceOnly, positionSide, prices) => {
          const order = canonicalCommand({ ...perpOrder, reduceOnly, positionSide });
          expect(decode(encode(2, order)).command).toEqual(order);
          const index = canonicalCommand({ type: 'SetIndexPrices', timestamp: T, prices });
          expect(decode(encode(3, index)).command).toEqual(index);
        },
      ),
    );
  });
});
