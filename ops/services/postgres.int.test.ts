import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';

const config = loadConfig();

describe('PostgreSQL (DATABASE_URL, started by services:up)', () => {
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 3_000 });

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it('is the xtrader database and round-trips a row through a temporary table', async () => {
    const database = await client.query<{ name: string }>('SELECT current_database() AS name');
    expect(database.rows[0]?.name).toBe(new URL(config.DATABASE_URL).pathname.slice(1));

    await client.query('CREATE TEMP TABLE round_trip (id int PRIMARY KEY, note text NOT NULL)');
    await client.query('INSERT INTO round_trip (id, note) VALUES ($1, $2)', [7, 'ünïcode ✓']);
    const read = await client.query<{ id: number; note: string }>('SELECT id, note FROM round_trip WHERE id = $1', [7]);
    expect(read.rows).toEqual([{ id: 7, note: 'ünïcode ✓' }]);
  });
});
