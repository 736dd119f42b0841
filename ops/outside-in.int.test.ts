/**
 * Outside-in check of matching and ledger: a real core process driven only through its public,
 * signed HTTP API, compared with an independent reference model written from the documentation
 * (ops/testing/reference-exchange.ts). A seeded random stream of orders of every type, time in
 * force, post-only, self-trade prevention mode and stop kind, plus cancels, deposits, withdrawals
 * and requests that must be refused, goes through HTTP one at a time (each ack awaited, so the
 * sequencing order is the sending order) and into the model; then every order, every balance
 * (fee account included), both books and both trade lists are compared.
 *
 * The stream also carries client_order_id retries (with other bodies, from the owner and from
 * other users, and concurrent ones), cancels of unknown and malformed ids, and the journal seq of
 * every acknowledged command is tracked (order ids are journal seqs, gap-free; the seqs of the
 * core's own Tick commands, sent after a quiet second, are read from the journal). Twice mid-stream
 * (OUTSIDE_IN_KILLS) the core is killed with SIGKILL while three orders are in flight, restarted on
 * the same DATA_DIR (SNAPSHOT_EVERY 200, so recovery is snapshot + journal tail), and everything the
 * model knows is compared again before the stream goes on: in-flight orders are looked up by their
 * journal seq (GET /admin/state last_seq, GET /v1/order/{seq}) and applied to the model only if the
 * server has them, then retried with the same client_order_id (duplicate if applied, placed now if
 * not). At the end the market-data routes are checked against the documented limits and words.
 *
 * OUTSIDE_IN_SEED=<n> replays a run (the commands; which in-flight orders a kill catches depends
 * on timing and is printed); OUTSIDE_IN_COMMANDS=<n> changes its length. The seed is printed, and
 * the command log is written to $TMPDIR/outside-in-<seed>.json when a check fails.
 */
import crypto from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSeed } from './testing/seeds.ts';
import { TEST_ADMIN_TOKEN as ADMIN_TOKEN, TestCore } from './testing/test-core.ts';
import { readJournalRecords } from '../sequencer/index.ts';
import { seededRandom as rng } from '../sequencer/testing/command-mix.ts';
import {
  ASSET_DECIMALS,
  FEE_ACCOUNT,
  ReferenceExchange,
  decimalToUnits,
  marketSpec,
  unitsToDecimal,
  validate,
  type MarketSpec,
  type OrderState,
  type PlaceRequest,
  type PublishedMarket,
  type Trade,
} from './testing/reference-exchange.ts';

const SEED = testSeed('OUTSIDE_IN_SEED', 1764547200);
const COMMANDS = Number(process.env.OUTSIDE_IN_COMMANDS ?? 1500);
const KILLS = Number(process.env.OUTSIDE_IN_KILLS ?? 2);
const SNAPSHOT_EVERY = 200;
// The core process and its environment are the shared harness's (ops/testing/test-core.ts); the
// client, its signing and its users are this file's own, written from the documents.
const ENV = {
  // Low, so a restart loads a snapshot and replays the journal after it (docs/operations.md configuration table).
  SNAPSHOT_EVERY: String(SNAPSHOT_EVERY),
};

/**
 * Known disagreements between the server and the documentation. Only the one field named is left
 * uncompared, and only for the orders the model flags; everything else about those orders (fills,
 * fees, balances, books, trades) is still compared. Each has a minimal reproduction in the
 * tests at the end (it.fails: they turn red once the server is fixed, and the entry here should
 * then go).
 */
const KNOWN_DISAGREEMENTS: Readonly<Record<string, { readonly field: 'ack order_status' | 'status' | 'quantity'; readonly why: string }>> =
  {
    // none open. The first run found three, all about market buys by quote_amount (ack said
    // PartiallyFilled for one that ended Filled; the docs said Filled for one that bought nothing;
    // a rejected one showed the market's max quantity): the server and engine/README were fixed,
    // and the reproductions at the end are now plain tests.
  };
/**
 * CID_FORGOTTEN_AFTER_RESTART (fixed; reproduction in the last describe): after a restart, a retry
 * with the client_order_id of an order that had FINISHED before the latest snapshot placed a new
 * order instead of answering `duplicate: true` (recovery re-indexed only open orders and the events
 * replayed after the snapshot). The ids are engine state now, in the snapshot; retryFromSnapshot
 * checks it after every kill.
 */

const knownFor = (o: OrderState, field: string) => [...o.flags].some((flag) => KNOWN_DISAGREEMENTS[flag]?.field === field);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface User {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
}

class Client {
  constructor(readonly url: string) {}

  async call(method: string, route: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Json }> {
    const response = await fetch(this.url + route, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed };
  }

