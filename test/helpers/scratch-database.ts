import pg from 'pg';
import { inject } from 'vitest';
import { quoteIdentifier, withDatabase } from '../../src/platform/db.ts';
import { uniqueSuffix } from './test-env.ts';

// A name for a database that does not exist yet on the test server. The airlock_t_ prefix
// and the timestamp let the global setup drop it if a crashed run leaves it behind.
export function scratchDatabaseUrl(): { name: string; url: string } {
  const name = `airlock_t_${uniqueSuffix()}`;
  return { name, url: withDatabase(inject('databaseUrl'), name) };
}

async function withAdmin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: withDatabase(inject('databaseUrl'), 'postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

// An empty database (no template, no migrations).
export async function createEmptyDatabase(): Promise<{
  name: string;
  url: string;
  drop: () => Promise<void>;
}> {
  const { name, url } = scratchDatabaseUrl();
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  return { name, url, drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

export async function databaseExists(name: string): Promise<boolean> {
  return withAdmin(async (admin) =>
    Boolean((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount),
  );
}

export async function queryOnce<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
