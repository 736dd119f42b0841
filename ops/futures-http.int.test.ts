/**
 * Issue 18's worked example over real HTTP against a real core process (ops/testing/test-core.ts):
 * transfer, ISOLATED and 10×, an index price, a long opened 10× against another user's resting
 * sell, half of it closed reduce-only at a higher index — then GET /v1/futures/positions and
 * /account give the figures computed by hand in api/futures-example.test-support.ts; a kill -9 and
 * a restart on the same DATA_DIR (journal replay) give the very same answers and state hash.
 * The JSON is printed for the issue's closing note.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPECTED_LONG_ACCOUNT,
  EXPECTED_LONG_POSITION,
  EXPECTED_SHORT_ACCOUNT,
  EXPECTED_SHORT_POSITION,
  PERP,
  runWorkedExample,
  type WorkedExample,
} from '../api/futures-example.test-support.ts';
import { TestCore } from './testing/test-core.ts';

let harness: TestCore;
let example: WorkedExample;

beforeAll(async () => {
  harness = await TestCore.start({ name: 'futures-http' });
  example = await runWorkedExample(harness.client, `futures-http-${process.pid}`);
}, 120_000);

afterAll(async () => {
  await harness?.close();
});

/** What the test compares before and after the restart: both users' reads. */
async function reads() {
  const client = harness.client;
  const [longPositions, longAccount, shortPositions, shortAccount] = await Promise.all([
    client.futuresPositions(example.long, PERP),
    client.futuresAccount(example.long),
    client.futuresPositions(example.short),
    client.futuresAccount(example.short),
  ]);
  for (const answer of [longPositions, longAccount, shortPositions, shortAccount]) expect(answer.status, answer.text).toBe(200);
  return {
    longPositions: longPositions.body,
    longAccount: longAccount.body,
    shortPositions: shortPositions.body,
    shortAccount: shortAccount.body,
  };
}

describe('futures over HTTP on a real core', () => {
  it("shows the worked example's position and account, computed by hand, and the same after kill -9 and a restart", async () => {
    const before = await reads();
    console.log('GET /v1/futures/positions?symbol=BTC-KRW-PERP (long) →', JSON.stringify(before.longPositions, null, 2));
    console.log('GET /v1/futures/account (long) →', JSON.stringify(before.longAccount, null, 2));
    console.log('GET /v1/futures/positions (short) →', JSON.stringify(before.shortPositions, null, 2));
    console.log('GET /v1/futures/account (short) →', JSON.stringify(before.shortAccount, null, 2));
    expect(before.longPositions).toEqual([EXPECTED_LONG_POSITION]);
    expect(before.shortPositions).toEqual([EXPECTED_SHORT_POSITION]);
    // wallet 2,009,245 (see the support file); cross balance 2,009,245 − 50,000 isolated = available 1,959,245
    expect(before.longAccount).toEqual(EXPECTED_LONG_ACCOUNT);
    // wallet 1,989,698; cross balance 1,989,698 − 10,000 = 1,979,698; minus IM 25,500 = 1,954,198
    expect(before.shortAccount).toEqual(EXPECTED_SHORT_ACCOUNT);
    // quiet first: the core journals a Tick about a second after a market's figures changed
    const stateBefore = await harness.client.settledState();

    await harness.kill9();
    await harness.restart();

    const after = await reads();
    console.log('after kill -9 and restart (journal replay): long account →', JSON.stringify(after.longAccount));
    expect(after).toEqual(before);
    const stateAfter = await harness.client.settledState();
    expect({ last_seq: stateAfter.last_seq, state_hash: stateAfter.state_hash }).toEqual({
      last_seq: stateBefore.last_seq,
      state_hash: stateBefore.state_hash,
    });
  }, 120_000);
});
