/**
 * Issue 20's first slice end to end, on the real stack (core, Redis and RabbitMQ publishers, the
 * persister, a ws-server; its own database and broker namespace): futures transfers and fills over
 * HTTP → the futures rows in PostgreSQL exactly once — the persister killed with SIGKILL twice
 * while it writes, and a whole batch written again — → the history endpoints, paged → the
 * `positions` channel on a plain WebSocket client, live, and resumed on the other of two instances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRows } from '../db/execution-rows.ts';
import { writeBatch } from '../db/execution-writer.ts';
import { Redis } from 'ioredis';
import type { StreamEntry } from '../db/execution-stream.ts';
import { applied } from '../api/futures-example.test-support.ts';
import { Stack, waitFor, type StackUser } from './testing/stack.ts';
import { WsTestClient, type Frame } from './testing/ws-client.ts';

const PERP = 'BTC-KRW-PERP';
const POSITIONS_TYPES = ['PositionChanged', 'WalletChanged'];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6380';

let stack: Stack;
let wsPort: number;
let otherWsPort: number;
let long: StackUser;
let short: StackUser;
const clients: WsTestClient[] = [];

async function connect(user: StackUser, port = wsPort): Promise<WsTestClient> {
  const client = new WsTestClient(`ws://127.0.0.1:${port}/ws`);
  clients.push(client);
  await client.opened();
  expect(await client.auth(user)).toMatchObject({ type: 'auth', ok: true });
  return client;
}

const positionsOf = (client: WsTestClient) => client.frames.filter((frame) => POSITIONS_TYPES.includes(frame.type as string));

/** a signed GET's JSON body */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function get(user: StackUser, route: string): Promise<any> {
  return (await stack.signed(user, 'GET', route)).json();
}

async function transfer(user: StackUser, amount: string, direction: string): Promise<void> {
  applied(await stack.client.futures(user, 'transfer', { asset: 'KRW', amount, direction }), `transfer ${amount}`);
}

/** short rests a sell, long takes it: one fill of `quantity` at 50,000,000 */
async function fill(quantity: string): Promise<void> {
  await stack.order(short, { symbol: PERP, side: 'Sell', order_type: 'Limit', price: '50000000', quantity });
  await stack.order(long, { symbol: PERP, side: 'Buy', order_type: 'Limit', price: '50000000', quantity });
}

/** every entry of the stack's Redis stream (the persister never trims here) */
async function streamEntries(): Promise<StreamEntry[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const entries = (await redis.xrange(stack.names.stream, '-', '+')) as [string, string[]][];
    return entries.map(([id, fields]) => ({ id, body: fields[1]! }));
  } finally {
    redis.disconnect();
  }
}

/** seq → type of every futures envelope the core put on the stream */
async function streamFutures(): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const entry of await streamEntries()) {
    const envelope = JSON.parse(entry.body!) as { type: string; seq: number };
    if (POSITIONS_TYPES.includes(envelope.type)) found.set(envelope.seq, envelope.type);
  }
  return new Map([...found].sort((a, b) => a[0] - b[0]));
}

async function persistedFutures(): Promise<Map<number, string>> {
  const { rows } = await stack.pool.query<{ seq: string; type: string }>(
    `SELECT seq, 'PositionChanged' AS type FROM futures_position_changes UNION ALL SELECT seq, 'WalletChanged' FROM futures_wallet_changes ORDER BY seq`,
  );
  return new Map(rows.map((row) => [Number(row.seq), row.type]));
}

beforeAll(async () => {
  stack = await Stack.start({ publishers: ['redis', 'rabbitmq'], env: { PERSISTER_TRIM_EVERY_MS: '0' } });
  // one entry per transaction, so a SIGKILL lands between commits and acknowledgements
  stack.startPersister({ PERSISTER_BATCH: '1', PERSISTER_CLAIM_IDLE_MS: '500', PERSISTER_CLAIM_EVERY_MS: '200' });
  [wsPort, otherWsPort] = await Promise.all([stack.startWsServer(), stack.startWsServer()]);
  long = await stack.createUser('perp-long', { KRW: '10000000' });
  short = await stack.createUser('perp-short', { KRW: '10000000' });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await stack?.stop();
});

