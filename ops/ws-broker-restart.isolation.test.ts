/**
 * A ws-server across a RabbitMQ stop and start while orders flow (run by `npm run test:isolation`,
 * alone: it stops the shared broker). `rabbitmqctl stop_app` deletes the instance's transient
 * queue, so what the publisher had delivered there and the instance had not consumed is gone: the
 * instance must find the hole in the prev_seq chains and fill it from the history, and bootstrap its
 * books again. A client that stays connected the whole time must end with every one of its
 * execution reports exactly once and a book equal to the REST book, every checksum right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreAll, startBroker, stopBroker } from './testing/broker-control.ts';
import { Stack, waitFor, type StackUser } from './testing/stack.ts';
import { sortedLevels, WsTestClient } from './testing/ws-client.ts';

let stack: Stack;
let port: number;
let maker: StackUser;
let taker: StackUser;

beforeAll(async () => {
  stack = await Stack.start();
  stack.startPersister();
  port = await stack.startWsServer();
  maker = await stack.createUser('maker');
  taker = await stack.createUser('taker');
}, 120_000);

afterAll(async () => {
  await restoreAll();
  await stack?.stop();
}, 120_000);

describe('ws-server across a RabbitMQ restart', () => {
  it('a connected client misses no execution report and ends with the right book', async () => {
    const client = new WsTestClient(`ws://127.0.0.1:${port}/ws`);
    await client.opened();
    await client.auth(taker);
    await client.request({ op: 'subscribe', channels: ['executions', 'orderbook.BTC-KRW'] });
    let placed = 0;
    let running = true;
    // a taker crossing a maker, and resting orders, all the time (the API acks with RabbitMQ down too)
    const flow = (async () => {
      while (running) {
        const price = `${50_000 + (placed % 7)}000`;
        await stack.order(maker, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Limit', price, quantity: '0.002' });
        await stack.order(taker, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price, quantity: '0.001' });
        await stack.order(taker, {
          symbol: 'BTC-KRW',
          side: 'Buy',
          order_type: 'Limit',
          price: `${40_000 + (placed % 50)}000`,
          quantity: '0.001',
        });
        placed++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await waitFor(() => client.executions().length > 30, 15_000, 'reports before the stop');
      await stopBroker('rabbitmq');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await startBroker('rabbitmq');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      running = false;
      await flow;
    }
    expect(placed).toBeGreaterThan(20);
    // every report of the taker, as persisted, exactly once and in order
    let persisted: number[] = [];
    let received: number[] = [];
    const same = () => JSON.stringify(received) === JSON.stringify(persisted);
    await waitFor(
      async () => {
        const { rows } = await stack.pool.query<{ seq: string }>('SELECT seq FROM executions WHERE user_id = $1 ORDER BY seq', [
          taker.userId,
        ]);
        persisted = rows.map((row) => Number(row.seq));
        received = client
          .executions()
          .map((frame) => frame.seq as number)
          .sort((a, b) => a - b);
        return persisted.length >= placed * 3 && same();
      },
      60_000,
      'the client to hold every persisted report of the taker',
    ).catch(async () => {
      console.log('ws-server output:', stack.wsServers.get(port)!.output().slice(-3000));
      console.log('ws health:', await (await fetch(`http://127.0.0.1:${port}/health`)).text());
      console.log('ready:', JSON.stringify((await stack.ready()).publishers));
    });
    expect({
      received: received.length,
      persisted: persisted.length,
      missing: persisted.filter((seq) => !received.includes(seq)).slice(0, 10),
    }).toEqual({ received: persisted.length, persisted: persisted.length, missing: [] });
    // …and on the socket in seq order: what the sweep after the reconnect found came before the live reports that waited for it
    const arrival = client.executions().map((frame) => frame.seq as number);
    expect(
      arrival.filter((seq, index) => index > 0 && seq < arrival[index - 1]!),
      'reports that arrived after a higher seq',
    ).toEqual([]);
    expect(new Set(client.executions().map((frame) => frame.seq)).size).toBe(client.executions().length);
    // the book: equal to REST at the same symbol_seq, every checksum right
    const rest = (await (await fetch(`${stack.url}/v1/orderbook/BTC-KRW?depth=500`)).json()) as {
      symbol_seq: number;
      bids: [string, string][];
      asks: [string, string][];
    };
    await waitFor(
      () => client.books.get('BTC-KRW')?.symbolSeq === rest.symbol_seq,
      30_000,
      `the client book at symbol_seq ${rest.symbol_seq}`,
    );
    expect(sortedLevels(client.books.get('BTC-KRW')!.bids, 'bids')).toEqual(rest.bids);
    expect(sortedLevels(client.books.get('BTC-KRW')!.asks, 'asks')).toEqual(rest.asks);
    expect(client.checksumFailures).toBe(0);
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
    console.log(
      `ws across a RabbitMQ restart: ${placed} rounds, ${received.length} reports received = persisted, book at symbol_seq ${rest.symbol_seq}; health ${JSON.stringify(health)}`,
    );
    client.close();
  }, 180_000);
});
