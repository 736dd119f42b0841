/**
 * The fan-out stack as `npm start` runs it, for tests and benches: a core child process and one
 * publisher process per broker, on a temp DATA_DIR and a broker namespace of their own (so test
 * files share the real brokers without seeing each other's streams, topics and exchanges).
 * The core's environment and client are the shared harness's (ops/testing/test-core.ts,
 * api/test-client.ts); here: the processes, and a kill -9 / restart of any of them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { ApiCredentials } from '../../api/signed-client.ts';
import { TestClient, type EngineState, type TestUser } from '../../api/test-client.ts';
import { TEST_DATABASE_URL } from '../../api/test-support.ts';
import { dropDatabase, ensureDatabase, migrate } from '../../db/migrate.ts';
import { brokerNames } from '../../contract/broker-routes.ts';
import type { BrokerName } from '../../mq/publisher.ts';
import { freePort, spawnCore, spawnTs, type ChildHandle, type CoreChild } from '../core-child.ts';

export { spawnTs, type ChildHandle } from '../core-child.ts';
import { removeBrokerNamespace } from './broker-namespace.ts';
import { testCoreEnv } from './test-core.ts';

export type StackUser = TestUser;

/** What a stack's users get unless a test says otherwise. */
const STACK_DEPOSITS = { KRW: '1000000000000', BTC: '1000', ETH: '1000' };

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
  /** the shared test client on this stack's core (the same port across restarts) */
  readonly client: TestClient;
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
    this.env = testCoreEnv({
      DATABASE_URL: this.databaseUrl,
      BROKER_NAMESPACE: this.namespace,
      PUBLISHERS: (options.publishers ?? ['redis', 'kafka', 'rabbitmq']).join(','),
      DATA_DIR: dataDir,
      // the persister's /metrics and /health: a port per stack, so test files can run side by side
      PERSISTER_PORT: String(persisterPort),
      ...options.env,
    });
    this.client = TestClient.overHttp(`http://127.0.0.1:${port}`, this.env.ADMIN_TOKEN!);
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
    this.core = await spawnCore({
      dataDir: this.dataDir,
      port: this.port,
      env: this.env,
      ...(this.#options.coreNodeArgs ? { nodeArgs: this.#options.coreNodeArgs } : {}),
    });
  }

  startPublisher(broker: BrokerName): ChildHandle {
    const handle = spawnTs('ops/publisher.ts', [broker], this.env);
    this.publishers.set(broker, handle);
    return handle;
  }

  admin(method: string, route: string, body?: unknown): Promise<Response> {
    return this.client.admin(method, route, body);
  }

  signed(user: ApiCredentials, method: string, route: string, body?: unknown): Promise<Response> {
    return this.client.signed(user, method, route, body);
  }

  createUser(name: string, deposits: Record<string, string> = STACK_DEPOSITS): Promise<StackUser> {
    return this.client.createUser(name, deposits);
  }

  /** POST /v1/order; resolves with the order id (throws unless 200) */
  order(user: ApiCredentials, body: Record<string, unknown>): Promise<string> {
    return this.client.order(user, body);
  }

  async ready(): Promise<Record<string, unknown>> {
    return (await (await fetch(`${this.url}/ready`)).json()) as Record<string, unknown>;
  }

  adminState(): Promise<EngineState> {
    return this.client.state();
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
    const handle = spawnTs('ops/ws-server.ts', [], {
      ...this.env,
      API_PORT: String(this.port),
      WS_PORT: String(wsPort),
      WS_INSTANCE: `ws-${wsPort}`,
      ...env,
    });
    this.wsServers.set(wsPort, handle);
    await waitFor(
      async () => {
        if (handle.child.exitCode !== null) throw new Error(`ws-server ${wsPort} exited: ${handle.output()}`);
        return fetch(`http://127.0.0.1:${wsPort}/health`).then(
          (response) => response.status === 200,
          () => false,
        );
      },
      30_000,
      `ws-server ${wsPort} healthy`,
    );
    return wsPort;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.publishers.values(), ...this.wsServers.values(), ...(this.persister ? [this.persister] : [])].map((handle) => handle.stop()),
    );
    await this.core?.stop();
    await this.#pool?.end();
    await rm(this.dataDir, { recursive: true, force: true });
    await dropDatabase(this.databaseUrl);
    // a shared broker should not collect every run's streams, topics and exchanges
    if (this.namespace !== '') await removeBrokerNamespace(this.names);
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