describe('futures events → PostgreSQL, history endpoints and the positions channel', () => {
  it('persists each PositionChanged and WalletChanged exactly once across two SIGKILLs of the persister and a batch written again, and pushes them live', async () => {
    const live = await connect(long);
    expect(await live.request({ op: 'subscribe', channels: ['positions'] })).toMatchObject({ type: 'subscribed', channels: ['positions'] });

    await transfer(long, '2000000', 'spot_to_futures');
    await transfer(short, '2000000', 'spot_to_futures');
    applied(await stack.client.indexPrices([{ symbol: PERP, source: 'oracle-a', price: '50000000' }]), 'index');
    const wallet = await live.waitFor((frame) => frame.type === 'WalletChanged');
    expect(wallet).toMatchObject({ v: 1, user_id: long.userId, asset: 'KRW', wallet_balance: '2000000', reason: 'Transfer' });
    expect(wallet).not.toHaveProperty('prev_seq');

    await fill('0.02');
    // 20 lots × 50,000 ticks = 1,000,000 KRW notional; taker fee floor(1,000,000 × 500 ppm) = 500
    const opened = await live.waitFor((frame) => frame.type === 'PositionChanged');
    expect(opened).toMatchObject({
      user_id: long.userId,
      symbol: PERP,
      position_side: 'BOTH',
      size: '0.02',
      entry_price: '50000000',
      leverage: 20,
    });
    await live.waitFor((frame) => frame.type === 'WalletChanged' && frame.wallet_balance === '1999500');

    // SIGKILL while it writes one entry per transaction; more events meanwhile; again; then let it finish
    await waitFor(async () => (await persistedFutures()).size >= 2, 20_000, 'first futures rows');
    await stack.persister!.kill9();
    for (let round = 0; round < 4; round++) await fill('0.001');
    await transfer(long, '100000', 'futures_to_spot');
    stack.startPersister({ PERSISTER_BATCH: '1', PERSISTER_CLAIM_IDLE_MS: '500', PERSISTER_CLAIM_EVERY_MS: '200' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await stack.persister!.kill9();
    stack.startPersister({ PERSISTER_BATCH: '1', PERSISTER_CLAIM_IDLE_MS: '500', PERSISTER_CLAIM_EVERY_MS: '200' });

    const inStream = await streamFutures();
    // long and short: 2 transfers + 1 out, 5 fills × (2 wallets + 2 positions), and the fee account's wallet if it has one
    expect([...inStream.values()].filter((type) => type === 'PositionChanged')).toHaveLength(10);
    let persisted = new Map<number, string>();
    await waitFor(
      async () => {
        persisted = await persistedFutures();
        return persisted.size >= inStream.size;
      },
      30_000,
      'every futures envelope of the stream in PostgreSQL',
    );
    expect([...persisted]).toEqual([...inStream]);
    expect((await stack.pool.query('SELECT count(*)::int AS n FROM stream_dead_letters')).rows[0]).toEqual({ n: 0 });

    // the whole stream written again: nothing new
    const again = await writeBatch(stack.pool, stack.names.stream, batchRows(await streamEntries()));
    expect(again).toMatchObject({ executions: 0, trades: 0, balances: 0, futures: 0 });
    expect(await persistedFutures()).toEqual(persisted);

    const current = await stack.pool.query('SELECT size::text, entry_price::text FROM futures_positions WHERE user_id = $1', [long.userId]);
    expect(current.rows).toEqual([{ size: '0.024', entry_price: '50000000' }]);

    // live: the long user's own events, each once, in seq order
    const longSeqs = (
      await stack.pool.query<{ seq: string }>(
        'SELECT seq FROM futures_position_changes WHERE user_id = $1 UNION ALL SELECT seq FROM futures_wallet_changes WHERE user_id = $1 ORDER BY seq',
        [long.userId],
      )
    ).rows.map((row) => Number(row.seq));
    await waitFor(() => positionsOf(live).length >= longSeqs.length, 10_000, 'every live positions frame');
    expect(positionsOf(live).map((frame) => frame.seq)).toEqual(longSeqs);
  }, 120_000);

  it('answers the transfer, position, funding and liquidation histories, paged', async () => {
    const transfers = await get(long, '/v1/futures/transfers');
    expect(transfers.transfers.map((row: Frame) => [row.amount, row.direction, row.wallet_balance])).toEqual([
      ['2000000', 'spot_to_futures', '2000000'],
      // 2,000,000 − fees floor(1,000,000 × 500 ppm) = 500 and 4 × floor(50,000 × 500 ppm) = 4 × 25 → 1,999,400; − 100,000
      ['100000', 'futures_to_spot', '1899400'],
    ]);
    expect(transfers.next_after_seq).toBeNull();
    const first = await get(long, '/v1/futures/transfers?limit=1&asset=KRW');
    expect(first.transfers).toHaveLength(1);
    expect(first.next_after_seq).toBe(String(transfers.transfers[0].seq));
    const second = await get(long, `/v1/futures/transfers?limit=1&after_seq=${first.next_after_seq}`);
    expect(second).toEqual({ transfers: [transfers.transfers[1]], next_after_seq: null });

    const positions = await get(long, `/v1/futures/position-history?symbol=${PERP}&limit=3`);
    expect(positions.positions.map((row: Frame) => row.size)).toEqual(['0.02', '0.021', '0.022']);
    const rest = await get(long, `/v1/futures/position-history?after_seq=${positions.next_after_seq}`);
    expect(rest.positions.map((row: Frame) => row.size)).toEqual(['0.023', '0.024']);
    expect(rest.next_after_seq).toBeNull();
    expect(await get(short, '/v1/futures/position-history?limit=1')).toMatchObject({
      positions: [{ size: '-0.02', entry_price: '50000000', margin_type: 'CROSS' }],
    });

    // no FundingPaid or Liquidation envelope exists yet: empty pages
    expect(await get(long, `/v1/futures/funding-history?symbol=${PERP}`)).toEqual({
      funding: [],
      next_after_seq: null,
    });
    expect(await get(long, `/v1/futures/liquidations?symbol=${PERP}`)).toEqual({
      liquidations: [],
      next_after_seq: null,
    });
    const spot = await stack.signed(long, 'GET', '/v1/futures/funding-history?symbol=BTC-KRW');
    expect(spot.status).toBe(400);
    expect(await spot.json()).toMatchObject({ error: 'NOT_A_PERPETUAL' });
  });

  it('resumes positions after a reconnect to the other instance: what the user missed from the history, then live, each once', async () => {
    const { rows } = await stack.pool.query<{ seq: string }>(
      'SELECT seq FROM futures_position_changes WHERE user_id = $1 ORDER BY seq LIMIT 1',
      [long.userId],
    );
    const resumeFrom = Number(rows[0]!.seq);
    const resumed = await connect(long, otherWsPort);
    expect(await resumed.request({ op: 'subscribe', channels: ['positions'], resume_from_seq: resumeFrom })).toMatchObject({
      type: 'subscribed',
    });
    await fill('0.001');
    await resumed.waitFor((frame) => frame.type === 'PositionChanged' && frame.size === '0.025');
    const expected = async () =>
      (
        await stack.pool.query<{ seq: string }>(
          'SELECT seq FROM futures_position_changes WHERE user_id = $1 AND seq > $2 UNION ALL SELECT seq FROM futures_wallet_changes WHERE user_id = $1 AND seq > $2 ORDER BY seq',
          [long.userId, resumeFrom],
        )
      ).rows.map((row) => Number(row.seq));
    await waitFor(async () => (await expected()).length === positionsOf(resumed).length, 10_000, 'the resumed frames to match PostgreSQL');
    expect(positionsOf(resumed).map((frame) => frame.seq)).toEqual(await expected());
    expect(positionsOf(resumed)[0]!.seq).toBeGreaterThan(resumeFrom);
  });
});