  admin(method: string, route: string, body?: unknown) {
    return this.call(
      method,
      route,
      { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body === undefined ? undefined : JSON.stringify(body),
    );
  }

  /** HMAC-SHA256(secret, timestamp + METHOD + path_with_query + body), hex (docs/api.md "Signing"). */
  signed(user: User, method: string, route: string, bodyText = '', at = Date.now()) {
    const timestamp = String(at);
    const signature = crypto
      .createHmac('sha256', user.secret)
      .update(timestamp + method + route + bodyText)
      .digest('hex');
    const headers: Record<string, string> = { 'x-api-key': user.key, 'x-timestamp': timestamp, 'x-signature': signature };
    if (bodyText) headers['content-type'] = 'application/json';
    return this.call(method, route, headers, bodyText || undefined);
  }

  get(route: string) {
    return this.call('GET', route, {});
  }
}

type LogEntry =
  | { i: number; kind: 'place' | 'burst'; user: string; body: string; status: number; answer: Json; expected: string }
  | { i: number; kind: 'cancel'; user: string; order: string; status: number; answer: Json; expected: string }
  | { i: number; kind: 'deposit' | 'withdraw'; user: string; asset: string; amount: string; answer: Json }
  | { i: number; kind: 'restart'; facts: Json };

interface RestartFacts {
  readonly atCommand: number;
  readonly seqBeforeKill: string;
  readonly killDelayMs: number;
  readonly inFlight: number;
  readonly answeredBeforeKill: number;
  readonly appliedBeforeKill: number;
  readonly snapshotSeq: number;
  readonly replayedCommands: number;
  readonly restartMs: number;
}

let core: TestCore | undefined;
let client: Client;
let model: ReferenceExchange;
let markets: MarketSpec[] = [];
let publishedMarkets: PublishedMarket[] = [];
/** error words of the served OpenAPI document (components.schemas.Error) */
let documentedErrors = new Set<string>();
const users: User[] = [];
const log: LogEntry[] = [];
const mismatches: Record<string, string[]> = {
  acks: [],
  orders: [],
  balances: [],
  books: [],
  trades: [],
  validation: [],
  markets: [],
  seq: [],
  idempotency: [],
  cancels: [],
  restart: [],
  endpoints: [],
};
let runMs = 0;
let ordersCompared = 0;
/** journal seq of the last acknowledged command (docs/api.md: "Order ids are the order's journal seq"; gap-free) */
let expectedSeq = 0n;
/** snapshot seq the latest restart recovered from: the trades projection starts after it (the ticker is engine state) */
let projectionFloor = 0n;
/** "userId|client_order_id" → order id */
const clientOrderIds = new Map<string, string>();
const restarts: RestartFacts[] = [];
const counts = { retries: 0, retriesOtherUser: 0, bursts: 0, oddCancels: 0, comparisons: 0, ticks: 0, retriesFromSnapshot: 0 };
let phase = '';

function note(kind: string, text: string): void {
  const list = mismatches[kind] ?? (mismatches[kind] = []);
  if (list.length < 40) list.push(phase ? `[${phase}] ${text}` : text);
}

/**
 * Journal seqs the core took for its own Tick commands (engine/docs/api.md "Events": a Ticker that waits
 * in a quiet market goes out with a Tick, journaled like any command) right after the model's last
 * seq, up to `upTo`: the model counts them in, as no client command has them. Read from the journal.
 */
function skipTicks(upTo: bigint): void {
  if (upTo <= expectedSeq) return;
  for (const record of readJournalRecords(core!.dataDir, Number(expectedSeq + 1n))) {
    if (BigInt(record.seq) > upTo || record.command.type !== 'Tick') break;
    expectedSeq = BigInt(record.seq);
    counts.ticks++;
  }
}

/** The next journal seq: every command acknowledged with 200 took one (ARCHITECTURE: gap-free), the core's Ticks the others. */
function sequenced(what: string, id: unknown): void {
  if (typeof id === 'string' && /^\d+$/.test(id) && BigInt(id) > expectedSeq + 1n) skipTicks(BigInt(id) - 1n);
  expectedSeq += 1n;
  if (id !== undefined && id !== String(expectedSeq)) note('seq', `${what}: id ${String(id)}, model's next journal seq ${expectedSeq}`);
}

const fmtPrice = (m: MarketSpec, ticks: bigint) => unitsToDecimal(ticks * m.tickMinor, ASSET_DECIMALS[m.quote] ?? 0);
const fmtLots = (m: MarketSpec, lots: bigint) => unitsToDecimal(lots * m.baseMinorPerLot, ASSET_DECIMALS[m.base] ?? 0);

/** A server decimal → units of the asset, or null (then it is a mismatch of its own). */
function units(text: unknown, decimals: number): bigint | null {
  return typeof text === 'string' ? decimalToUnits(text, decimals) : null;
}

// ------------------------------------------------------------------ the random stream

function* commandStream(
  random: () => number,
): Generator<
  | { kind: 'place'; user: User; req: PlaceRequest; numbers: boolean }
  | { kind: 'burst'; user: User; req: PlaceRequest }
  | { kind: 'cancel'; user: User; order: string; odd?: 'unknown' | 'malformed' }
  | { kind: 'deposit' | 'withdraw'; user: User; asset: string; amount: bigint }
> {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const mid = new Map<string, number>([
    ['BTC-KRW', 50_000],
    ['ETH-KRW', 3_000],
  ]);
  const stp = () => (random() < 0.55 ? {} : { self_trade_prevention: pick(['ExpireTaker', 'ExpireMaker', 'ExpireBoth']) });
  // docs/api.md "Idempotency": 1–64 of A–Z a–z 0–9 _ - . :
  const withId = (req: PlaceRequest, i: number): PlaceRequest => (random() < 0.3 ? { ...req, client_order_id: `oi-${SEED}:${i}` } : req);
  for (let i = 0; i < COMMANDS; i++) {
    const m = pick(markets);
    const center = mid.get(m.symbol) ?? 1000;
    const spread = m.symbol === 'BTC-KRW' ? 12 : 4;
    mid.set(m.symbol, Math.max(100, center + int(-2, 2)));
    const maxLots = m.symbol === 'BTC-KRW' ? 25 : 60;
    const minLots = m.symbol === 'BTC-KRW' ? 1 : 2;
    const user = pick(users);
    const roll = random();
    const qty = () => fmtLots(m, BigInt(int(minLots, maxLots)));
    const perLot = center; // quote per lot (quotePerTickLot is 1 for both markets)
    if (roll < 0.46) {
      const side = pick(['Buy', 'Sell'] as const);
      let ticks = side === 'Buy' ? center + int(-spread, spread / 2) : center + int(-spread / 2, spread);
      // Some orders deliberately meet the same user's own resting orders.
      if (random() < 0.15) {
        const own = model.openOrders(user.id).filter((o) => o.req.symbol === m.symbol && o.req.type === 'Limit' && o.req.side !== side);
        if (own.length > 0) ticks = Number(pick(own).req.priceTicks);
      }
      const tif = random() < 0.8 ? 'GTC' : pick(['IOC', 'FOK']);
      const req: PlaceRequest = {
        symbol: m.symbol,
        side,
        order_type: 'Limit',
        price: fmtPrice(m, BigInt(ticks)),
        quantity: qty(),
        ...stp(),
      };
      if (tif !== 'GTC' || random() < 0.3) req.time_in_force = tif;
      if (tif === 'GTC' && random() < 0.15) req.post_only = true;
      yield { kind: 'place', user, req: withId(req, i), numbers: random() < 0.15 };
    } else if (roll < 0.6) {
      const side = pick(['Buy', 'Sell'] as const);
      const req: PlaceRequest = { symbol: m.symbol, side, order_type: 'Market', ...stp() };
      const how = side === 'Sell' ? 'qty' : pick(['qty', 'quote', 'both']);
      if (how !== 'quote') req.quantity = qty();
      if (how !== 'qty') req.quote_amount = String(int(Math.max(5_000, perLot / 2), perLot * maxLots));
      const tifRoll = random();
      if (how !== 'quote' && tifRoll < 0.2) req.time_in_force = 'FOK';
      else if (tifRoll < 0.5) req.time_in_force = 'IOC';
      yield { kind: 'place', user, req: withId(req, i), numbers: false };
    } else if (roll < 0.71) {
      const side = pick(['Buy', 'Sell'] as const);
      const last = Number(model.last(m.symbol) ?? BigInt(center));
      const stopTicks = side === 'Buy' ? last + int(-2, spread) : last - int(-2, spread);
      const req: PlaceRequest = {
        symbol: m.symbol,
        side,
        order_type: pick(['StopLimit', 'StopMarket']),
        stop_price: fmtPrice(m, BigInt(stopTicks)),
        ...stp(),
      };
      if (req.order_type === 'StopLimit') {
        req.price = fmtPrice(m, BigInt(side === 'Buy' ? stopTicks + int(0, 6) : stopTicks - int(0, 6)));
        req.quantity = qty();
        if (random() < 0.2) req.time_in_force = 'IOC';
      } else if (side === 'Sell') req.quantity = qty();
      else {
        req.quote_amount = String(int(perLot, perLot * maxLots));
        if (random() < 0.3) req.quantity = qty();
      }
      yield { kind: 'place', user, req: withId(req, i), numbers: false };
    } else if (roll < 0.83) {
      const open = model.openOrders(user.id);
      const anyOwn = [...model.orders.values()].filter((o) => o.user === user.id);
      const other = [...model.orders.values()].filter((o) => o.user !== user.id);
      const r = random();
      const target: OrderState | undefined =
        r < 0.8 && open.length > 0 ? pick(open) : r < 0.95 && anyOwn.length > 0 ? pick(anyOwn) : other.length > 0 ? pick(other) : undefined;
      if (target) yield { kind: 'cancel', user, order: target.id };
    } else if (roll < 0.86) {
      const r = random();
      const fresh = (): PlaceRequest => {
        const side = pick(['Buy', 'Sell'] as const);
        return { symbol: m.symbol, side, order_type: 'Limit', price: fmtPrice(m, BigInt(center + int(-spread, spread))), quantity: qty() };
      };
      if (r < 0.5 && clientOrderIds.size > 0) {
        // A retry of a known client_order_id with another (valid) body: mostly by its owner
        // (duplicate), sometimes by another user (ids are per user: a new order).
        const [key] = [...clientOrderIds.entries()][Math.floor(random() * clientOrderIds.size)] ?? [];
        const [owner, cid] = (key ?? '|').split('|');
        const sender = random() < 0.75 ? (users.find((u) => u.id === owner) ?? user) : user;
        yield { kind: 'place', user: sender, req: { ...fresh(), client_order_id: cid ?? 'none' }, numbers: false };
      } else if (r < 0.7) {
        yield { kind: 'burst', user, req: { ...fresh(), client_order_id: `burst-${SEED}:${i}` } };
      } else if (r < 0.85) {
        yield { kind: 'cancel', user, order: String(expectedSeq + 1_000_000n), odd: 'unknown' };
      } else {
        yield { kind: 'cancel', user, order: pick(['abc', '0', '-1', '1.5', '01', '12345678901234567']), odd: 'malformed' };
      }
    } else if (roll < 0.92) {
      // Requests the documentation says are refused with 400 and a given error word.
      const price = fmtPrice(m, BigInt(center));
      const bad: PlaceRequest[] = [
        {
          symbol: m.symbol,
          side: 'Buy',
          order_type: 'Limit',
          price: String(BigInt(center) * m.tickMinor + m.tickMinor / 2n),
          quantity: qty(),
        },
        { symbol: m.symbol, side: 'Buy', order_type: 'Limit', price, quantity: '0.0105' },
        { symbol: m.symbol, side: 'Sell', order_type: 'Limit', price: `${price}.5`, quantity: qty() },
        { symbol: m.symbol, side: 'Sell', order_type: 'Limit', price, quantity: '0.010000001' },
        { symbol: m.symbol, side: 'Buy', order_type: 'Limit', price: '1000', quantity: '0.001' },
        { symbol: m.symbol, side: 'Buy', order_type: 'Limit', price, quantity: qty(), time_in_force: 'IOC', post_only: true },
        { symbol: m.symbol, side: 'Buy', order_type: 'Market', price, quantity: qty() },
        { symbol: m.symbol, side: 'Sell', order_type: 'Market', quantity: qty(), time_in_force: 'GTC' },
        { symbol: m.symbol, side: 'Buy', order_type: 'Market', quote_amount: '100000', time_in_force: 'FOK' },
        { symbol: m.symbol, side: 'Buy', order_type: 'Market', quote_amount: '4999' },
        { symbol: m.symbol, side: 'Sell', order_type: 'Market', quantity: qty(), quote_amount: '100000' },
        { symbol: m.symbol, side: 'Buy', order_type: 'Limit', quantity: qty() },
        { symbol: m.symbol, side: 'Buy', order_type: 'Limit', price, quantity: qty(), stop_price: price },
        { symbol: m.symbol, side: 'Buy', order_type: 'StopLimit', price, quantity: qty() },
        { symbol: m.symbol, side: 'Buy', order_type: 'StopMarket', stop_price: price, quantity: qty() },
        { symbol: m.symbol, side: 'Buy', order_type: 'StopLimit', stop_price: price, price, quantity: qty(), post_only: true },
        { symbol: m.symbol, side: 'Sell', order_type: 'Limit', price, quantity: qty(), self_trade_prevention: 'CancelNewest' },
        { symbol: 'DOGE-KRW', side: 'Buy', order_type: 'Limit', price, quantity: qty() },
      ];
      yield { kind: 'place', user, req: pick(bad), numbers: false };
    } else if (roll < 0.97) {
      const asset = pick([m.quote, m.base]);
      const amount = asset === 'KRW' ? BigInt(int(100_000, 3_000_000)) : BigInt(int(1, 30)) * m.baseMinorPerLot * 10n;
      yield { kind: 'deposit', user, asset, amount };
    } else {
      const asset = pick([m.quote, m.base]);
      const available = model.balance(user.id, asset).available;
      const r = random();
      // over the available (refused), all of it (an empty balance for what follows), or a part
      const amount = r < 0.3 ? available + 1n : r < 0.6 && available > 0n ? available : available / BigInt(int(3, 10)) + 1n;
      yield { kind: 'withdraw', user, asset, amount };
    }
  }
}

/** JSON body, some decimals sent as JSON numbers (docs/api.md: "a number is read by the exact characters sent"). */
function bodyText(req: PlaceRequest, numbers: boolean): string {
  let text = JSON.stringify(req);
  if (numbers) for (const field of ['price', 'quantity']) text = text.replace(new RegExp(`"${field}":"([0-9.]+)"`), `"${field}":$1`);
  return text;
}

function checkTransfer(entry: string, m: ReferenceExchange, user: User, asset: string, answer: Json): void {
  const row = Array.isArray(answer?.balances) ? answer.balances.find((b: Json) => b.asset === asset) : undefined;
  const b = m.balance(user.id, asset);
  const d = ASSET_DECIMALS[asset] ?? 0;
  if (!row || units(row.available, d) !== b.available || units(row.locked, d) !== b.locked) {
    note('balances', `${entry}: transfer answer ${JSON.stringify(row)} ≠ model available ${b.available} locked ${b.locked} (minor units)`);
  }
}

async function runStream(): Promise<void> {
  const random = rng(SEED);
  const killAt = new Map<number, number>();
  for (let k = 0; k < KILLS; k++) killAt.set(Math.floor((COMMANDS * (k + 1)) / (KILLS + 1)), k);
  let i = 0;
  for (const command of commandStream(random)) {
    i++;
    const kill = killAt.get(i);
    if (kill !== undefined) await crashAndRestart(kill, i);
    if (command.kind === 'place') {
      const text = bodyText(command.req, command.numbers);
      const verdict = validate(model.markets, command.req);
      const cid = command.req.client_order_id;
      const original = cid === undefined ? undefined : clientOrderIds.get(`${command.user.id}|${cid}`);
      const answer = await client.signed(command.user, 'POST', '/v1/order', text);
      if ('error' in verdict) {
        log.push({
          i,
          kind: 'place',
          user: command.user.id,
          body: text,
          status: answer.status,
          answer: answer.body,
          expected: `400 ${verdict.error}`,
        });
        if (answer.status !== 400 || answer.body?.error !== verdict.error)
          note('validation', `#${i} ${text}: expected 400 ${verdict.error}, got ${answer.status} ${JSON.stringify(answer.body)}`);
        continue;
      }
      if (original !== undefined) {
        // docs/api.md "Idempotency": "a retry returns the original order_id with duplicate: true and places
        // nothing, whatever the rest of the body says". ASSUMPTION: its order_status is the original
        // order's current status.
        counts.retries++;
        const want = model.orders.get(original)?.status;
        log.push({
          i,
          kind: 'place',
          user: command.user.id,
          body: text,
          status: answer.status,
          answer: answer.body,
          expected: `duplicate of ${original} (${want})`,
        });
        const placedAnew = answer.status === 200 && answer.body?.duplicate !== true && typeof answer.body?.order_id === 'string';
        if (
          answer.status !== 200 ||
          answer.body?.order_id !== original ||
          answer.body?.duplicate !== true ||
          answer.body?.order_status !== want
        ) {
          note(
            'idempotency',
            `#${i} retry of client_order_id ${cid} (order ${original}, ${want}, placed at command seq ${original}, latest restart's snapshot ${projectionFloor}) by user ${command.user.id} with ${text}: got ${answer.status} ${JSON.stringify(answer.body)}`,
          );
          // The server placed it as a new order after all: keep the model in step so that the rest
          // of the run stays comparable (the disagreement itself is reported above).
          if (placedAnew) {
            sequenced(`#${i} retry placed anew`, answer.body.order_id);
            model.place(command.user.id, answer.body.order_id, verdict.order);
          }
        }
        continue;
      }
      if (cid !== undefined && [...clientOrderIds.keys()].some((key) => key.endsWith(`|${cid}`))) counts.retriesOtherUser++;
      if (answer.status !== 200 || typeof answer.body?.order_id !== 'string') {
        log.push({ i, kind: 'place', user: command.user.id, body: text, status: answer.status, answer: answer.body, expected: 'accepted' });
        note('validation', `#${i} ${text}: expected 200, got ${answer.status} ${JSON.stringify(answer.body)}`);
        continue;
      }
      if (answer.body.duplicate !== undefined && answer.body.duplicate !== false)
        note('idempotency', `#${i} ${text} by user ${command.user.id}: a fresh client_order_id answered ${JSON.stringify(answer.body)}`);
      sequenced(`#${i} order`, answer.body.order_id);
      const order = model.place(command.user.id, answer.body.order_id, verdict.order);
      if (cid !== undefined) clientOrderIds.set(`${command.user.id}|${cid}`, order.id);
      log.push({ i, kind: 'place', user: command.user.id, body: text, status: answer.status, answer: answer.body, expected: order.status });
      if (answer.body.order_status !== order.status && !knownFor(order, 'ack order_status') && !knownFor(order, 'status'))
        note('acks', `#${i} order ${order.id} ${text}: ack order_status ${answer.body.order_status}, model ${order.status}`);
    } else if (command.kind === 'burst') {
      // docs/api.md "Idempotency": "Concurrent retries wait on the first one's ack (an in-flight map), so
      // exactly one order is sequenced."
      counts.bursts++;
      const text = JSON.stringify(command.req);
      const verdict = validate(model.markets, command.req);
      // Each copy signed with its own timestamp: a reused signature is rightly REPLAYED_SIGNATURE.
      const now = Date.now();
      const answers = await Promise.all([0, 1, 2].map((j) => client.signed(command.user, 'POST', '/v1/order', text, now - j)));
      log.push({
        i,
        kind: 'burst',
        user: command.user.id,
        body: text,
        status: answers[0]?.status ?? 0,
        answer: answers.map((a) => a.body),
        expected: 'one order',
      });
      if ('error' in verdict) throw new Error(`burst request invalid: ${verdict.error}`);
      const fresh = answers.filter((a) => a.status === 200 && a.body?.duplicate !== true);
      const ids = new Set(answers.map((a) => a.body?.order_id));
      const first = fresh[0];
      if (fresh.length !== 1 || ids.size !== 1 || !first || answers.some((a) => a.status !== 200)) {
        note('idempotency', `#${i} three concurrent ${text}: ${JSON.stringify(answers)}`);
        if (!first) continue;
      }
      sequenced(`#${i} burst order`, first.body.order_id);
      const order = model.place(command.user.id, first.body.order_id, verdict.order);
      clientOrderIds.set(`${command.user.id}|${command.req.client_order_id}`, order.id);
      for (const a of answers)
        if (a.body?.order_status !== order.status)
          note('idempotency', `#${i} concurrent ${text}: order_status ${a.body?.order_status}, model ${order.status}`);
    } else if (command.kind === 'cancel') {
      const answer = await client.signed(command.user, 'DELETE', `/v1/order/${command.order}`);
      if (command.odd) {
        // OpenAPI: 404 "no such order, or not yours"; the order_id parameter pattern ^[1-9]\d{0,15}$
        // (else 400). ASSUMPTION: the word for a malformed id is INVALID_ORDER_ID (engine/README 1007).
        counts.oddCancels++;
        const want = command.odd === 'unknown' ? [404, 'ORDER_NOT_FOUND'] : [400, 'INVALID_ORDER_ID'];
        log.push({
          i,
          kind: 'cancel',
          user: command.user.id,
          order: command.order,
          status: answer.status,
          answer: answer.body,
          expected: want.join(' '),
        });
        if (answer.status !== want[0] || answer.body?.error !== want[1])
          note(
            'cancels',
            `#${i} DELETE /v1/order/${command.order} (${command.odd}): expected ${want.join(' ')}, got ${answer.status} ${JSON.stringify(answer.body)}`,
          );
        continue;
      }
      const expected = model.cancel(command.user.id, command.order);
      log.push({ i, kind: 'cancel', user: command.user.id, order: command.order, status: answer.status, answer: answer.body, expected });
      // OpenAPI DELETE /v1/order/{id}: 200 (sequenced), 400 ORDER_NOT_OPEN (already finished), 404 (no such order, or not yours).
      const ok =
        expected === 'Cancelled'
          ? answer.status === 200 && answer.body?.order_status === 'Cancelled' && answer.body?.order_id === command.order
          : expected === 'ORDER_NOT_FOUND'
            ? answer.status === 404 && answer.body?.error === 'ORDER_NOT_FOUND'
            : answer.status === 400 && answer.body?.error === 'ORDER_NOT_OPEN';
      if (!ok)
        note(
          'cancels',
          `#${i} cancel ${command.order} by user ${command.user.id}: model ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      // The cancel took a journal seq; its ack names the cancelled order, not the seq.
      if (answer.status === 200) sequenced(`#${i} cancel`, undefined);
    } else {
      const route = command.kind === 'deposit' ? '/admin/deposits' : '/admin/withdrawals';
      const amount = unitsToDecimal(command.amount, ASSET_DECIMALS[command.asset] ?? 0);
      const answer = await client.admin('POST', route, { user_id: command.user.id, asset: command.asset, amount });
      log.push({ i, kind: command.kind, user: command.user.id, asset: command.asset, amount, answer: answer.body });
      // OpenAPI TransferAck: request_id is the command seq.
      if (answer.status === 200) sequenced(`#${i} ${command.kind}`, answer.body?.request_id);
      if (command.kind === 'deposit') {
        model.deposit(command.user.id, command.asset, command.amount);
        if (answer.status !== 200 || answer.body?.outcome !== 'Applied')
          note('balances', `#${i} deposit: ${answer.status} ${JSON.stringify(answer.body)}`);
        else checkTransfer(`#${i} deposit`, model, command.user, command.asset, answer.body);
      } else {
        const outcome = model.withdraw(command.user.id, command.asset, command.amount);
        const applied = answer.status === 200 && answer.body?.outcome === 'Applied';
        const refused =
          (answer.status === 200 && answer.body?.outcome === 'Rejected' && answer.body?.reject_reason === 'INSUFFICIENT_AVAILABLE') ||
          (answer.status === 400 && answer.body?.error === 'INSUFFICIENT_AVAILABLE');
        if (outcome === 'Applied' ? !applied : !refused)
          note(
            'balances',
            `#${i} withdrawal of ${amount} ${command.asset}: model ${outcome}, got ${answer.status} ${JSON.stringify(answer.body)}`,
          );
        else if (applied) checkTransfer(`#${i} withdrawal`, model, command.user, command.asset, answer.body);
      }
    }
    if (i % 150 === 0) {
      await compareBalances(`after command #${i}`);
      await compareSeq(`after command #${i}`);
    }
  }
}

/** GET /admin/state last_seq = the model's count of acknowledged commands (plus the core's Ticks). */
async function compareSeq(when: string): Promise<void> {
  const state = await client.admin('GET', '/admin/state');
  const lastSeq = state.body?.last_seq;
  if (Number.isSafeInteger(lastSeq)) skipTicks(BigInt(lastSeq));
  if (String(lastSeq) !== String(expectedSeq)) note('seq', `${when}: last_seq ${lastSeq}, model ${expectedSeq}`);
}

async function compareEverything(): Promise<void> {
  counts.comparisons++;
  await compareSeq('compare');
  await compareBalances('compare');
  await compareOrders();
  await compareBooks();
  await compareTrades();
  await compareOpenOrdersAndTickers();
}

/**
 * kill -9 with three orders in flight, restart on the same DATA_DIR, settle the in-flight orders
 * from what the server answers, compare everything.
 */
async function crashAndRestart(k: number, atCommand: number): Promise<void> {
  const random = rng(SEED ^ (0x1000 + k));
  phase = `before kill ${k + 1}`;
  await compareEverything();
  // What the trades projection showed before the kill: replayed trades must read the same after it.
  const tradesBefore = new Map<string, string>();
  for (const m of markets) {
    for (const t of (await client.get(`/v1/trades/${m.symbol}?limit=1000`)).body?.trades ?? [])
      tradesBefore.set(`${m.symbol}:${t.trade_id}`, JSON.stringify(t));
  }
  const seqBeforeKill = expectedSeq;
  const inFlight = [0, 1, 2].map((j) => {
    const m = markets[j % markets.length] as MarketSpec;
    const user = users[(k * 3 + j) % users.length] as User;
    const center = Number(model.last(m.symbol) ?? (m.symbol === 'BTC-KRW' ? 50_000n : 3_000n));
    const side = random() < 0.5 ? 'Buy' : 'Sell';
    const ticks = BigInt(center + Math.floor(random() * 7) - 3);
    const lots = BigInt((m.symbol === 'BTC-KRW' ? 1 : 2) + Math.floor(random() * 5));
    const req: PlaceRequest = {
      symbol: m.symbol,
      side,
      order_type: 'Limit',
      price: fmtPrice(m, ticks),
      quantity: fmtLots(m, lots),
      client_order_id: `inflight-${SEED}:${k}:${j}`,
    };
    const verdict = validate(model.markets, req);
    if ('error' in verdict) throw new Error(`in-flight order invalid: ${verdict.error}`);
    return { user, req, order: verdict.order, text: JSON.stringify(req) };
  });
  const killDelayMs = Math.floor(random() * 4);
  const sent = inFlight.map((f) =>
    client.signed(f.user, 'POST', '/v1/order', f.text).then(
      (answer) => answer,
      () => undefined,
    ),
  );
  if (killDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, killDelayMs));
  await core!.kill9();
  const answers = await Promise.all(sent);
  const started = performance.now();
  await core!.restart();
  client = new Client(core!.url);
  const restartMs = performance.now() - started;
  phase = `after restart ${k + 1}`;
  const ready = (await client.get('/ready')).body ?? {};
  const recovery = ready.recovery ?? {};
  const lastSeq = BigInt(String((await client.admin('GET', '/admin/state')).body?.last_seq ?? -1));
  // Every acknowledged command survives: the journal holds at least what the model holds, plus
  // at most the three in-flight orders (and the core's Ticks, before, between or after them).
  const ticks = new Set<bigint>();
  if (lastSeq > expectedSeq) {
    for (const record of readJournalRecords(core!.dataDir, Number(expectedSeq + 1n)))
      if (record.command.type === 'Tick' && BigInt(record.seq) <= lastSeq) ticks.add(BigInt(record.seq));
  }
  if (lastSeq < expectedSeq || lastSeq > expectedSeq + 3n + BigInt(ticks.size))
    note('restart', `last_seq ${lastSeq} after the restart; model ${expectedSeq} acknowledged + at most 3 in flight + ${ticks.size} Ticks`);
  // (What the core journaled after recovery can only be its own Ticks.)
  const recoveredSeq = typeof recovery.lastSeq === 'number' ? BigInt(recovery.lastSeq) : -1n;
  let ticksSinceRecovery = true;
  for (let seq = recoveredSeq + 1n; seq <= lastSeq; seq++) if (!ticks.has(seq)) ticksSinceRecovery = false;
  if (recoveredSeq < 0n || recoveredSeq > lastSeq || !ticksSinceRecovery)
    note(
      'restart',
      `/ready recovery.lastSeq ${recovery.lastSeq} ≠ /admin/state last_seq ${lastSeq} (Ticks after it: ${[...ticks].join(', ')})`,
    );
  // ARCHITECTURE "Recovery": latest snapshot + the journal after it.
  if (
    typeof recovery.snapshotSeq !== 'number' ||
    typeof recovery.replayedCommands !== 'number' ||
    BigInt(recovery.snapshotSeq + recovery.replayedCommands) !== recoveredSeq
  ) {
    note('restart', `/ready recovery ${JSON.stringify(recovery)}: snapshotSeq + replayedCommands ≠ lastSeq`);
  }
  // Which in-flight orders did the journal take? They are the seqs after the model's last one.
  const applied = new Set<number>();
  for (let seq = expectedSeq + 1n; seq <= lastSeq && applied.size < inFlight.length; seq++) {
    if (ticks.has(seq)) {
      skipTicks(seq);
      continue;
    }
    let found = -1;
    for (let j = 0; j < inFlight.length && found < 0; j++) {
      const f = inFlight[j];
      if (!f || applied.has(j)) continue;
      const view = await client.signed(f.user, 'GET', `/v1/order/${seq}`);
      if (view.status === 200 && view.body?.client_order_id === f.req.client_order_id) found = j;
    }
    const f = inFlight[found];
    if (!f) {
      note('restart', `journal seq ${seq} after the restart is none of the in-flight orders`);
      break;
    }
    applied.add(found);
    sequenced(`in-flight order ${found}`, String(seq));
    const order = model.place(f.user.id, String(seq), f.order);
    clientOrderIds.set(`${f.user.id}|${f.req.client_order_id}`, order.id);
  }
  let answeredBeforeKill = 0;
  inFlight.forEach((f, j) => {
    const answer = answers[j];
    if (answer?.status !== 200) return;
    answeredBeforeKill++;
    // Acknowledged before the kill: it must have survived (ARCHITECTURE: "an acknowledged order survives kill -9").
    if (!applied.has(j) || clientOrderIds.get(`${f.user.id}|${f.req.client_order_id}`) !== answer.body?.order_id) {
      note('restart', `in-flight order ${j} was acknowledged (${JSON.stringify(answer.body)}) but is not in the journal after the restart`);
    }
  });
  // The documented way to settle an unknown outcome: retry with the same client_order_id.
  for (const [j, f] of inFlight.entries()) {
    const answer = await client.signed(f.user, 'POST', '/v1/order', f.text);
    const known = clientOrderIds.get(`${f.user.id}|${f.req.client_order_id}`);
    if (known !== undefined) {
      const want = model.orders.get(known)?.status;
      if (
        answer.status !== 200 ||
        answer.body?.order_id !== known ||
        answer.body?.duplicate !== true ||
        answer.body?.order_status !== want
      ) {
        note(
          'idempotency',
          `retry of in-flight order ${j} (journal seq ${known}, ${want}) after the restart: got ${answer.status} ${JSON.stringify(answer.body)}`,
        );
        if (answer.status === 200 && answer.body?.duplicate !== true && typeof answer.body?.order_id === 'string') {
          sequenced(`retried in-flight order ${j} placed anew`, answer.body.order_id);
          model.place(f.user.id, answer.body.order_id, f.order);
        }
      }
      continue;
    }
    if (answer.status !== 200 || answer.body?.duplicate === true) {
      note('restart', `retry of in-flight order ${j} that the journal did not take: got ${answer.status} ${JSON.stringify(answer.body)}`);
      continue;
    }
    sequenced(`retried in-flight order ${j}`, answer.body.order_id);
    const order = model.place(f.user.id, answer.body.order_id, f.order);
    clientOrderIds.set(`${f.user.id}|${f.req.client_order_id}`, order.id);
    if (answer.body.order_status !== order.status)
      note('acks', `retried in-flight order ${order.id}: ack order_status ${answer.body.order_status}, model ${order.status}`);
  }
  projectionFloor = BigInt(typeof recovery.snapshotSeq === 'number' ? recovery.snapshotSeq : 0);
  await retryFromSnapshot(projectionFloor);
  const facts: RestartFacts = {
    atCommand,
    seqBeforeKill: String(seqBeforeKill),
    killDelayMs,
    inFlight: inFlight.length,
    answeredBeforeKill,
    appliedBeforeKill: applied.size,
    snapshotSeq: Number(recovery.snapshotSeq),
    replayedCommands: Number(recovery.replayedCommands),
    restartMs: Math.round(restartMs),
  };
  restarts.push(facts);
  log.push({ i: atCommand, kind: 'restart', facts });
  // Replayed trades are the same events (ARCHITECTURE: "event for event"; time comes in on the command).
  for (const m of markets) {
    for (const t of (await client.get(`/v1/trades/${m.symbol}?limit=1000`)).body?.trades ?? []) {
      const before = tradesBefore.get(`${m.symbol}:${t.trade_id}`);
      if (before !== undefined && before !== JSON.stringify(t))
        note('restart', `${m.symbol} trade ${t.trade_id}: before the kill ${before}, after ${JSON.stringify(t)}`);
    }
  }
  await compareEverything();
  phase = `after restart ${k + 1}, stream going on`;
}

/**
 * Right after a restart, retries of client_order_ids whose orders were placed before the snapshot
 * the core recovered from (an open one and finished ones, when there are): no process memory of
 * them survived the kill, only the recovered engine state. docs/api.md "Idempotency": each answers the
 * original order with duplicate: true and places nothing — nothing is journaled either.
 */
async function retryFromSnapshot(snapshotSeq: bigint): Promise<void> {
  const before = [...clientOrderIds.entries()]
    .map(([key, id]) => ({ key, id, order: model.orders.get(id) }))
    .filter((entry) => entry.order !== undefined && BigInt(entry.id) <= snapshotSeq)
    .sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  const isOpen = (entry: (typeof before)[number]) => ['Pending', 'PartiallyFilled', 'Untriggered'].includes(entry.order?.status ?? '');
  const picked = [before.find(isOpen), before.find((entry) => !isOpen(entry)), before.filter((entry) => !isOpen(entry)).at(-1)].filter(
    (entry, index, all) => entry !== undefined && all.indexOf(entry) === index,
  );
  const seqBefore = (await client.admin('GET', '/admin/state')).body?.last_seq;
  for (const entry of picked) {
    if (!entry) continue;
    const [owner, cid] = entry.key.split('|');
    const user = users.find((u) => u.id === owner);
    if (!user || cid === undefined) continue;
    const m = markets[0] as MarketSpec;
    const body = JSON.stringify({
      symbol: m.symbol,
      side: 'Buy',
      order_type: 'Limit',
      price: fmtPrice(m, 1000n),
      quantity: fmtLots(m, 5n),
      client_order_id: cid,
    });
    const answer = await client.signed(user, 'POST', '/v1/order', body);
    counts.retriesFromSnapshot++;
    const want = entry.order?.status;
    if (
      answer.status !== 200 ||
      answer.body?.order_id !== entry.id ||
      answer.body?.duplicate !== true ||
      answer.body?.order_status !== want
    ) {
      note(
        'idempotency',
        `retry after the restart of client_order_id ${cid} (order ${entry.id}, ${want}, before the recovery snapshot ${snapshotSeq}) by user ${owner}: got ${answer.status} ${JSON.stringify(answer.body)}`,
      );
      if (answer.status === 200 && answer.body?.duplicate !== true && typeof answer.body?.order_id === 'string') {
        const verdict = validate(model.markets, JSON.parse(body) as PlaceRequest);
        sequenced('retry after the restart placed anew', answer.body.order_id);
        if ('order' in verdict) model.place(user.id, answer.body.order_id, verdict.order);
      }
    }
  }
  const seqAfter = (await client.admin('GET', '/admin/state')).body?.last_seq;
  if (Number.isSafeInteger(seqAfter)) skipTicks(BigInt(seqAfter));
  if (seqAfter !== seqBefore && String(seqAfter) !== String(expectedSeq))
    note('idempotency', `retries after the restart moved last_seq ${seqBefore} → ${seqAfter} (model ${expectedSeq})`);
}

// ------------------------------------------------------------------ comparisons

async function compareBalances(when: string): Promise<void> {
  const accounts = [...users.map((u) => u.id), FEE_ACCOUNT];
  for (const id of accounts) {
    const user = users.find((u) => u.id === id);
    const answer = user ? await client.signed(user, 'GET', '/v1/balances') : await client.admin('GET', `/admin/balances/${id}`);
    const rows: Json[] = Array.isArray(answer.body?.balances) ? answer.body.balances : [];
    for (const asset of Object.keys(ASSET_DECIMALS)) {
      const d = ASSET_DECIMALS[asset] ?? 0;
      const b = model.balancesOf(id).get(asset) ?? { available: 0n, locked: 0n };
      const row = rows.find((r) => r.asset === asset);
      const available = row ? units(row.available, d) : 0n;
      const locked = row ? units(row.locked, d) : 0n;
      const total = row ? units(row.total, d) : 0n;
      if (available !== b.available || locked !== b.locked || total !== b.available + b.locked) {
        note(
          'balances',
          `${when}: user ${id} ${asset}: server available ${row?.available} locked ${row?.locked} total ${row?.total}; model available ${unitsToDecimal(b.available, d)} locked ${unitsToDecimal(b.locked, d)}`,
        );
      }
    }
  }
}

/** avg_price: the docs give no precision; accept the exact value or one rounded at the digits shown. */
function avgPriceOk(text: unknown, o: OrderState, m: MarketSpec): boolean {
  if (o.filledLots === 0n) return text === null || text === undefined;
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text)) return false;
  const decimals = (text.split('.')[1] ?? '').length;
  const scale = 10n ** BigInt(decimals);
  const shown = decimalToUnits(text, decimals) ?? -1n;
  // exact = filledQuote (quote minor) / (filledLots × baseMinorPerLot / 10^baseDecimals), in quote minor per base unit
  const qd = ASSET_DECIMALS[m.quote] ?? 0;
  const bd = ASSET_DECIMALS[m.base] ?? 0;
  const num = o.filledQuote * 10n ** BigInt(bd) * scale;
  const den = o.filledLots * m.baseMinorPerLot * 10n ** BigInt(qd);
  // |shown − num/den| < 1 (in units of 10^-decimals)
  const diff = shown * den - num;
  return (diff < 0n ? -diff : diff) < den;
}

