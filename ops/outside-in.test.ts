/**
 * Outside-in check of matching and ledger: a real core process driven only through its public,
 * signed HTTP API, compared with an independent reference model written from the documentation
 * (ops/testing/reference-exchange.ts). A seeded random stream of orders of every type, time in
 * force, post-only, self-trade prevention mode and stop kind, plus cancels, deposits, withdrawals
 * and requests that must be refused, goes through HTTP one at a time (each ack awaited, so the
 * sequencing order is the sending order) and into the model; then every order, every balance
 * (fee account included), both books and both trade lists are compared.
 *
 * OUTSIDE_IN_SEED=<n> replays a run; OUTSIDE_IN_COMMANDS=<n> changes its length. The seed is
 * printed, and the command log is written to $TMPDIR/outside-in-<seed>.json when a check fails.
 */
import crypto from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, testPool } from '../api/test-support.ts';
import { spawnCore, type CoreChild } from './core-child.ts';
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
} from './testing/reference-exchange.ts';

const SEED = Number(process.env.OUTSIDE_IN_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COMMANDS = Number(process.env.OUTSIDE_IN_COMMANDS ?? 1500);
const ADMIN_TOKEN = 'outside-in-admin-token-0123456789';
const ENV = {
  ADMIN_TOKEN,
  SECRET_ENCRYPTION_KEY: 'ef'.repeat(32),
  DATABASE_URL: TEST_DATABASE_URL,
  RATE_LIMIT_ORDERS_PER_SEC: '100000',
  RATE_LIMIT_REQUESTS_PER_MIN: '10000000',
};

/**
 * Known disagreements between the server and the documentation. Only the one field named is left
 * uncompared, and only for the orders the model flags; everything else about those orders (fills,
 * fees, balances, books, trades) is still compared. Each has a minimal reproduction in the
 * tests at the end (it.fails: they turn red once the server is fixed, and the entry here should
 * then go).
 */
const KNOWN_DISAGREEMENTS: Readonly<Record<string, { readonly field: 'ack order_status' | 'status' | 'quantity'; readonly why: string }>> = {
  // none open. The first run found three, all about market buys by quote_amount (ack said
  // PartiallyFilled for one that ended Filled; the docs said Filled for one that bought nothing;
  // a rejected one showed the market's max quantity): the server and engine/README were fixed,
  // and the reproductions at the end are now plain tests.
};
const knownFor = (o: OrderState, field: string) => [...o.flags].some((flag) => KNOWN_DISAGREEMENTS[flag]?.field === field);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface User {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
}

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
    return this.call(method, route, { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
  }

  /** HMAC-SHA256(secret, timestamp + METHOD + path_with_query + body), hex (README "Signing"). */
  signed(user: User, method: string, route: string, bodyText = '') {
    const timestamp = String(Date.now());
    const signature = crypto.createHmac('sha256', user.secret).update(timestamp + method + route + bodyText).digest('hex');
    const headers: Record<string, string> = { 'x-api-key': user.key, 'x-timestamp': timestamp, 'x-signature': signature };
    if (bodyText) headers['content-type'] = 'application/json';
    return this.call(method, route, headers, bodyText || undefined);
  }

  get(route: string) {
    return this.call('GET', route, {});
  }
}

type LogEntry =
  | { i: number; kind: 'place'; user: string; body: string; status: number; answer: Json; expected: string }
  | { i: number; kind: 'cancel'; user: string; order: string; status: number; answer: Json; expected: string }
  | { i: number; kind: 'deposit' | 'withdraw'; user: string; asset: string; amount: string; answer: Json };

let dataDir = '';
let core: CoreChild | undefined;
let client: Client;
let model: ReferenceExchange;
let markets: MarketSpec[] = [];
const users: User[] = [];
const log: LogEntry[] = [];
const mismatches: Record<string, string[]> = { acks: [], orders: [], balances: [], books: [], trades: [], validation: [], markets: [] };
let runMs = 0;
let ordersCompared = 0;

function note(kind: string, text: string): void {
  const list = mismatches[kind] ?? (mismatches[kind] = []);
  if (list.length < 40) list.push(text);
}

const fmtPrice = (m: MarketSpec, ticks: bigint) => unitsToDecimal(ticks * m.tickMinor, ASSET_DECIMALS[m.quote] ?? 0);
const fmtLots = (m: MarketSpec, lots: bigint) => unitsToDecimal(lots * m.baseMinorPerLot, ASSET_DECIMALS[m.base] ?? 0);

/** A server decimal → units of the asset, or null (then it is a mismatch of its own). */
function units(text: unknown, decimals: number): bigint | null {
  return typeof text === 'string' ? decimalToUnits(text, decimals) : null;
}

// ------------------------------------------------------------------ the random stream

function* commandStream(random: () => number): Generator<
  | { kind: 'place'; user: User; req: PlaceRequest; numbers: boolean }
  | { kind: 'cancel'; user: User; order: string }
  | { kind: 'deposit' | 'withdraw'; user: User; asset: string; amount: bigint }
> {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const mid = new Map<string, number>([
    ['BTC-KRW', 50_000],
    ['ETH-KRW', 3_000],
  ]);
  const stp = () => (random() < 0.55 ? {} : { self_trade_prevention: pick(['ExpireTaker', 'ExpireMaker', 'ExpireBoth']) });
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
      const req: PlaceRequest = { symbol: m.symbol, side, order_type: 'Limit', price: fmtPrice(m, BigInt(ticks)), quantity: qty(), ...stp() };
      if (tif !== 'GTC' || random() < 0.3) req.time_in_force = tif;
      if (tif === 'GTC' && random() < 0.15) req.post_only = true;
      yield { kind: 'place', user, req, numbers: random() < 0.15 };
    } else if (roll < 0.6) {
      const side = pick(['Buy', 'Sell'] as const);
      const req: PlaceRequest = { symbol: m.symbol, side, order_type: 'Market', ...stp() };
      const how = side === 'Sell' ? 'qty' : pick(['qty', 'quote', 'both']);
      if (how !== 'quote') req.quantity = qty();
      if (how !== 'qty') req.quote_amount = String(int(Math.max(5_000, perLot / 2), perLot * maxLots));
      const tifRoll = random();
      if (how !== 'quote' && tifRoll < 0.2) req.time_in_force = 'FOK';
      else if (tifRoll < 0.5) req.time_in_force = 'IOC';
      yield { kind: 'place', user, req, numbers: false };
    } else if (roll < 0.72) {
      const side = pick(['Buy', 'Sell'] as const);
      const last = Number(model.last(m.symbol) ?? BigInt(center));
      const stopTicks = side === 'Buy' ? last + int(-2, spread) : last - int(-2, spread);
      const req: PlaceRequest = { symbol: m.symbol, side, order_type: pick(['StopLimit', 'StopMarket']), stop_price: fmtPrice(m, BigInt(stopTicks)), ...stp() };
      if (req.order_type === 'StopLimit') {
        req.price = fmtPrice(m, BigInt(side === 'Buy' ? stopTicks + int(0, 6) : stopTicks - int(0, 6)));
        req.quantity = qty();
        if (random() < 0.2) req.time_in_force = 'IOC';
      } else if (side === 'Sell') req.quantity = qty();
      else {
        req.quote_amount = String(int(perLot, perLot * maxLots));
        if (random() < 0.3) req.quantity = qty();
      }
      yield { kind: 'place', user, req, numbers: false };
    } else if (roll < 0.86) {
      const open = model.openOrders(user.id);
      const anyOwn = [...model.orders.values()].filter((o) => o.user === user.id);
      const other = [...model.orders.values()].filter((o) => o.user !== user.id);
      const r = random();
      const target: OrderState | undefined = r < 0.8 && open.length > 0 ? pick(open) : r < 0.95 && anyOwn.length > 0 ? pick(anyOwn) : other.length > 0 ? pick(other) : undefined;
      if (target) yield { kind: 'cancel', user, order: target.id };
    } else if (roll < 0.92) {
      // Requests the documentation says are refused with 400 and a given error word.
      const price = fmtPrice(m, BigInt(center));
      const bad: PlaceRequest[] = [
        { symbol: m.symbol, side: 'Buy', order_type: 'Limit', price: String(BigInt(center) * m.tickMinor + m.tickMinor / 2n), quantity: qty() },
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

/** JSON body, some decimals sent as JSON numbers (README: "a number is read by the exact characters sent"). */
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
  let i = 0;
  for (const command of commandStream(random)) {
    i++;
    if (command.kind === 'place') {
      const text = bodyText(command.req, command.numbers);
      const verdict = validate(model.markets, command.req);
      const answer = await client.signed(command.user, 'POST', '/v1/order', text);
      if ('error' in verdict) {
        log.push({ i, kind: 'place', user: command.user.id, body: text, status: answer.status, answer: answer.body, expected: `400 ${verdict.error}` });
        if (answer.status !== 400 || answer.body?.error !== verdict.error) note('validation', `#${i} ${text}: expected 400 ${verdict.error}, got ${answer.status} ${JSON.stringify(answer.body)}`);
        continue;
      }
      if (answer.status !== 200 || typeof answer.body?.order_id !== 'string') {
        log.push({ i, kind: 'place', user: command.user.id, body: text, status: answer.status, answer: answer.body, expected: 'accepted' });
        note('validation', `#${i} ${text}: expected 200, got ${answer.status} ${JSON.stringify(answer.body)}`);
        continue;
      }
      const order = model.place(command.user.id, answer.body.order_id, verdict.order);
      log.push({ i, kind: 'place', user: command.user.id, body: text, status: answer.status, answer: answer.body, expected: order.status });
      if (answer.body.order_status !== order.status && !knownFor(order, 'ack order_status') && !knownFor(order, 'status')) note('acks', `#${i} order ${order.id} ${text}: ack order_status ${answer.body.order_status}, model ${order.status}`);
    } else if (command.kind === 'cancel') {
      const expected = model.cancel(command.user.id, command.order);
      const answer = await client.signed(command.user, 'DELETE', `/v1/order/${command.order}`);
      log.push({ i, kind: 'cancel', user: command.user.id, order: command.order, status: answer.status, answer: answer.body, expected });
      const ok =
        expected === 'Cancelled'
          ? answer.status === 200 && answer.body?.order_status === 'Cancelled'
          : expected === 'ORDER_NOT_FOUND'
            ? answer.status === 404 && answer.body?.error === 'ORDER_NOT_FOUND'
            : // Finished order: the docs list 200 (acknowledged, nothing changes) or a reject ORDER_NOT_OPEN.
              (answer.status === 400 && answer.body?.error === 'ORDER_NOT_OPEN') || answer.status === 200;
      if (!ok) note('acks', `#${i} cancel ${command.order} by user ${command.user.id}: model ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`);
    } else {
      const route = command.kind === 'deposit' ? '/admin/deposits' : '/admin/withdrawals';
      const amount = unitsToDecimal(command.amount, ASSET_DECIMALS[command.asset] ?? 0);
      const answer = await client.admin('POST', route, { user_id: command.user.id, asset: command.asset, amount });
      log.push({ i, kind: command.kind, user: command.user.id, asset: command.asset, amount, answer: answer.body });
      if (command.kind === 'deposit') {
        model.deposit(command.user.id, command.asset, command.amount);
        if (answer.status !== 200 || answer.body?.outcome !== 'Applied') note('balances', `#${i} deposit: ${answer.status} ${JSON.stringify(answer.body)}`);
        else checkTransfer(`#${i} deposit`, model, command.user, command.asset, answer.body);
      } else {
        const outcome = model.withdraw(command.user.id, command.asset, command.amount);
        const applied = answer.status === 200 && answer.body?.outcome === 'Applied';
        const refused = (answer.status === 200 && answer.body?.outcome === 'Rejected' && answer.body?.reject_reason === 'INSUFFICIENT_AVAILABLE') || (answer.status === 400 && answer.body?.error === 'INSUFFICIENT_AVAILABLE');
        if (outcome === 'Applied' ? !applied : !refused) note('balances', `#${i} withdrawal of ${amount} ${command.asset}: model ${outcome}, got ${answer.status} ${JSON.stringify(answer.body)}`);
        else if (applied) checkTransfer(`#${i} withdrawal`, model, command.user, command.asset, answer.body);
      }
    }
    if (i % 150 === 0) await compareBalances(`after command #${i}`);
  }
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
    if (remaining !== (o.lots - o.filledLots) * m.baseMinorPerLot && !skipQuantity) problems.push(`remaining_quantity ${v.remaining_quantity} ≠ ${fmtLots(m, o.lots - o.filledLots)}`);
    // ASSUMPTION: filled_quote is Σ notional without fees; fees is Σ fees in fee_asset (the quote).
    if (units(v.filled_quote, qd) !== o.filledQuote) problems.push(`filled_quote ${v.filled_quote} ≠ ${unitsToDecimal(o.filledQuote, qd)}`);
    if (units(v.fees, qd) !== o.fees) problems.push(`fees ${v.fees} ≠ ${unitsToDecimal(o.fees, qd)}`);
    if (!avgPriceOk(v.avg_price, o, m)) problems.push(`avg_price ${v.avg_price} ≠ ${o.filledLots ? `${o.filledQuote}/${fmtLots(m, o.filledLots)}` : 'null'}`);
    if (o.status === 'Rejected' && v.reject_reason !== o.rejectReason && v.reject_reason !== o.altRejectReason) problems.push(`reject_reason ${v.reject_reason} ≠ ${o.rejectReason}`);
    if (v.expire_reason !== (o.status === 'Expired' ? o.expireReason : null)) problems.push(`expire_reason ${v.expire_reason} ≠ ${o.expireReason}`);
    if (v.symbol !== o.req.symbol || v.side !== o.req.side || v.order_type !== o.req.type) problems.push('symbol/side/type differ');
    if (problems.length > 0) note('orders', `order ${o.id} (user ${o.user}, ${o.req.symbol} ${o.req.side} ${o.req.type} ${o.req.tif}${o.req.postOnly ? ' post-only' : ''} ${o.req.stp}): ${problems.join('; ')}`);
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
      if (got.join(' ') !== want.join(' ')) note('books', `${m.symbol} ${side}: server [${got.join(' ')}] ≠ model [${want.join(' ')}] (minor units)`);
    }
  }
}

