/** The ws-server's protocol logic without sockets or brokers: fake peers, ports and timers. */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BookFeed, type BookDelta, type DepthSnapshot } from './book-feed.ts';
import { bookChecksum, crc32 } from '../contract/book-checksum.ts';
import type { Envelope, ExecutionReport } from '../contract/envelopes.ts';
import type { ExecutionHistory, StoredReport } from '../contract/ports/execution-history.ts';
import { Hub } from './hub.ts';
import type { HubLimits } from './hub-context.ts';
import type { Peer } from './ports.ts';
import { compareDecimal } from '../contract/decimal-text.ts';
import { WsError } from '../contract/ws-frames.ts';

describe('checksum and decimal order', () => {
  it('crc32 is zlib’s', () => {
    const zlibCrc = (zlib as unknown as { crc32?: (text: string) => number }).crc32;
    fc.assert(fc.property(fc.string(), (text) => zlibCrc === undefined || crc32(text) === zlibCrc(text)));
    expect(crc32('50001000:0.5|50002000:1#50000000:0.25')).toBe(2333453259);
    expect(
      bookChecksum(
        [
          ['50001000', '0.5'],
          ['50002000', '1'],
        ],
        [['50000000', '0.25']],
      ),
    ).toBe(2333453259);
  });

  it('compares canonical decimals as numbers', () => {
    const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 8 })).map(([units, scale]) => {
      const text = units.toString().padStart(scale + 1, '0');
      const value = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/\.?0+$/, '');
      return value === '' ? '0' : value;
    });
    const scaled = (value: string) => {
      const [int = '0', frac = ''] = value.split('.');
      return BigInt(int + frac.padEnd(8, '0'));
    };
    fc.assert(fc.property(decimal, decimal, (a, b) => Math.sign(compareDecimal(a, b)) === Math.sign(Number(scaled(a) - scaled(b)))));
  });
});

class FakeBookOutput {
  frames: Record<string, unknown>[] = [];
  resyncs = 0;
  depthRequests = 0;
  resynced = () => void this.resyncs++;
  delta = (frame: string) => void this.frames.push(JSON.parse(frame) as Record<string, unknown>);
  requestDepth = () => void this.depthRequests++;
}

const delta = (symbolSeq: number, side: 'Buy' | 'Sell', price: string, quantity: string): BookDelta => ({
  symbol_seq: symbolSeq,
  side,
  price,
  quantity,
});

describe('BookFeed: snapshot and deltas joined on symbol_seq', () => {
  it('drops buffered deltas the depth already holds and applies the rest', () => {
    const output = new FakeBookOutput();
    const feed = new BookFeed('BTC-KRW', output);
    feed.onDeltas([delta(4, 'Buy', '100', '1'), delta(5, 'Buy', '100', '2'), delta(6, 'Sell', '101', '3')]);
    feed.onDepth({ symbol_seq: 5, bids: [['100', '2']], asks: [] });
    expect(feed.state).toBe('live');
    expect(output.resyncs).toBe(1);
    expect(feed.book.symbolSeq).toBe(6);
    expect(feed.book.asks(10)).toEqual([['101', '3']]);
    feed.onDeltas([delta(6, 'Sell', '101', '3'), delta(7, 'Sell', '101', '0'), delta(8, 'Sell', '102', '1'), delta(9, 'Buy', '99', '5')]);
    feed.flush();
    expect(output.frames).toEqual([
      {
        type: 'OrderBook',
        symbol: 'BTC-KRW',
        prev_symbol_seq: 6,
        symbol_seq: 9,
        snapshot: false,
        bids: [['99', '5']],
        asks: [
          ['101', '0'],
          ['102', '1'],
        ],
        checksum: bookChecksum(
          [['102', '1']],
          [
            ['100', '2'],
            ['99', '5'],
          ],
        ),
      },
    ]);
    const snapshot = JSON.parse(feed.snapshotFrame()) as Record<string, unknown>;
    expect(snapshot).toMatchObject({
      snapshot: true,
      symbol_seq: 9,
      bids: [
        ['100', '2'],
        ['99', '5'],
      ],
      asks: [['102', '1']],
    });
  });

  it('asks again when the depth and the buffered deltas leave a hole, and after a hole in the live stream', () => {
    const output = new FakeBookOutput();
    const feed = new BookFeed('BTC-KRW', output);
    feed.onDeltas([delta(8, 'Buy', '100', '1')]);
    feed.onDepth({ symbol_seq: 5, bids: [], asks: [] });
    expect(feed.state).toBe('bootstrapping');
    expect(output.depthRequests).toBe(1);
    feed.onDepth({ symbol_seq: 8, bids: [['100', '1']], asks: [] });
    expect(feed.state).toBe('live');
    feed.onDeltas([delta(10, 'Buy', '100', '4')]); // 9 never came
    expect(feed.state).toBe('bootstrapping');
    expect(output.depthRequests).toBe(2);
    expect(output.frames).toEqual([]);
    feed.onDepth({ symbol_seq: 10, bids: [['100', '4']], asks: [] });
    expect(feed.book.bids(10)).toEqual([['100', '4']]);
    expect(output.resyncs).toBe(2);
  });
});