async function compareOrders(): Promise<void> {
  const byUser = new Map(users.map((u) => [u.id, u]));
  for (const o of model.orders.values()) {
    const user = byUser.get(o.user);
    if (!user) continue;
    const m = model.markets.get(o.req.symbol);
    if (!m) continue;
    ordersCompared++;
    const answer = await client.signed(user, 'GET', `/v1/order/${o.id}`);
    const v = answer.body ?? {};
    const bd = ASSET_DECIMALS[m.base] ?? 0;
    const qd = ASSET_DECIMALS[m.quote] ?? 0;
    const problems: string[] = [];
    if (answer.status !== 200) problems.push(`HTTP ${answer.status}`);
    if (v.status !== o.status && !knownFor(o, 'status')) problems.push(`status ${v.status} ≠ ${o.status}`);
    const quantity = units(v.quantity, bd);
    const filled = units(v.filled_quantity, bd);
    const remaining = units(v.remaining_quantity, bd);
    const skipQuantity = knownFor(o, 'quantity');
    if (quantity !== o.lots * m.baseMinorPerLot && !skipQuantity) problems.push(`quantity ${v.quantity} ≠ ${fmtLots(m, o.lots)}`);
    if (filled !== o.filledLots * m.baseMinorPerLot) problems.push(`filled_quantity ${v.filled_quantity} ≠ ${fmtLots(m, o.filledLots)}`);
    // ASSUMPTION: remaining_quantity is quantity − filled, also for finished orders.
    if (remaining !== (o.lots - o.filledLots) * m.baseMinorPerLot && !skipQuantity)
      problems.push(`remaining_quantity ${v.remaining_quantity} ≠ ${fmtLots(m, o.lots - o.filledLots)}`);
    // ASSUMPTION: filled_quote is Σ notional without fees; fees is Σ fees in fee_asset (the quote).
    if (units(v.filled_quote, qd) !== o.filledQuote) problems.push(`filled_quote ${v.filled_quote} ≠ ${unitsToDecimal(o.filledQuote, qd)}`);
    if (units(v.fees, qd) !== o.fees) problems.push(`fees ${v.fees} ≠ ${unitsToDecimal(o.fees, qd)}`);
    if (!avgPriceOk(v.avg_price, o, m))
      problems.push(`avg_price ${v.avg_price} ≠ ${o.filledLots ? `${o.filledQuote}/${fmtLots(m, o.filledLots)}` : 'null'}`);
    if (
      o.status === 'Rejected' &&
      v.reject_reason !== o.rejectReason &&
      (o.altRejectReason === null || v.reject_reason !== o.altRejectReason)
    )
      problems.push(`reject_reason ${v.reject_reason} ≠ ${o.rejectReason}`);
    if (v.expire_reason !== (o.status === 'Expired' ? o.expireReason : null))
      problems.push(`expire_reason ${v.expire_reason} ≠ ${o.expireReason}`);
    if (v.symbol !== o.req.symbol || v.side !== o.req.side || v.order_type !== o.req.type) problems.push('symbol/side/type differ');
    if (problems.length > 0)
      note(
        'orders',
        `order ${o.id} (user ${o.user}, ${o.req.symbol} ${o.req.side} ${o.req.type} ${o.req.tif}${o.req.postOnly ? ' post-only' : ''} ${o.req.stp}): ${problems.join('; ')}`,
      );
  }
}

