/**
 * The perpetuals' public channels `markprice.{SYMBOL}` and `liquidations.{SYMBOL}` (ARCHITECTURE.md
 * "Perpetual futures → Messages"): subscribe validation and forwarding, without sockets or brokers.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../contract/envelopes.ts';
import { parseChannel, WsError } from '../contract/ws-frames.ts';
import { FEED_BINDINGS } from './adapters/rabbit-feed.ts';
import { Hub } from './hub.ts';
import type { Peer } from './ports.ts';

class FakePeer implements Peer {
  frames: Record<string, unknown>[] = [];
  send(frame: Buffer | string) {
    this.frames.push(JSON.parse(frame.toString()) as Record<string, unknown>);
  }
  close() {}
}

const PERP = 'BTC-KRW-PERP';

function hub(): Hub {
  return new Hub({
    symbols: ['BTC-KRW', PERP],
    perpetualSymbols: [PERP],
    auth: { authenticate: async (apiKey) => ({ userId: 1, apiKey }) },
    history: { after: async () => ({ reports: [], completeThrough: 0 }) },
    depth: { depth: async () => ({ symbol_seq: 0, bids: [], asks: [] }) },
  });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function markPrice(seq: number, prevSeq: number, markPrice: string, symbol = PERP): Envelope {
  return {
    v: 1,
    type: 'MarkPrice',
    seq,
    prev_seq: prevSeq,
    timestamp: 1_700_000_000_000,
    symbol,
    mark_price: markPrice,
    index_price: markPrice,
    estimated_funding_rate: '0.00010000',
    next_funding_time: 1_700_006_400_000,
  };
}

function liquidation(seq: number, prevSeq: number): Envelope {
  return {
    v: 1,
    type: 'Liquidation',
    seq,
    prev_seq: prevSeq,
    timestamp: 1_700_000_000_000,
    symbol: PERP,
    side: 'Sell',
    price: '45500000',
    quantity: '0.01',
    stage: 'book',
  };
}

async function subscribed(target: Hub, channels: string[]): Promise<FakePeer> {
  const peer = new FakePeer();
  target.message(target.open(peer), JSON.stringify({ op: 'subscribe', id: 1, channels }));
  await tick();
  return peer;
}

describe('parseChannel: markprice and liquidations', () => {
  const symbols = new Set(['BTC-KRW', PERP]);
  const perpetuals = new Set([PERP]);

  it('takes a perpetual symbol only', () => {
    expect(parseChannel(`markprice.${PERP}`, symbols, perpetuals)).toEqual({ kind: 'markprice', name: `markprice.${PERP}`, symbol: PERP });
    expect(parseChannel(`liquidations.${PERP}`, symbols, perpetuals)).toEqual({
      kind: 'liquidations',
      name: `liquidations.${PERP}`,
      symbol: PERP,
    });
    for (const name of ['markprice.BTC-KRW', 'liquidations.BTC-KRW', 'markprice.NOPE-PERP', 'liquidations.', 'markprice.btc-krw-perp']) {
      const refused = parseChannel(name, symbols, perpetuals);
      expect(refused).toBeInstanceOf(WsError);
      expect((refused as WsError).code).toBe('UNKNOWN_SYMBOL');
    }
    // the routing key's singular is not a channel; no perpetuals given: none is one
    expect((parseChannel(`liquidation.${PERP}`, symbols, perpetuals) as WsError).code).toBe('UNKNOWN_CHANNEL');
    expect((parseChannel('markprice', symbols, perpetuals) as WsError).code).toBe('UNKNOWN_CHANNEL');
    expect((parseChannel(`markprice.${PERP}`, symbols) as WsError).code).toBe('UNKNOWN_SYMBOL');
  });
});

describe('Hub: markprice.{SYMBOL} and liquidations.{SYMBOL}', () => {
  it('refuses a spot or unknown symbol with an error frame, no auth needed for a perpetual one', async () => {
    const target = hub();
    const spot = await subscribed(target, ['markprice.BTC-KRW']);
    expect(spot.frames).toEqual([
      { type: 'error', code: 'UNKNOWN_SYMBOL', message: 'unknown perpetual symbol "BTC-KRW" in "markprice.BTC-KRW"', id: 1 },
    ]);
    const unknown = await subscribed(target, [`trades.${PERP}`, 'liquidations.ETH-KRW-PERP']);
    expect(unknown.frames).toMatchObject([{ type: 'error', code: 'UNKNOWN_SYMBOL', id: 1 }]);
    // refused as a whole: the trades channel of the same request was not joined
    target.onMessage(`markprice.${PERP}`, [markPrice(1, 0, '50000000')]);
    expect(unknown.frames).toHaveLength(1);
    const ok = await subscribed(target, [`markprice.${PERP}`, `liquidations.${PERP}`]);
    expect(ok.frames).toEqual([{ type: 'subscribed', channels: [`markprice.${PERP}`, `liquidations.${PERP}`], id: 1 }]);
  });

  it('forwards each envelope as its own frame without prev_seq, to its channel only; drops repeats by seq', async () => {
    const target = hub();
    const marks = await subscribed(target, [`markprice.${PERP}`]);
    const liquidations = await subscribed(target, [`liquidations.${PERP}`]);
    marks.frames.length = 0;
    liquidations.frames.length = 0;

    target.onMessage(`markprice.${PERP}`, [markPrice(10, 0, '50000000')]);
    target.onMessage(`markprice.${PERP}`, [markPrice(10, 0, '50000000')]); // a publisher's resend
    target.onMessage(`liquidation.${PERP}`, [liquidation(12, 0)]);
    target.onMessage(`markprice.${PERP}`, [markPrice(13, 10, '45000000')]);

    expect(marks.frames).toEqual([
      {
        v: 1,
        type: 'MarkPrice',
        seq: 10,
        timestamp: 1_700_000_000_000,
        symbol: PERP,
        mark_price: '50000000',
        index_price: '50000000',
        estimated_funding_rate: '0.00010000',
        next_funding_time: 1_700_006_400_000,
      },
      expect.objectContaining({ type: 'MarkPrice', seq: 13, mark_price: '45000000' }),
    ]);
    expect(marks.frames[1]).not.toHaveProperty('prev_seq');
    expect(liquidations.frames).toEqual([
      {
        v: 1,
        type: 'Liquidation',
        seq: 12,
        timestamp: 1_700_000_000_000,
        symbol: PERP,
        side: 'Sell',
        price: '45500000',
        quantity: '0.01',
        stage: 'book',
      },
    ]);
    expect(target.stats.duplicatesDropped).toBe(1);
  });

  it('a hole in the prev_seq chain is counted and the frame still goes out (as trades and tickers)', async () => {
    const target = hub();
    const marks = await subscribed(target, [`markprice.${PERP}`]);
    marks.frames.length = 0;
    target.onMessage(`markprice.${PERP}`, [markPrice(5, 0, '50000000')]);
    target.onMessage(`markprice.${PERP}`, [markPrice(9, 7, '50001000')]); // 7 never came
    expect(target.stats.chainGaps).toBe(1);
    expect(marks.frames.map((frame) => frame.seq)).toEqual([5, 9]);
  });

  it('stops after unsubscribe', async () => {
    const target = hub();
    const peer = new FakePeer();
    const session = target.open(peer);
    target.message(session, JSON.stringify({ op: 'subscribe', channels: [`liquidations.${PERP}`] }));
    await tick();
    target.message(session, JSON.stringify({ op: 'unsubscribe', channels: [`liquidations.${PERP}`] }));
    target.onMessage(`liquidation.${PERP}`, [liquidation(3, 0)]);
    expect(peer.frames.map((frame) => frame.type)).toEqual(['subscribed', 'unsubscribed']);
  });

  it('the feed queue is bound to both routing keys', () => {
    expect(FEED_BINDINGS).toEqual(expect.arrayContaining(['markprice.*', 'liquidation.*']));
  });
});
