/**
 * The ws-servers through their public interface, with the real stack (core, publishers, persister,
 * RabbitMQ, Redis, PostgreSQL) and two ws-server processes, checked by a plain client
 * (ops/testing/ws-client.ts: its own CRC-32 from zlib, its own book).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, waitFor, type StackUser } from './testing/stack.ts';
import { sortedLevels, WsTestClient, type Frame } from './testing/ws-client.ts';

let stack: Stack;
let portA: number;
let portB: number;
let alice: StackUser;
let bob: StackUser;
const clients: WsTestClient[] = [];

const wsUrl = (port: number) => `ws://127.0.0.1:${port}/ws`;

async function connect(port: number, options: { keep?: boolean } = {}): Promise<WsTestClient> {
  const client = new WsTestClient(wsUrl(port), options);
  clients.push(client);
  await client.opened();
  return client;
}

function limit(user: StackUser, side: 'Buy' | 'Sell', price: string, quantity: string, extra: Record<string, unknown> = {}) {
  return stack.order(user, { symbol: 'BTC-KRW', side, order_type: 'Limit', price, quantity, ...extra });
}

/**
 * Waits until what `client` received after `afterSeq` is exactly the user's execution seqs after it
 * in PostgreSQL (the persister's rows) — same seqs, same order, each once — and fails with both
 * lists if that does not happen in time. Both converge on every report; a repeat or a loss never does.
 */
async function expectReceivedEqualsPersisted(client: WsTestClient, user: StackUser, afterSeq: number, atLeast: number): Promise<void> {
  let persisted: number[] = [];
  let received: number[] = [];
  try {
    await waitFor(
      async () => {
        const { rows } = await stack.pool.query<{ seq: string }>(
          'SELECT seq FROM executions WHERE user_id = $1 AND seq > $2 ORDER BY seq',
          [user.userId, afterSeq],
        );
        persisted = rows.map((row) => Number(row.seq));
        received = client.executions().map((frame) => frame.seq as number);
        return persisted.length >= atLeast && JSON.stringify(received) === JSON.stringify(persisted);
      },
      20_000,
      'the received reports to equal the persisted ones',
    );
  } catch {
    expect(received).toEqual(persisted);
  }
  // nothing more trickles in afterwards
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(client.executions().map((frame) => frame.seq)).toEqual(persisted);
}

beforeAll(async () => {
  stack = await Stack.start();
  stack.startPersister();
  [portA, portB] = await Promise.all([
    stack.startWsServer(),
    stack.startWsServer(undefined, { WS_SEND_BUFFER_BYTES: String(256 * 1024), WS_MAX_FRAMES_PER_SEC: '5000' }),
  ]);
  alice = await stack.createUser('alice');
  bob = await stack.createUser('bob');
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await stack?.stop();
});

