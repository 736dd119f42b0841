/**
 * The one client the tests drive the API with — in process (Hono's `app.request`, api tests) or
 * over HTTP (`fetch` to a core child, ops tests): admin calls, signed calls, funded users, the
 * engine's state, and the balance totals a conservation check compares with what it paid in.
 *
 * Signing is api/signed-client.ts's (docs/api.md's "Signing" rule, what a client library does).
 * ops/outside-in.int.test.ts signs on its own on purpose: it is written from the documents alone.
 * Tests that must put bytes on the wire that fetch would not (raw request targets, pipelining,
 * trickled heads) keep their own transport and take users and headers from here.
 */
import { signedHeaders, type ApiCredentials } from './signed-client.ts';

/** The signed futures settings: POST /v1/futures/{route}. */
export type FuturesSetting = 'transfer' | 'position-mode' | 'leverage' | 'margin-type' | 'isolated-margin';

/** How a request reaches the API: `route` is path + query. */
export type Fetcher = (route: string, init: RequestInit) => Promise<Response>;

export interface TestUser extends ApiCredentials {
  readonly userId: string;
}

/** `GET /admin/state` */
export interface EngineState {
  readonly last_seq: number;
  readonly last_event_seq: number;
  readonly state_hash: string;
  readonly pending: number;
}

/** Deposits that let a user trade every market many times over. */
export const FUNDED_DEPOSITS: Readonly<Record<string, string>> = { KRW: '100000000000', BTC: '1000', ETH: '1000' };

/** A decimal amount as an integer of 10^-8 units, so every asset is summed in one exact unit. */
export function units(decimal: string): bigint {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? decimal.slice(1) : decimal).split('.');
  if (fraction.length > 8) throw new Error(`more than 8 decimals: ${decimal}`);
  const value = BigInt(whole + fraction.padEnd(8, '0'));
  return negative ? -value : value;
}

