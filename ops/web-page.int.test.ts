/**
 * The trading page in a real browser (Debian's chromium driven by playwright-core) against the real
 * stack: core (serving the page), the three publishers, the persister, the market-data service, a
 * ws-server, and `npm run demo` (ops/demo.ts) making the market move. It logs in with the demo
 * trader's key, watches the book and trades update, trades against the maker, amends and cancels a
 * resting order, reads the chart, has an order rejected, and checks the layout at 1280×800 and at a
 * phone's width. Screenshots go to .data/screenshots/ (git-ignored).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './config.ts';
import { freePort } from './core-child.ts';
import { ensureChromium } from './services/chromium.ts';
import { spawnTs, Stack, waitFor, type ChildHandle } from './testing/stack.ts';
import { buildWeb, describeBuild } from './web-build.ts';

const SHOTS = path.join(PROJECT_ROOT, '.data', 'screenshots');

// What the callbacks run inside the page touch (they execute in chromium, not in node; declared here
// for this module only, so the project's type-check keeps no DOM globals).
interface PageElement {
  textContent: string | null;
  innerText: string;
  className: string;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; top: number; right: number; bottom: number; width: number; height: number };
}
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  documentElement: { scrollWidth: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};
declare const window: { innerWidth: number; innerHeight: number };
type HTMLElement = PageElement;

let stack: Stack;
let marketData: ChildHandle;
let demo: ChildHandle;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let trader: { apiKey: string; apiSecret: string };
const problems: string[] = [];
const requested: string[] = [];

const shot = (name: string, target: Page = page) => target.screenshot({ path: path.join(SHOTS, `web-${name}.png`), fullPage: true });
const text = (testId: string) => page.getByTestId(testId).innerText();

/** The page's own numbers are decimal strings with thousands separators. */
const number = (shown: string) => Number(shown.replace(/,/g, ''));

async function balance(asset: string): Promise<number> {
  return number(await page.getByTestId(`balance-${asset}`).locator('td.available').innerText());
}

async function bookSeq(): Promise<number> {
  const match = /seq (\d+)/.exec(await text('book-status'));
  return match ? Number(match[1]) : -1;
}

/** The best ask shown (asks are drawn best last, nearest the spread). */
async function bestAsk(): Promise<string> {
  const asks = page.getByTestId('ask-level');
  return (await asks.last().getAttribute('data-price'))!;
}

async function openTab(tab: 'open' | 'history' | 'fills' | 'executions'): Promise<void> {
  await page.getByTestId(`tab-${tab}`).click();
}