describe('ws-server', () => {
  it('pushes each execution report to its owner on every instance the owner is connected to, and never to anyone else', async () => {
    const aliceA = await connect(portA);
    const aliceB = await connect(portB);
    const bobA = await connect(portA);
    for (const [client, user] of [
      [aliceA, alice],
      [aliceB, alice],
      [bobA, bob],
    ] as const) {
      expect(await client.auth(user)).toMatchObject({ type: 'auth', ok: true });
      expect(await client.request({ op: 'subscribe', channels: ['executions'] })).toMatchObject({
        type: 'subscribed',
        channels: ['executions'],
      });
    }
    const sell = await limit(bob, 'Sell', '50000000', '0.003');
    const buy = await limit(alice, 'Buy', '50000000', '0.002');
    for (const client of [aliceA, aliceB]) {
      const filled = await client.waitFor(
        (frame) => frame.type === 'Execution' && (frame.execution_report as Frame).order_id === buy && frame.order_status === 'Filled',
      );
      expect(filled).toMatchObject({ v: 1, type: 'Execution', order_status: 'Filled' });
      expect(filled).not.toHaveProperty('prev_seq');
      const reports = client.executions().map((frame) => frame.execution_report as Frame);
      expect(reports.map((report) => report.exec_type)).toEqual(['New', 'Trade']);
      expect(reports.every((report) => report.user_id === alice.userId && report.order_id === buy)).toBe(true);
      expect(reports[1]).toMatchObject({ price: '50000000', quantity: '0.002', filled_quantity: '0.002', is_maker: false });
    }
    await bobA.waitFor((frame) => frame.type === 'Execution' && (frame.execution_report as Frame).exec_type === 'Trade');
    expect(
      bobA
        .executions()
        .every((frame) => (frame.execution_report as Frame).user_id === bob.userId && (frame.execution_report as Frame).order_id === sell),
    ).toBe(true);
    // seqs increase and each report has its own
    const seqs = aliceA.executions().map((frame) => frame.seq as number);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(aliceB.executions().map((frame) => frame.seq)).toEqual(seqs);
    await stack.signed(bob, 'DELETE', `/v1/order/${sell}`);
  });

  it('serves a book snapshot, then deltas that rebuild exactly the REST book, every checksum right', async () => {
    const watcher = await connect(portA);
    const other = await connect(portB);
    for (const client of [watcher, other]) {
      expect(await client.request({ op: 'subscribe', channels: ['orderbook.BTC-KRW', 'trades.BTC-KRW', 'ticker.BTC-KRW'] })).toMatchObject({
        type: 'subscribed',
      });
      await client.waitFor((frame) => frame.type === 'OrderBook' && frame.snapshot === true);
    }
    const resting: string[] = [];
    for (let index = 0; index < 30; index++) {
      resting.push(await limit(alice, 'Buy', `${49_000 + index * 10}000`, `0.00${(index % 5) + 1}`));
      resting.push(await limit(bob, 'Sell', `${51_000 + index * 10}000`, `0.00${(index % 3) + 1}`));
    }
    // some cross, some cancel, one amend of a level's total
    await stack.order(alice, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Market', quantity: '0.004' });
    await stack.order(bob, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Market', quantity: '0.003' });
    for (const id of resting.slice(10, 20)) {
      await stack.signed(alice, 'DELETE', `/v1/order/${id}`);
      await stack.signed(bob, 'DELETE', `/v1/order/${id}`);
    }
    const rest = (await (await fetch(`${stack.url}/v1/orderbook/BTC-KRW?depth=500`)).json()) as {
      symbol_seq: number;
      bids: [string, string][];
      asks: [string, string][];
    };
    for (const client of [watcher, other]) {
      await waitFor(
        () => client.books.get('BTC-KRW')?.symbolSeq === rest.symbol_seq,
        10_000,
        `client book at symbol_seq ${rest.symbol_seq}`,
      );
      const book = client.books.get('BTC-KRW')!;
      expect(sortedLevels(book.bids, 'bids')).toEqual(rest.bids);
      expect(sortedLevels(book.asks, 'asks')).toEqual(rest.asks);
      expect(client.checksumFailures).toBe(0);
      expect(client.gaps).toBe(0);
      expect(client.bookUpdates).toBeGreaterThan(5);
      // trades batched in frames, ticker frames
      const trades = await client.waitFor((frame) => frame.type === 'Trades');
      expect(trades).toMatchObject({ symbol: 'BTC-KRW' });
      expect((trades.trades as Frame[])[0]).toMatchObject({ type: 'Trade', symbol: 'BTC-KRW' });
      expect((trades.trades as Frame[])[0]).not.toHaveProperty('user_id');
      await client.waitFor((frame) => frame.type === 'Ticker', 5_000);
    }
    // a late subscriber gets the same book at once
    const late = await connect(portB);
    await late.request({ op: 'subscribe', channels: ['orderbook.BTC-KRW'] });
    const snapshot = await late.waitFor((frame) => frame.type === 'OrderBook');
    expect(snapshot).toMatchObject({ snapshot: true, symbol_seq: rest.symbol_seq, bids: rest.bids, asks: rest.asks });
    expect(late.checksumFailures).toBe(0);
  });

  it('resume_from_seq on the other instance: no report missed or repeated across the reconnect, with orders flowing meanwhile', async () => {
    const first = await connect(portA);
    await first.auth(alice);
    await first.request({ op: 'subscribe', channels: ['executions'] });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push(await limit(alice, 'Buy', `${48_000 + index}000`, '0.001'));
    await first.waitFor((frame) => frame.type === 'Execution' && (frame.execution_report as Frame).order_id === ids[4]);
    const seen = first.executions().map((frame) => frame.seq as number);
    const lastSeen = seen[2]!; // pretend the last two never arrived before the connection broke
    first.socket.terminate();
    // orders keep flowing while the client is away and while it reconnects
    const flowing = (async () => {
      for (let index = 0; index < 10; index++) ids.push(await limit(alice, 'Buy', `${47_000 + index}000`, '0.001'));
    })();
    const second = await connect(portB);
    await second.auth(alice);
    expect(await second.request({ op: 'subscribe', channels: ['executions'], resume_from_seq: lastSeen })).toMatchObject({
      type: 'subscribed',
    });
    await flowing;
    // reports 4 and 5 of the first orders, then the 10 placed meanwhile (one New report each: they rest)
    await expectReceivedEqualsPersisted(second, alice, lastSeen, 12);
    for (const id of ids) await stack.signed(alice, 'DELETE', `/v1/order/${id}`);
  });

  it('execution reports of two symbols arrive in seq order, so a resume from the highest seq seen misses none', async () => {
    const base = (await stack.adminState()).last_event_seq;
    const whole = await connect(portA);
    await whole.auth(alice);
    await whole.request({ op: 'subscribe', channels: ['executions'] });
    // a client that breaks off in the middle of the burst, and resumes on the other instance from the highest seq it saw
    const cut = await connect(portA);
    await cut.auth(alice);
    await cut.request({ op: 'subscribe', channels: ['executions'] });
    const CUT_AFTER = 25;
    let cutSeqs: number[] = [];
    cut.onFrame = (frame) => {
      if (frame.type !== 'Execution' || cutSeqs.length > 0) return;
      const seen = cut.executions();
      if (seen.length >= CUT_AFTER) {
        cutSeqs = seen.map((entry) => entry.seq as number);
        cut.socket.terminate();
      }
    };
    // 80 resting orders at once, alternating symbols: the publisher's batches hold both
    const ORDERS = 80;
    await Promise.all(
      Array.from({ length: ORDERS }, (_, index) =>
        index % 2 === 0
          ? stack.order(alice, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: `${20_000 + index}000`, quantity: '0.001' })
          : stack.order(alice, { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: `${1_000 + index}000`, quantity: '0.01' }),
      ),
    );
    await waitFor(
      () => whole.executions().filter((frame) => (frame.seq as number) > base).length >= ORDERS,
      20_000,
      `${ORDERS} New reports`,
    );
    const seqs = whole
      .executions()
      .map((frame) => frame.seq as number)
      .filter((seq) => seq > base);
    expect(seqs, 'one connection gets its reports in seq order across symbols').toEqual([...seqs].sort((a, b) => a - b));
    expect(
      new Set(
        whole
          .executions()
          .filter((frame) => (frame.seq as number) > base)
          .map((frame) => (frame.execution_report as Frame).symbol),
      ),
    ).toEqual(new Set(['BTC-KRW', 'ETH-KRW']));

    await waitFor(() => cutSeqs.length > 0, 10_000, 'the cut client to break off');
    const resumeFrom = Math.max(...cutSeqs);
    const resumed = await connect(portB);
    await resumed.auth(alice);
    await resumed.request({ op: 'subscribe', channels: ['executions'], resume_from_seq: resumeFrom });
    await waitFor(() => resumed.executions().length >= seqs.filter((seq) => seq > resumeFrom).length, 20_000, 'the resumed reports');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const together = [...cutSeqs, ...resumed.executions().map((frame) => frame.seq as number)].filter((seq) => seq > base);
    expect(together, 'cut + resumed = every report, each once, in order').toEqual(seqs);
    await stack.signed(alice, 'DELETE', '/v1/orders?symbol=BTC-KRW');
    await stack.signed(alice, 'DELETE', '/v1/orders?symbol=ETH-KRW');
  });

  it('answers every malformed or refused frame with its error code and keeps the connection', async () => {
    const client = await connect(portA);
    const cases: [unknown, string][] = [
      ['not json', 'BAD_FRAME'],
      ['[1,2]', 'BAD_FRAME'],
      ['"text"', 'BAD_FRAME'],
      [{ op: 'dance' }, 'UNKNOWN_OP'],
      [{ channels: ['executions'] }, 'UNKNOWN_OP'],
      [{ op: 'subscribe' }, 'BAD_REQUEST'],
      [{ op: 'subscribe', channels: 'trades.BTC-KRW' }, 'BAD_REQUEST'],
      [{ op: 'subscribe', channels: [] }, 'BAD_REQUEST'],
      [{ op: 'subscribe', channels: ['candles.BTC-KRW'] }, 'UNKNOWN_CHANNEL'],
      [{ op: 'subscribe', channels: ['trades.DOGE-KRW'] }, 'UNKNOWN_SYMBOL'],
      [{ op: 'subscribe', channels: ['executions'] }, 'AUTH_REQUIRED'],
      [{ op: 'subscribe', channels: ['executions'], resume_from_seq: -1 }, 'BAD_REQUEST'],
      [{ op: 'auth', api_key: alice.apiKey }, 'BAD_REQUEST'],
      [{ op: 'auth', api_key: alice.apiKey, timestamp: Date.now(), signature: 'ab'.repeat(32) }, 'INVALID_SIGNATURE'],
      [{ op: 'auth', api_key: 'no-such-key', timestamp: Date.now(), signature: 'ab'.repeat(32) }, 'INVALID_API_KEY'],
      [{ op: 'auth', api_key: alice.apiKey, timestamp: Date.now() - 120_000, signature: 'ab'.repeat(32) }, 'STALE_TIMESTAMP'],
      [{ op: 'unsubscribe', channels: ['nope'] }, 'UNKNOWN_CHANNEL'],
    ];
    for (const [frame, code] of cases) {
      const from = client.frames.length;
      client.send(frame);
      const answer = await client.waitFor((candidate) => candidate.type === 'error', 5_000, `error for ${JSON.stringify(frame)}`, from);
      expect({ frame, code: answer.code }).toEqual({ frame, code });
      expect(typeof answer.message).toBe('string');
    }
    // the request id is echoed on errors too
    expect(await client.request({ op: 'subscribe', channels: ['nope.X'] })).toMatchObject({ type: 'error', code: 'UNKNOWN_CHANNEL' });
    // a replayed auth frame is refused, on this instance and on the other one
    const timestamp = Date.now();
    const signed = {
      op: 'auth',
      api_key: alice.apiKey,
      timestamp: String(timestamp),
      signature: (await import('./testing/ws-client.ts')).signWsAuth(alice, timestamp),
    };
    expect(await client.request(signed)).toMatchObject({ type: 'auth', ok: true });
    const other = await connect(portB);
    expect(await other.request(signed)).toMatchObject({ type: 'error', code: 'REPLAYED_SIGNATURE' });
    // still open and answering
    expect(await client.request({ op: 'ping' })).toMatchObject({ type: 'pong' });
    expect(client.closeCode).toBeUndefined();
    // a frame over the size limit closes with 1009
    client.send(JSON.stringify({ op: 'ping', pad: 'x'.repeat(20_000) }));
    expect(await client.closed()).toBe(1009);
  });

  it('cuts off a client that never reads (4008) while one that reads keeps getting its frames', async () => {
    // deep book: big snapshots
    const ids: string[] = [];
    for (let index = 0; index < 150; index++) ids.push(await limit(alice, 'Buy', `${40_000 + index}000`, '0.001'));
    const reader = await connect(portB);
    await reader.request({ op: 'subscribe', channels: ['orderbook.BTC-KRW'] });
    // a raw client: the handshake, then requests, and never a byte read
    const socket = net.connect(portB, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    socket.pause();
    const mask = (text: string) => {
      const payload = Buffer.from(text);
      const header =
        payload.length < 126
          ? Buffer.from([0x81, 0x80 | payload.length])
          : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
      return Buffer.concat([header, Buffer.alloc(4), payload]); // zero mask key
    };
    let closedBySever = false;
    socket.on('close', () => (closedBySever = true));
    socket.on('error', () => {});
    const sub = mask('{"op":"subscribe","channels":["orderbook.BTC-KRW"]}');
    const unsub = mask('{"op":"unsubscribe","channels":["orderbook.BTC-KRW"]}');
    const metrics = async () =>
      (await (await fetch(`http://127.0.0.1:${portB}/metrics`)).text()).match(/xtrader_ws_slow_clients_closed_total (\d+)/)?.[1];
    const deadline = Date.now() + 20_000;
    while (!closedBySever && (await metrics()) === '0' && Date.now() < deadline) {
      for (let index = 0; index < 400 && !socket.destroyed; index++) socket.write(index % 2 ? unsub : sub);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await metrics()).toBe('1');
    // the reader still gets its updates, in time
    const before = reader.bookUpdates;
    const start = Date.now();
    const extra = await limit(alice, 'Buy', '39999000', '0.001');
    await waitFor(() => reader.bookUpdates > before, 5_000, 'the reading client gets the next delta');
    expect(Date.now() - start).toBeLessThan(2_000);
    expect(reader.checksumFailures).toBe(0);
    socket.destroy();
    for (const id of [...ids, extra]) await stack.signed(alice, 'DELETE', `/v1/order/${id}`);
  }, 60_000);

  it('1,000 connections at once: each gets the trade', async () => {
    const many: WsTestClient[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const opened = await Promise.all(Array.from({ length: 100 }, () => connect(portA, { keep: true })));
      many.push(...opened);
    }
    await Promise.all(many.map((client) => client.request({ op: 'subscribe', channels: ['trades.BTC-KRW'] })));
    const health = (await (await fetch(`http://127.0.0.1:${portA}/health`)).json()) as { connections: number };
    expect(health.connections).toBeGreaterThanOrEqual(1_000);
    const sell = await limit(bob, 'Sell', '50500000', '0.001');
    await stack.order(alice, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Limit', price: '50500000', quantity: '0.001' });
    await Promise.all(
      many.map((client) =>
        client.waitFor(
          (frame) => frame.type === 'Trades' && (frame.trades as Frame[]).some((trade) => trade.price === '50500000'),
          15_000,
          'the trade',
        ),
      ),
    );
    for (const client of many) client.socket.terminate();
    expect(sell).toBeTruthy();
  }, 90_000);

  it('a hole in the RabbitMQ feed is repaired before clients see a wrong book: a fresh snapshot, then right deltas', async () => {
    const client = await connect(portA);
    await client.request({ op: 'subscribe', channels: ['orderbook.BTC-KRW'] });
    await client.waitFor((frame) => frame.type === 'OrderBook' && frame.snapshot === true);
    const snapshotsBefore = client.frames.filter((frame) => frame.type === 'OrderBook' && frame.snapshot === true).length;
    const held = client.books.get('BTC-KRW')!.symbolSeq;
    // a delta that skips symbol_seq held+1, as if a message was lost between the broker and this instance
    const amqp = await import('amqplib');
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    // its seq is the next event's (a seq far ahead would make the instance drop every later real
    // message of the routing key as a repeat: a realistic hole has a real seq)
    const next = (await stack.adminState()).last_event_seq + 1;
    const fake = {
      v: 1,
      type: 'BookDelta',
      seq: next,
      prev_seq: next - 1,
      timestamp: Date.now(),
      symbol: 'BTC-KRW',
      symbol_seq: held + 2,
      side: 'Buy',
      price: '1000',
      quantity: '123',
    };
    channel.publish(stack.names.exchange, 'orderbook.BTC-KRW', Buffer.from(JSON.stringify(fake)));
    await channel.close();
    await connection.close();
    // real changes move the core's symbol_seq past the fake one
    const ids = [
      await limit(alice, 'Buy', '30000000', '0.001'),
      await limit(alice, 'Buy', '30001000', '0.001'),
      await limit(alice, 'Buy', '30002000', '0.001'),
    ];
    await waitFor(
      () => client.frames.filter((frame) => frame.type === 'OrderBook' && frame.snapshot === true).length > snapshotsBefore,
      10_000,
      'a fresh snapshot',
    );
    const rest = (await (await fetch(`${stack.url}/v1/orderbook/BTC-KRW?depth=500`)).json()) as {
      symbol_seq: number;
      bids: [string, string][];
    };
    await waitFor(() => client.books.get('BTC-KRW')?.symbolSeq === rest.symbol_seq, 10_000, 'the client book at the REST symbol_seq');
    expect(sortedLevels(client.books.get('BTC-KRW')!.bids, 'bids')).toEqual(rest.bids);
    expect(client.books.get('BTC-KRW')!.bids.has('1000')).toBe(false);
    expect(client.checksumFailures).toBe(0);
    const health = (await (await fetch(`http://127.0.0.1:${portA}/health`)).json()) as {
      books: Record<string, { gaps: number; state: string }>;
    };
    expect(health.books['BTC-KRW']).toMatchObject({ state: 'live' });
    expect(health.books['BTC-KRW']!.gaps).toBeGreaterThanOrEqual(1);
    for (const id of ids) await stack.signed(alice, 'DELETE', `/v1/order/${id}`);
  });

  it('kill -9 of an instance: its clients reconnect after the restart and resume with nothing lost or repeated', async () => {
    const client = await connect(portA);
    await client.auth(alice);
    await client.request({ op: 'subscribe', channels: ['executions'] });
    const ids: string[] = [];
    ids.push(await limit(alice, 'Buy', '31000000', '0.001'));
    await client.waitFor((frame) => frame.type === 'Execution' && (frame.execution_report as Frame).order_id === ids[0]);
    const lastSeen = Math.max(...client.executions().map((frame) => frame.seq as number));
    await stack.wsServers.get(portA)!.kill9();
    expect(await client.closed()).toBe(1006);
    // orders go on while the instance is down
    for (let index = 0; index < 8; index++) ids.push(await limit(alice, 'Buy', `${31_001 + index}000`, '0.001'));
    await stack.startWsServer(portA);
    const again = await connect(portA);
    await again.auth(alice);
    expect(await again.request({ op: 'subscribe', channels: ['executions'], resume_from_seq: lastSeen })).toMatchObject({
      type: 'subscribed',
    });
    for (let index = 0; index < 4; index++) ids.push(await limit(alice, 'Buy', `${31_100 + index}000`, '0.001'));
    // the 8 placed while it was down and the 4 after: one New report each
    await expectReceivedEqualsPersisted(again, alice, lastSeen, 12);
    for (const id of ids) await stack.signed(alice, 'DELETE', `/v1/order/${id}`);
  }, 60_000);
});