async function compareBooks(): Promise<void> {
  for (const m of markets) {
    const answer = await client.get(`/v1/orderbook/${m.symbol}?depth=500`);
    const expected = model.book(m.symbol, 500);
    const bd = ASSET_DECIMALS[m.base] ?? 0;
    const qd = ASSET_DECIMALS[m.quote] ?? 0;
    for (const side of ['bids', 'asks'] as const) {
      const got: string[] = (answer.body?.[side] ?? []).map((level: Json) => `${units(level[0], qd)}@${units(level[1], bd)}`);
      const want = expected[side].map(([ticks, lots]) => `${ticks * m.tickMinor}@${lots * m.baseMinorPerLot}`);
      if (got.join(' ') !== want.join(' '))
        note('books', `${m.symbol} ${side}: server [${got.join(' ')}] ≠ model [${want.join(' ')}] (minor units)`);
    }
    // symbol_seq counts the market's book deltas (gap-free, continuing across restarts).
    const seq = model.symbolSeq.get(m.symbol) ?? 0n;
    if (answer.body?.symbol !== m.symbol || String(answer.body?.symbol_seq) !== String(seq))
      note('books', `${m.symbol}: symbol ${answer.body?.symbol} symbol_seq ${answer.body?.symbol_seq}, model ${seq} book deltas`);
  }
}

