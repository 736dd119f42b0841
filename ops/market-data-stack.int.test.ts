/**
 * Candles through the whole stack as npm start runs it (ops/testing/stack.ts: core, the three
 * publishers, the persister; plus the market-data service): signed orders over HTTP → engine
 * trades → Kafka `market-data` → candles → GET /v1/candles on the core. The candles are checked
 * against the trades the core itself lists (GET /v1/trades), then rebuilt by the backfill command
 * from what the persister wrote, over the live candles and from an empty store: the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './core-child.ts';
import { spawnTs, Stack, waitFor, type ChildHandle, type StackUser } from './testing/stack.ts';
import type { Candle as PageCandle } from '../web/src/types.ts';

let stack: Stack;
let marketData: ChildHandle;
let alice: StackUser;
let bob: StackUser;

interface Trade {
  trade_id: string;
  price: string;
  quantity: string;
  quote_quantity: string;
  timestamp: number;
}
/** GET /v1/candles: the trading page's fields and the rest */
interface Candle extends PageCandle {
  quote_volume: string;
  trades: number;
  first_trade_id: string;
  last_trade_id: string;
}

const INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'];

/** BTC-KRW: prices are whole KRW, quantities multiples of 0.001 — exact as integers of 0.001 BTC */
const milli = (quantity: string) => BigInt(Math.round(Number(quantity) * 1000));
const fromMilli = (value: bigint) => {
  const text = (Number(value) / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
  return text;
};

async function candles(interval: string): Promise<Candle[]> {
  const response = await fetch(`${stack.url}/v1/candles/BTC-KRW?interval=${interval}&limit=1000`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { candles: Candle[] }).candles;
}

/** what every interval answers, without the `closed` flag (it moves with the clock) */
async function allIntervals(): Promise<Record<string, unknown>> {
  const answers: Record<string, unknown> = {};
  for (const interval of INTERVALS) answers[interval] = (await candles(interval)).map(({ closed: _closed, ...candle }) => candle);
  return answers;
}

async function backfill(): Promise<string> {
  const command = spawnTs('ops/candles-backfill.ts', [], { ...stack.env });
  const code = await new Promise<number | null>((resolve) => command.child.once('exit', resolve));
  expect(code, command.output()).toBe(0);
  return command.output();
}

beforeAll(async () => {
  stack = await Stack.start();
  stack.startPersister();
  marketData = spawnTs('ops/market-data.ts', [], { ...stack.env, MARKET_DATA_PORT: String(await freePort()) });
  alice = await stack.createUser('alice');
  bob = await stack.createUser('bob');
}, 120_000);

afterAll(async () => {
  await marketData?.stop();
  await stack?.stop();
}, 60_000);

describe('candles through the real stack', () => {
  it('turns signed orders into the candles their trades make, and the backfill gives the same', async () => {
    for (let index = 0; index < 5; index++) {
      await stack.order(alice, {
        symbol: 'BTC-KRW',
        side: 'Sell',
        order_type: 'Limit',
        price: String(50_000_000 + index * 1_000),
        quantity: `0.0${index + 1}`,
      });
    }
    await stack.order(bob, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50010000', quantity: '0.15' });
    await stack.order(bob, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '49990000', quantity: '0.002' });
    await stack.order(alice, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Market', quantity: '0.002' });
    await stack.order(alice, { symbol: 'ETH-KRW', side: 'Sell', order_type: 'Limit', price: '3000000', quantity: '0.5' });
    await stack.order(bob, { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: '3000000', quantity: '0.5' });

    const trades = ((await (await fetch(`${stack.url}/v1/trades/BTC-KRW?limit=1000`)).json()) as { trades: Trade[] }).trades.reverse();
    expect(trades).toHaveLength(6);
    await waitFor(
      async () => (await candles('1d')).reduce((sum, candle) => sum + candle.trades, 0) === trades.length,
      30_000,
      `the candles to count every trade (market-data output: ${marketData.output().slice(-2_000)})`,
    );

    // the 1-minute candles, computed here from the core's own list of trades
    const byMinute = new Map<number, Trade[]>();
    for (const trade of trades) {
      const minute = trade.timestamp - (trade.timestamp % 60_000);
      byMinute.set(minute, [...(byMinute.get(minute) ?? []), trade]);
    }
    const expected = [...byMinute].map(([minute, group]) => ({
      open_time: minute,
      close_time: minute + 59_999,
      open: group[0]!.price,
      high: String(Math.max(...group.map((trade) => Number(trade.price)))),
      low: String(Math.min(...group.map((trade) => Number(trade.price)))),
      close: group.at(-1)!.price,
      volume: fromMilli(group.reduce((sum, trade) => sum + milli(trade.quantity), 0n)),
      quote_volume: String(group.reduce((sum, trade) => sum + BigInt(trade.quote_quantity), 0n)),
      trades: group.length,
      first_trade_id: group[0]!.trade_id,
      last_trade_id: group.at(-1)!.trade_id,
    }));
    expect((await candles('1m')).map(({ closed: _closed, ...candle }) => candle)).toEqual(expected);
    const [day] = await candles('1d');
    expect(day).toMatchObject({
      trades: 6,
      volume: '0.152',
      first_trade_id: trades[0]!.trade_id,
      last_trade_id: trades.at(-1)!.trade_id,
      closed: false,
    });
    // the ETH trade came last: its candle may still be on its way (the wait above counts BTC's)
    const ethCandles = async () =>
      ((await (await fetch(`${stack.url}/v1/candles/ETH-KRW?interval=1h`)).json()) as { candles: Candle[] }).candles;
    await waitFor(async () => (await ethCandles()).length > 0, 30_000, 'the ETH-KRW candle');
    const eth = { candles: await ethCandles() };
    expect(eth.candles).toMatchObject([{ open: '3000000', close: '3000000', volume: '0.5', quote_volume: '1500000', trades: 1 }]);

    const live = await allIntervals();
    // the persister has written every trade to PostgreSQL (7 trades over both markets)
    await waitFor(async () => Number((await stack.pool.query('SELECT count(*) FROM trades')).rows[0].count) === 7, 30_000, 'the persister');
    expect(await backfill()).toContain('"symbol":"BTC-KRW","trades":6');
    expect(await allIntervals()).toEqual(live);
    await stack.pool.query('TRUNCATE candles_1m, candle_progress');
    expect(await candles('1m')).toEqual([]);
    await backfill();
    expect(await allIntervals()).toEqual(live);
  }, 120_000);
});
