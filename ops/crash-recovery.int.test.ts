/**
 * Crash recovery of the real core process: several clients stream signed orders, the core is
 * killed with SIGKILL at random moments and restarted on the same DATA_DIR. After each restart
 * every acknowledged order exists with what was sent, acknowledged cancels are applied, every
 * asset is conserved (sum over all accounts = deposits − withdrawals), and in the end the live
 * stateHash equals a fresh offline replay of the whole journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickOrderToCancel, randomOrder, statusUnlessKilled } from './testing/order-mix.ts';
import { testSeed } from './testing/seeds.ts';
import type { TestUser } from '../api/test-client.ts';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../engine/index.ts';
import { replayJournal } from '../sequencer/index.ts';
import { seededRandom as random } from '../sequencer/testing/command-mix.ts';
import { TestCore } from './testing/test-core.ts';

const ENV = {
  // Small, so recovery starts from snapshots as well as replaying the journal tail.
  SNAPSHOT_EVERY: '250',
  // …while keeping every journal segment, so the whole journal can also be replayed from seq 1.
  JOURNAL_KEEP_ALL: 'true',
};
const USERS = 4;
const CLIENTS = 8;
const ROUNDS = 4;
const OPEN = new Set(['Pending', 'PartiallyFilled', 'Untriggered']);

type User = TestUser;
interface AckedOrder {
  readonly orderId: string;
  readonly user: User;
  readonly body: Record<string, unknown>;
}

let harness: TestCore;
let users: User[] = [];
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

const signed = (user: User, method: string, route: string, body?: unknown): Promise<Response> =>
  harness.client.signed(user, method, route, body);

/** Streams orders (and some cancels of its own open orders) until the core goes away. */
async function client(index: number, round: number, stop: { stopped: boolean }): Promise<void> {
  const user = users[index % users.length]!;
  const next = random(seed * 31 + index * 1009 + round);
  const mine: string[] = [];
  for (let sequence = 0; !stop.stopped; sequence++) {
    const orderId = pickOrderToCancel(next, mine);
    if (orderId !== undefined) {
      const status = await statusUnlessKilled(() => signed(user, 'DELETE', `/v1/order/${orderId}`));
      if (status === undefined) return; // the core was killed mid-request: the cancel's outcome is unknown, and that is allowed
      if (status === 200) ackedCancels.add(orderId);
      else expect(status, 'a cancel is refused only because the order already finished').toBe(400);
      continue;
    }
    // unique per client, round and sequence: a repeated id would be (rightly) answered as a retry
    const body = randomOrder(next, `c${index}-${seed}-${round}-${sequence}`, 0.8);
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
  const { expected, actual } = await harness.client.conservation();
  expect(actual, `every asset conserved (seed ${seed})`).toEqual(expected);
}

beforeAll(async () => {
  harness = await TestCore.start({ name: 'crash', env: ENV });
  users = await harness.client.createUsers('crash', USERS);
  // Many snapshots are taken after it.
  const resting = await signed(users[0]!, 'POST', '/v1/order', keepOpen);
  expect(resting.status).toBe(200);
  keepOpenId = ((await resting.json()) as { order_id: string }).order_id;
  await harness.client.withdraw(users[0]!.userId, 'BTC', '1');
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

describe('crash recovery (kill -9 of the core process)', () => {
  it(`keeps every acknowledged order and conserves every asset across ${ROUNDS} kills at random points`, async () => {
    const pick = random(seed);
    for (let round = 0; round < ROUNDS; round++) {
      const stop = { stopped: false };
      const clients = Array.from({ length: CLIENTS }, (_, index) => client(index, round, stop));
      const before = acked.length;
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(pick() * 1200)));
      await harness.kill9();
      stop.stopped = true;
      await Promise.all(clients);
      expect(acked.length, `round ${round} acknowledged orders before the kill`).toBeGreaterThan(before);
      await harness.restart();
      await checkAcknowledged();
    }
  }, 150_000);

  it('restores the same state after a kill without traffic, equal to an offline replay of the journal', async () => {
    const states = new Map<string, string>();
    for (const order of acked) states.set(order.orderId, await (await signed(order.user, 'GET', `/v1/order/${order.orderId}`)).text());
    const live = await harness.client.state();
    console.log(`crash test: seed ${seed}, ${acked.length} acknowledged orders, ${ackedCancels.size} cancels, last_seq ${live.last_seq}`);
    await harness.restart();
    const after = await harness.client.state();
    expect(after).toMatchObject({ last_seq: live.last_seq, state_hash: live.state_hash });
    // A retry of an order placed before the latest snapshot is still recognised after the restart.
    const retry = (await (await signed(users[0]!, 'POST', '/v1/order', keepOpen)).json()) as Record<string, unknown>;
    expect(retry).toMatchObject({ order_id: keepOpenId, duplicate: true, order_status: 'Untriggered' });
    expect((await harness.client.state()).last_seq).toBe(live.last_seq);
    for (const order of acked) {
      expect(await (await signed(order.user, 'GET', `/v1/order/${order.orderId}`)).text(), `order ${order.orderId}`).toBe(
        states.get(order.orderId),
      );
    }
    await harness.kill9();
    const dataDir = harness.dataDir;
    const factory = {
      createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
      restoreEngine: (snapshot: Parameters<typeof Engine.restore>[1]) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
    };
    const fromScratch = await replayJournal({ dataDir, useSnapshots: false, ...factory });
    expect(fromScratch.lastSeq).toBe(live.last_seq);
    expect(fromScratch.snapshotSeq).toBe(0);
    expect(fromScratch.engine.stateHash()).toBe(live.state_hash);
    const fromSnapshot = await replayJournal({ dataDir, ...factory });
    expect(fromSnapshot.snapshotSeq).toBeGreaterThan(0);
    expect(fromSnapshot.engine.stateHash()).toBe(live.state_hash);
  }, 120_000);
});