/** A response body as loosely typed JSON, for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (response: Response): Promise<any> => response.json();

/** A response read whole: status, headers, text, and the body as JSON when it is JSON (else the text). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

export async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics, docs, the page)
  }
  return { status: response.status, headers: response.headers, text, body };
}

export class TestClient {
  /** every user this client created, in order */
  readonly users: TestUser[] = [];
  /** net amount paid in per asset (deposits − withdrawals), in 10^-8 units: what conservation is checked against */
  readonly paidIn = new Map<string, bigint>();

  constructor(
    private readonly fetcher: Fetcher,
    readonly adminToken: string,
  ) {}

  /** A client of the API listening at `baseUrl` (e.g. a core child's url). */
  static overHttp(baseUrl: string, adminToken: string): TestClient {
    return new TestClient((route, init) => fetch(`${baseUrl}${route}`, init), adminToken);
  }

  admin(method: string, route: string, body?: unknown): Promise<Response> {
    return this.fetcher(route, {
      method,
      headers: { Authorization: `Bearer ${this.adminToken}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  /** A signed request; a string body is sent (and signed) as it is, anything else as JSON. */
  signed(user: ApiCredentials, method: string, route: string, body?: unknown, timestamp?: number): Promise<Response> {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return this.fetcher(route, {
      method,
      headers: signedHeaders(user, method, route, text, timestamp),
      ...(text !== '' ? { body: text } : {}),
    });
  }

  async createUser(name: string, deposits: Readonly<Record<string, string>> = {}): Promise<TestUser> {
    const response = await this.admin('POST', '/admin/users', { name });
    const created = (await response.json()) as Record<string, string>;
    if (response.status !== 201) throw new Error(`create user ${name}: ${response.status} ${JSON.stringify(created)}`);
    const user = { userId: created.user_id!, apiKey: created.api_key!, apiSecret: created.api_secret! };
    this.users.push(user);
    for (const [asset, amount] of Object.entries(deposits)) await this.deposit(user.userId, asset, amount);
    return user;
  }

  /** `count` users named `${prefix}-0…`, created one after another (deterministic user ids) */
  async createUsers(prefix: string, count: number, deposits: Readonly<Record<string, string>> = FUNDED_DEPOSITS): Promise<TestUser[]> {
    const created: TestUser[] = [];
    for (let index = 0; index < count; index++) created.push(await this.createUser(`${prefix}-${index}`, deposits));
    return created;
  }

  /** Deposits (throws unless 200 APPLIED) and records it for conservation. */
  async deposit(userId: string, asset: string, amount: string): Promise<void> {
    await this.#move('/admin/deposits', userId, asset, amount, 1n);
  }

  /** Withdraws (throws unless 200 APPLIED) and records it for conservation. */
  async withdraw(userId: string, asset: string, amount: string): Promise<void> {
    await this.#move('/admin/withdrawals', userId, asset, amount, -1n);
  }

  async #move(route: string, userId: string, asset: string, amount: string, sign: bigint): Promise<void> {
    const response = await this.admin('POST', route, { user_id: Number(userId), asset, amount });
    if (response.status !== 200) throw new Error(`${route} ${asset} ${amount}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    this.paidIn.set(asset, (this.paidIn.get(asset) ?? 0n) + sign * units(amount));
  }

  /** POST /v1/order; resolves with the order id (throws unless 200). */
  async order(user: ApiCredentials, body: Record<string, unknown>): Promise<string> {
    const response = await this.signed(user, 'POST', '/v1/order', body);
    const answer = (await response.json()) as Record<string, string>;
    if (response.status !== 200) throw new Error(`order ${response.status}: ${JSON.stringify(answer)}`);
    return answer.order_id!;
  }

  /** POST /v1/futures/{route}, signed; the whole answer (a test asserts 200 or the 400's word). */
  async futures(user: ApiCredentials, route: FuturesSetting, body: unknown): Promise<Answer> {
    return answerOf(await this.signed(user, 'POST', `/v1/futures/${route}`, body));
  }

  /** POST /admin/index-prices; the whole answer. */
  async indexPrices(prices: ReadonlyArray<{ symbol: string; source: string; price: string }>): Promise<Answer> {
    return answerOf(await this.admin('POST', '/admin/index-prices', { prices }));
  }

  /** GET /v1/futures/account (`?asset=` when given); the whole answer. */
  async futuresAccount(user: ApiCredentials, asset?: string): Promise<Answer> {
    return answerOf(
      await this.signed(user, 'GET', `/v1/futures/account${asset === undefined ? '' : `?asset=${encodeURIComponent(asset)}`}`),
    );
  }

  /** GET /v1/futures/positions (`?symbol=` when given); the whole answer. */
  async futuresPositions(user: ApiCredentials, symbol?: string): Promise<Answer> {
    return answerOf(
      await this.signed(user, 'GET', `/v1/futures/positions${symbol === undefined ? '' : `?symbol=${encodeURIComponent(symbol)}`}`),
    );
  }

  async state(): Promise<EngineState> {
    return (await this.admin('GET', '/admin/state')).json() as Promise<EngineState>;
  }

  /**
   * The state once the engine is quiet: a market whose figures changed gets its Ticker from a
   * journaled Tick about a second after the last command, so right after orders the state is not
   * yet final — the same last_seq 1.5 s apart, nothing pending, is.
   */
  async settledState(): Promise<EngineState> {
    for (let previous = await this.state(); ;) {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const now = await this.state();
      if (now.last_seq === previous.last_seq && now.pending === 0) return now;
      previous = now;
    }
  }

  /** One user's balance of one asset (`GET /admin/balances/{id}`); zeros when it holds none. */
  async balance(userId: string, asset: string): Promise<{ available: string; locked: string; total: string }> {
    const answer = (await (await this.admin('GET', `/admin/balances/${userId}`)).json()) as {
      balances: Array<{ asset: string; available: string; locked: string; total: string }>;
    };
    return answer.balances.find((entry) => entry.asset === asset) ?? { available: '0', locked: '0', total: '0' };
  }

  /** Sum of every account's totals — the fee account 0 and every user this client created — per asset, in 10^-8 units. */
  async balanceTotals(): Promise<Map<string, bigint>> {
    const totals = new Map<string, bigint>();
    for (const userId of ['0', ...this.users.map((user) => user.userId)]) {
      const answer = (await (await this.admin('GET', `/admin/balances/${userId}`)).json()) as {
        balances: Array<{ asset: string; total: string }>;
      };
      for (const entry of answer.balances) totals.set(entry.asset, (totals.get(entry.asset) ?? 0n) + units(entry.total));
    }
    return totals;
  }

  /**
   * What conservation compares, per asset this client paid in: `actual` (the sum of every
   * account) must equal `expected` (deposits − withdrawals). Assert `toEqual` on the two.
   */
  async conservation(): Promise<{ expected: Record<string, string>; actual: Record<string, string> }> {
    const totals = await this.balanceTotals();
    const expected: Record<string, string> = {};
    const actual: Record<string, string> = {};
    for (const [asset, amount] of [...this.paidIn].sort(([a], [b]) => a.localeCompare(b))) {
      expected[asset] = amount.toString();
      actual[asset] = (totals.get(asset) ?? 0n).toString();
    }
    return { expected, actual };
  }
}
