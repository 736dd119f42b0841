/**
 * Crash recovery of the real core process: several clients stream signed orders, the core is
 * killed with SIGKILL at random moments and restarted on the same DATA_DIR. After each restart
 * every acknowledged order exists with what was sent, acknowledged cancels are applied, every
 * asset is conserved (sum over all accounts = deposits − withdrawals), and in the end the live
 * stateHash equals a fresh offline replay of the whole journal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSeed } from './testing/seeds.ts';
import { signedHeaders, type ApiCredentials } from '../api/signed-client.ts';
import { TEST_DATABASE_URL, testPool } from '../api/test-support.ts';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../engine/index.ts';
import { replayJournal } from '../sequencer/index.ts';
import { seededRandom as random } from '../sequencer/testing/command-mix.ts';
import { spawnCore, type CoreChild } from './core-child.ts';

const ADMIN_TOKEN = 'crash-test-admin-token-0123456789';
const ENV = {
  ADMIN_TOKEN,
  SECRET_ENCRYPTION_KEY: 'cd'.repeat(32),
  DATABASE_URL: TEST_DATABASE_URL,
  RATE_LIMIT_ORDERS_PER_SEC: '100000',
  RATE_LIMIT_REQUESTS_PER_MIN: '10000000',
  // Small, so recovery starts from snapshots as well as replaying the journal tail.
  SNAPSHOT_EVERY: '250',
  // …while keeping every journal segment, so the whole journal can also be replayed from seq 1.
  JOURNAL_KEEP_ALL: 'true',
};
const USERS = 4;
const CLIENTS = 8;
const ROUNDS = 4;
const OPEN = new Set(['Pending', 'PartiallyFilled', 'Untriggered']);

interface User extends ApiCredentials {
  readonly userId: string;
}
interface AckedOrder {
  readonly orderId: string;
  readonly user: User;
  readonly body: Record<string, unknown>;
}


let dataDir: string;
let core: CoreChild | undefined;
let port: number;
const users: User[] = [];
const deposited: Record<string, bigint> = {};
const acked: AckedOrder[] = [];
const ackedCancels = new Set<string>();
/** A buy stop far above the market: stays Untriggered (open, never fillable) through every round. */
const keepOpen = {
  symbol: 'BTC-KRW',
  side: 'Buy',
  order_type: 'StopLimit',
  stop_price: '900000000000',
  price: '900000000000',
  quantity: '0.001',
  client_order_id: 'keep-open',
};
let keepOpenId = '';
const seed = testSeed('CRASH_SEED', 223019);