/** GET /v1/orders (own open orders) and the ticker's last price and best bid/ask. */
async function compareOpenOrdersAndTickers(): Promise<void> {
  for (const user of users) {
    const answer = await client.signed(user, 'GET', '/v1/orders');
    const got = (Array.isArray(answer.body?.orders) ? answer.body.orders : []).map((o: Json) => `${o.order_id}:${o.status}`).sort();
    const want = model.openOrders(user.id).map((o) => `${o.id}:${o.status}`).sort();
    if (got.join(' ') !== want.join(' ')) note('books', `open orders of user ${user.id}: server [${got.join(' ')}] ≠ model [${want.join(' ')}]`);
  }
  for (const m of markets) {
    const answer = await client.get(`/v1/ticker/${m.symbol}`);
    const qd = ASSET_DECIMALS[m.quote] ?? 0;
    const book = model.book(m.symbol, 1);
    const want = {
      last_price: model.last(m.symbol),
      best_bid: book.bids[0]?.[0],
      best_ask: book.asks[0]?.[0],
    };
    for (const [field, ticks] of Object.entries(want)) {
      const got = answer.body?.[field];
      const ok = ticks === undefined ? got === null || got === undefined : units(got, qd) === ticks * m.tickMinor;
      if (!ok) note('trades', `${m.symbol} ticker ${field}: server ${got}, model ${ticks === undefined ? 'none' : fmtPrice(m, ticks)}`);
    }
  }
}

