/**
 * The fan-out stack as `npm start` runs it, for tests and benches: a core child process and one
 * publisher process per broker, on a temp DATA_DIR and a broker namespace of their own (so test
 * files share the real brokers without seeing each other's streams, topics and exchanges).
 * Helpers: admin and signed requests, funded users, and a kill -9 / restart of any process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { signedHeaders, type ApiCredentials } from '../../api/signed-client.ts';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../../api/test-support.ts';
import { ensureDatabase, migrate } from '../../db/migrate.ts';
import { brokerNames } from '../../mq/envelope.ts';
import type { BrokerName } from '../../mq/publisher.ts';
import { PROJECT_ROOT } from '../config.ts';
import { freePort, spawnCore, type CoreChild } from '../core-child.ts';

export const STACK_ADMIN_TOKEN = 'stack-test-admin-token-0123456789';

export interface StackUser extends ApiCredentials {
  readonly userId: string;
}

export interface ChildHandle {
  readonly child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export function spawnTs(entry: string, args: readonly string[], env: Record<string, string>, nodeArgs: readonly string[] = []): ChildHandle {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(PROJECT_ROOT, entry), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    async kill9() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface StackOptions {
  readonly publishers?: readonly BrokerName[];
  readonly env?: Record<string, string>;
  /** extra node args for the core (e.g. --cpu-prof) */
  readonly coreNodeArgs?: readonly string[];
}

export class Stack {
  readonly namespace: string;
  readonly names: ReturnType<typeof brokerNames>;
  readonly env: Record<string, string>;
  core!: CoreChild;
  readonly publishers = new Map<BrokerName, ChildHandle>();
  readonly #options: StackOptions;
  readonly databaseUrl: string;
  #pool: pg.Pool | undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    options: StackOptions,
    persisterPort: number,
  ) {
    this.#options = options;
    this.namespace = `t${process.pid}x${Math.floor(Math.random() * 1e9).toString(36)}`;
    this.names = brokerNames(this.namespace);
    // a database of its own: every stack's engine starts at seq 1, and the persister's rows are keyed by seq
    const database = new URL(TEST_DATABASE_URL);
    database.pathname = `/xtrader_${this.namespace.toLowerCase()}`;
    this.databaseUrl = database.toString();
    this.env = {
      ADMIN_TOKEN: STACK_ADMIN_TOKEN,
      SECRET_ENCRYPTION_KEY: 'ab'.repeat(32),
      DATABASE_URL: this.databaseUrl,
      RATE_LIMIT_ORDERS_PER_SEC: '100000',
      RATE_LIMIT_REQUESTS_PER_MIN: '10000000',
      BROKER_NAMESPACE: this.namespace,
      PUBLISHERS: (options.publishers ?? ['redis', 'kafka', 'rabbitmq']).join(','),
      DATA_DIR: dataDir,
      // the persister's /metrics and /health: a port per stack, so test files can run side by side
      PERSISTER_PORT: String(persisterPort),
      ...options.env,
    };
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-stack-'));
    const stack = new Stack(dataDir, await freePort(), options, await freePort());
    // database and migrations in place before the children start
    await ensureDatabase(stack.databaseUrl);
    await migrate(stack.pool);
    await stack.startCore();
    for (const broker of options.publishers ?? ['redis', 'kafka', 'rabbitmq']) stack.startPublisher(broker);
    return stack;
  }

  /** a pool on the stack's own database */
  get pool(): pg.Pool {
    this.#pool ??= new pg.Pool({ connectionString: this.databaseUrl, max: 2 });
    return this.#pool;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async startCore(): Promise<void> {
    this.core = await spawnCore({ dataDir: this.dataDir, port: this.port, env: this.env, ...(this.#options.coreNodeArgs ? { nodeArgs: this.#options.coreNodeArgs } : {}) });
  }

  startPublisher(broker: BrokerName): ChildHandle {
    const handle = spawnTs('ops/publisher.ts', [broker], this.env);
    this.publishers.set(broker, handle);
    return handle;
  }

  async admin(method: string, route: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}${route}`, {
      method,
      headers: { Authorization: `Bearer ${STACK_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async signed(user: ApiCredentials, method: string, route: string, body?: unknown): Promise<Response> {
    const text = body === undefined ? '' : JSON.stringify(body);
    return fetch(`${this.url}${route}`, { method, headers: signedHeaders(user, method, route, text), ...(text ? { body: text } : {}) });
  }

  async createUser(name: string, deposits: Record<string, string> = { KRW: '1000000000000', BTC: '1000', ETH: '1000' }): Promise<StackUser> {
    const created = (await (await this.admin('POST', '/admin/users', { name })).json()) as Record<string, string>;
    const user = { userId: created.user_id!, apiKey: created.api_key!, apiSecret: created.api_secret! };
    for (const [asset, amount] of Object.entries(deposits)) {
      const response = await this.admin('POST', '/admin/deposits', { user_id: user.userId, asset, amount });
      if (response.status !== 200) throw new Error(`deposit ${asset}: ${response.status} ${await response.text()}`);
    }
    return user;
  }

  /** POST /v1/order; resolves with the order id (throws unless 200) */
  async order(user: ApiCredentials, body: Record<string, unknown>): Promise<string> {
    const response = await this.signed(user, 'POST', '/v1/order', body);
    const answer = (await response.json()) as Record<string, string>;
    if (response.status !== 200) throw new Error(`order ${response.status}: ${JSON.stringify(answer)}`);
    return answer.order_id!;
  }

  async ready(): Promise<Record<string, unknown>> {
    return (await (await fetch(`${this.url}/ready`)).json()) as Record<string, unknown>;
  }

  async adminState(): Promise<{ last_seq: number; last_event_seq: number; state_hash: string }> {
    return (await (await this.admin('GET', '/admin/state')).json()) as { last_seq: number; last_event_seq: number; state_hash: string };
  }

  /** the persister process (Redis stream → this stack's database) */
  startPersister(env: Record<string, string> = {}): ChildHandle {
    this.persister = spawnTs('ops/persister.ts', [], { ...this.env, ...env });
    return this.persister;
  }

  persister: ChildHandle | undefined;

  /** ws-server processes (ops/ws-server.ts) by port, fed by this stack's exchange, bootstrapping from its core */
  readonly wsServers = new Map<number, ChildHandle>();

  /** starts a ws-server on `port` (a free one by default) and waits until its /health answers */
  async startWsServer(port?: number, env: Record<string, string> = {}): Promise<number> {
    const wsPort = port ?? (await freePort());
    const handle = spawnTs('ops/ws-server.ts', [], { ...this.env, API_PORT: String(this.port), WS_PORT: String(wsPort), WS_INSTANCE: `ws-${wsPort}`, ...env });
    this.wsServers.set(wsPort, handle);
    await waitFor(
      async () => {
        if (handle.child.exitCode !== null) throw new Error(`ws-server ${wsPort} exited: ${handle.output()}`);
        return fetch(`http://127.0.0.1:${wsPort}/health`).then((response) => response.status === 200, () => false);
      },
      30_000,
      `ws-server ${wsPort} healthy`,
    );
    return wsPort;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.publishers.values(), ...this.wsServers.values(), ...(this.persister ? [this.persister] : [])].map((handle) => handle.stop()));
    await this.core?.stop();
    await this.#pool?.end();
    await rm(this.dataDir, { recursive: true, force: true });
    // drop the database (nobody is connected any more)
    const maintenance = new URL(this.databaseUrl);
    maintenance.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: maintenance.toString() });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${new URL(this.databaseUrl).pathname.slice(1)}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