async function fillOrder(fields: {
  side: 'Buy' | 'Sell';
  type?: string;
  price?: string;
  quantity: string;
  postOnly?: boolean;
}): Promise<string> {
  await page.getByTestId(`side-${fields.side}`).click();
  await page.getByTestId(`type-${fields.type ?? 'Limit'}`).click();
  if (fields.price !== undefined) await page.getByTestId('price').fill(fields.price);
  await page.getByTestId('quantity').fill(fields.quantity);
  const postOnly = page.getByTestId('post-only');
  if ((await postOnly.isChecked()) !== (fields.postOnly ?? false)) await postOnly.click();
  await page.getByTestId('order-result').evaluate((node) => (node.textContent = ''));
  await page.getByTestId('order-submit').click();
  await page.waitForFunction(() => {
    const shown = document.querySelector('[data-testid="order-result"]')?.textContent ?? '';
    return shown !== '' && shown !== 'Sending…';
  });
  return text('order-result');
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  console.log(describeBuild(await buildWeb()));
  const executablePath = await ensureChromium();
  const wsPort = await freePort();
  stack = await Stack.start({ env: { WEB_WS_URLS: `ws://127.0.0.1:${wsPort}/ws` } });
  stack.startPersister();
  marketData = spawnTs('ops/market-data.ts', [], { ...stack.env, MARKET_DATA_PORT: String(await freePort()) });
  await stack.startWsServer(wsPort);
  await waitFor(async () => (await fetch(`${stack.url}/ready`)).status === 200, 60_000, 'core ready');
  demo = spawnTs('ops/demo.ts', [], {
    ...stack.env,
    API_PORT: String(stack.port),
    DEMO_TAKER_RATE: '3',
    DEMO_REQUOTE_MS: '1500',
    DEMO_TAKERS: '2',
  });
  await waitFor(() => /API secret\s+\S+/.test(demo.output()) || demo.child.exitCode !== null, 90_000, 'the demo to print its trader');
  const key = /API key\s+(\S+)/.exec(demo.output());
  const secret = /API secret\s+(\S+)/.exec(demo.output());
  if (!key || !secret) throw new Error(`the demo printed no trader:\n${demo.output()}`);
  trader = { apiKey: key[1]!, apiSecret: secret[1]! };

  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('console', (message) => {
    // the 400s and the 401 this test provokes on purpose are the browser's own log lines, not the page's
    if (/Failed to load resource: the server responded with a status of 40[01]/.test(message.text())) return;
    if (message.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => requested.push(request.url()));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  await marketData?.stop();
  await stack?.stop();
}, 60_000);

describe('the trading page in chromium, on the real stack with the demo running', () => {
  it('is served by the core with a strict CSP and no inline script', async () => {
    const response = await fetch(`${stack.url}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:`);
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.tradingview\.com)/); // no CDN
    const bundle = await fetch(`${stack.url}/web/app.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect(await (await fetch(`${stack.url}/web/config.json`)).json()).toEqual({
      ws_urls: [expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/)],
    });
  });

  it('logs in with the demo key; the book and trades render and update while the maker runs', async () => {
    await page.goto(`${stack.url}/`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    await shot('1-logged-out');
    // a wrong secret is refused in words
    await page.getByTestId('api-key').fill(trader.apiKey);
    await page.getByTestId('api-secret').fill('0'.repeat(64));
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: 'does not match' }).waitFor();
    await page.getByTestId('api-secret').fill(trader.apiSecret);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('balance-KRW').waitFor();
    expect(await balance('KRW')).toBe(100_000_000);
    await page.getByTestId('connection').filter({ hasText: 'live · private' }).waitFor();

    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-testid="ask-level"]').length >= 5 &&
        document.querySelectorAll('[data-testid="bid-level"]').length >= 5,
      undefined,
      { timeout: 20_000 },
    );
    expect(await text('book-status')).toMatch(/checksum ✓/);
    const seq = await bookSeq();
    await page.waitForFunction(
      (before) =>
        /seq (\d+)/.test(document.querySelector('[data-testid="book-status"]')?.textContent ?? '') &&
        Number(/seq (\d+)/.exec(document.querySelector('[data-testid="book-status"]')!.textContent!)![1]) > before,
      seq,
      { timeout: 20_000 },
    );
    expect(await text('book-status')).toMatch(/checksum ✓/); // every delta verified
    await page.getByTestId('trade-row').first().waitFor({ timeout: 20_000 });
    const firstTrade = await page.getByTestId('trade-row').first().innerText();
    const tradeCount = await page.getByTestId('trade-row').count();
    await page.waitForFunction(
      ([before, count]) => {
        const rows = document.querySelectorAll('[data-testid="trade-row"]');
        return rows.length > (count as number) || (rows[0] as HTMLElement | undefined)?.innerText !== before;
      },
      [firstTrade, tradeCount] as const,
      { timeout: 20_000 },
    );
    expect(await text('last-price')).toMatch(/^\d{1,3}(,\d{3})+$/);
    await shot('2-live');
  });

  it('places a limit order that fills against the maker; the fill shows in fills, executions and balances without a reload', async () => {
    const btcBefore = await balance('BTC');
    const krwBefore = await balance('KRW');
    const price = String(number(await bestAsk().then((ask) => ask)) + 20_000); // a few ticks through the best ask: fills even if the maker requotes
    const result = await fillOrder({ side: 'Buy', price, quantity: '0.001' });
    expect(result).toMatch(/^Order \d+ (filled|accepted)/);
    const orderId = /Order (\d+)/.exec(result)![1]!;
    await openTab('executions');
    await page
      .locator(`[data-testid="execution"][data-order="${orderId}"]`)
      .filter({ hasText: 'Filled' })
      .first()
      .waitFor({ timeout: 10_000 });
    const reports = await page
      .locator(`[data-testid="execution"][data-order="${orderId}"] [data-testid="execution-status"]`)
      .allInnerTexts();
    expect(reports.reverse()).toEqual(['Pending', 'Filled']); // newest first on the page: New (Pending), then the Trade (Filled)
    await openTab('fills');
    await page.locator(`[data-testid="fill"][data-order="${orderId}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator(`[data-testid="fill"][data-order="${orderId}"]`).innerText()).toMatch(/0\.001/);
    await page.waitForFunction(
      (before) => Number(document.querySelector('[data-testid="balance-BTC"] td.available')?.textContent) > before,
      btcBefore,
      { timeout: 10_000 },
    );
    expect(await balance('BTC')).toBeCloseTo(btcBefore + 0.001, 8);
    expect(await balance('KRW')).toBeLessThan(krwBefore);
    // the order history (PostgreSQL, via the persister) has it too, a moment later
    await openTab('history');
    await page.locator(`[data-testid="history-order"][data-order="${orderId}"]`).filter({ hasText: 'Filled' }).waitFor({ timeout: 15_000 });
    await openTab('fills');
    await shot('3-filled');
  });

  it('places a resting order, amends its quantity down, then cancels it', async () => {
    const result = await fillOrder({ side: 'Buy', price: '20000000', quantity: '0.005', postOnly: true });
    expect(result).toMatch(/^Order \d+ accepted \(Pending\)/);
    const orderId = /Order (\d+)/.exec(result)![1]!;
    await openTab('open');
    const row = page.locator(`[data-testid="open-order"][data-order="${orderId}"]`);
    await row.waitFor();
    expect(await row.innerText()).toMatch(/0 \/ 0\.005/);
    await row.getByTestId('amend').click();
    await page.getByTestId('amend-quantity').fill('0.002');
    await page.getByTestId('amend-save').click();
    await page
      .getByTestId('account-result')
      .filter({ hasText: `Order ${orderId} amended to 0.002` })
      .waitFor();
    await row.filter({ hasText: '0 / 0.002' }).waitFor();
    // an amend that does not reduce is refused in words
    await row.getByTestId('amend').click();
    await page.getByTestId('amend-quantity').fill('0.01');
    await page.getByTestId('amend-save').click();
    await page.getByTestId('account-result').filter({ hasText: 'An amend can only lower the quantity.' }).waitFor();
    await shot('4-amended');
    await row.getByTestId('cancel').click();
    await page
      .getByTestId('account-result')
      .filter({ hasText: `Order ${orderId} cancelled.` })
      .waitFor();
    await row.waitFor({ state: 'detached' });
    await openTab('executions');
    const kinds = await page.locator(`[data-testid="execution"][data-order="${orderId}"]`).allInnerTexts();
    expect(kinds.map((line) => /\t(New|Amended|Cancelled)\t/.exec(line)?.[1]).reverse()).toEqual(['New', 'Amended', 'Cancelled']);
  });

  it('shows candles: history from GET /v1/candles, the last bar moved by live trades, and an interval switch', async () => {
    const chart = page.getByTestId('chart');
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles')) >= 1,
      undefined,
      { timeout: 20_000 },
    );
    // switching interval reloads from GET /v1/candles (built by the market-data service from Kafka)
    await page.locator('#intervals button[data-interval="5m"]').click();
    await page.locator('#intervals button[data-interval="1m"]').click();
    await waitFor(
      async () => requested.filter((url) => url.includes('/v1/candles/BTC-KRW?interval=1m')).length >= 2,
      10_000,
      'the candles to be asked for again',
    );
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="chart"]')?.getAttribute('data-candles')) >= 1,
      undefined,
      { timeout: 20_000 },
    );
    const box = await chart.locator('canvas').first().boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(150);
    const candles = (await (await fetch(`${stack.url}/v1/candles/BTC-KRW?interval=1m`)).json()) as { candles: unknown[] };
    expect(candles.candles.length).toBeGreaterThanOrEqual(1);
    await shot('5-chart');
  });

  it('shows why an order is refused: by the engine (funds) and by the API (too small)', async () => {
    const funds = await fillOrder({ side: 'Buy', price: '50000000', quantity: '100' });
    expect(funds).toMatch(/^Order \d+ rejected: Not enough available balance for this order\.$/);
    const small = await fillOrder({ side: 'Buy', price: '1000', quantity: '0.001' });
    expect(small).toBe('Order not placed: The order is too small: its value is below the market minimum.');
    // the form itself says a price off the tick before anything is sent
    await page.getByTestId('price').fill('50000500');
    await page.getByTestId('order-hints').filter({ hasText: 'multiple of the tick size 1,000 KRW' }).waitFor();
    expect(await page.getByTestId('order-submit').isDisabled()).toBe(true);
    await page.getByTestId('price').fill('');
    await openTab('executions');
    await shot('6-rejected');
  });

  it('holds its layout at 1280×800 and at a phone width (390×844)', async () => {
    const layout = (target: Page) =>
      target.evaluate(() => {
        const boxes = [...document.querySelectorAll('main > section')].map((node) => {
          const rect = node.getBoundingClientRect();
          return {
            name: node.className,
            left: rect.left,
            top: rect.top,
            right: rect.right,
            bottom: rect.bottom,
            width: rect.width,
            height: rect.height,
          };
        });
        return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, innerHeight: window.innerHeight, boxes };
      });
    const overlap = (a: { left: number; right: number; top: number; bottom: number }, b: typeof a) =>
      a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;

    const desktop = await layout(page);
    expect(desktop.scrollWidth).toBeLessThanOrEqual(desktop.innerWidth);
    for (const box of desktop.boxes) {
      expect(box.width, box.name).toBeGreaterThan(200);
      expect(box.height, box.name).toBeGreaterThan(150);
      expect(box.bottom, box.name).toBeLessThanOrEqual(desktop.innerHeight + 1); // one screen, no page scroll
    }
    for (const [index, a] of desktop.boxes.entries())
      for (const b of desktop.boxes.slice(index + 1)) expect(overlap(a, b), `${a.name} / ${b.name}`).toBe(false);
    await shot('7-desktop-1280x800');

    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${stack.url}/`);
    await phone.waitForFunction(() => document.body.dataset.ready === 'true');
    await phone.getByTestId('api-key').fill(trader.apiKey);
    await phone.getByTestId('api-secret').fill(trader.apiSecret);
    await phone.getByTestId('login-submit').click();
    await phone.getByTestId('balance-KRW').waitFor();
    await phone.waitForFunction(() => document.querySelectorAll('[data-testid="ask-level"]').length >= 5, undefined, { timeout: 20_000 });
    const small = await layout(phone);
    expect(small.scrollWidth).toBeLessThanOrEqual(390);
    for (const box of small.boxes) {
      expect(box.left, box.name).toBeGreaterThanOrEqual(0);
      expect(box.right, box.name).toBeLessThanOrEqual(391);
      expect(box.width, box.name).toBeGreaterThan(350); // one column
    }
    for (const [index, a] of small.boxes.entries())
      for (const b of small.boxes.slice(index + 1)) expect(overlap(a, b), `${a.name} / ${b.name}`).toBe(false);
    await phone.screenshot({ path: path.join(SHOTS, 'web-8-phone-390.png'), fullPage: true });
    await phone.close();
  });

  it("npm run demo stops cleanly on Ctrl-C: the maker's orders cancelled, exit 0", async () => {
    const exited = new Promise<number | null>((resolve) => demo.child.once('exit', (code) => resolve(code)));
    demo.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(demo.output()).toMatch(/demo: stopping — cancelling the maker's orders/);
    expect(demo.output()).toMatch(/demo: stopped after \d+ orders/);
    // takers send only market and IOC orders, the trader's resting orders were cancelled above: nothing rests
    for (const symbol of ['BTC-KRW', 'ETH-KRW']) {
      const book = (await (await fetch(`${stack.url}/v1/orderbook/${symbol}`)).json()) as { bids: unknown[]; asks: unknown[] };
      expect(book, symbol).toMatchObject({ bids: [], asks: [] });
    }
  });

  it('never asked for an admin route, and no CSP violation or script error happened', () => {
    expect(requested.filter((url) => url.includes('/admin'))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
