/**
 * The persister against the real PostgreSQL (database xtrader_test_persister, made here) and the
 * project Redis, on stream names of its own (`<namespace>.executions`), never the running stack's.
 * The stream is fed with what the Redis publisher would write for a seeded run of the real engine,
 * and PostgreSQL must end up equal to that engine: one executions row per execution report, each
 * order as the engine shows it, every trade, the last balance of every account — whatever the
 * order consumers commit in, however often entries are delivered, and across a consumer killed
 * with SIGKILL or a PostgreSQL or Redis connection cut.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storedOrderView } from '../api/history-reads.ts';
import { Views } from '../api/views.ts';
import { RedisExecutionStream } from '../db/adapters/redis-execution-stream.ts';
import { batchRows } from '../db/execution-rows.ts';
import { writeBatch } from '../db/execution-writer.ts';
import { HistoryStore } from '../db/history-store.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { Persister, type PersisterOptions } from '../db/persister.ts';
import { findAsset, formatAmount } from '../engine/index.ts';
import type { Envelope } from '../contract/envelopes.ts';
import { brokerNames } from '../contract/broker-routes.ts';
import { freePort } from './core-child.ts';
import { addToStream, engineRun, type EngineRun } from './testing/execution-fixture.ts';
import { spawnTs } from './testing/stack.ts';

const DATABASE_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_test_persister';
  return url.toString();
})();
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6380';

let pool: pg.Pool;
let redis: Redis;
const streams: string[] = [];
const running: Persister[] = [];

beforeAll(async () => {
  await ensureDatabase(DATABASE_URL);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
  await migrate(pool);
  redis = new Redis(REDIS_URL);
});

beforeEach(async () => {
  await pool.query('TRUNCATE executions, orders, trades, balance_changes, stream_dead_letters');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((persister) => persister.stop()));
  if (streams.length > 0) await redis.del(...streams.splice(0));
});

afterAll(async () => {
  await pool?.end();
  redis?.disconnect();
});

let namespaceCount = 0;
function namespace(): { namespace: string; stream: string; group: string } {
  const name = `tpersist${process.pid}x${++namespaceCount}x${Math.floor(Math.random() * 1e6).toString(36)}`;
  const names = brokerNames(name);
  streams.push(names.stream);
  return { namespace: name, stream: names.stream, group: names.group };
}

function startPersister(stream: string, options: Partial<PersisterOptions> & { redisUrl?: string } = {}): Persister {
  const persister = new Persister({
    db: pool,
    stream: new RedisExecutionStream({ url: options.redisUrl ?? REDIS_URL, stream }),
    consumers: 3,
    blockMs: 100,
    claimEveryMs: 200,
    trimEveryMs: 0,
    retry: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  running.push(persister);
  persister.start();
  return persister;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every entry of the stream delivered to the group and acknowledged. */
async function drained(stream: string): Promise<boolean> {
  const groups = await new RedisExecutionStream({ url: REDIS_URL, stream }).groups().catch(() => []);
  const group = groups.find((candidate) => candidate.name === 'execution_processors');
  const last = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
  return group !== undefined && group.pending === 0 && (last.length === 0 || group.lastDeliveredId === last[0]![0]);
}

const entriesOf = (envelopes: readonly Envelope[]) =>
  envelopes.map((envelope) => ({ id: `${envelope.seq}-0`, body: JSON.stringify(envelope) }));

/** The tables, in key order, as comparable JSON. */
async function dump(): Promise<Record<string, unknown[]>> {
  const query = async (sql: string) => (await pool.query(sql)).rows;
  return {
    orders: await query('SELECT * FROM orders ORDER BY order_id'),
    executions: await query(
      'SELECT seq, order_id, user_id, exec_type, order_status, price, quantity, fee, trade_id, is_maker, timestamp FROM executions ORDER BY seq',
    ),
    trades: await query('SELECT * FROM trades ORDER BY trade_id'),
    balances: await query('SELECT * FROM balance_changes ORDER BY seq'),
    deadLetters: await query('SELECT * FROM stream_dead_letters'),
  };
}