/** GET /v1/orders (own open orders) and the ticker's last price and best bid/ask. */
async function compareOpenOrdersAndTickers(): Promise<void> {
  for (const user of users) {
    const answer = await client.signed(user, 'GET', '/v1/orders');
    const got = (Array.isArray(answer.body?.orders) ? answer.body.orders : []).map((o: Json) => `${o.order_id}:${o.status}`).sort();
    const want = model
      .openOrders(user.id)
      .map((o) => `${o.id}:${o.status}`)
      .sort();
    if (got.join(' ') !== want.join(' '))
      note('books', `open orders of user ${user.id}: server [${got.join(' ')}] ≠ model [${want.join(' ')}]`);
  }
  for (const m of markets) {
    const answer = await client.get(`/v1/ticker/${m.symbol}`);
    const qd = ASSET_DECIMALS[m.quote] ?? 0;
    const bd = ASSET_DECIMALS[m.base] ?? 0;
    const book = model.book(m.symbol, 1);
    // The ticker is engine state, 24 h figures included (engine/docs/api.md "Events": Ticker), so it
    // survives restarts whole: every trade of the run counts (the run lies inside one 24 h window).
    const p = model.projection(m.symbol, 0n);
    // Prices in ticks, quantities in lots; undefined = null expected.
    const prices: Record<string, bigint | undefined> = {
      last_price: model.last(m.symbol),
      open_24h: p.open,
      high_24h: p.high,
      low_24h: p.low,
      best_bid: book.bids[0]?.[0],
      best_ask: book.asks[0]?.[0],
    };
    for (const [field, ticks] of Object.entries(prices)) {
      const got = answer.body?.[field];
      const ok = ticks === undefined ? got === null || got === undefined : units(got, qd) === ticks * m.tickMinor;
      if (!ok)
        note(
          'trades',
          `${m.symbol} ticker ${field}: server ${got}, model ${ticks === undefined ? 'none' : fmtPrice(m, ticks)} (every trade since the start, ${restarts.length} restarts)`,
        );
    }
    const quantities: Record<string, bigint | undefined> = {
      best_bid_quantity: book.bids[0]?.[1],
      best_ask_quantity: book.asks[0]?.[1],
      volume_24h: p.volumeLots,
    };
    for (const [field, lots] of Object.entries(quantities)) {
      const got = answer.body?.[field];
      const ok = lots === undefined ? got === null || got === undefined : units(got, bd) === lots * m.baseMinorPerLot;
      if (!ok) note('trades', `${m.symbol} ticker ${field}: server ${got}, model ${lots === undefined ? 'none' : fmtLots(m, lots)}`);
    }
    if (units(answer.body?.quote_volume_24h, qd) !== p.quoteVolume)
      note(
        'trades',
        `${m.symbol} ticker quote_volume_24h: server ${answer.body?.quote_volume_24h}, model ${unitsToDecimal(p.quoteVolume, qd)}`,
      );
    if (answer.body?.symbol !== m.symbol || !Number.isSafeInteger(answer.body?.timestamp))
      note('trades', `${m.symbol} ticker: symbol ${answer.body?.symbol}, timestamp ${answer.body?.timestamp}`);
  }
}

