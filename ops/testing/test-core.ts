/**
 * The shared harness of the ops tests that drive a real core process: the environment a test core
 * runs with, a core child on a DATA_DIR of its own (kill -9 and restart on the same port and
 * DATA_DIR), and the shared test client (api/test-client.ts) on it. ops/testing/stack.ts builds the
 * fan-out stack (core + publishers + consumers) on the same pieces.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestClient } from '../../api/test-client.ts';
import { TEST_DATABASE_URL, testPool } from '../../api/test-support.ts';
import { spawnCore, type CoreChild } from '../core-child.ts';

export const TEST_ADMIN_TOKEN = 'ops-test-admin-token-0123456789abcdef';
export const TEST_SECRET_ENCRYPTION_KEY = '5a'.repeat(32);

/**
 * The environment of a test core: fixed secrets, the test database, rate limits and a
 * per-client connection cap far above what a test sends (every test client shares 127.0.0.1; a
 * test of the limits sets its own), and no price ticks. `overrides` win.
 */
export function testCoreEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SECRET_ENCRYPTION_KEY: TEST_SECRET_ENCRYPTION_KEY,
    DATABASE_URL: TEST_DATABASE_URL,
    RATE_LIMIT_ORDERS_PER_SEC: '1000000',
    RATE_LIMIT_REQUESTS_PER_MIN: '100000000',
    HTTP_MAX_CONNECTIONS_PER_CLIENT: '100000',
    // no journaled price tick each second: tests that wait for a quiet core (settledState) or compare
    // last_seq across restarts would never see one; a futures test that needs the ticks sets 1000
    PRICE_TICK_INTERVAL_MS: '0',
    ...overrides,
  };
}

export interface TestCoreOptions {
  /** merged over testCoreEnv() */
  readonly env?: Record<string, string>;
  /** names the temp DATA_DIR (xtrader-<name>-…) */
  readonly name?: string;
  readonly port?: number;
}

export class TestCore {
  #core: CoreChild;
  #client: TestClient;

  private constructor(
    core: CoreChild,
    readonly dataDir: string,
    readonly env: Record<string, string>,
    readonly adminToken: string,
  ) {
    this.#core = core;
    this.#client = TestClient.overHttp(core.url, adminToken);
  }

  /** Migrates the test database, then starts a core on a fresh DATA_DIR and waits until it is ready. */
  static async start(options: TestCoreOptions = {}): Promise<TestCore> {
    await (await testPool()).end(); // database and migrations in place before the child starts
    const env = testCoreEnv(options.env);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `xtrader-${options.name ?? 'core'}-`));
    try {
      const core = await spawnCore({ dataDir, env, ...(options.port !== undefined ? { port: options.port } : {}) });
      // ADMIN_TOKEN '' = the operator's way: the core generates one into DATA_DIR, and the client reads it there
      const adminToken = env.ADMIN_TOKEN || (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
      return new TestCore(core, dataDir, env, adminToken);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  get core(): CoreChild {
    return this.#core;
  }

  /** the test client; its users and paid-in ledger carry over restarts */
  get client(): TestClient {
    return this.#client;
  }

  get port(): number {
    return this.#core.port;
  }

  get url(): string {
    return this.#core.url;
  }

  /** A real SIGKILL: nothing is flushed. */
  kill9(): Promise<void> {
    return this.#core.kill9();
  }

  /** SIGTERM and wait for the exit; resolves with the exit code (0 = a clean stop). */
  stop(): Promise<number | null> {
    return this.#core.stop();
  }

  /**
   * Starts the core again on the same DATA_DIR and port (after kill9(), or after it died), with
   * `env` merged over the environment it ran with; the client keeps its users and ledger.
   */
  async restart(env: Record<string, string> = {}): Promise<void> {
    await this.#core.kill9();
    this.#core = await spawnCore({ dataDir: this.dataDir, port: this.port, env: { ...this.env, ...env } });
  }

  /** Kills the core and removes its DATA_DIR. */
  async close(): Promise<void> {
    await this.#core.kill9();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