async function compareTrades(): Promise<void> {
  for (const m of markets) {
    const answer = await client.get(`/v1/trades/${m.symbol}?limit=1000`);
    const got: Json[] = answer.body?.trades ?? [];
    const want = [...(model.trades.get(m.symbol) ?? [])].reverse().slice(0, 1000);
    const bd = ASSET_DECIMALS[m.base] ?? 0;
    const qd = ASSET_DECIMALS[m.quote] ?? 0;
    if (got.length !== want.length) note('trades', `${m.symbol}: ${got.length} trades, model ${want.length}`);
    for (let k = 0; k < Math.min(got.length, want.length); k++) {
      const g = got[k];
      const w = want[k];
      if (!w) break;
      const same = units(g.price, qd) === w.priceTicks * m.tickMinor && units(g.quantity, bd) === w.lots * m.baseMinorPerLot && units(g.quote_quantity, qd) === w.quote && g.taker_side === w.takerSide;
      if (!same) {
        note('trades', `${m.symbol} trade #${k} (newest first): server ${JSON.stringify(g)}; model price ${fmtPrice(m, w.priceTicks)} qty ${fmtLots(m, w.lots)} quote ${w.quote} taker ${w.takerSide} (maker ${w.makerOrder}, taker ${w.takerOrder})`);
        break;
      }
      if (k > 0 && !(BigInt(got[k - 1].trade_id) > BigInt(g.trade_id))) note('trades', `${m.symbol}: trade ids not descending at #${k}`);
    }
  }
}

