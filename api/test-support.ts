/** Shared set-up for the API's test files (real PostgreSQL, real sequencer and engine on a temp dir). */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { DEFAULT_ENGINE_CONFIG, Engine } from '../engine/index.ts';
import { createSequencer, type Sequencer } from '../sequencer/index.ts';
import { createApi, type Api } from './app.ts';
import type { ApiDeps } from './context.ts';
import { CredentialStore } from './credentials.ts';
import { EventFeed } from './event-feed.ts';
import { ApiMetrics } from './metrics.ts';
import { SecretBox } from './secret-box.ts';
import type { ApiCredentials } from './signed-client.ts';
import { TestClient, type EngineState, type TestUser } from './test-client.ts';

export { json } from './test-client.ts';

export const TEST_DATABASE_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_test';
  return url.toString();
})();

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function testPool(): Promise<pg.Pool> {
  await ensureDatabase(TEST_DATABASE_URL);
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  await migrate(pool);
  return pool;
}

export interface TestApi {
  readonly app: Api['app'];
  /** the app's POST /v1/order fast path (api/order-fast-path.int.test.ts serves it in front of the app) */
  readonly orderFastPath: Api['orderFastPath'];
  readonly sequencer: Sequencer<Engine>;
  readonly dataDir: string;
  /** the shared test client (api/test-client.ts) on this app; the four below are its methods */
  readonly client: TestClient;
  close(): Promise<void>;
  admin(method: string, route: string, body?: unknown): Promise<Response>;
  signed(user: ApiCredentials, method: string, route: string, body?: unknown, timestamp?: number): Promise<Response>;
  createUser(name: string, deposits?: Record<string, string>): Promise<TestUser>;
  state(): Promise<EngineState>;
}

export async function startTestApi(
  pool: pg.Pool,
  overrides: Partial<ApiDeps> = {},
  options: { open?: boolean; maxPending?: number } = {},
): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-api-'));
  const feed = new EventFeed();
  const sequencer = createSequencer({
    dataDir,
    createEngine: () => new Engine(DEFAULT_ENGINE_CONFIG),
    restoreEngine: (snapshot) => Engine.restore(DEFAULT_ENGINE_CONFIG, snapshot),
    onEvents: feed.onEvents,
    ...(options.maxPending !== undefined ? { maxPending: options.maxPending } : {}),
  });
  if (options.open !== false) await sequencer.open();
  const { app, orderFastPath } = createApi({
    sequencer,
    engineConfig: DEFAULT_ENGINE_CONFIG,
    credentials: new CredentialStore(pool, new SecretBox(Buffer.alloc(32, 7))),
    feed,
    metrics: new ApiMetrics({ defaultMetrics: false }),
    adminToken: ADMIN_TOKEN,
    rateLimits: { ordersPerSecond: 10_000, requestsPerMinute: 1_000_000 },
    probeServices: async () => ({ postgres: 'up' }),
    ...overrides,
  });
  // the app in process: requests go straight to Hono, no socket
  const client = new TestClient((route, init) => Promise.resolve(app.request(route, init)), ADMIN_TOKEN);
  return {
    app,
    orderFastPath,
    sequencer,
    dataDir,
    client,
    admin: (method, route, body) => client.admin(method, route, body),
    signed: (user, method, route, body, timestamp) => client.signed(user, method, route, body, timestamp),
    createUser: (name, deposits = {}) => client.createUser(name, deposits),
    state: () => client.state(),
    async close() {
      if (sequencer.ready) await sequencer.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