/** PostgreSQL holds exactly what the engine run produced, and each order reads as the engine shows it. */
async function expectEqualsEngine(run: EngineRun, deadLetters = 0): Promise<void> {
  const executions = run.envelopes.filter((envelope) => envelope.type === 'Execution');
  const trades = run.envelopes.filter((envelope) => envelope.type === 'Trade');
  const { rows: executionRows } = await pool.query<{ seq: string }>('SELECT seq FROM executions ORDER BY seq');
  expect(executionRows.map((row) => Number(row.seq))).toEqual(executions.map((envelope) => envelope.seq));
  const { rows: tradeRows } = await pool.query<{ trade_id: string; price: string; quantity: string; quote_quantity: string }>(
    'SELECT trade_id, price::text, quantity::text, quote_quantity::text FROM trades ORDER BY trade_id',
  );
  expect(tradeRows.map((row) => [row.trade_id, row.price, row.quantity, row.quote_quantity])).toEqual(
    trades.map((trade) => [trade.trade_id, trade.price, trade.quantity, trade.quote_quantity]),
  );
  expect((await pool.query('SELECT count(*)::int AS n FROM stream_dead_letters')).rows[0].n).toBe(deadLetters);

  // Orders: the route's view of the PostgreSQL row equals the route's view of the engine's order,
  // but for the four fields execution reports do not carry.
  const views = new Views(run.config);
  const store = new HistoryStore(pool);
  const reported = new Set(executions.map((envelope) => Number(envelope.execution_report.order_id)));
  expect(reported.size).toBeGreaterThan(0);
  const { rows: orderCount } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
  expect(orderCount[0]!.n).toBe(reported.size);
  const unknownInReports = ['time_in_force', 'post_only', 'stop_price', 'quote_amount'];
  const queue = [...reported];
  // as GET /v1/order/{id} reads them, eight at a time
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let orderId = queue.pop(); orderId !== undefined; orderId = queue.pop()) {
        const engineView = run.engine.getOrder(orderId);
        expect(engineView, `order ${orderId} in the engine`).toBeDefined();
        const stored = await store.order(engineView!.userId, orderId);
        expect(stored, `order ${orderId} in PostgreSQL`).toBeDefined();
        const fromEngine = views.order(engineView!);
        const fromStore = storedOrderView(stored!);
        for (const field of unknownInReports) {
          delete fromEngine[field];
          delete fromStore[field];
        }
        expect(fromStore, `order ${orderId}`).toEqual(fromEngine);
      }
    }),
  );

  // Balances: each account's latest balance_changes row is its engine balance (an asset never
  // touched has no row; the engine lists it at 0).
  const { rows: latest } = await pool.query<{ user_id: string; asset: string; available: string; locked: string }>(
    'SELECT DISTINCT ON (user_id, asset) user_id, asset, available::text, locked::text FROM balance_changes ORDER BY user_id, asset, seq DESC',
  );
  const touched = new Set(latest.map((row) => `${row.user_id}:${row.asset}`));
  const expected = run.userIds.flatMap((userId) =>
    run.engine
      .balances(userId)
      .filter((balance) => touched.has(`${userId}:${balance.asset}`) || balance.available + balance.locked > 0)
      .map((balance) => {
        const asset = findAsset(run.config, balance.asset)!;
        return {
          user_id: String(userId),
          asset: balance.asset,
          available: formatAmount(asset, balance.available),
          locked: formatAmount(asset, balance.locked),
        };
      }),
  );
  const key = (row: { user_id: string; asset: string }) => `${row.user_id.padStart(12, '0')}:${row.asset}`;
  expect(latest.map((row) => ({ ...row })).sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
    expected.sort((a, b) => key(a).localeCompare(key(b))),
  );
}

