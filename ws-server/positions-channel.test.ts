/** The `positions` channel through the hub, without sockets or Redis: fake peers, a fake history, envelopes as the stream tail hands them. */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../contract/envelopes.ts';
import type { ExecutionHistory, StoredReport } from '../contract/ports/execution-history.ts';
import { Hub } from './hub.ts';
import type { Peer } from './ports.ts';

class FakePeer implements Peer {
  frames: Record<string, unknown>[] = [];
  send(frame: Buffer | string) {
    this.frames.push(JSON.parse(frame.toString()) as Record<string, unknown>);
  }
  close() {}
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function position(seq: number, userId: number, size = '0.01'): Envelope {
  return {
    v: 1,
    type: 'PositionChanged',
    seq,
    prev_seq: seq - 1,
    timestamp: 1,
    user_id: String(userId),
    symbol: 'BTC-KRW-PERP',
    position_side: 'BOTH',
    size,
    entry_price: '50000000',
    realized_pnl: '0',
    margin_type: 'CROSS',
    isolated_margin: '0',
    leverage: 20,
  };
}

function wallet(seq: number, userId: number): Envelope {
  return {
    v: 1,
    type: 'WalletChanged',
    seq,
    prev_seq: 0,
    timestamp: 1,
    user_id: String(userId),
    asset: 'KRW',
    wallet_balance: '1000',
    reason: 'Transfer',
  };
}

/** FundingPaid is not in the contract's union yet (another branch adds it): the channel routes it by its type string. */
function funding(seq: number, userId: number): Envelope {
  return {
    v: 1,
    type: 'FundingPaid',
    seq,
    prev_seq: 0,
    timestamp: 1,
    user_id: String(userId),
    symbol: 'BTC-KRW-PERP',
    position_side: 'BOTH',
    size: '0.01',
    mark_price: '50000000',
    rate: '0.0001',
    amount: '-50',
  } as unknown as Envelope;
}

function hubWith(positionsHistory?: ExecutionHistory) {
  return new Hub({
    symbols: ['BTC-KRW-PERP'],
    auth: { authenticate: async (apiKey) => ({ userId: Number(apiKey.slice(1)), apiKey }) },
    history: { after: async () => ({ reports: [], completeThrough: 0 }) },
    ...(positionsHistory ? { positionsHistory } : {}),
    depth: { depth: async () => ({ symbol_seq: 0, bids: [], asks: [] }) },
  });
}

async function subscriber(hub: Hub, user: number, subscribe: Record<string, unknown> = {}) {
  const peer = new FakePeer();
  const session = hub.open(peer);
  hub.message(session, JSON.stringify({ op: 'auth', api_key: `u${user}`, timestamp: 1, signature: 'x' }));
  await tick();
  hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['positions'], ...subscribe }));
  await tick();
  await tick();
  const seqs = () =>
    peer.frames.filter((frame) => frame.type !== 'auth' && frame.type !== 'subscribed').map((frame) => [frame.type, frame.seq]);
  return { peer, session, seqs };
}

describe('the positions channel', () => {
  it("sends the user's PositionChanged, WalletChanged and FundingPaid only, without prev_seq; other types and users stay out", async () => {
    const hub = hubWith();
    const one = await subscriber(hub, 1);
    const two = await subscriber(hub, 2);
    hub.onStreamEntries(
      [wallet(10, 1), position(11, 1), position(12, 2), funding(13, 1), { ...wallet(14, 1), type: 'BalanceChanged' } as Envelope],
      14,
    );
    expect(one.seqs()).toEqual([
      ['WalletChanged', 10],
      ['PositionChanged', 11],
      ['FundingPaid', 13],
    ]);
    expect(two.seqs()).toEqual([['PositionChanged', 12]]);
    expect(one.peer.frames.at(-1)).not.toHaveProperty('prev_seq');
    // an entry read twice (the tail re-reading after an outage) is not sent twice
    hub.onStreamEntries([position(11, 1)], 14);
    expect(one.seqs()).toHaveLength(3);
  });

  it('needs an authenticated connection', async () => {
    const hub = hubWith();
    const peer = new FakePeer();
    const session = hub.open(peer);
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['positions'], id: 1 }));
    await tick();
    expect(peer.frames).toEqual([expect.objectContaining({ type: 'error', code: 'AUTH_REQUIRED', id: 1 })]);
  });

  it('resume: the history after resume_from_seq, then what arrived live meanwhile, each seq once, in seq order', async () => {
    let release: (() => void) | undefined;
    const stored: StoredReport[] = [wallet(5, 1), position(7, 1), position(9, 1, '0.02')].map((envelope) => ({
      seq: envelope.seq,
      json: JSON.stringify(envelope),
    }));
    const hub = hubWith({
      after: async (_user, after) => {
        await new Promise<void>((resolve) => (release = resolve));
        return { reports: stored.filter((report) => report.seq > after), completeThrough: 9 };
      },
    });
    hub.onStreamEntries([wallet(5, 1)], 6);
    const peer = new FakePeer();
    const session = hub.open(peer);
    hub.message(session, JSON.stringify({ op: 'auth', api_key: 'u1', timestamp: 1, signature: 'x' }));
    await tick();
    hub.message(session, JSON.stringify({ op: 'subscribe', channels: ['positions'], resume_from_seq: 4, id: 'r' }));
    await tick();
    hub.onStreamEntries([position(9, 1, '0.02'), position(12, 1, '0.03')], 12); // live while the history is read
    release!();
    await tick();
    await tick();
    const seqs = () =>
      peer.frames.filter((frame) => frame.type === 'PositionChanged' || frame.type === 'WalletChanged').map((frame) => frame.seq);
    expect(peer.frames.find((frame) => frame.type === 'subscribed')).toMatchObject({ id: 'r', channels: ['positions'] });
    expect(seqs()).toEqual([5, 7, 9, 12]);
    hub.onStreamEntries([position(12, 1, '0.03'), position(13, 1, '0')], 13);
    expect(seqs()).toEqual([5, 7, 9, 12, 13]);
  });

  it('sweeps its subscribers from the history after the tail lost Redis (entries trimmed unread)', async () => {
    const stored: StoredReport[] = [position(20, 1), position(21, 1, '0')].map((envelope) => ({
      seq: envelope.seq,
      json: JSON.stringify(envelope),
    }));
    const hub = hubWith({
      after: async (_user, after) => ({ reports: stored.filter((report) => report.seq > after), completeThrough: 21 }),
    });
    hub.onStreamEntries([], 19);
    const one = await subscriber(hub, 1);
    hub.onStreamResumed(19);
    await tick();
    await tick();
    expect(one.seqs()).toEqual([
      ['PositionChanged', 20],
      ['PositionChanged', 21],
    ]);
    hub.onStreamEntries([position(21, 1, '0')], 21);
    expect(one.seqs()).toHaveLength(2);
  });
});
