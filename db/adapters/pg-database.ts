/**
 * PostgreSQL adapter for what needs a connection of its own outside any pool: creating and
 * dropping the database a DATABASE_URL names (connecting to the `postgres` maintenance database).
 */
import pg from 'pg';

/** SQLSTATEs a concurrent CREATE/DROP DATABASE elsewhere in the cluster can raise for a moment. */
const TRANSIENT_CATALOG_ERRORS = new Set(['55006', 'XX000', '40001', '40P01', '57P03']);

/**
 * Creates the database named in `databaseUrl` when it does not exist (connecting to `postgres`).
 * Test files create and drop their own databases side by side; a catalog conflict with one of
 * them (object in use, tuple concurrently updated) is retried a few times rather than failing.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureDatabaseOnce(databaseUrl);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || code === undefined || !TRANSIENT_CATALOG_ERRORS.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * Drops the database named in `databaseUrl` if it exists — for tests and benches that made a
 * database of their own. A plain DROP first, waiting for sessions still closing to go (a pool's
 * end() resolves before its sockets have closed, and a session terminated by WITH (FORCE) in that
 * moment surfaces in its owner as an uncaught 57P01); only after about 3 s of sessions still in it
 * does it force them out. Transient catalog errors are retried like ensureDatabase's.
 */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const force = attempt > 8;
    const { identifier, client } = await maintenanceClient(databaseUrl);
    try {
      await client.query(`DROP DATABASE IF EXISTS ${identifier}${force ? ' WITH (FORCE)' : ''}`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 13 || code === undefined || !TRANSIENT_CATALOG_ERRORS.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 500)));
    } finally {
      await client.end();
    }
  }
}

/** The database name of `databaseUrl`, quoted for SQL, and a connected client on `postgres`. */
async function maintenanceClient(databaseUrl: string): Promise<{ database: string; identifier: string; client: pg.Client }> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') throw new Error(`no database named in ${url.host}`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  return { database, identifier: pg.escapeIdentifier(database), client };
}

async function ensureDatabaseOnce(databaseUrl: string): Promise<boolean> {
  const { database, identifier, client } = await maintenanceClient(databaseUrl);
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${identifier}`);
      return true;
    } catch (error) {
      // Another starter created it between our check and CREATE: duplicate_database / unique_violation.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}