class FakePeer implements Peer {
  frames: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | undefined;
  send(frame: Buffer | string) {
    this.frames.push(JSON.parse(frame.toString()) as Record<string, unknown>);
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
}

/** A partial Execution envelope: the hub reads only the report's user_id and symbol. */
function execution(seq: number, userId: number, symbol = 'BTC-KRW', prevSeq = 0): Envelope {
  const report = { user_id: String(userId), symbol, order_id: String(seq), exec_type: 'New' } as unknown as ExecutionReport;
  return { v: 1, type: 'Execution', seq, prev_seq: prevSeq, timestamp: 1, order_status: 'Pending', execution_report: report };
}

function hubWith(history: ExecutionHistory, depth: DepthSnapshot = { symbol_seq: 0, bids: [], asks: [] }, limits: Partial<HubLimits> = {}) {
  return new Hub({
    limits,
    symbols: ['BTC-KRW', 'ETH-KRW'],
    auth: {
      authenticate: async (apiKey) => {
        if (apiKey === 'bad') throw new WsError('INVALID_API_KEY');
        return { userId: Number(apiKey.slice(1)), apiKey };
      },
    },
    history,
    depth: { depth: async () => depth },
  });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A connection of user 1 (key `u1`), authenticated and subscribed to its executions. */
async function executionsSubscriber(hub: Hub): Promise<{ peer: FakePeer; session: ReturnType<Hub['open']> }> {
  const peer = new FakePeer();
  const session = hub.open(peer);
  hub.message(session, JSON.stringify({ op: 'auth', api_key: 'u1', timestamp: 1, signature: 'x' }));
  await tick();
  hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['executions'] }));
  await tick();
  return { peer, session };
}

/**
 * A hub with immediate timers and a subscriber of user 1 who got reports 4 (before subscribing)
 * and 5; then the feed drops and comes back (what the lost queue held is only in the history).
 */
async function reconnectedHub(stored: StoredReport[], completeThrough: number) {
  const soon = { setTimeout: (callback: () => void) => setTimeout(callback, 0), clearTimeout: () => {}, now: () => Date.now() };
  const hub = new Hub({
    symbols: ['BTC-KRW', 'ETH-KRW'],
    auth: { authenticate: async (apiKey) => ({ userId: 1, apiKey }) },
    history: { after: async (_user, after) => ({ reports: stored.filter((report) => report.seq > after), completeThrough }) },
    depth: { depth: async () => ({ symbol_seq: 0, bids: [], asks: [] }) },
    timers: soon,
  });
  hub.onMessage('execution.BTC-KRW', [execution(4, 1)]);
  const { peer } = await executionsSubscriber(hub);
  hub.onMessage('execution.BTC-KRW', [execution(5, 1, 'BTC-KRW', 4)]);
  hub.onFeedDisconnected();
  hub.onFeedConnected();
  return { hub, seqs: () => peer.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq) };
}

