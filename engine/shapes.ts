/**
 * V8 field representations for the engine's event objects (an allocation cut, no semantic change).
 *
 * Millisecond timestamps (~1.7·10^12) are not small integers, so V8 keeps them as heap numbers.
 * An object property that has only ever held numbers gets the "double" representation, and then
 * every object of that shape carries its OWN boxed copy: each event allocated a fresh 16-byte box
 * for its timestamp. A property that has once held a non-number gets the "tagged" representation
 * and just points at the number it is given, so all events of a command share the one box of
 * the engine's `timestamp` field (itself tagged for the same reason).
 *
 * `primeEventShapes()` builds one object of each event shape (same property order as the
 * engine's literals) with `undefined` in `timestamp`, before any real event exists.
 */

/** Put once into number fields that should keep a tagged representation (never read as a number). */
export const TAGGED = undefined as unknown as number;

let primed: unknown[] | undefined;

export function primeEventShapes(): void {
  if (primed !== undefined) return;
  const view = undefined;
  const report = undefined;
  primed = [
    { type: 'OrderAccepted', seq: 0, timestamp: TAGGED, order: view },
    { type: 'OrderExpired', seq: 0, timestamp: TAGGED, reason: 'IOC', order: view },
    {
      type: 'Trade',
      seq: 0,
      timestamp: TAGGED,
      symbol: '',
      tradeId: 0,
      price: 0,
      quantity: 0,
      quoteQuantity: 0,
      takerSide: 'Buy',
      maker: report,
      taker: report,
    },
    {
      type: 'OrderRejected',
      seq: 0,
      timestamp: TAGGED,
      code: 0,
      reason: '',
      commandType: 'PlaceOrder',
      userId: 0,
      orderId: undefined,
      clientOrderId: undefined,
      symbol: undefined,
      order: view,
      duplicateOfOrderId: undefined,
    },
    { type: 'BookDelta', seq: 0, timestamp: TAGGED, symbol: '', symbolSeq: 0, side: 'Buy', price: 0, quantity: 0 },
    { type: 'BalanceChanged', seq: 0, timestamp: TAGGED, userId: 0, asset: '', available: 0, locked: 0 },
    {
      type: 'Ticker',
      seq: 0,
      timestamp: TAGGED,
      symbol: '',
      lastPrice: undefined,
      bestBid: undefined,
      bestAsk: undefined,
      open24h: undefined,
      high24h: undefined,
      low24h: undefined,
      volume24h: 0,
      quoteVolume24h: 0,
    },
  ];
}
