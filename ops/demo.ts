/**
 * `npm run demo`: makes the market of a running stack move. Through the admin API (token from
 * ADMIN_TOKEN or $DATA_DIR/admin-token) it creates a market maker, a few takers and a demo trader,
 * funds them, then runs the maker (a ladder of limit orders a side in every market, requoted around
 * a drifting mid price with DELETE /v1/orders + POST /v1/order) and the takers (small market and IOC
 * orders at DEMO_TAKER_RATE per second). It prints the page's URL and the demo trader's key and
 * secret. Ctrl-C stops the loops, cancels the maker's orders and exits 0 (a second Ctrl-C: at once).
 * It is a client like any other: public REST only, signed like docs/api.md's example session.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { signedHeaders, type ApiCredentials } from '../api/signed-client.ts';
import { addSteps, compareDecimal, decimalsOf, fromScaled, toScaled } from '../web/src/decimal.ts';
import type { Market } from '../web/src/types.ts';
import { loadConfig } from './config.ts';

interface DemoUser extends ApiCredentials {
  readonly name: string;
  readonly userId: string;
  lastTimestamp: number;
}

const LEVELS = 8;
/** where a market's mid starts when it has no last price (KRW markets of the default config) */
const START_PRICES: Record<string, string> = { 'BTC-KRW': '50000000', 'ETH-KRW': '3000000' };

const config = loadConfig();
const apiHost = ['0.0.0.0', '::'].includes(config.API_HOST) ? '127.0.0.1' : config.API_HOST;
const base = (config.DEMO_API_URL ?? `http://${apiHost}:${config.API_PORT}`).replace(/\/$/, '');
const say = (line: string) => console.log(line);

let stopping = false;
const stats = { orders: 0, cancels: 0, refused: 0, errors: 0, lastError: '' };

const random = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function adminToken(): Promise<string> {
  if (config.ADMIN_TOKEN) return config.ADMIN_TOKEN;
  const file = path.join(config.DATA_DIR, 'admin-token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new Error(`no ADMIN_TOKEN and no ${file}: start the stack first (npm start), or set ADMIN_TOKEN / DATA_DIR to the stack's`);
  }
}

async function call(
  method: string,
  route: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${route}`, { method, signal: AbortSignal.timeout(10_000), ...init });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body };
}