/** A server trade against the model's (price, quantity, quote, taker side, trade id). */
function sameTrade(g: Json, w: Trade, m: MarketSpec): boolean {
  const bd = ASSET_DECIMALS[m.base] ?? 0;
  const qd = ASSET_DECIMALS[m.quote] ?? 0;
  return (
    g?.trade_id === String(w.id) &&
    units(g.price, qd) === w.priceTicks * m.tickMinor &&
    units(g.quantity, bd) === w.lots * m.baseMinorPerLot &&
    units(g.quote_quantity, qd) === w.quote &&
    g.taker_side === w.takerSide &&
    Number.isSafeInteger(g.timestamp)
  );
}

const describeTrade = (m: MarketSpec, w: Trade) =>
  `id ${w.id} price ${fmtPrice(m, w.priceTicks)} qty ${fmtLots(m, w.lots)} quote ${w.quote} taker ${w.takerSide} (maker ${w.makerOrder}, taker ${w.takerOrder}, command seq ${w.seq})`;

/** GET /v1/trades: newest first, the projection since the latest restart's snapshot, at most 1,000. */
async function compareTrades(): Promise<void> {
  for (const m of markets) {
    const answer = await client.get(`/v1/trades/${m.symbol}?limit=1000`);
    const got: Json[] = answer.body?.trades ?? [];
    const want = [...model.projection(m.symbol, projectionFloor).trades].reverse().slice(0, 1000);
    if (answer.body?.symbol !== m.symbol) note('trades', `${m.symbol}: trades answer names symbol ${answer.body?.symbol}`);
    if (got.length !== want.length)
      note('trades', `${m.symbol}: ${got.length} trades, model ${want.length} (trades of commands after seq ${projectionFloor})`);
    for (let k = 0; k < Math.min(got.length, want.length); k++) {
      const g = got[k];
      const w = want[k];
      if (!w) break;
      if (!sameTrade(g, w, m)) {
        note('trades', `${m.symbol} trade #${k} (newest first): server ${JSON.stringify(g)}; model ${describeTrade(m, w)}`);
        break;
      }
      if (k > 0 && got[k - 1].timestamp < g.timestamp) note('trades', `${m.symbol}: timestamps not newest first at #${k}`);
    }
  }
}

/**
 * The market-data routes against the OpenAPI limits and words: trades ?limit (1–1000, default
 * 100), orderbook ?depth (1–500, default 20), unknown symbols, /v1/markets against the
 * engine/README table.
 */
