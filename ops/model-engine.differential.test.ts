/**
 * The engine, in process, against the documentation-only reference model
 * (ops/testing/reference-exchange.ts through ops/testing/model-driver.ts) — the same model
 * ops/outside-in.int.test.ts runs over HTTP, here with long seeded random streams (tens of thousands of
 * commands per seed) that HTTP runs are too slow for.
 *
 * After every command: the engine's reject word (OrderRejected) against the model's, the command's
 * trades (price, quantity, quote, taker side, maker / taker order ids and owners, both fees)
 * against the model's trades, every BalanceChanged against the model's balance, the count of book
 * deltas per market against the levels the model touched, and the event-stream promises of
 * ARCHITECTURE.md / engine/README "Events" (global gap-free seq — a trade taking three, its maker
 * and taker reports the two after its own —, per-symbol gap-free symbolSeq, reports before book
 * deltas before balance changes before tickers, one delta per level and one balance change per
 * (user, asset) per command, every report addressed to the order's owner, fill reports cumulative),
 * and each Ticker (at most one per symbol per second; last price, best bid / ask and 24 h figures
 * against the model). The streams carry a Tick every 97 commands.
 * Every CHECK_EVERY commands and at the end: the orders (those touched since the last check, the
 * open ones, and all of them at the end) field by field, and the last report about each order
 * carries its current status; every balance (fee account 0 included) against the model and
 * against the balances replayed from BalanceChanged; both books against the model and against the
 * books replayed from BookDelta (and symbolSeq); open orders per user; last trade price.
 *
 * MODEL_ENGINE_SEED=<n> replays one seed (MODEL_ENGINE_COMMANDS=<n> its length); otherwise the
 * fixed seeds plus one random seed run. A failing seed prints its first mismatches.
 *
 * Known disagreements (ops/testing/model-driver.ts KNOWN_DISAGREEMENTS; none open now) would be
 * tolerated in the long streams — the model following the engine on that one point, how often it
 * came up printed — each with a minimal reproduction below marked it.fails. The three the first
 * runs found are fixed; their reproductions are plain tests.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, Engine, type SpotCommand as Command, type EngineEvent } from '../engine/index.ts';
import { KNOWN_DISAGREEMENTS } from './testing/model-driver.ts';
import { generate, runCommands } from './testing/model-engine-harness.ts';
import { RANDOM_SEEDS } from './testing/seeds.ts';

const FIXED_SEEDS = [1, 2, 3, 4, 5, 20261124];
const ENV_SEED = process.env.MODEL_ENGINE_SEED;
// fixed seeds in CI; TEST_RANDOM_SEEDS=1 adds a fresh one (ops/testing/seeds.ts)
const SEEDS =
  ENV_SEED !== undefined ? [Number(ENV_SEED)] : RANDOM_SEEDS ? [...FIXED_SEEDS, Math.floor(Math.random() * 2 ** 31)] : FIXED_SEEDS;
const COMMANDS = Number(process.env.MODEL_ENGINE_COMMANDS ?? 50_000);
// ------------------------------------------------------------------ tests

describe('engine in process vs the documentation-only reference model', () => {
  for (const seed of SEEDS) {
    it(`agrees on a ${COMMANDS}-command stream, seed ${seed}`, () => {
      const started = performance.now();
      const { commands, checker } = generate(seed, COMMANDS);
      const r = checker.result();
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `model-engine: seed ${seed} (MODEL_ENGINE_SEED=${seed} replays): ${commands.length} commands, ${checker.driver.model.orders.size + checker.driver.shapeRejected.size} orders, ${r.ordersCompared} order views compared, ${r.trades} trades, ${r.tickers} tickers, ${seconds} s; statuses ${JSON.stringify(r.statuses)}; rejects ${JSON.stringify(r.rejects)}; known disagreements tolerated ${JSON.stringify(r.known)}; paths ${JSON.stringify(r.paths)}`,
      );
      if (r.notes.length > 0)
        console.log(
          `model-engine: seed ${seed}: first mismatch after command #${r.firstBad} ${JSON.stringify(commands[r.firstBad])}\n${r.notes.join('\n')}`,
        );
      expect(r.notes, `seed ${seed}`).toEqual([]);
      // The stream went through the documented paths (counted by the model).
      for (const path of [
        'self-trade ExpireTaker',
        'self-trade ExpireMaker',
        'self-trade ExpireBoth',
        'FOK expired untouched',
        'rejected POST_ONLY_WOULD_TAKE',
        'rejected INSUFFICIENT_FUNDS',
        'market buy: budget spent (amount only)',
        'market buy: budget spent, quantity open',
        'stop fired: StopLimit Buy',
        'stop fired: StopLimit Sell',
        'stop fired: StopMarket Buy',
        'stop fired: StopMarket Sell',
        'stop fired by a fired stop',
        'stop fired while others wait',
      ]) {
        expect(r.paths[path] ?? 0, `seed ${seed}: ${path}`).toBeGreaterThan(0);
      }
      expect(r.tickers, `seed ${seed}: Tickers`).toBeGreaterThan(20);
      for (const reject of [
        'CancelOrder NOT_ORDER_OWNER',
        'CancelOrder ORDER_NOT_OPEN',
        'CancelOrder ORDER_NOT_FOUND',
        'Withdraw INSUFFICIENT_AVAILABLE',
        'PlaceOrder DUPLICATE_ORDER_ID',
        'PlaceOrder NOTIONAL_BELOW_MIN',
      ]) {
        expect(r.rejects[reject] ?? 0, `seed ${seed}: ${reject}`).toBeGreaterThan(0);
      }
    }, 60_000);
  }
});

describe('the same, with a cap of 3 open orders per user and market', () => {
  it('agrees on a 20000-command stream, seed 7, the cap refusing orders (TOO_MANY_OPEN_ORDERS)', () => {
    const { checker } = generate(7, 20_000, { ...DEFAULT_ENGINE_CONFIG, maxOpenOrdersPerUserMarket: 3 });
    const r = checker.result();
    if (r.notes.length > 0) console.log(`model-engine (cap 3): first mismatch after command #${r.firstBad}\n${r.notes.join('\n')}`);
    expect(r.notes).toEqual([]);
    expect(r.rejects['PlaceOrder TOO_MANY_OPEN_ORDERS'] ?? 0).toBeGreaterThan(40); // 85
  }, 60_000);
});

// ------------------------------------------------------------------ minimal reproductions

const T = 1_767_225_600_000;
let clock = 0;
const at = () => T + ++clock;
const deposit = (userId: number, asset: string, amount: number): Command => ({ type: 'Deposit', userId, asset, amount, timestamp: at() });
const rejectOf = (events: EngineEvent[]) => events.find((e) => e.type === 'OrderRejected')?.reason ?? null;

describe('disagreements the long streams found, fixed in the engine (minimal reproductions)', () => {
  /**
   * Was KNOWN_DISAGREEMENTS.oneBudgetFillPerMaker (fixed) — found by seeds 2 and 4 (50,000 commands).
   *   1. Deposit user 2: 0.005 ETH (500,000 minor)
   *   2. user 2: Limit Sell ETH-KRW 5 lots @ 2,971 ticks (2,971,000 KRW/ETH), GTC
   *   3. Deposit user 1: 14,883 KRW
   *   4. user 1: Market Buy ETH-KRW quoteAmount 14,883, IOC
   * engine/README "Market buys": "It stops when the budget cannot buy one more lot". With fees
   * rounded down per fill (then), 5 lots in one fill cost 14,855 + 29 = 14,884 > 14,883, so 4 lots
   * (11,884 + 23 = 11,907), and the 2,976 left bought a fifth as a fill of its own (2,971 + 5):
   * the engine stopped after 4, handing 2,976 KRW back, where the documents said 5 lots, fees 28.
   * Fees are charged on the cumulative fill now (engine/README "Fees"), so the split cannot buy
   * more: the fifth lot adds 2,971 + (29 − 23) = 2,977 > 2,976, exactly as 5 at once would.
   * Expected now: 4 lots, Filled, filledQuote 11,884, fees 23, 2,976 KRW handed back.
   */
  it('a market buy stops only when its budget cannot buy one more lot, however its fills are split', () => {
    const commands: Command[] = [
      deposit(2, 'ETH', 500_000),
      {
        type: 'PlaceOrder',
        orderId: 2,
        userId: 2,
        symbol: 'ETH-KRW',
        side: 'Sell',
        orderType: 'Limit',
        price: 2971,
        quantity: 5,
        timeInForce: 'GTC',
        postOnly: false,
        stp: 'ExpireTaker',
        timestamp: at(),
      },
      deposit(1, 'KRW', 14_883),
      {
        type: 'PlaceOrder',
        orderId: 4,
        userId: 1,
        symbol: 'ETH-KRW',
        side: 'Buy',
        orderType: 'Market',
        quoteAmount: 14_883,
        timeInForce: 'IOC',
        postOnly: false,
        stp: 'ExpireTaker',
        timestamp: at(),
      },
    ];
    const engine = new Engine(DEFAULT_ENGINE_CONFIG);
    for (const c of commands) engine.apply(c);
    expect(engine.getOrder(4)).toMatchObject({ status: 'Filled', quantity: 4, filledQuantity: 4, filledQuote: 11_884, feesPaid: 23 });
    expect(engine.balances(1).find((balance) => balance.asset === 'KRW')).toEqual({ asset: 'KRW', available: 2_976, locked: 0 });
    expect(runCommands(commands).notes).toEqual([]);
  });

  /**
   * Was KNOWN_DISAGREEMENTS.cancelOthersFinished (fixed) — found by seed 1 in its first 500 commands.
   *   1. Deposit user 1: 10,000 KRW;  2. user 1: Limit Buy BTC-KRW 1 lot @ 5,000 ticks, GTC
   *   3. user 1 cancels it (Cancelled);  4. user 2 cancels it
   * engine/README reject codes: 3003 NOT_ORDER_OWNER "the order belongs to another user"; 3002
   * ORDER_NOT_FOUND "no such order" — the order exists (getOrder answers it, Cancelled).
   * Expected: NOT_ORDER_OWNER (as for another user's OPEN order). Actual: ORDER_NOT_FOUND.
   * (HTTP folds both into 404, so ops/outside-in cannot see it.)
   */
  it("cancelling another user's finished order is NOT_ORDER_OWNER", () => {
    const engine = new Engine(DEFAULT_ENGINE_CONFIG);
    engine.apply(deposit(1, 'KRW', 10_000));
    engine.apply({
      type: 'PlaceOrder',
      orderId: 2,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Buy',
      orderType: 'Limit',
      price: 5000,
      quantity: 1,
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: at(),
    });
    expect(rejectOf(engine.apply({ type: 'CancelOrder', orderId: 2, userId: 1, timestamp: at() }))).toBe(null);
    expect(engine.getOrder(2)?.status).toBe('Cancelled');
    expect(rejectOf(engine.apply({ type: 'CancelOrder', orderId: 2, userId: 2, timestamp: at() }))).toBe('NOT_ORDER_OWNER');
  });

  /**
   * Was KNOWN_DISAGREEMENTS.fokByAmountNotKept (fixed) — found by seed 1 (first checkpoint).
   *   1. user 1: Market Buy BTC-KRW quoteAmount 10,000, FOK (order id 1)
   *   2. user 1: Limit Buy BTC-KRW 1 lot @ 5,000 ticks with the same order id 1
   * engine/README: "FOK is refused for a buy by amount alone" (INVALID_TIME_IN_FORCE — it is);
   * "Rejected PlaceOrders are kept answerable (status: 'Rejected', rejectCode, rejectReason)";
   * "An order id already known (open or remembered) is rejected as DUPLICATE_ORDER_ID".
   * Expected: getOrder(1) Rejected / INVALID_TIME_IN_FORCE, then DUPLICATE_ORDER_ID.
   * Was: getOrder(1) undefined and the id is placed again (every other stateless reject —
   * PRICE_ABOVE_MAX, QUANTITY_REQUIRED, NOTIONAL_BELOW_MIN, … — is kept).
   */
  it('a FOK market buy by amount alone is refused and kept answerable', () => {
    const engine = new Engine(DEFAULT_ENGINE_CONFIG);
    const fok: Command = {
      type: 'PlaceOrder',
      orderId: 1,
      userId: 1,
      symbol: 'BTC-KRW',
      side: 'Buy',
      orderType: 'Market',
      quoteAmount: 10_000,
      timeInForce: 'FOK',
      postOnly: false,
      stp: 'ExpireTaker',
      timestamp: at(),
    };
    expect(rejectOf(engine.apply(fok))).toBe('INVALID_TIME_IN_FORCE');
    expect(engine.getOrder(1)).toMatchObject({ status: 'Rejected', rejectReason: 'INVALID_TIME_IN_FORCE' });
    expect(
      rejectOf(
        engine.apply({
          type: 'PlaceOrder',
          orderId: 1,
          userId: 1,
          symbol: 'BTC-KRW',
          side: 'Buy',
          orderType: 'Limit',
          price: 5000,
          quantity: 1,
          timeInForce: 'GTC',
          postOnly: false,
          stp: 'ExpireTaker',
          timestamp: at(),
        }),
      ),
    ).toBe('DUPLICATE_ORDER_ID');
  });

  it('every known disagreement has its reproduction here', () => {
    expect(Object.keys(KNOWN_DISAGREEMENTS).sort()).toEqual([]);
  });
});