async function admin(token: string, method: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await call(method, route, {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (answer.status >= 300) throw new Error(`${method} ${route}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** A signed request; the timestamp moves on by at least 1 ms per request of the user (equal requests in one ms would be refused as replays). */
async function signed(
  user: DemoUser,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = body === undefined ? '' : JSON.stringify(body);
  user.lastTimestamp = Math.max(Date.now(), user.lastTimestamp + 1);
  return call(method, route, { headers: signedHeaders(user, method, route, text, user.lastTimestamp), ...(text ? { body: text } : {}) });
}

async function waitForReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  let said = false;
  for (;;) {
    const status = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline)
      throw new Error(
        `${base} is not ready after 60 s (${status === 0 ? 'nothing answers: start the stack with npm start' : `/ready answers ${status}`})`,
      );
    if (!said) say(`demo: waiting for ${base}/ready …`);
    said = true;
    await sleep(1_000);
  }
}

async function createUser(token: string, name: string, funds: Record<string, string>): Promise<DemoUser> {
  const created = await admin(token, 'POST', '/admin/users', { name });
  const user: DemoUser = {
    name,
    userId: String(created.user_id),
    apiKey: String(created.api_key),
    apiSecret: String(created.api_secret),
    lastTimestamp: 0,
  };
  for (const [asset, amount] of Object.entries(funds))
    await admin(token, 'POST', '/admin/deposits', { user_id: Number(user.userId), asset, amount });
  return user;
}

/** `lots` whole lots of the market, as the decimal text the API takes. */
function lots(market: Market, count: number): string {
  const scale = decimalsOf(market.lot_size);
  return fromScaled(toScaled(market.lot_size, scale)! * BigInt(count), scale);
}

/** The fewest lots whose value at `price` reaches the market's minimum notional (and its minimum quantity). */
function minimumLots(market: Market, price: string): number {
  const value = Number(price) * Number(market.lot_size);
  const byNotional = Math.ceil(Number(market.min_notional) / Math.max(value, 1e-9));
  const byQuantity = Math.ceil(Number(market.min_quantity) / Number(market.lot_size));
  return Math.max(1, byNotional, byQuantity);
}

async function order(user: DemoUser, body: Record<string, unknown>): Promise<void> {
  const answer = await signed(user, 'POST', '/v1/order', body);
  stats.orders++;
  if (answer.status !== 200) {
    stats.refused++;
    stats.lastError = `${answer.status} ${String(answer.body.error ?? '')}`;
  }
}

class MakerMarket {
  mid: string;
  constructor(
    readonly market: Market,
    start: string,
  ) {
    this.mid = start;
  }

  /** The mid drifts a few ticks per requote; it never goes below 100 ticks above the market minimum. */
  drift(): void {
    const floor = addSteps(this.market.min_price, this.market.tick_size, 100);
    const next = addSteps(this.mid, this.market.tick_size, random(-4, 4));
    this.mid = compareDecimal(next, floor) < 0 ? floor : next;
  }

  /**
   * Moves the ladder to the new mid without ever emptying the book: the maker's open orders (GET
   * /v1/orders) at prices the new ladder no longer has are cancelled first (so no new quote can meet
   * one of its own), then the missing levels are placed; levels that stay keep their place in the queue.
   */
  async requote(maker: DemoUser): Promise<void> {
    this.drift();
    const wanted = new Map<string, { side: 'Buy' | 'Sell'; price: string }>();
    for (let level = 0; level < LEVELS; level++) {
      const away = 1 + level * 2;
      for (const side of ['Buy', 'Sell'] as const) {
        const price = addSteps(this.mid, this.market.tick_size, side === 'Buy' ? -away : away);
        wanted.set(`${side}@${price}`, { side, price });
      }
    }
    const open = await signed(maker, 'GET', `/v1/orders?symbol=${this.market.symbol}`);
    const orders = (open.body.orders ?? []) as Array<{ order_id: string; side: string; price: string | null }>;
    const cancels: Promise<unknown>[] = [];
    for (const order of orders) {
      const key = `${order.side}@${order.price}`;
      if (wanted.has(key)) wanted.delete(key);
      else {
        stats.cancels++;
        cancels.push(signed(maker, 'DELETE', `/v1/order/${order.order_id}`));
      }
    }
    await Promise.all(cancels);
    await Promise.all(
      [...wanted.values()].map(({ side, price }) =>
        order(maker, {
          symbol: this.market.symbol,
          side,
          order_type: 'Limit',
          price,
          quantity: lots(this.market, minimumLots(this.market, this.mid) * random(2, 12)),
          post_only: true,
        }),
      ),
    );
  }
}

async function takerOrder(taker: DemoUser, maker: MakerMarket): Promise<void> {
  const market = maker.market;
  const side = Math.random() < 0.5 ? 'Buy' : 'Sell';
  const size = lots(market, minimumLots(market, maker.mid) * random(1, 4));
  if (Math.random() < 0.7) {
    await order(taker, { symbol: market.symbol, side, order_type: 'Market', quantity: size });
  } else {
    // a marketable limit that takes what it can and lets the rest go
    const price = addSteps(maker.mid, market.tick_size, side === 'Buy' ? random(1, 6) : -random(1, 6));
    await order(taker, { symbol: market.symbol, side, order_type: 'Limit', price, quantity: size, time_in_force: 'IOC' });
  }
}

async function startPrice(market: Market): Promise<string> {
  const ticker = await call('GET', `/v1/ticker/${market.symbol}`).catch(() => undefined);
  const last = ticker?.body.last_price;
  if (typeof last === 'string') return last;
  return START_PRICES[market.symbol] ?? addSteps(market.min_price, market.tick_size, 10_000);
}

/** Runs `work` every `everyMs` until the demo stops; an error is counted, never fatal. */
async function loop(everyMs: number, work: () => Promise<void>): Promise<void> {
  while (!stopping) {
    const started = Date.now();
    try {
      await work();
    } catch (error) {
      stats.errors++;
      stats.lastError = error instanceof Error ? error.message : String(error);
    }
    const wait = everyMs - (Date.now() - started);
    if (wait > 0 && !stopping) await sleep(wait);
  }
}

async function main(): Promise<void> {
  await waitForReady();
  const token = await adminToken();
  const markets = ((await call('GET', '/v1/markets')).body.markets ?? []) as Market[];
  if (markets.length === 0) throw new Error('GET /v1/markets lists no market');
  const assets = [...new Set(markets.flatMap((market) => [market.base, market.quote]))];
  // generous for the maker and takers; a modest account for the person trying the page
  const plenty = (asset: string, scale: string) => [asset, asset === 'KRW' ? `${scale}000000000` : `${scale}000`] as const;
  const suffix = Date.now().toString(36);
  const maker = await createUser(token, `demo-maker-${suffix}`, Object.fromEntries(assets.map((asset) => plenty(asset, '100'))));
  const takers: DemoUser[] = [];
  for (let index = 1; index <= config.DEMO_TAKERS; index++)
    takers.push(await createUser(token, `demo-taker-${index}-${suffix}`, Object.fromEntries(assets.map((asset) => plenty(asset, '10')))));
  const traderFunds: Record<string, string> = Object.fromEntries(
    assets.map((asset) => [asset, asset === 'KRW' ? '100000000' : asset === 'BTC' ? '1' : '10']),
  );
  const trader = await createUser(token, `demo-trader-${suffix}`, traderFunds);
  const makers = await Promise.all(markets.map(async (market) => new MakerMarket(market, await startPrice(market))));

  say('');
  say(`xtrader demo — driving ${base}`);
  say(`  open the page:  ${base}/`);
  say(
    `  log in as the demo trader (${Object.entries(traderFunds)
      .map(([asset, amount]) => `${asset} ${amount}`)
      .join(', ')}):`,
  );
  say(`    API key     ${trader.apiKey}`);
  say(`    API secret  ${trader.apiSecret}`);
  say(
    `  market maker: ${LEVELS} levels a side in ${markets.map((market) => market.symbol).join(', ')}, requoted every ${config.DEMO_REQUOTE_MS} ms (DEMO_REQUOTE_MS)`,
  );
  say(`  takers: ${takers.length} (DEMO_TAKERS), ${config.DEMO_TAKER_RATE} orders/s together (DEMO_TAKER_RATE)`);
  say("  Ctrl-C stops it (the maker's orders are cancelled first)");
  say('');

  for (const market of makers) await market.requote(maker);
  let next = 0;
  const loops = [
    ...makers.map((market) => loop(config.DEMO_REQUOTE_MS, () => market.requote(maker))),
    loop(1000 / config.DEMO_TAKER_RATE, () => takerOrder(takers[next++ % takers.length]!, makers[random(0, makers.length - 1)]!)),
  ];
  const report = setInterval(() => {
    const mids = makers.map((market) => `${market.market.symbol} ${market.mid}`).join(', ');
    say(
      `demo: ${stats.orders} orders (${stats.refused} refused), ${stats.cancels} cancels, ${stats.errors} errors; mid ${mids}${stats.lastError ? `; last problem: ${stats.lastError}` : ''}`,
    );
  }, 15_000);

  let signals = 0;
  const stop = () => {
    signals++;
    if (signals > 1) process.exit(130);
    if (stopping) return;
    stopping = true;
    say("demo: stopping — cancelling the maker's orders");
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await Promise.all(loops);
  clearInterval(report);
  for (const market of makers) await signed(maker, 'DELETE', `/v1/orders?symbol=${market.market.symbol}`).catch(() => undefined);
  say(`demo: stopped after ${stats.orders} orders`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
