/**
 * `npm run bench:persister`: how many stream entries per second the persister commits.
 *
 * A seeded engine run (ops/testing/execution-fixture.ts: every execution type, two markets) becomes
 * the envelopes the Redis publisher would write; they are all added to a stream of the bench's own
 * (`bench<pid>.executions` on REDIS_URL) before the persister starts, so the figure is the drain
 * rate, not the feed's. The persister is the real process (ops/persister.ts, PERSISTER_CONSUMERS
 * consumers, batches of PERSISTER_BATCH) writing into a database of its own, xtrader_bench_persister
 * (emptied first). The rate is counted from its first committed batch to the last acknowledgement,
 * from its own /health figures. Knobs: BENCH_COMMANDS (default 60,000), PERSISTER_CONSUMERS (3),
 * PERSISTER_BATCH (100). Prints one JSON line.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { ensureDatabase, migrate } from '../../db/migrate.ts';
import { brokerNames } from '../../contract/broker-routes.ts';
import { freePort } from '../core-child.ts';
import { addToStream, engineRun } from '../testing/execution-fixture.ts';
import { spawnTs } from '../testing/stack.ts';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 60_000);
const CONSUMERS = process.env.PERSISTER_CONSUMERS ?? '3';
const BATCH = process.env.PERSISTER_BATCH ?? '100';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6380';
const DATABASE_URL = (() => {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader');
  url.pathname = '/xtrader_bench_persister';
  return url.toString();
})();

interface Health {
  entries: number;
  pending: number | null;
  undelivered: number | null;
}

async function main(): Promise<void> {
  await ensureDatabase(DATABASE_URL);
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  await migrate(pool);
  await pool.query('TRUNCATE executions, orders, trades, balance_changes, stream_dead_letters');

  const run = engineRun({ commands: COMMANDS, seed: 99 });
  const namespace = `bench${process.pid}`;
  const { stream } = brokerNames(namespace);
  const redis = new Redis(REDIS_URL);
  await redis.del(stream);
  await addToStream(redis, stream, run.envelopes);
  const total = run.envelopes.length;

  const port = await freePort();
  const child = spawnTs('ops/persister.ts', [], {
    DATABASE_URL,
    REDIS_URL,
    BROKER_NAMESPACE: namespace,
    PERSISTER_PORT: String(port),
    PERSISTER_CONSUMERS: CONSUMERS,
    PERSISTER_BATCH: BATCH,
  });
  const health = async (): Promise<Health | undefined> => {
    try {
      return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Health;
    } catch {
      return undefined;
    }
  };
  let first: { at: number; entries: number } | undefined;
  let last: { at: number; entries: number } | undefined;
  const deadline = Date.now() + 600_000;
  try {
    for (;;) {
      const now = performance.now();
      const figures = await health();
      if (figures && figures.entries > 0) {
        first ??= { at: now, entries: figures.entries };
        last = { at: now, entries: figures.entries };
        if (figures.entries >= total && figures.pending === 0 && figures.undelivered === 0) break;
      }
      if (Date.now() > deadline) throw new Error(`not drained in 10 minutes: ${JSON.stringify(figures)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const batchCount = Number(/^xtrader_persister_batch_seconds_count (\d+)/m.exec(metrics)?.[1] ?? 0);
    const batchSum = Number(/^xtrader_persister_batch_seconds_sum ([\d.e+-]+)/m.exec(metrics)?.[1] ?? 0);
    const { rows } = await pool.query<{ executions: number; orders: number; trades: number; balances: number }>(
      `SELECT (SELECT count(*) FROM executions)::int AS executions, (SELECT count(*) FROM orders)::int AS orders,
              (SELECT count(*) FROM trades)::int AS trades, (SELECT count(*) FROM balance_changes)::int AS balances`,
    );
    const seconds = (last!.at - first!.at) / 1000;
    console.log(
      JSON.stringify({
        commands: COMMANDS,
        entries: total,
        consumers: Number(CONSUMERS),
        batch: Number(BATCH),
        measured_entries: last!.entries - first!.entries,
        seconds: Number(seconds.toFixed(3)),
        entries_per_sec: Math.round((last!.entries - first!.entries) / seconds),
        batches: batchCount,
        mean_batch_ms: batchCount > 0 ? Number(((batchSum / batchCount) * 1000).toFixed(2)) : null,
        rows: rows[0],
      }),
    );
  } finally {
    await child.stop();
    await redis.del(stream);
    redis.disconnect();
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