// ------------------------------------------------------------------ the run

beforeAll(async () => {
  console.log(`outside-in: seed ${SEED} (OUTSIDE_IN_SEED=${SEED} to replay), ${COMMANDS} commands`);
  await (await testPool()).end();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-outside-in-'));
  core = await spawnCore({ dataDir, env: ENV });
  client = new Client(core.url);

  const published = await client.get('/v1/markets');
  const list: PublishedMarket[] = published.body.markets;
  markets = list.map(marketSpec);
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
      const answer = await client.admin('POST', '/admin/deposits', { user_id: user.id, asset, amount: unitsToDecimal(amount, ASSET_DECIMALS[asset] ?? 0) });
      if (answer.status !== 200 || answer.body?.outcome !== 'Applied') throw new Error(`deposit: ${answer.status} ${JSON.stringify(answer.body)}`);
      model.deposit(user.id, asset, amount);
    }
  }

  const started = performance.now();
  await runStream();
  await compareBalances('at the end');
  await compareOrders();
  await compareBooks();
  await compareTrades();
  await compareOpenOrdersAndTickers();
  runMs = performance.now() - started;
  const trades = markets.reduce((sum, m) => sum + (model.trades.get(m.symbol)?.length ?? 0), 0);
  const statuses: Record<string, number> = {};
  for (const o of model.orders.values()) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  console.log(`outside-in: seed ${SEED}: ${log.length} commands, ${ordersCompared} orders compared, ${trades} trades, ${(runMs / 1000).toFixed(1)} s; statuses ${JSON.stringify(statuses)}; paths ${JSON.stringify(model.stats)}`);
  if (Object.values(mismatches).some((list) => list.length > 0)) {
    const file = path.join(os.tmpdir(), `outside-in-${SEED}.json`);
    await writeFile(file, JSON.stringify({ seed: SEED, mismatches, log }, null, 1));
    console.log(`outside-in: seed ${SEED}: mismatches, command log in ${file}`);
  }
}, 150_000);