describe('Hub', () => {
  it('sends execution reports to their owner only, without prev_seq', async () => {
    const hub = hubWith({ after: async () => ({ reports: [], completeThrough: 0 }) });
    const [one, two] = [new FakePeer(), new FakePeer()];
    const [s1, s2] = [hub.open(one), hub.open(two)];
    hub.message(s1, JSON.stringify({ op: 'auth', api_key: 'u1', timestamp: 1, signature: 'x' }));
    hub.message(s2, JSON.stringify({ op: 'auth', api_key: 'u2', timestamp: 1, signature: 'x' }));
    await tick();
    hub.message(s1, JSON.stringify({ op: 'subscribe', channels: ['executions'] }));
    hub.message(s2, JSON.stringify({ op: 'subscribe', channels: ['executions'] }));
    await tick();
    hub.onMessage('execution.BTC-KRW', [execution(10, 1), execution(11, 2, 'BTC-KRW', 10)]);
    expect(one.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq)).toEqual([10]);
    expect(two.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq)).toEqual([11]);
    expect(one.frames.at(-1)).not.toHaveProperty('prev_seq');
    // a resend is dropped
    hub.onMessage('execution.BTC-KRW', [execution(10, 1), execution(11, 2, 'BTC-KRW', 10)]);
    expect(one.frames.filter((frame) => frame.type === 'Execution')).toHaveLength(1);
  });

  it('ignores routing keys it does not serve (position.{SYMBOL}: the positions channel is fed from the Redis stream): nothing sent, the executions keep flowing', async () => {
    const hub = hubWith({ after: async () => ({ reports: [], completeThrough: 0 }) });
    const { peer } = await executionsSubscriber(hub);
    const position = {
      v: 1,
      type: 'PositionChanged',
      seq: 21,
      prev_seq: 0,
      timestamp: 1,
      user_id: '1',
      symbol: 'BTC-KRW-PERP',
      position_side: 'BOTH',
      size: '0.01',
      entry_price: '50000000',
      realized_pnl: '0',
      margin_type: 'CROSS',
      isolated_margin: '0',
      leverage: 20,
    } as const satisfies Envelope;
    const before = peer.frames.length;
    expect(() => hub.onMessage('position.BTC-KRW-PERP', [position, { ...position, seq: 22, prev_seq: 21 }])).not.toThrow();
    expect(peer.frames.length).toBe(before);
    hub.onMessage('execution.BTC-KRW', [execution(23, 1)]);
    expect(peer.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq)).toEqual([23]);
  });

  it('resume: history, then what arrived while it was read, each seq once; a report the history had first is not sent again', async () => {
    let release: (() => void) | undefined;
    const stored: StoredReport[] = [5, 7, 9].map((seq) => ({ seq, json: JSON.stringify(execution(seq, 1)) }));
    const hub = hubWith({
      after: async (_user, after) => {
        await new Promise<void>((resolve) => (release = resolve));
        return { reports: stored.filter((report) => report.seq > after), completeThrough: 9 };
      },
    });
    hub.onMessage('execution.BTC-KRW', [execution(5, 1)]); // handled before the client came: only in the history now
    const peer = new FakePeer();
    const session = hub.open(peer);
    hub.message(session, JSON.stringify({ op: 'auth', api_key: 'u1', timestamp: 1, signature: 'x' }));
    await tick();
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['executions'], resume_from_seq: 4, id: 'r' }));
    await tick();
    hub.onMessage('execution.BTC-KRW', [execution(7, 1, 'BTC-KRW', 5)]); // live while the history is read
    release!();
    await tick();
    await tick();
    const executions = () => peer.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq);
    expect(peer.frames.find((frame) => frame.type === 'subscribed')).toMatchObject({ id: 'r', channels: ['executions'] });
    expect(executions()).toEqual([5, 7, 9]);
    // 9 came from the history before the feed brought it: not twice
    hub.onMessage('execution.BTC-KRW', [execution(9, 1, 'BTC-KRW', 7), execution(12, 1, 'BTC-KRW', 9)]);
    expect(executions()).toEqual([5, 7, 9, 12]);
  });

  it('a connection whose resume is outrun by its own live reports is closed 1013 at maxCatchUpReports, holding no more', async () => {
    let release: (() => void) | undefined;
    const hub = hubWith(
      {
        after: async () => {
          await new Promise<void>((resolve) => (release = resolve));
          return { reports: [], completeThrough: 1_000 };
        },
      },
      undefined,
      { maxCatchUpReports: 3 },
    );
    const [busy, other] = [new FakePeer(), new FakePeer()];
    const [session, otherSession] = [hub.open(busy), hub.open(other)];
    hub.message(session, JSON.stringify({ op: 'auth', api_key: 'u1', timestamp: 1, signature: 'x' }));
    hub.message(otherSession, JSON.stringify({ op: 'auth', api_key: 'u2', timestamp: 1, signature: 'x' }));
    await tick();
    hub.message(otherSession, JSON.stringify({ op: 'subscribe', channels: ['executions'] }));
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['executions'], resume_from_seq: 0, id: 'r' }));
    await tick();
    for (let seq = 1; seq <= 3; seq++) hub.onMessage('execution.BTC-KRW', [execution(seq, 1, 'BTC-KRW', seq - 1)]);
    expect(busy.closed, 'three held: the bound is not yet passed').toBeUndefined();
    expect(session.catchingUp).toHaveLength(3);
    hub.onMessage('execution.BTC-KRW', [execution(4, 1, 'BTC-KRW', 3), execution(5, 2, 'BTC-KRW', 0)]);
    expect(busy.closed).toMatchObject({ code: 1013, reason: expect.stringContaining('resume from your last seq') });
    expect(session.closed).toBe(true);
    expect(session.catchingUp).toBeUndefined();
    expect(hub.stats.catchUpOverflows).toBe(1);
    // the other user's live report went out as usual, and the history's late answer sends nothing to the closed one
    expect(other.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq)).toEqual([5]);
    release!();
    await tick();
    await tick();
    expect(busy.frames.filter((frame) => frame.type === 'Execution' || frame.type === 'subscribed')).toEqual([]);
  });

  it('a hole in an execution chain is filled from the history', async () => {
    const stored: StoredReport[] = [3, 4].map((seq) => ({ seq, json: JSON.stringify(execution(seq, 1, 'ETH-KRW')) }));
    const hub = hubWith({
      after: async (_user, after) => ({ reports: stored.filter((report) => report.seq > after), completeThrough: 4 }),
    });
    const { peer } = await executionsSubscriber(hub);
    hub.onMessage('execution.ETH-KRW', [execution(2, 1, 'ETH-KRW', 0)]);
    hub.onMessage('execution.ETH-KRW', [execution(6, 1, 'ETH-KRW', 4)]); // 3 and 4 lost on the way
    hub.onMessage('execution.BTC-KRW', [execution(7, 1, 'BTC-KRW', 0)]); // live while the hole is read
    await tick();
    await tick();
    // in seq order: the reports after the hole waited for the missing ones
    expect(peer.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq)).toEqual([2, 3, 4, 6, 7]);
    expect(hub.stats.chainGaps).toBe(1);
  });

  it("a hold that was overtaken by an unsubscribe and a resume does not release the resume's list: still in seq order", async () => {
    const calls: Array<{ after: number; resolve: (answer: { reports: StoredReport[]; completeThrough: number }) => void }> = [];
    const stored = (from: number, to: number): StoredReport[] =>
      Array.from({ length: to - from + 1 }, (_, index) => ({ seq: from + index, json: JSON.stringify(execution(from + index, 1)) }));
    const hub = hubWith({ after: (_user, after) => new Promise((resolve) => calls.push({ after, resolve })) });
    hub.onMessage('execution.BTC-KRW', [execution(10, 1)]); // handled before the client came
    const { peer, session } = await executionsSubscriber(hub);
    hub.onMessage('execution.BTC-KRW', [execution(13, 1, 'BTC-KRW', 12)]); // 11 and 12 lost: a hold, the repair reads
    await tick();
    hub.message(session, JSON.stringify({ op: 'unsubscribe', channels: ['executions'] }));
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['executions'], resume_from_seq: 5 }));
    await tick();
    expect(calls.map((call) => call.after)).toEqual([10, 5]); // the repair's read, then the resume's
    calls[0]!.resolve({ reports: stored(11, 12), completeThrough: 13 }); // the repair answers first
    await tick();
    hub.onMessage('execution.BTC-KRW', [execution(14, 1, 'BTC-KRW', 13)]);
    calls[1]!.resolve({ reports: stored(6, 13), completeThrough: 14 });
    await tick();
    await tick();
    expect(peer.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('a hole the history cannot fill within 2 s: the held live reports go out, the missing ones follow when it can', async () => {
    let complete = false;
    const stored: StoredReport[] = [3, 4].map((seq) => ({ seq, json: JSON.stringify(execution(seq, 1, 'ETH-KRW')) }));
    const hub = hubWith({
      after: async (_user, after) => ({
        reports: complete ? stored.filter((report) => report.seq > after) : [],
        completeThrough: complete ? 4 : 2,
      }),
    });
    const { peer } = await executionsSubscriber(hub);
    hub.onMessage('execution.ETH-KRW', [execution(2, 1, 'ETH-KRW', 0)]);
    hub.onMessage('execution.ETH-KRW', [execution(6, 1, 'ETH-KRW', 4)]);
    const seqs = () => peer.frames.filter((frame) => frame.type === 'Execution').map((frame) => frame.seq);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seqs(), 'held while the history is read').toEqual([2]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(seqs(), 'released after the hold').toEqual([2, 6]);
    complete = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seqs(), 'then the missing ones, each once').toEqual([2, 6, 3, 4]);
  });

  it('a book subscriber gets the snapshot after its answer and then deltas continuing from it', async () => {
    const hub = hubWith(
      { after: async () => ({ reports: [], completeThrough: 0 }) },
      { symbol_seq: 3, bids: [['100', '1']], asks: [['105', '2']] },
    );
    hub.bootstrapBooks();
    await tick();
    const peer = new FakePeer();
    const session = hub.open(peer);
    hub.onMessage('orderbook.BTC-KRW', [
      {
        v: 1,
        type: 'BookDelta',
        seq: 20,
        prev_seq: 0,
        timestamp: 1,
        symbol: 'BTC-KRW',
        symbol_seq: 4,
        side: 'Buy',
        price: '101',
        quantity: '1',
      },
    ]);
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['orderbook.BTC-KRW'] }));
    await tick();
    hub.onMessage('orderbook.BTC-KRW', [
      {
        v: 1,
        type: 'BookDelta',
        seq: 21,
        prev_seq: 20,
        timestamp: 1,
        symbol: 'BTC-KRW',
        symbol_seq: 5,
        side: 'Sell',
        price: '105',
        quantity: '0',
      },
    ]);
    hub.flushAll();
    // a resubscribe (what a client does after a mismatch) with a change still pending in the window
    hub.onMessage('orderbook.BTC-KRW', [
      {
        v: 1,
        type: 'BookDelta',
        seq: 22,
        prev_seq: 21,
        timestamp: 1,
        symbol: 'BTC-KRW',
        symbol_seq: 6,
        side: 'Buy',
        price: '102',
        quantity: '1',
      },
    ]);
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['orderbook.BTC-KRW'] }));
    await tick();
    hub.onMessage('orderbook.BTC-KRW', [
      {
        v: 1,
        type: 'BookDelta',
        seq: 23,
        prev_seq: 22,
        timestamp: 1,
        symbol: 'BTC-KRW',
        symbol_seq: 7,
        side: 'Buy',
        price: '102',
        quantity: '0',
      },
    ]);
    hub.flushAll();
    expect(peer.frames.map((frame) => [frame.type, frame.snapshot, frame.prev_symbol_seq, frame.symbol_seq])).toEqual([
      ['subscribed', undefined, undefined, undefined],
      ['OrderBook', true, undefined, 4],
      ['OrderBook', false, 4, 5],
      ['OrderBook', false, 5, 6],
      ['subscribed', undefined, undefined, undefined],
      ['OrderBook', true, undefined, 6],
      ['OrderBook', false, 6, 7],
    ]);
  });

  it('refuses bad frames with error codes and rate-limits a flood', async () => {
    const hub = hubWith({ after: async () => ({ reports: [], completeThrough: 0 }) });
    const peer = new FakePeer();
    const session = hub.open(peer);
    hub.message(session, '{');
    hub.message(session, JSON.stringify({ op: 'auth', api_key: 'bad', timestamp: 1, signature: 'x', id: 7 }));
    await tick();
    expect(peer.frames.map((frame) => [frame.code, frame.id])).toEqual([
      ['BAD_FRAME', undefined],
      ['INVALID_API_KEY', 7],
    ]);
    for (let index = 0; index < 200; index++) hub.message(session, '{"op":"ping"}');
    expect(peer.frames.filter((frame) => frame.code === 'RATE_LIMITED').length).toBeGreaterThan(50);
  });

  it('after a feed reconnect, executions subscribers are swept from the history: what the lost queue held arrives once', async () => {
    // 6 and 7 were in the queue the broker lost; the routing key stays quiet
    const { hub, seqs } = await reconnectedHub(
      [5, 6, 7].map((seq) => ({ seq, json: JSON.stringify(execution(seq, 1)) })),
      7,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    hub.onMessage('execution.BTC-KRW', [execution(7, 1, 'BTC-KRW', 6)]); // 7 resent by the publisher after all
    expect(seqs()).toEqual([5, 6, 7]);
    expect(hub.stats.sweeps).toBe(3);
  });

  it('live reports after a feed reconnect wait for the first sweep, so what it finds still comes first, in seq order', async () => {
    // 6 and 7 (BTC-KRW) were in the queue the broker lost, and that routing key stays quiet
    const stored = [5, 6, 7, 8].map((seq) => ({ seq, json: JSON.stringify(execution(seq, 1, seq === 8 ? 'ETH-KRW' : 'BTC-KRW')) }));
    const { hub, seqs } = await reconnectedHub(stored, 8);
    hub.onMessage('execution.ETH-KRW', [execution(8, 1, 'ETH-KRW', 0)]); // live on the new queue before the sweep: no hole shows
    expect(seqs(), '8 waits for the sweep').toEqual([5]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seqs()).toEqual([5, 6, 7, 8]);
  });
});
