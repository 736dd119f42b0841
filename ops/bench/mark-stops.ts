/**
 * The TP/SL figure of `npm run bench:futures` (issue 19): with RESTING mark-price stop and
 * take-profit orders waiting on BTC-KRW-PERP, how long a mark move that fires none of them takes
 * (the whole SetIndexPrices command: index, liquidation check, TP/SL triggers). The orders are
 * close-position ones (no reserve, any user may hold them) half far below and half far above the
 * mark, spread over the users; the mark then steps ±1 tick MOVES times. A move that fires one is a
 * broken figure, and throws.
 */
import { build } from 'hdr-histogram-js';
import type { Engine } from '../../engine/index.ts';
import { USERS } from './engine-stream.ts';

const SYMBOL = 'BTC-KRW-PERP';
export const RESTING = 10_000;
const MOVES = 2_000;
/** far beyond the stream's ids (its command positions) */
const FIRST_ID = 1_000_000_000;

export function markMoveWithStops(engine: Engine, startTimestamp: number): { p50Ms: number; p99Ms: number; resting: number } {
  const mark = engine.markPrice(SYMBOL)?.markPrice;
  if (mark === undefined) throw new Error('no mark price to bench TP/SL against');
  let timestamp = startTimestamp;
  for (let index = 0; index < RESTING; index++) {
    const below = index % 2 === 0;
    const events = engine.apply({
      type: 'PlaceOrder',
      orderId: FIRST_ID + index,
      userId: 1 + (index % USERS),
      symbol: SYMBOL,
      side: 'Sell',
      // a sell stop far below and a sell take-profit far above: neither fires on a ±1 tick move
      orderType: below ? 'StopMarket' : 'TakeProfitMarket',
      stopPrice: below ? Math.floor(mark / 2) - (index % 997) : mark * 2 + (index % 997),
      timeInForce: 'IOC',
      postOnly: false,
      stp: 'ExpireTaker',
      workingType: 'MARK_PRICE',
      closePosition: true,
      timestamp: ++timestamp,
    });
    if (events[0]?.type !== 'OrderAccepted') throw new Error(`TP/SL set-up order refused: ${JSON.stringify(events[0])}`);
  }
  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
  for (let move = 0; move < MOVES; move++) {
    const command = {
      type: 'SetIndexPrices' as const,
      prices: [{ symbol: SYMBOL, source: 'bench', price: mark + (move % 2 === 0 ? 1 : -1) }],
      timestamp: ++timestamp,
    };
    const before = process.hrtime.bigint();
    const events = engine.apply(command);
    histogram.recordValue(Number(process.hrtime.bigint() - before));
    if (events.some((event) => event.type === 'OrderTriggered')) throw new Error('a TP/SL bench move fired an order');
  }
  return {
    p50Ms: histogram.getValueAtPercentile(50) / 1e6,
    p99Ms: histogram.getValueAtPercentile(99) / 1e6,
    resting: RESTING,
  };
}
