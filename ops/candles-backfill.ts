/**
 * `npm run candles:backfill -- [--symbol BTC-KRW]… [--from MS] [--to MS]`: rebuilds 1-minute
 * candles from the trades the persister wrote to PostgreSQL (db/candles/candle-backfill.ts), e.g.
 * after a fix to the candle code, or to fill a candle store that started after the trades. Safe
 * while the market-data service runs (same per-symbol lock; only trades it already applied, or all
 * of a symbol it has not reached, are used). Larger intervals need no backfill: they are grouped
 * from the 1-minute rows when read. Waits up to 60 s for the persister when PostgreSQL does not hold
 * every trade yet. Prints one JSON line per symbol; exit code 1 on failure.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { backfillCandles, IncompleteTradesError, type BackfillOptions } from '../db/candles/candle-backfill.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { loadConfig } from './config.ts';

const WAIT_FOR_PERSISTER_MS = 60_000;

function msArgument(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new Error(`--${name} must be ms since the epoch`);
  return Number(value);
}

export async function runBackfill(databaseUrl: string, options: BackfillOptions, log: (line: string) => void = console.log): Promise<void> {
  await ensureDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    await migrate(pool);
    const deadline = Date.now() + WAIT_FOR_PERSISTER_MS;
    for (;;) {
      try {
        for (const result of await backfillCandles(pool, options)) log(JSON.stringify(result));
        return;
      } catch (error) {
        if (!(error instanceof IncompleteTradesError) || Date.now() > deadline) throw error;
        log(JSON.stringify({ waiting: error.message }));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      symbol: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'npm run candles:backfill -- [--symbol BTC-KRW]... [--from MS] [--to MS]\n' +
        '  rebuilds 1-minute candles from the trades in PostgreSQL (DATABASE_URL); every symbol and all time by default;\n' +
        '  safe while the market-data service runs; one JSON line per symbol\n',
    );
    return;
  }
  const from = msArgument(values.from, 'from');
  const to = msArgument(values.to, 'to');
  if (from !== undefined && to !== undefined && from >= to) throw new Error('--from must be before --to');
  const config = loadConfig();
  await runBackfill(config.DATABASE_URL, {
    ...(values.symbol ? { symbols: values.symbol } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