afterAll(async () => {
  await core?.kill9();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe(`outside-in: the real server against the documented model (seed ${SEED})`, () => {
  it('publishes the markets of the engine/README table', () => {
    const btc = markets.find((m) => m.symbol === 'BTC-KRW');
    const eth = markets.find((m) => m.symbol === 'ETH-KRW');
    expect(btc).toMatchObject({ tickMinor: 1000n, baseMinorPerLot: 100_000n, quotePerTickLot: 1n, minNotional: 5000n, makerPpm: 1000n, takerPpm: 2000n, minLots: 1n, maxLots: 1_000_000n });
    expect(eth).toMatchObject({ tickMinor: 1000n, baseMinorPerLot: 100_000n, quotePerTickLot: 1n, minNotional: 5000n, makerPpm: 1000n, takerPpm: 2000n, minLots: 1n, maxLots: 10_000_000n });
  });

  for (const kind of ['validation', 'acks', 'orders', 'balances', 'books', 'trades'] as const) {
    it(`${kind}: server agrees with the model`, () => {
      expect(mismatches[kind], `seed ${SEED}`).toEqual([]);
    });
  }

  it('ran a stream that exercises every path', () => {
    const seen = new Set([...model.orders.values()].map((o) => `${o.req.type}:${o.status}`));
    for (const want of ['Limit:Filled', 'Limit:Pending', 'Limit:Expired', 'Limit:Rejected', 'Market:Filled', 'Market:Expired', 'Limit:Cancelled']) expect(seen, `seed ${SEED}`).toContain(want);
    expect([...seen].some((s) => s.startsWith('StopLimit:') && s !== 'StopLimit:Untriggered' && s !== 'StopLimit:Rejected'), `seed ${SEED}`).toBe(true);
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
    expect(runMs).toBeLessThan(60_000);
  });
});

/**
 * Minimal reproductions of disagreements this check found, on a fresh core, each asserting what the
 * documents say. A new disagreement gets its reproduction here as `it.fails` (it turns red once the
 * server is fixed) plus a KNOWN_DISAGREEMENTS entry; fixed ones stay as plain tests.
 */
describe('documented behaviour of market buys by amount (reproductions of fixed disagreements)', () => {
  let reproCore: CoreChild | undefined;
  let reproDir = '';
  let repro: Client;
  let seller: User;
  let buyer: User;

  beforeAll(async () => {
    reproDir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-outside-in-repro-'));
    reproCore = await spawnCore({ dataDir: reproDir, env: ENV });
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
    await reproCore?.kill9();
    if (reproDir) await rm(reproDir, { recursive: true, force: true });
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
  it('the ack of a market buy by amount that ends Filled says Filled (README: order_status once applied)', async () => {
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
