/**
 * The perpetuals' public WebSocket channels `markprice.{SYMBOL}` and `liquidations.{SYMBOL}` end to
 * end: a real core (with price ticks every second, so MarkPrice is emitted), its RabbitMQ
 * publisher, a ws-server, and a plain `ws` client. The liquidation is ops/liquidation-http.int.test.ts
 * scenario (a): an ISOLATED 10× long of 0.1 BTC at 100,000,000 (liquidation price 90,361,000,
 * bankruptcy 90,000,000), a resting bid of 0.1 at 90,200,000, the index moved to 90,300,000: the
 * liquidation order sells 0.1 into that bid — one `book` stage at 90,200,000.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applied } from '../api/futures-example.test-support.ts';
import { Stack, type StackUser } from './testing/stack.ts';

const PERP = 'BTC-KRW-PERP';

type Frame = Record<string, unknown>;

let stack: Stack;
let wsPort: number;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  stack = await Stack.start({ publishers: ['rabbitmq'], env: { PRICE_TICK_INTERVAL_MS: '1000' } });
  wsPort = await stack.startWsServer();
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await stack?.stop();
});

/** A plain `ws` client that records every frame. */
async function connect(): Promise<{ socket: WebSocket; frames: Frame[] }> {
  const socket = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
  sockets.push(socket);
  const frames: Frame[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, frames };
}

async function waitFor(frames: Frame[], match: (frame: Frame) => boolean, what: string, timeoutMs = 15_000): Promise<Frame> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = frames.find(match);
    if (found) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(frames).slice(0, 600)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function user(name: string): Promise<StackUser> {
  const created = await stack.createUser(`wspub-${process.pid}-${name}`, { KRW: '10000000' });
  applied(await stack.client.futures(created, 'transfer', { asset: 'KRW', amount: '5000000', direction: 'spot_to_futures' }), 'transfer');
  return created;
}

async function index(price: string): Promise<void> {
  applied(await stack.client.indexPrices([{ symbol: PERP, source: 'oracle-a', price }]), `index ${price}`);
}

describe('markprice.{SYMBOL} and liquidations.{SYMBOL} on a real stack', () => {
  it('refuses a spot symbol, then pushes a MarkPrice frame after an index move and a Liquidation frame for a liquidation', async () => {
    const { socket, frames } = await connect();
    socket.send(JSON.stringify({ op: 'subscribe', id: 1, channels: ['markprice.BTC-KRW'] }));
    expect(await waitFor(frames, (frame) => frame.id === 1, 'the refusal')).toEqual({
      type: 'error',
      code: 'UNKNOWN_SYMBOL',
      message: 'unknown perpetual symbol "BTC-KRW" in "markprice.BTC-KRW"',
      id: 1,
    });
    socket.send(JSON.stringify({ op: 'subscribe', id: 2, channels: [`markprice.${PERP}`, `liquidations.${PERP}`] }));
    expect(await waitFor(frames, (frame) => frame.id === 2, 'the answer')).toEqual({
      type: 'subscribed',
      channels: [`markprice.${PERP}`, `liquidations.${PERP}`],
      id: 2,
    });

    // the mark follows the index (one oracle source) and goes out at the next tick
    await index('100000000');
    const mark = await waitFor(frames, (frame) => frame.type === 'MarkPrice' && frame.mark_price === '100000000', 'MarkPrice 100,000,000');
    console.log(`markprice frame: ${JSON.stringify(mark)}`);
    expect(mark).toMatchObject({ v: 1, type: 'MarkPrice', symbol: PERP, mark_price: '100000000', index_price: '100000000' });
    expect(mark).not.toHaveProperty('prev_seq');
    expect(Object.keys(mark).sort()).toEqual(
      ['v', 'type', 'seq', 'timestamp', 'symbol', 'mark_price', 'index_price', 'estimated_funding_rate', 'next_funding_time'].sort(),
    );

    // scenario (a) of ops/liquidation-http.int.test.ts
    const short = await user('short');
    const bidder = await user('bidder');
    const long = await user('long');
    applied(await stack.client.futures(long, 'margin-type', { symbol: PERP, margin_type: 'ISOLATED' }), 'margin type');
    applied(await stack.client.futures(long, 'leverage', { symbol: PERP, leverage: 10 }), 'leverage');
    await stack.order(short, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '100000000', quantity: '0.1' });
    await stack.order(long, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '100000000', quantity: '0.1' });
    await stack.order(bidder, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '90200000', quantity: '0.1' });
    expect(frames.some((frame) => frame.type === 'Liquidation')).toBe(false);
    await index('90300000'); // below the liquidation price 90,361,000

    const liquidation = await waitFor(frames, (frame) => frame.type === 'Liquidation', 'a Liquidation frame');
    console.log(`liquidations frame: ${JSON.stringify(liquidation)}`);
    expect(liquidation).toEqual({
      v: 1,
      type: 'Liquidation',
      seq: expect.any(Number),
      timestamp: expect.any(Number),
      symbol: PERP,
      side: 'Sell',
      price: '90200000',
      quantity: '0.1',
      stage: 'book',
    });
    const moved = await waitFor(frames, (frame) => frame.type === 'MarkPrice' && frame.mark_price === '90300000', 'MarkPrice 90,300,000');
    expect(moved.seq as number).toBeGreaterThan(mark.seq as number);
    // each seq once on this connection
    const seqs = frames.filter((frame) => typeof frame.seq === 'number').map((frame) => frame.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 60_000);
});