async function checkEndpoints(): Promise<void> {
  const badWord = (answer: { status: number; body: Json }, want?: string) =>
    answer.status !== 400 ||
    typeof answer.body?.error !== 'string' ||
    !documentedErrors.has(answer.body.error) ||
    (want !== undefined && answer.body.error !== want);
  for (const m of markets) {
    const all = [...model.projection(m.symbol, projectionFloor).trades].reverse();
    for (const [query, n] of [
      ['', 100],
      ['?limit=1', 1],
      ['?limit=7', 7],
      ['?limit=1000', 1000],
    ] as const) {
      const answer = await client.get(`/v1/trades/${m.symbol}${query}`);
      const got: Json[] = answer.body?.trades ?? [];
      const want = all.slice(0, n);
      if (answer.status !== 200 || got.length !== want.length || want.some((w, k) => !sameTrade(got[k], w, m))) {
        note(
          'endpoints',
          `GET /v1/trades/${m.symbol}${query}: ${answer.status}, ${got.length} trades, first ${JSON.stringify(got[0])}; model ${want.length}, first ${want[0] ? describeTrade(m, want[0]) : 'none'}`,
        );
      }
    }
    for (const limit of ['0', '1001', 'abc', '-1', '2.5']) {
      const answer = await client.get(`/v1/trades/${m.symbol}?limit=${limit}`);
      if (badWord(answer))
        note(
          'endpoints',
          `GET /v1/trades/${m.symbol}?limit=${limit}: expected 400 with a documented error word, got ${answer.status} ${JSON.stringify(answer.body)}`,
        );
    }
    for (const [query, depth] of [
      ['', 20],
      ['?depth=1', 1],
      ['?depth=3', 3],
    ] as const) {
      const answer = await client.get(`/v1/orderbook/${m.symbol}${query}`);
      const want = model.book(m.symbol, depth);
      const bd = ASSET_DECIMALS[m.base] ?? 0;
      const qd = ASSET_DECIMALS[m.quote] ?? 0;
      for (const side of ['bids', 'asks'] as const) {
        const got = (answer.body?.[side] ?? []).map((level: Json) => `${units(level[0], qd)}@${units(level[1], bd)}`).join(' ');
        const expected = want[side].map(([ticks, lots]) => `${ticks * m.tickMinor}@${lots * m.baseMinorPerLot}`).join(' ');
        if (answer.status !== 200 || got !== expected)
          note('endpoints', `GET /v1/orderbook/${m.symbol}${query} ${side}: ${answer.status} [${got}], model [${expected}]`);
      }
    }
    for (const depth of ['0', '501', 'x']) {
      const answer = await client.get(`/v1/orderbook/${m.symbol}?depth=${depth}`);
      if (badWord(answer))
        note(
          'endpoints',
          `GET /v1/orderbook/${m.symbol}?depth=${depth}: expected 400 with a documented error word, got ${answer.status} ${JSON.stringify(answer.body)}`,
        );
    }
  }
  for (const route of ['/v1/trades/DOGE-KRW', '/v1/ticker/DOGE-KRW', '/v1/orderbook/DOGE-KRW']) {
    const answer = await client.get(route);
    if (badWord(answer, 'UNKNOWN_SYMBOL'))
      note('endpoints', `GET ${route}: expected 400 UNKNOWN_SYMBOL, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  // engine/docs/api.md "Default markets" table; decimals compared by value.
  const table: Record<string, Record<string, string>> = {
    'BTC-KRW': {
      base: 'BTC',
      quote: 'KRW',
      fee_asset: 'KRW',
      tick_size: '1000',
      lot_size: '0.001',
      min_price: '1000',
      max_price: '1000000000000',
      min_quantity: '0.001',
      max_quantity: '1000',
      min_notional: '5000',
      maker_fee_rate: '0.001',
      taker_fee_rate: '0.002',
    },
    'ETH-KRW': {
      base: 'ETH',
      quote: 'KRW',
      fee_asset: 'KRW',
      tick_size: '1000',
      lot_size: '0.001',
      min_price: '1000',
      max_price: '100000000000',
      min_quantity: '0.001',
      max_quantity: '10000',
      min_notional: '5000',
      maker_fee_rate: '0.001',
      taker_fee_rate: '0.002',
    },
  };
  // the spot markets: perpetuals (type "perpetual", docs/futures.md) are not this spot model's
  const published = ((await client.get('/v1/markets')).body?.markets ?? []).filter((m: Json) => m.type !== 'perpetual');
  if (
    published
      .map((m: Json) => m.symbol)
      .sort()
      .join(',') !== Object.keys(table).sort().join(',')
  )
    note('markets', `GET /v1/markets symbols ${published.map((m: Json) => m.symbol)}`);
  for (const m of published) {
    for (const [field, want] of Object.entries(table[m.symbol] ?? {})) {
      const same = /^[A-Z]+$/.test(want)
        ? m[field] === want
        : typeof m[field] === 'string' && decimalToUnits(m[field], 12) === decimalToUnits(want, 12);
      if (!same) note('markets', `${m.symbol} ${field}: ${m[field]}, engine/README ${want}`);
    }
  }
}

// ------------------------------------------------------------------ the run

beforeAll(async () => {
  console.log(`outside-in: seed ${SEED} (OUTSIDE_IN_SEED=${SEED} to replay), ${COMMANDS} commands`);
  core = await TestCore.start({ name: 'outside-in', env: ENV });
  client = new Client(core.url);

  const published = await client.get('/v1/markets');
  // the reference model is a spot exchange: perpetual markets (type "perpetual") are left out
  publishedMarkets = published.body.markets.filter((m: Json) => m.type !== 'perpetual');
  markets = publishedMarkets.map(marketSpec);
  documentedErrors = new Set((await client.get('/openapi.json')).body?.components?.schemas?.Error?.properties?.error?.enum ?? []);
  // OUTSIDE_IN_TRIGGER_CHECK / OUTSIDE_IN_NEAREST switch the model between the readings of the
  // stop rules the documents allow, to see which one the server follows (defaults: the documented reading).
  model = new ReferenceExchange(markets, {
    triggerCheck: process.env.OUTSIDE_IN_TRIGGER_CHECK === 'anyTrade' ? 'anyTrade' : 'final',
    nearest: process.env.OUTSIDE_IN_NEAREST === 'last' ? 'last' : 'market',
  });

  const random = rng(SEED ^ 0x5eed);
  for (let k = 0; k < 6; k++) {
    const created = await client.admin('POST', '/admin/users', { name: `outside-in-${SEED}-${k}` });
    if (created.status !== 201) throw new Error(`create user: ${created.status} ${JSON.stringify(created.body)}`);
    const user = { id: String(created.body.user_id), key: String(created.body.api_key), secret: String(created.body.api_secret) };
    users.push(user);
    // One poor user (k = 0) runs out of funds often.
    const krw = k === 0 ? 400_000n : BigInt(2_000_000 + Math.floor(random() * 20_000_000));
    const btc = k === 0 ? 2_000_000n : BigInt(5_000_000 + Math.floor(random() * 50_000_000));
    const eth = k === 0 ? 20_000_000n : BigInt(200_000_000 + Math.floor(random() * 2_000_000_000));
    for (const [asset, amount] of [
      ['KRW', krw],
      ['BTC', btc],
      ['ETH', eth],
    ] as const) {
      const answer = await client.admin('POST', '/admin/deposits', {
        user_id: user.id,
        asset,
        amount: unitsToDecimal(amount, ASSET_DECIMALS[asset] ?? 0),
      });
      if (answer.status !== 200 || answer.body?.outcome !== 'Applied')
        throw new Error(`deposit: ${answer.status} ${JSON.stringify(answer.body)}`);
      // ASSUMPTION: the first command on a fresh DATA_DIR is seq 1 (docs/operations.md: "full replay from seq 1").
      sequenced('set-up deposit', answer.body.request_id);
      model.deposit(user.id, asset, amount);
    }
  }

  const started = performance.now();
  await runStream();
  phase = 'at the end';
  await compareEverything();
  await checkEndpoints();
  phase = '';
  runMs = performance.now() - started;
  const trades = markets.reduce((sum, m) => sum + (model.trades.get(m.symbol)?.length ?? 0), 0);
  const statuses: Record<string, number> = {};
  for (const o of model.orders.values()) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  console.log(
    `outside-in: seed ${SEED}: ${log.length} log entries, ${model.orders.size} orders, ${ordersCompared} order views compared in ${counts.comparisons} full comparisons, ${trades} trades, last seq ${expectedSeq}, ${(runMs / 1000).toFixed(1)} s; statuses ${JSON.stringify(statuses)}; paths ${JSON.stringify(model.stats)}; extras ${JSON.stringify(counts)}`,
  );
  for (const r of restarts) console.log(`outside-in: seed ${SEED}: restart ${JSON.stringify(r)}`);
  if (Object.values(mismatches).some((list) => list.length > 0)) {
    const file = path.join(os.tmpdir(), `outside-in-${SEED}.json`);
    await writeFile(file, JSON.stringify({ seed: SEED, mismatches, log }, null, 1));
    console.log(`outside-in: seed ${SEED}: mismatches, command log in ${file}`);
  }
}, 150_000);

afterAll(async () => {
  await core?.close();
});

describe(`outside-in: the real server against the documented model (seed ${SEED})`, () => {
  it('publishes the markets of the engine/README table', () => {
    const btc = markets.find((m) => m.symbol === 'BTC-KRW');
    const eth = markets.find((m) => m.symbol === 'ETH-KRW');
    expect(btc).toMatchObject({
      tickMinor: 1000n,
      baseMinorPerLot: 100_000n,
      quotePerTickLot: 1n,
      minNotional: 5000n,
      makerPpm: 1000n,
      takerPpm: 2000n,
      minLots: 1n,
      maxLots: 1_000_000n,
    });
    expect(eth).toMatchObject({
      tickMinor: 1000n,
      baseMinorPerLot: 100_000n,
      quotePerTickLot: 1n,
      minNotional: 5000n,
      makerPpm: 1000n,
      takerPpm: 2000n,
      minLots: 1n,
      maxLots: 10_000_000n,
    });
  });

  for (const kind of [
    'validation',
    'acks',
    'orders',
    'balances',
    'books',
    'trades',
    'markets',
    'seq',
    'idempotency',
    'cancels',
    'restart',
    'endpoints',
  ] as const) {
    it(`${kind}: server agrees with the model`, () => {
      expect(mismatches[kind], `seed ${SEED}`).toEqual([]);
    });
  }

  it('ran a stream that exercises every path', () => {
    const seen = new Set([...model.orders.values()].map((o) => `${o.req.type}:${o.status}`));
    for (const want of [
      'Limit:Filled',
      'Limit:Pending',
      'Limit:Expired',
      'Limit:Rejected',
      'Market:Filled',
      'Market:Expired',
      'Limit:Cancelled',
    ])
      expect(seen, `seed ${SEED}`).toContain(want);
    expect(
      [...seen].some((s) => s.startsWith('StopLimit:') && s !== 'StopLimit:Untriggered' && s !== 'StopLimit:Rejected'),
      `seed ${SEED}`,
    ).toBe(true);
    for (const path of [
      'self-trade ExpireTaker',
      'self-trade ExpireMaker',
      'self-trade ExpireBoth',
      'FOK expired untouched',
      'rejected POST_ONLY_WOULD_TAKE',
      'rejected INSUFFICIENT_FUNDS',
      'market buy: budget spent (amount only)',
      'stop fired: StopLimit Buy',
      'stop fired: StopLimit Sell',
      'stop fired: StopMarket Buy',
      'stop fired: StopMarket Sell',
      'stop fired by a fired stop',
    ]) {
      expect(model.stats[path] ?? 0, `seed ${SEED}: ${path}`).toBeGreaterThan(0);
    }
    expect(counts.retries + counts.retriesOtherUser + counts.bursts + counts.oddCancels, `seed ${SEED}`).toBeGreaterThan(0);
    expect(runMs).toBeLessThan(60_000);
  });

  it(`was killed ${KILLS} times mid-stream and each restart went through a snapshot and the journal after it`, () => {
    expect(restarts).toHaveLength(KILLS);
    // client_order_ids of orders from before the recovery snapshot were retried after the restarts
    if (KILLS > 0) expect(counts.retriesFromSnapshot, `seed ${SEED}`).toBeGreaterThan(0);
    for (const r of restarts) {
      expect(r.snapshotSeq, `seed ${SEED}: ${JSON.stringify(r)}`).toBeGreaterThan(0);
      expect(r.snapshotSeq + r.replayedCommands, `seed ${SEED}: ${JSON.stringify(r)}`).toBeGreaterThanOrEqual(Number(r.seqBeforeKill));
    }
  });
});

/**
 * Minimal reproductions of disagreements this check found, on a fresh core, each asserting what the
 * documents say. A new disagreement gets its reproduction here as `it.fails` (it turns red once the
 * server is fixed) plus a KNOWN_DISAGREEMENTS entry; fixed ones stay as plain tests.
 */
describe('documented behaviour of market buys by amount (reproductions of fixed disagreements)', () => {
  let reproCore: TestCore | undefined;
  let repro: Client;
  let seller: User;
  let buyer: User;

  beforeAll(async () => {
    reproCore = await TestCore.start({ name: 'outside-in-repro', env: ENV });
    repro = new Client(reproCore.url);
    const make = async (name: string): Promise<User> => {
      const created = await repro.admin('POST', '/admin/users', { name });
      const user = { id: String(created.body.user_id), key: String(created.body.api_key), secret: String(created.body.api_secret) };
      for (const [asset, amount] of [
        ['KRW', '1000000'],
        ['BTC', '1'],
        ['ETH', '10'],
      ]) {
        await repro.admin('POST', '/admin/deposits', { user_id: user.id, asset, amount });
      }
      return user;
    };
    seller = await make('repro-seller');
    buyer = await make('repro-buyer');
  }, 60_000);

  afterAll(async () => {
    await reproCore?.close();
  });

  const place = async (user: User, req: PlaceRequest) => {
    const answer = await repro.signed(user, 'POST', '/v1/order', JSON.stringify(req));
    expect(answer.status).toBe(200);
    const view = await repro.signed(user, 'GET', `/v1/order/${answer.body.order_id}`);
    return { ack: answer.body, view: view.body };
  };

  // AMOUNT_BUY_FILLED_BY_BUDGET. 1 ETH-KRW lot at 3,000,000 costs 3,000 + 6 taker fee; 6,500 buys 2 lots
  // (6,012) and cannot buy a third: the buy ends Filled. Was: ack order_status "PartiallyFilled" (the
  // last execution report said so), GET /v1/order "Filled".
  it('the ack of a market buy by amount that ends Filled says Filled (docs/api.md: order_status once applied)', async () => {
    await place(seller, { symbol: 'ETH-KRW', side: 'Sell', order_type: 'Limit', price: '3000000', quantity: '0.01' });
    const { ack, view } = await place(buyer, { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Market', quote_amount: '6500' });
    expect(view).toMatchObject({ status: 'Filled', quantity: '0.002', filled_quantity: '0.002', filled_quote: '6000', fees: '12' });
    expect(ack.order_status).toBe('Filled');
  });

  // AMOUNT_BUY_NOTHING_BOUGHT. 1 BTC-KRW lot at 50,000,000 costs 50,000 + 100; 30,000 cannot buy one.
  // engine/README said such a buy ends Filled; the server said Expired (quantity 0). Expired reads
  // better (nothing was bought): engine/README now says so.
  it('a market buy by an amount that cannot buy one lot expires having bought nothing (engine/README, market buys)', async () => {
    await place(seller, { symbol: 'BTC-KRW', side: 'Sell', order_type: 'Limit', price: '50000000', quantity: '0.01' });
    const { ack, view } = await place(buyer, { symbol: 'BTC-KRW', side: 'Buy', order_type: 'Market', quote_amount: '30000' });
    expect(view).toMatchObject({ quantity: '0', filled_quantity: '0' });
    expect([ack.order_status, view.status]).toEqual(['Expired', 'Expired']);
  });

  // AMOUNT_BUY_REJECTED. A buy by amount alone for more than the available KRW is Rejected
  // (INSUFFICIENT_FUNDS) and has bought nothing. engine/README: "the view shows quantity = lots bought".
  // Was: quantity and remaining_quantity "10000" (ETH-KRW's max_quantity; "1000" on BTC-KRW).
  it('a rejected market buy by amount shows quantity 0, not the market maximum', async () => {
    const { view } = await place(buyer, { symbol: 'ETH-KRW', side: 'Buy', order_type: 'Market', quote_amount: '5000000' });
    expect(view).toMatchObject({ status: 'Rejected', reject_reason: 'INSUFFICIENT_FUNDS', filled_quantity: '0' });
    expect([view.quantity, view.remaining_quantity]).toEqual(['0', '0']);
  });
});

/**
 * CID_FORGOTTEN_AFTER_RESTART — found by the kills in the main run. Reproduction, fresh core with
 * SNAPSHOT_EVERY=10: deposit (seq 1); IOC buy on an empty book with client_order_id "finished-1"
 * (order 2, Expired); GTC buy with "open-1" (order 3, Pending); 12 deposits (a snapshot at seq 10);
 * a retry of "finished-1" answers order 2, duplicate: true. kill -9, restart (/ready recovery:
 * snapshotSeq 10, replayedCommands 5). A retry of "open-1" answers order 3, duplicate: true, but a
 * retry of "finished-1" answered `{"order_id":"16","message":"order accepted","order_status":"Expired"}`:
 * a second order was placed, though GET /v1/order/2 still showed client_order_id "finished-1" (fixed:
 * the ids are engine state now, in the snapshot).
 * docs/api.md "Idempotency": "unique per user among open orders and the most recent 100,000 finished
 * ones … A retry returns the original order_id with duplicate: true … so no restart (kill -9
 * included) forgets one." (and "OUTCOME_UNKNOWN — retry with the same client_order_id" relies on it
 * across the restart that follows).
 */
describe('client_order_id across a restart from a snapshot (reproduction of a fixed disagreement)', () => {
  const env = { ...ENV, SNAPSHOT_EVERY: '10' };
  let reproCore: TestCore | undefined;
  let repro: Client;
  let user: User;
  const finished = JSON.stringify({
    symbol: 'BTC-KRW',
    side: 'Buy',
    order_type: 'Limit',
    price: '50000000',
    quantity: '0.001',
    time_in_force: 'IOC',
    client_order_id: 'finished-1',
  });
  const open = JSON.stringify({
    symbol: 'BTC-KRW',
    side: 'Buy',
    order_type: 'Limit',
    price: '40000000',
    quantity: '0.001',
    client_order_id: 'open-1',
  });
  const acks: Record<string, Json> = {};

  beforeAll(async () => {
    reproCore = await TestCore.start({ name: 'outside-in-cid', env });
    repro = new Client(reproCore.url);
    const created = await repro.admin('POST', '/admin/users', { name: 'repro-cid' });
    user = { id: String(created.body.user_id), key: String(created.body.api_key), secret: String(created.body.api_secret) };
    await repro.admin('POST', '/admin/deposits', { user_id: user.id, asset: 'KRW', amount: '1000000' });
    acks.finished = (await repro.signed(user, 'POST', '/v1/order', finished)).body;
    acks.open = (await repro.signed(user, 'POST', '/v1/order', open)).body;
    // One trade on ETH-KRW before the snapshot (seq 4–6), none after it: after the restart the
    // ticker's last price can only come from recovered engine state, not from replayed trades.
    const createdSeller = await repro.admin('POST', '/admin/users', { name: 'repro-cid-seller' });
    const seller = {
      id: String(createdSeller.body.user_id),
      key: String(createdSeller.body.api_key),
      secret: String(createdSeller.body.api_secret),
    };
    await repro.admin('POST', '/admin/deposits', { user_id: seller.id, asset: 'ETH', amount: '1' });
    await repro.signed(
      seller,
      'POST',
      '/v1/order',
      JSON.stringify({ symbol: 'ETH-KRW', side: 'Sell', order_type: 'Limit', price: '3000000', quantity: '0.01' }),
    );
    acks.trade = (
      await repro.signed(
        user,
        'POST',
        '/v1/order',
        JSON.stringify({ symbol: 'ETH-KRW', side: 'Buy', order_type: 'Limit', price: '3000000', quantity: '0.01' }),
      )
    ).body;
    acks.tickerBefore = (await repro.get('/v1/ticker/ETH-KRW')).body;
    for (let k = 0; k < 12; k++) await repro.admin('POST', '/admin/deposits', { user_id: user.id, asset: 'BTC', amount: '0.1' });
    // Snapshots are written in the background: wait for one (docs/operations.md metric xtrader_snapshots_total).
    for (let t = 0; t < 100; t++) {
      const metrics = String((await repro.get('/metrics')).body);
      if (/^xtrader_snapshots_total(\{[^}]*\})? [1-9]/m.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    acks.finishedRetryBefore = (await repro.signed(user, 'POST', '/v1/order', finished)).body;
    await reproCore.restart();
    repro = new Client(reproCore.url);
    const recovery = (await repro.get('/ready')).body?.recovery;
    // The reproduction needs both orders and the trade inside the snapshot.
    if (!(recovery?.snapshotSeq >= 6)) throw new Error(`no snapshot after the orders: ${JSON.stringify(recovery)}`);
  }, 60_000);

  afterAll(async () => {
    await reproCore?.close();
  });

  it('after the restart the ticker still shows the last trade price and its 24 h figures (engine state, engine/docs/api.md "Events")', async () => {
    expect(acks.trade).toMatchObject({ order_status: 'Filled' });
    expect(acks.tickerBefore).toMatchObject({ last_price: '3000000', volume_24h: '0.01' });
    const ticker = (await repro.get('/v1/ticker/ETH-KRW')).body;
    // the 24 h figures are engine state too: the trade before the snapshot still counts
    expect(ticker).toMatchObject({
      last_price: '3000000',
      volume_24h: '0.01',
      quote_volume_24h: '30000',
      open_24h: '3000000',
      high_24h: '3000000',
      low_24h: '3000000',
    });
  });

  it('before the restart a retry of the finished order is a duplicate', () => {
    expect(acks.finished).toMatchObject({ order_id: '2', order_status: 'Expired' });
    expect(acks.finishedRetryBefore).toMatchObject({ order_id: '2', duplicate: true, order_status: 'Expired' });
  });

  it('after the restart a retry of the open order placed before the snapshot is a duplicate', async () => {
    const answer = await repro.signed(user, 'POST', '/v1/order', open);
    expect(answer.body).toMatchObject({ order_id: acks.open.order_id, duplicate: true, order_status: 'Pending' });
  });

  it('after the restart a retry of the finished order placed before the snapshot is a duplicate (docs/api.md "Idempotency")', async () => {
    const answer = await repro.signed(user, 'POST', '/v1/order', finished);
    expect(answer.body).toMatchObject({ order_id: '2', duplicate: true, order_status: 'Expired' });
  });
});
