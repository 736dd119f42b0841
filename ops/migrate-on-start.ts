/**
 * The start-up step of the processes that write to PostgreSQL (persister, market-data), apart from
 * ops/process-kit.ts so the processes that never touch PostgreSQL do not load `pg`.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { retryUntil } from './process-kit.ts';

/**
 * Creates the database if missing and applies the migrations (under their advisory lock), waiting
 * up to `limitMs` for PostgreSQL: a process that writes there may start before or after the core.
 */
export async function migrateOnStart(databaseUrl: string, logger: Logger, limitMs: number): Promise<void> {
  await retryUntil(limitMs, logger, 'PostgreSQL for migrations', async () => {
    await ensureDatabase(databaseUrl);
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      const applied = await migrate(pool);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    } finally {
      await pool.end();
    }
  });
}
