import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, ensureDatabase, migrate, MigrationError, readMigrations } from './migrate.ts';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/xtrader';
const databaseName = `xtrader_migrate_test_${process.pid}`;
const testUrl = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${databaseName}`;
  return url.toString();
})();

let pool: pg.Pool;

beforeAll(async () => {
  expect(await ensureDatabase(testUrl)).toBe(true);
  expect(await ensureDatabase(testUrl)).toBe(false);
  pool = new pg.Pool({ connectionString: testUrl, max: 6 });
  // an idle client cut by the server must fail the test that uses it, not crash the file
  pool.on('error', () => {});
});

afterAll(async () => {
  await pool?.end();
  await dropDatabase(testUrl);
});

describe('migrate', () => {
  it('applies every migration exactly once even when several starters race', async () => {
    const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
    const all = results.flat();
    const files = await readMigrations();
    expect(all.sort()).toEqual(files.map((migration) => migration.name).sort());
    const recorded = await pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(recorded.rows.map((row) => row.name)).toEqual(files.map((migration) => migration.name));
    expect(await migrate(pool)).toEqual([]);
    const tables = await pool.query("SELECT table_name FROM information_schema.tables WHERE table_name IN ('users', 'api_keys')");
    expect(tables.rowCount).toBe(2);
  });

  it('refuses a migration edited after it was applied, and a gap in the numbering', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-migrations-'));
    try {
      const files = await readMigrations();
      for (const migration of files) await writeFile(path.join(dir, migration.name), migration.sql);
      await writeFile(path.join(dir, files[0]!.name), `${files[0]!.sql}\n-- edited`);
      await expect(migrate(pool, dir)).rejects.toThrow(/changed after it was applied/);
      await writeFile(path.join(dir, files[0]!.name), files[0]!.sql);
      await writeFile(path.join(dir, '009_far_ahead.sql'), 'SELECT 1;');
      await expect(readMigrations(dir)).rejects.toBeInstanceOf(MigrationError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rolls back a failing migration and records nothing for it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xtrader-migrations-'));
    try {
      const files = await readMigrations();
      for (const migration of files) await writeFile(path.join(dir, migration.name), migration.sql);
      const next = String(files.length + 1).padStart(3, '0');
      await writeFile(path.join(dir, `${next}_broken.sql`), 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;');
      await expect(migrate(pool, dir)).rejects.toThrow(/broken/);
      const table = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
      expect(table.rowCount).toBe(0);
      const recorded = await pool.query('SELECT 1 FROM schema_migrations WHERE version = $1', [files.length + 1]);
      expect(recorded.rowCount).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
