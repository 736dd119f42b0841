/**
 * Liquidation figures for `npm run bench:futures` (issue 19, engine time):
 *  - mark_move_ms: one SetIndexPrices over 100,000 open positions with nothing to liquidate (mean
 *    of 200 moves of ±1 tick; target ≤ 1 ms — the liquidation index looks only at what a move reaches);
 *  - liquidation_shock_ms: one SetIndexPrices that liquidates 1,000 positions into a deep bid ladder
 *    (the whole command: cancels, liquidation orders, fills, fund, events; target ≤ 100 ms); the median
 *    of three fresh engines after a warm-up one.
 */
import { DEFAULT_ENGINE_CONFIG, Engine, type Command } from '../../engine/index.ts';

const SYMBOL = 'BTC-KRW-PERP';
const MAKER = 1;
const START = 1_700_000_000_000;

function apply(engine: Engine, command: Command): void {
  const refused = engine.apply(command).find((event) => event.type === 'OrderRejected');
  if (refused !== undefined && refused.type === 'OrderRejected')
    throw new Error(`bench set-up refused: ${refused.reason} for ${JSON.stringify(command)}`);
}

/**
 * A maker short against `traders` longs of `lots` each, bought at 100,000 ticks (20× cross, wallet
 * `wallet` KRW each); returns the engine and the next order id.
 */
function openLongs(traders: number, lots: number, wallet: number): { engine: Engine; nextId: number; time: number } {
  const engine = new Engine(DEFAULT_ENGINE_CONFIG);
  const time = START;
  let nextId = 1;
  apply(engine, { type: 'SetIndexPrices', prices: [{ symbol: SYMBOL, source: 'bench', price: 100_000 }], timestamp: time });
  apply(engine, { type: 'Deposit', userId: MAKER, asset: 'KRW', amount: 2_000_000_000_000, timestamp: time });
  apply(engine, {
    type: 'FuturesTransfer',
    userId: MAKER,
    asset: 'KRW',
    amount: 1_000_000_000_000,
    direction: 'SpotToFutures',
    timestamp: time,
  });
  apply(engine, { type: 'SetLeverage', userId: MAKER, symbol: SYMBOL, leverage: 2, timestamp: time });
  const order = (userId: number, side: 'Buy' | 'Sell', quantity: number, price?: number): Command => ({
    type: 'PlaceOrder',
    orderId: nextId++,
    userId,
    symbol: SYMBOL,
    side,
    orderType: price === undefined ? 'Market' : 'Limit',
    price,
    quantity,
    timeInForce: price === undefined ? 'IOC' : 'GTC',
    postOnly: false,
    stp: 'ExpireTaker',
    timestamp: time,
  });
  apply(engine, order(MAKER, 'Sell', traders * lots, 100_000));
  for (let userId = 2; userId < traders + 2; userId++) {
    // one timestamp for the whole set-up: the index stays fresh (60 s) however long it is
    apply(engine, { type: 'Deposit', userId, asset: 'KRW', amount: wallet, timestamp: time });
    apply(engine, { type: 'FuturesTransfer', userId, asset: 'KRW', amount: wallet, direction: 'SpotToFutures', timestamp: time });
    apply(engine, order(userId, 'Buy', lots));
  }
  return { engine, nextId, time };
}

export function markMoveMs(positions = 100_000, moves = 200): number {
  const { engine, time } = openLongs(positions, 1, 20_000);
  let elapsed = 0n;
  for (let move = 0; move < moves; move++) {
    const command: Command = {
      type: 'SetIndexPrices',
      prices: [{ symbol: SYMBOL, source: 'bench', price: move % 2 === 0 ? 99_999 : 100_000 }],
      timestamp: time + move + 1,
    };
    const started = process.hrtime.bigint();
    const events = engine.apply(command);
    elapsed += process.hrtime.bigint() - started;
    if (events.some((event) => event.type === 'Liquidation')) throw new Error('mark_move bench liquidated something');
  }
  return Number(elapsed) / 1e6 / moves;
}

/**
 * 1,000 longs of 10 lots, 20× cross with 60,000 KRW each: liquidation price 94,427 (the highest t
 * with 59,500 + 10 (t − 100,000) ≤ ceil(0.004 × 10 t)); a mark of 94,400 liquidates them all into the
 * maker's bids at 94,300 (above their bankruptcy price 94,050).
 */
export function liquidationShockMs(positions = 1_000): { ms: number; liquidations: number } {
  const { engine, nextId, time } = openLongs(positions, 10, 60_000);
  apply(engine, {
    type: 'PlaceOrder',
    orderId: nextId,
    userId: MAKER,
    symbol: SYMBOL,
    side: 'Buy',
    orderType: 'Limit',
    price: 94_300,
    quantity: positions * 10,
    timeInForce: 'GTC',
    postOnly: false,
    stp: 'ExpireTaker',
    timestamp: time + 1,
  });
  const command: Command = { type: 'SetIndexPrices', prices: [{ symbol: SYMBOL, source: 'bench', price: 94_400 }], timestamp: time + 2 };
  const started = process.hrtime.bigint();
  const events = engine.apply(command);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const liquidations = events.filter((event) => event.type === 'Liquidation').length;
  if (liquidations !== positions) throw new Error(`shock liquidated ${liquidations} of ${positions}`);
  return { ms, liquidations };
}

/** The shock after one warm-up run (the first liquidation ever runs unoptimized code), median of three fresh engines. */
export function liquidationShockMedianMs(): number {
  liquidationShockMs();
  const runs = [liquidationShockMs().ms, liquidationShockMs().ms, liquidationShockMs().ms].sort((a, b) => a - b);
  return runs[1]!;
}

if (process.argv[1]?.endsWith('liquidation-bench.ts')) {
  console.log(JSON.stringify({ mark_move_ms: markMoveMs(), liquidation_shock_ms: liquidationShockMedianMs() }));
}
