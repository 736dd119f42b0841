/**
 * Candles with the Kafka broker really stopped (isolation run: it stops the shared broker, so it
 * runs alone, after the suite). The whole stack as npm start runs it (ops/testing/stack.ts: core,
 * the three publishers) plus the market-data service: trades made over signed HTTP while Kafka is
 * down are acknowledged as usual, the candles stop where they were and are still served, the
 * service's /health says Kafka is down; once the broker is back the Kafka publisher sends what it
 * kept in the event log and the candles end up exactly those of every trade the core lists, each
 * counted once. (ops/market-data-outage.int.test.ts is the same story in the suite, with the service's
 * own connections cut instead, so the shared broker stays up for the other files.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './core-child.ts';
import { restoreAll, startBroker, stopBroker } from './testing/broker-control.ts';
import { spawnTs, Stack, waitFor, type ChildHandle, type StackUser } from './testing/stack.ts';

let stack: Stack;
let marketData: ChildHandle;
let marketDataUrl: string;
let maker: StackUser;
let taker: StackUser;

interface Trade {
  readonly trade_id: string;
  readonly price: string;
  readonly quantity: string;
  readonly quote_quantity: string;
  readonly timestamp: number;
}
interface Candle {
  readonly open_time: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly quote_volume: string;
  readonly trades: number;
  readonly first_trade_id: string;
  readonly last_trade_id: string;
}

/** BTC-KRW quantities are multiples of 0.001: sums as integers of 0.001 BTC, exact */
const milli = (quantity: string): bigint => {
  const [whole = '0', fraction = ''] = quantity.split('.');
  return BigInt(whole + fraction.padEnd(3, '0'));
};
const fromMilli = (value: bigint): string => {
  const text = value.toString().padStart(4, '0');
  return `${text.slice(0, -3)}.${text.slice(-3)}`.replace(/0+$/, '').replace(/\.$/, '');
};

/** the 1-minute candles, without the `closed` flag (it moves with the clock) */
async function candles(): Promise<Candle[]> {
  const response = await fetch(`${stack.url}/v1/candles/BTC-KRW?interval=1m&limit=1000`);
  expect(response.status, 'the core answers candles whatever Kafka does').toBe(200);
  return ((await response.json()) as { candles: Array<Candle & { closed: boolean }> }).candles.map(
    ({ closed: _closed, ...candle }) => candle,
  );
}

const tradesCounted = async (): Promise<number> => (await candles()).reduce((sum, candle) => sum + candle.trades, 0);

async function health(): Promise<Record<string, unknown>> {
  return (await (await fetch(`${marketDataUrl}/health`)).json()) as Record<string, unknown>;
}

/** one trade: the maker rests a sell, the taker buys it */
async function trade(price: number, quantity: string): Promise<void> {
  await stack.order(maker, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Limit', price: String(price), quantity });
  await stack.order(taker, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: String(price), quantity, time_in_force: 'IOC' });
}

/** the 1-minute candles computed here from the core's own list of trades */
async function expectedCandles(): Promise<Candle[]> {
  const trades = ((await (await fetch(`${stack.url}/v1/trades/BTC-KRW?limit=1000`)).json()) as { trades: Trade[] }).trades.reverse();
  const byMinute = new Map<number, Trade[]>();
  for (const entry of trades) {
    const minute = entry.timestamp - (entry.timestamp % 60_000);
    byMinute.set(minute, [...(byMinute.get(minute) ?? []), entry]);
  }
  return [...byMinute].map(([minute, group]) => ({
    open_time: minute,
    open: group[0]!.price,
    high: group
      .map((entry) => BigInt(entry.price))
      .reduce((a, b) => (b > a ? b : a))
      .toString(),
    low: group
      .map((entry) => BigInt(entry.price))
      .reduce((a, b) => (b < a ? b : a))
      .toString(),
    close: group.at(-1)!.price,
    volume: fromMilli(group.reduce((sum, entry) => sum + milli(entry.quantity), 0n)),
    quote_volume: group.reduce((sum, entry) => sum + BigInt(entry.quote_quantity), 0n).toString(),
    trades: group.length,
    first_trade_id: group[0]!.trade_id,
    last_trade_id: group.at(-1)!.trade_id,
  }));
}

beforeAll(async () => {
  stack = await Stack.start();
  const port = await freePort();
  marketDataUrl = `http://127.0.0.1:${port}`;
  // a short session, so that the outage outlasts it and the service has to join its group again
  marketData = spawnTs('ops/market-data.ts', [], { ...stack.env, MARKET_DATA_PORT: String(port), MARKET_DATA_SESSION_TIMEOUT_MS: '6000' });
  maker = await stack.createUser('kafka-stop-maker');
  taker = await stack.createUser('kafka-stop-taker');
}, 120_000);

afterAll(async () => {
  await restoreAll(); // Kafka is started again even when an assertion failed while it was down
  await marketData?.stop();
  await stack?.stop();
}, 180_000);

describe('candles with the Kafka broker stopped', () => {
  it('stop advancing while Kafka is down, are still served, and catch up to exactly every trade once it is back', async () => {
    for (let index = 0; index < 4; index++) await trade(50_000_000 + index * 1_000, `0.00${index + 1}`);
    await waitFor(
      async () => (await tradesCounted()) === 4,
      30_000,
      `the first 4 trades in the candles (market-data: ${marketData.output().slice(-1_500)})`,
    );
    await waitFor(async () => (await health()).status === 'ok', 30_000, 'market-data healthy');
    const before = await candles();

    await stopBroker('kafka');
    const stoppedAt = performance.now();
    // the core acknowledges trades as usual; its Kafka publisher keeps them in the event log
    for (let index = 0; index < 6; index++) await trade(50_010_000 - index * 2_000, `0.0${index + 1}`);
    // longer than the service's 6 s session: it must join its group again afterwards
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    expect(await candles(), 'no candle moved while Kafka was down').toEqual(before);
    expect(await health()).toMatchObject({ status: 'degraded', services: { kafka: 'down', postgres: 'up' } });
    const ready = (await stack.ready()) as { publishers: Record<string, { state: string }> };
    expect(ready.publishers.kafka?.state, 'the core says its Kafka feed is not up').not.toBe('up');
    expect(ready.publishers.redis?.state, 'the other feeds are unaffected').toBe('up');

    await startBroker('kafka');
    const downSeconds = (performance.now() - stoppedAt) / 1000;
    const started = performance.now();
    await waitFor(
      async () => (await tradesCounted()) >= 10,
      120_000,
      `the 6 trades made during the outage in the candles (market-data: ${marketData.output().slice(-1_500)})`,
    );
    await waitFor(async () => (await health()).status === 'ok', 60_000, 'market-data healthy again');
    const caughtUpSeconds = (performance.now() - started) / 1000;
    const after = await candles();
    console.log(
      `kafka stopped ${downSeconds.toFixed(1)} s; candles caught up ${caughtUpSeconds.toFixed(1)} s after the broker was back; ${after.length} one-minute candles, ${await tradesCounted()} trades`,
    );
    // exactly the candles of the core's trades: none lost, none counted twice
    expect(
      after.map(({ open_time, open, high, low, close, volume, quote_volume, trades, first_trade_id, last_trade_id }) => ({
        open_time,
        open,
        high,
        low,
        close,
        volume,
        quote_volume,
        trades,
        first_trade_id,
        last_trade_id,
      })),
    ).toEqual(await expectedCandles());
    expect(await tradesCounted()).toBe(10);
  }, 240_000);
});
