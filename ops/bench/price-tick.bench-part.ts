/**
 * The price-tick figures of `npm run bench:futures` (issue 19): an engine holding OPEN_POSITIONS
 * open positions in BTC-KRW-PERP (one per user, half long, half short), an oracle source and a
 * spot book for the `spot` source, and resting perpetual levels deep enough for both impact prices.
 *  - tick_ms: engine time of each of TICKS price ticks where the mark moves (the spot mid steps by a
 *    tick between two ticks, so `marksMoved` runs) and nothing is settled: p50 and p99.
 *  - funding_ms: the tick that reaches the funding time and settles every open position (the whole
 *    command: FundingPaid per position, WalletChanged per wallet).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { build } from 'hdr-histogram-js';
import { Engine, type Command, type EngineConfig, type EngineEvent } from '../../engine/index.ts';

const PERP = 'BTC-KRW-PERP';
const SPOT = 'BTC-KRW';
const PRICE = 100_000; // ticks: 100,000,000 KRW per BTC
const EIGHT_HOURS = 8 * 3_600_000;
/** just after a funding time, so that every tick of the run but the last is between two of them */
const T0 = 1_700_006_400_000 - (1_700_006_400_000 % EIGHT_HOURS) + EIGHT_HOURS + 1_000;

export interface PriceTickFigures {
  readonly open_positions: number;
  readonly tick_p50_ms: number;
  readonly tick_p99_ms: number;
  readonly ticks: number;
  readonly funding_ms: number;
  readonly funding_events: number;
}

function applyChecked(engine: Engine, command: Command): EngineEvent[] {
  const events = engine.apply(command);
  const refused = events.find((event) => event.type === 'OrderRejected');
  if (refused !== undefined && refused.type === 'OrderRejected')
    throw new Error(`set-up refused: ${refused.reason} ${JSON.stringify(command)}`);
  return events;
}

export function priceTickFigures(config: EngineConfig, openPositions: number, ticks: number): PriceTickFigures {
  const engine = new Engine(config);
  let orderId = 0;
  const place = (userId: number, symbol: string, side: 'Buy' | 'Sell', price: number, quantity: number): Command => ({
    type: 'PlaceOrder',
    orderId: ++orderId,
    userId,
    symbol,
    side,
    orderType: 'Limit',
    price,
    quantity,
    timeInForce: 'GTC',
    postOnly: false,
    stp: 'ExpireTaker',
    timestamp: T0,
  });
  const pairs = openPositions / 2;
  const maker = pairs * 2 + 1;
  for (let userId = 1; userId <= maker; userId++) {
    applyChecked(engine, { type: 'Deposit', userId, asset: 'KRW', amount: 10_000_000_000, timestamp: T0 });
    applyChecked(engine, {
      type: 'FuturesTransfer',
      userId,
      asset: 'KRW',
      amount: 5_000_000_000,
      direction: 'SpotToFutures',
      timestamp: T0,
    });
  }
  applyChecked(engine, { type: 'Deposit', userId: maker, asset: 'BTC', amount: 100_000_000_000, timestamp: T0 });
  applyChecked(engine, { type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'oracle', price: PRICE }], timestamp: T0 });
  // one position per user: user i sells 1 lot to user pairs + i
  for (let index = 1; index <= pairs; index++) {
    applyChecked(engine, place(index, PERP, 'Sell', PRICE, 1));
    applyChecked(engine, place(pairs + index, PERP, 'Buy', PRICE, 1));
  }
  if (engine.futures.openPositions.count(PERP) !== openPositions) throw new Error('set-up did not open every position');
  // resting depth: 50 levels a side of 20 lots (2,000,000 KRW each): 10,000,000 KRW within 5 levels
  for (let level = 1; level <= 50; level++) {
    applyChecked(engine, place(maker, PERP, 'Buy', PRICE - 10 * level, 20));
    applyChecked(engine, place(maker, PERP, 'Sell', PRICE + 10 * level, 20));
  }
  applyChecked(engine, place(maker, SPOT, 'Buy', PRICE - 10, 1));
  applyChecked(engine, place(maker, SPOT, 'Sell', PRICE + 10, 1));

  const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
  let stepBid: number | undefined;
  for (let tick = 1; tick <= ticks; tick++) {
    // between two ticks (not timed): a better spot bid comes or goes, so the spot mid and the mark move
    if (stepBid === undefined) {
      stepBid = orderId + 1;
      applyChecked(engine, { ...place(maker, SPOT, 'Buy', PRICE - 8, 1), timestamp: T0 + tick * 1_000 - 1 });
    } else {
      applyChecked(engine, { type: 'CancelOrder', orderId: stepBid, userId: maker, timestamp: T0 + tick * 1_000 - 1 });
      stepBid = undefined;
    }
    const started = process.hrtime.bigint();
    const events = engine.apply({ type: 'PriceTick', timestamp: T0 + tick * 1_000 });
    histogram.recordValue(Number(process.hrtime.bigint() - started));
    if (events.some((event) => event.type === 'FundingPaid')) throw new Error('a tick before the funding time settled funding');
  }
  // the funding time: every open position pays or receives
  const fundingAt = T0 - 1_000 + EIGHT_HOURS;
  applyChecked(engine, { type: 'SetIndexPrices', prices: [{ symbol: PERP, source: 'oracle', price: PRICE }], timestamp: fundingAt - 1 });
  collectGarbage(); // the set-up's garbage is not the settlement's cost
  const started = process.hrtime.bigint();
  const events = engine.apply({ type: 'PriceTick', timestamp: fundingAt });
  const fundingMs = Number(process.hrtime.bigint() - started) / 1e6;
  const paid = events.filter((event) => event.type === 'FundingPaid').length;
  if (paid !== openPositions) throw new Error(`funding paid ${paid} positions, not ${openPositions}`);
  const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;
  return {
    open_positions: openPositions,
    tick_p50_ms: round(histogram.getValueAtPercentile(50) / 1e6),
    tick_p99_ms: round(histogram.getValueAtPercentile(99) / 1e6),
    ticks,
    funding_ms: round(fundingMs, 1),
    funding_events: events.length,
  };
}

/** A full collection before a timed section (the flag is set at run time: tsx starts node without it). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