async function admin(method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(`${core!.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function signed(user: ApiCredentials, method: string, route: string, body?: unknown): Promise<Response> {
  const text = body === undefined ? '' : JSON.stringify(body);
  return fetch(`${core!.url}${route}`, { method, headers: signedHeaders(user, method, route, text), ...(text ? { body: text } : {}) });
}

function orderFor(next: () => number, client: number, round: number, sequence: number): Record<string, unknown> {
  const side = next() < 0.5 ? 'Buy' : 'Sell';
  const symbol = next() < 0.8 ? 'BTC-KRW' : 'ETH-KRW';
  const mid = symbol === 'BTC-KRW' ? 50_000 : 3_000; // in 1,000-KRW ticks
  // unique per client, round and sequence: a repeated id would be (rightly) answered as a retry
  const clientOrderId = `c${client}-${seed}-${round}-${sequence}`;
  if (next() < 0.1) return { symbol, side, order_type: 'Market', quantity: '0.01', client_order_id: clientOrderId };
  const ticks = mid + Math.floor(next() * 21) - 10;
  return { symbol, side, order_type: 'Limit', price: `${ticks}000`, quantity: `0.0${1 + Math.floor(next() * 9)}`, client_order_id: clientOrderId };
}

/** Streams orders (and some cancels of its own open orders) until the core goes away. */
async function client(index: number, round: number, stop: { stopped: boolean }): Promise<void> {
  const user = users[index % users.length]!;
  const next = random(seed * 31 + index * 1009 + round);
  const mine: string[] = [];
  for (let sequence = 0; !stop.stopped; sequence++) {
    if (mine.length > 0 && next() < 0.15) {
      const orderId = mine.splice(Math.floor(next() * mine.length), 1)[0]!;
      let status: number;
      try {
        const response = await signed(user, 'DELETE', `/v1/order/${orderId}`);
        status = response.status;
        await response.arrayBuffer();
      } catch {
        return; // the core was killed mid-request: the cancel's outcome is unknown, and that is allowed
      }
      if (status === 200) ackedCancels.add(orderId);
      else expect(status, 'a cancel is refused only because the order already finished').toBe(400);
      continue;
    }
    const body = orderFor(next, index, round, sequence);
    let status: number;
    let ack: { order_id: string; duplicate?: boolean } | undefined;
    try {
      const response = await signed(user, 'POST', '/v1/order', body);
      status = response.status;
      if (status === 200) ack = (await response.json()) as { order_id: string; duplicate?: boolean };
      else await response.arrayBuffer();
    } catch {
      return; // killed mid-request (or mid-answer): that order's outcome is unknown, and that is allowed
    }
    expect(status, `order ${JSON.stringify(body)}`).toBe(200);
    expect(ack!.duplicate, `client_order_id ${String(body.client_order_id)} is fresh`).toBeUndefined();
    acked.push({ orderId: ack!.order_id, user, body });
    mine.push(ack!.order_id);
  }
}

async function balancesTotal(): Promise<Record<string, bigint>> {
  const totals: Record<string, bigint> = {};
  for (const userId of ['0', ...users.map((user) => user.userId)]) {
    const answer = (await (await admin('GET', `/admin/balances/${userId}`)).json()) as { balances: Array<{ asset: string; total: string }> };
    for (const balance of answer.balances) {
      const [whole = '0', fraction = ''] = balance.total.split('.');
      totals[balance.asset] = (totals[balance.asset] ?? 0n) + BigInt(whole + fraction.padEnd(8, '0'));
    }
  }
  return totals;
}

async function checkAcknowledged(): Promise<void> {
  for (const order of acked) {
    const response = await signed(order.user, 'GET', `/v1/order/${order.orderId}`);
    expect(response.status, `acked order ${order.orderId} must survive (seed ${seed})`).toBe(200);
    const state = (await response.json()) as Record<string, unknown>;
    expect(state).toMatchObject({
      order_id: order.orderId,
      symbol: order.body.symbol,
      side: order.body.side,
      order_type: order.body.order_type,
      client_order_id: order.body.client_order_id,
    });
    if (ackedCancels.has(order.orderId)) expect(OPEN.has(String(state.status)), `cancelled ${order.orderId}`).toBe(false);
  }
  const totals = await balancesTotal();
  for (const [asset, amount] of Object.entries(deposited)) expect(totals[asset] ?? 0n, `asset ${asset} conserved (seed ${seed})`).toBe(amount);
}

beforeAll(async () => {
  await (await testPool()).end(); // database and migrations in place before the children start
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-crash-'));
  core = await spawnCore({ dataDir, env: ENV });
  port = core.port;
  for (let index = 0; index < USERS; index++) {
    const created = (await (await admin('POST', '/admin/users', { name: `crash-${index}` })).json()) as Record<string, string>;
    const user = { userId: created.user_id!, apiKey: created.api_key!, apiSecret: created.api_secret! };
    users.push(user);
    for (const [asset, amount, minor] of [
      ['KRW', '100000000000', 100_000_000_000n],
      ['BTC', '1000', 1000_00000000n],
      ['ETH', '1000', 1000_00000000n],
    ] as const) {
      const response = await admin('POST', '/admin/deposits', { user_id: user.userId, asset, amount });
      expect(response.status).toBe(200);
      // Totals are compared in units of 10^-8 for every asset (KRW itself has 0 decimals).
      deposited[asset] = (deposited[asset] ?? 0n) + (asset === 'KRW' ? minor * 100_000_000n : minor);
    }
  }
  // Many snapshots are taken after it.
  const resting = await signed(users[0]!, 'POST', '/v1/order', keepOpen);
  expect(resting.status).toBe(200);
  keepOpenId = ((await resting.json()) as { order_id: string }).order_id;
  const withdrawal = await admin('POST', '/admin/withdrawals', { user_id: users[0]!.userId, asset: 'BTC', amount: '1' });
  expect(withdrawal.status).toBe(200);
  deposited.BTC = deposited.BTC! - 100_000_000n;
}, 120_000);

afterAll(async () => {
  await core?.kill9();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('crash recovery (kill -9 of the core process)', () => {
  it(`keeps every acknowledged order and conserves every asset across ${ROUNDS} kills at random points`, async () => {
    const pick = random(seed);
    for (let round = 0; round < ROUNDS; round++) {
      const stop = { stopped: false };
      const clients = Array.from({ length: CLIENTS }, (_, index) => client(index, round, stop));
      const before = acked.length;
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(pick() * 1200)));
      await core!.kill9();
      stop.stopped = true;
      await Promise.all(clients);
      expect(acked.length, `round ${round} acknowledged orders before the kill`).toBeGreaterThan(before);
      core = await spawnCore({ dataDir, port, env: ENV });
      await checkAcknowledged();
    }
  }, 150_000);

  it('restores the same state after a kill without traffic, equal to an offline replay of the journal', async () => {
    const states = new Map<string, string>();
    for (const order of acked) states.set(order.orderId, await (await signed(order.user, 'GET', `/v1/order/${order.orderId}`)).text());
    const live = (await (await admin('GET', '/admin/state')).json()) as { last_seq: number; state_hash: string };
    console.log(`crash test: seed ${seed}, ${acked.length} acknowledged orders, ${ackedCancels.size} cancels, last_seq ${live.last_seq}`);
    await core!.kill9();
    core = await spawnCore({ dataDir, port, env: ENV });
    const after = (await (await admin('GET', '/admin/state')).json()) as { last_seq: number; state_hash: string };
    expect(after).toMatchObject({ last_seq: live.last_seq, state_hash: live.state_hash });
    // A retry of an order placed before the latest snapshot is still recognised after the restart.
    const retry = (await (await signed(users[0]!, 'POST', '/v1/order', keepOpen)).json()) as Record<string, unknown>;
    expect(retry).toMatchObject({ order_id: keepOpenId, duplicate: true, order_status: 'Untriggered' });
    expect(((await (await admin('GET', '/admin/state')).json()) as { last_seq: number }).last_seq).toBe(live.last_seq);
    for (const order of acked) {
      expect(await (await signed(order.user, 'GET', `/v1/order/${order.orderId}`)).text(), `order ${order.orderId}`).toBe(states.get(order.orderId));
    }
    await core!.kill9();
    const factory = { createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG), restoreEngine: (snapshot: Parameters<typeof Engine.restore>[1]) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot) };
    const fromScratch = await replayJournal({ dataDir, useSnapshots: false, ...factory });
    expect(fromScratch.lastSeq).toBe(live.last_seq);
    expect(fromScratch.snapshotSeq).toBe(0);
    expect(fromScratch.engine.stateHash()).toBe(live.state_hash);
    const fromSnapshot = await replayJournal({ dataDir, ...factory });
    expect(fromSnapshot.snapshotSeq).toBeGreaterThan(0);
    expect(fromSnapshot.engine.stateHash()).toBe(live.state_hash);
  }, 120_000);
});