describe('the persister, end to end', () => {
  it('persists a few hundred commands with 3 consumers exactly once, equal to the engine, and reports its lag', async () => {
    const run = engineRun({ commands: 400, seed: 11 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const persister = startPersister(stream);
    await waitFor('the stream to drain', () => drained(stream));
    await expectEqualsEngine(run);
    const stats = persister.stats();
    expect(stats.entries).toBe(run.envelopes.length);
    expect(stats.executionsInserted).toBe(run.envelopes.filter((envelope) => envelope.type === 'Execution').length);
    expect(stats.lastCommittedSeq).toBe(run.envelopes[run.envelopes.length - 1]!.seq);
    expect(stats.consumers.map((consumer) => consumer.name)).toEqual(['persister-1', 'persister-2', 'persister-3']);
    expect(await persister.lag()).toEqual({ pending: 0, undelivered: 0, secondsBehind: 0 });
  });

  it('reports the entries not yet persisted and how old the oldest is', async () => {
    const run = engineRun({ commands: 50, seed: 3, startAt: Date.now() - 60_000 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const persister = new Persister({ db: pool, stream: new RedisExecutionStream({ url: REDIS_URL, stream }) });
    const stream2 = new RedisExecutionStream({ url: REDIS_URL, stream });
    await stream2.ensureGroup();
    const lag = await persister.lag();
    expect(lag.pending).toBe(0);
    expect(lag.undelivered).toBe(run.envelopes.length);
    expect(lag.secondsBehind).toBeGreaterThan(59);
    // a consumer that reads and never acknowledges: pending, still behind
    const ghost = stream2.consumer('ghost');
    await ghost.read('>', 10, 0);
    expect(await persister.lag()).toMatchObject({ pending: 10, undelivered: run.envelopes.length - 10 });
    ghost.close();
    await stream2.close();
  });

  it('gives the same rows when batches commit in reverse order, or concurrently in any order', async () => {
    const run = engineRun({ commands: 400, seed: 12 });
    const batches: ReturnType<typeof entriesOf>[] = [];
    const entries = entriesOf(run.envelopes);
    for (let start = 0; start < entries.length; start += 37) batches.push(entries.slice(start, start + 37));

    for (const batch of batches) await writeBatch(pool, 's', batchRows(batch));
    const inOrder = await dump();
    await expectEqualsEngine(run);

    await pool.query('TRUNCATE executions, orders, trades, balance_changes, stream_dead_letters');
    for (const batch of [...batches].reverse()) await writeBatch(pool, 's', batchRows(batch));
    expect(await dump()).toEqual(inOrder);

    await pool.query('TRUNCATE executions, orders, trades, balance_changes, stream_dead_letters');
    // three writers at once, each taking batches from a shuffled list (seeded)
    const shuffled = [...batches];
    for (let index = shuffled.length - 1, state = 5; index > 0; index--) {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      const other = state % (index + 1);
      [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
    }
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let batch = shuffled.pop(); batch; batch = shuffled.pop()) await writeBatch(pool, 's', batchRows(batch));
      }),
    );
    expect(await dump()).toEqual(inOrder);
  });

  it('changes nothing when entries come again: re-added under new ids, or claimed while their first consumer still writes them', async () => {
    const run = engineRun({ commands: 300, seed: 13 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const first = startPersister(stream);
    await waitFor('the stream to drain', () => drained(stream));
    const once = await dump();
    await first.stop();

    // The same envelopes under new entry ids (a publisher resending after losing its cursor).
    const offset = run.envelopes[run.envelopes.length - 1]!.seq;
    await addToStream(redis, stream, run.envelopes, (envelope) => `${envelope.seq + offset}-0`);
    // A slow consumer reads them all and writes them itself, while the persister claims the same
    // entries from it (idle 0 ms) and writes them too — both deliveries land, twice over.
    const slow = new RedisExecutionStream({ url: REDIS_URL, stream }).consumer('slow');
    const delivered = [];
    for (let batch = await slow.read('>', 500, 0); batch.length > 0; batch = await slow.read('>', 500, 0)) delivered.push(...batch);
    expect(delivered.length).toBe(run.envelopes.length);
    const second = startPersister(stream, { name: 'claimer', claimIdleMs: 100, claimEveryMs: 50 });
    await Promise.all([
      (async () => {
        for (let start = 0; start < delivered.length; start += 100)
          await writeBatch(pool, stream, batchRows(delivered.slice(start, start + 100)));
      })(),
      waitFor('the claimed entries to be acknowledged', () => drained(stream)),
    ]);
    slow.close();
    // every entry claimed at least once (on a loaded machine one may be claimed again from a slow claimer: 100 ms idle)
    expect(second.stats().claimed).toBeGreaterThanOrEqual(run.envelopes.length);
    expect(second.stats().executionsInserted).toBe(0);
    expect(await dump()).toEqual(once);
    await expectEqualsEngine(run);
  });

  it('reads its own pending entries first after a restart under the same name', async () => {
    const run = engineRun({ commands: 200, seed: 14 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const before = new RedisExecutionStream({ url: REDIS_URL, stream });
    await before.ensureGroup();
    // persister-2 of an earlier run read 150 entries and died before committing them
    const crashed = before.consumer('persister-2');
    expect((await crashed.read('>', 150, 0)).length).toBe(150);
    crashed.close();
    await before.close();
    const batches: string[] = [];
    startPersister(stream, { claimIdleMs: 600_000, observer: { onBatch: (info) => batches.push(`${info.consumer}:${info.source}`) } });
    await waitFor('the stream to drain', () => drained(stream));
    expect(batches).toContain('persister-2:own-pending');
    await expectEqualsEngine(run);
  });

  it('stopped gracefully halfway and started again under the same name, ends exactly where the engine is', async () => {
    const run = engineRun({ commands: 2_000, seed: 18 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const first = startPersister(stream, { batchSize: 20 });
    await waitFor('some progress', async () => first.stats().entries > 1_000);
    await first.stop();
    expect(first.stats().consumers.map((consumer) => consumer.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(first.stats().entries).toBeLessThan(run.envelopes.length);
    // what it had read it wrote and acknowledged (a read cut at the stop may leave one batch pending)
    expect(Number(((await redis.xpending(stream, 'execution_processors')) as [number])[0])).toBeLessThanOrEqual(3 * 20);
    startPersister(stream);
    await waitFor('the stream to drain', () => drained(stream));
    await expectEqualsEngine(run);
  });

  it('keeps entries it cannot use as dead letters, acknowledged, and persists the rest of their batch', async () => {
    const run = engineRun({ commands: 30, seed: 19 });
    const { stream } = namespace();
    const last = run.envelopes[run.envelopes.length - 1]!.seq;
    await addToStream(redis, stream, run.envelopes);
    await redis.xadd(stream, `${last + 1}-0`, 'envelope', 'not json');
    // valid JSON and a valid envelope shape, refused by a CHECK constraint (price > 0)
    const badTrade = {
      v: 1,
      type: 'Trade',
      seq: last + 2,
      prev_seq: last + 1,
      timestamp: 1,
      symbol: 'BTC-KRW',
      trade_id: '999999',
      price: '0',
      quantity: '1',
      quote_quantity: '0',
      taker_side: 'Buy',
    };
    await redis.xadd(stream, `${last + 2}-0`, 'envelope', JSON.stringify(badTrade));
    const deadLetters: number[] = [];
    const persister = startPersister(stream, { observer: { onDeadLetters: (count) => deadLetters.push(count) } });
    await waitFor('the stream to drain', () => drained(stream));
    await expectEqualsEngine(run, 2);
    expect(persister.stats().deadLetters).toBe(2);
    expect(deadLetters.reduce((sum, count) => sum + count, 0)).toBe(2);
    const { rows } = await pool.query<{ entry_id: string; error: string }>(
      'SELECT entry_id, error FROM stream_dead_letters ORDER BY entry_id',
    );
    expect(rows.map((row) => row.entry_id)).toEqual([`${last + 1}-0`, `${last + 2}-0`]);
    expect(rows[0]!.error).toBe('envelope is not JSON');
    expect(rows[1]!.error).toMatch(/^refused by PostgreSQL: .*check constraint/);
  });

  it('trims the stream below what every group acknowledged, never what a consumer still holds', async () => {
    const run = engineRun({ commands: 200, seed: 15 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const persister = startPersister(stream);
    await waitFor('the stream to drain', () => drained(stream));
    // Another group (say a resume reader) that read 40 entries and acknowledged 30 of them.
    await redis.xgroup('CREATE', stream, 'other', '0');
    const other = new RedisExecutionStream({ url: REDIS_URL, stream, group: 'other' }).consumer('reader');
    const read = await other.read('>', 40, 0);
    await other.ack(read.slice(0, 30).map((entry) => entry.id));
    const total = run.envelopes.length;
    expect(await persister.trim()).toBe(30);
    expect(await redis.xlen(stream)).toBe(total - 30);
    const first = await redis.xrange(stream, '-', '+', 'COUNT', 1);
    expect(first[0]?.[0]).toBe(read[30]!.id);
    await other.ack(read.slice(30).map((entry) => entry.id));
    await redis.xgroup('DESTROY', stream, 'other');
    other.close();
    await persister.trim();
    expect(await redis.xlen(stream)).toBe(0);
    // an entry added later is kept until it is acknowledged
    await persister.stop();
    const more = engineRun({ commands: 1, seed: 16, firstSeq: 1 }).envelopes.slice(0, 1);
    await addToStream(redis, stream, more, () => `${run.envelopes[run.envelopes.length - 1]!.seq + 1}-0`);
    expect(await new Persister({ db: pool, stream: new RedisExecutionStream({ url: REDIS_URL, stream }) }).trim()).toBe(0);
  });

  it('keeps going through a PostgreSQL and then a Redis connection cut, losing and doubling nothing', async () => {
    const run = engineRun({ commands: 2_000, seed: 17 });
    const { stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const postgres = await TcpProxy.start(new URL(DATABASE_URL).port === '' ? 5432 : Number(new URL(DATABASE_URL).port));
    const redisProxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
    const proxiedUrl = new URL(DATABASE_URL);
    proxiedUrl.port = String(postgres.port);
    const proxiedPool = new pg.Pool({ connectionString: proxiedUrl.toString(), max: 4, connectionTimeoutMillis: 1_000 });
    proxiedPool.on('error', () => {});
    const redisUrl = new URL(REDIS_URL);
    redisUrl.port = String(redisProxy.port);
    const errors: string[] = [];
    const persister = startPersister(stream, {
      db: proxiedPool,
      redisUrl: redisUrl.toString(),
      batchSize: 50,
      observer: { onError: (where) => errors.push(where) },
    });
    try {
      await waitFor('some progress', async () => persister.stats().entries > 500);
      postgres.cut();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      postgres.restore();
      await waitFor('progress after PostgreSQL came back', async () => persister.stats().entries > 3_000);
      redisProxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      redisProxy.restore();
      await waitFor('the stream to drain', () => drained(stream));
      expect(errors).toContain('write');
      expect(errors.some((where) => where === 'read' || where === 'ack' || where === 'claim')).toBe(true);
      await expectEqualsEngine(run);
    } finally {
      await persister.stop();
      await proxiedPool.end();
      postgres.close();
      redisProxy.close();
    }
  });
});

describe('the persister process', () => {
  it('loses and doubles nothing when a consumer process is killed mid-batch: another reclaims its entries with XAUTOCLAIM', async () => {
    const run = engineRun({ commands: 20_000, seed: 21 });
    const { namespace: ns, stream } = namespace();
    await addToStream(redis, stream, run.envelopes);
    const port = await freePort();
    const child = spawnTs('ops/persister.ts', [], {
      DATABASE_URL,
      REDIS_URL,
      BROKER_NAMESPACE: ns,
      PERSISTER_NAME: 'doomed',
      PERSISTER_PORT: String(port),
      PERSISTER_BATCH: '100',
    });
    let pendingAtKill: number;
    try {
      await waitFor(
        'the child to persist',
        async () => (await pool.query('SELECT count(*)::int AS n FROM executions')).rows[0].n > 2_000,
        60_000,
      );
      const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
      expect(health).toMatchObject({
        status: 'ok',
        stream,
        group: 'execution_processors',
        consumers: [{ name: 'doomed-1' }, { name: 'doomed-2' }, { name: 'doomed-3' }],
      });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const name of [
        'xtrader_persister_pending_entries',
        'xtrader_persister_seconds_behind',
        'xtrader_persister_batch_seconds',
        'xtrader_persister_entries_total',
      ])
        expect(metrics).toContain(name);
      // kill while it holds entries it has read and not acknowledged
      await waitFor(
        'entries in flight',
        async () => Number(((await redis.xpending(stream, 'execution_processors')) as [number])[0]) > 0,
        10_000,
      );
      await child.kill9();
      pendingAtKill = Number(((await redis.xpending(stream, 'execution_processors')) as [number])[0]);
    } finally {
      await child.kill9();
    }
    expect(pendingAtKill, child.output()).toBeGreaterThan(0);
    expect(await drained(stream)).toBe(false);

    const rescuer = startPersister(stream, { name: 'rescuer', claimIdleMs: 300, claimEveryMs: 100 });
    await waitFor('the stream to drain', () => drained(stream), 120_000);
    expect(rescuer.stats().claimed).toBeGreaterThanOrEqual(pendingAtKill);
    const perConsumer = (await redis.xpending(stream, 'execution_processors')) as [number, unknown, unknown, unknown];
    expect(perConsumer[0]).toBe(0);
    await expectEqualsEngine(run);
  }, 180_000);

  it('stops gracefully on SIGTERM', async () => {
    const { namespace: ns } = namespace();
    const port = await freePort();
    const child = spawnTs('ops/persister.ts', [], { DATABASE_URL, REDIS_URL, BROKER_NAMESPACE: ns, PERSISTER_PORT: String(port) });
    try {
      await waitFor('/health', async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200, 30_000);
      const exited = new Promise<number | null>((resolve) => child.child.once('exit', (code) => resolve(code)));
      child.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await child.kill9();
    }
  }, 60_000);
});

/** A TCP relay to a local port whose connections can be cut (and refused) and then allowed again. */
class TcpProxy {
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;

  private constructor(
    private readonly target: number,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, await freePort());
    await proxy.#listen();
    return proxy;
  }

  #listen(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.#server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  /** Every connection reset, new ones refused. */
  cut(): void {
    this.#server?.close();
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
  }

  restore(): Promise<void> {
    return this.#listen();
  }

  close(): void {
    this.cut();
  }
}
