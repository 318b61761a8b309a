import { createHash } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../src/platform/migrator.ts';
import { quoteIdentifier, withDatabase } from '../src/platform/db.ts';
import { dockerAvailable, planInfrastructure, tcpReachable } from './helpers/test-infrastructure.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    templateDatabase: string;
  }
}

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

// Finds Postgres and Redis (or starts them in containers), then migrates one template
// database that every integration test file clones: a clone costs milliseconds, a fresh
// migration per file would cost seconds.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  let redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  const stops: Array<() => Promise<unknown>> = [];

  const [postgresUp, redisUp] = await Promise.all([tcpReachable(databaseUrl), tcpReachable(redisUrl)]);
  const plan = planInfrastructure({
    postgresUp,
    redisUp,
    dockerAvailable: postgresUp && redisUp ? false : await dockerAvailable(),
    databaseUrl,
    redisUrl,
    explicitlyConfigured: Boolean(process.env.DATABASE_URL || process.env.REDIS_URL),
  });
  if (plan.kind === 'fail') throw new Error(plan.message);
  if (plan.kind === 'start-containers') {
    const { GenericContainer, Wait } = await import('testcontainers');
    const postgres = await new GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
      .start();
    const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    stops.push(
      () => postgres.stop(),
      () => redis.stop(),
    );
    databaseUrl = `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`;
    redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
  }

  const migrations = await readMigrations(MIGRATIONS_DIR);
  const fingerprint = createHash('sha256')
    .update(migrations.map((m) => m.checksum).join())
    .digest('hex')
    .slice(0, 10);
  const templateDatabase = `airlock_test_tpl_${fingerprint}`;
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    // Serialise concurrent `npm test` runs on one server while they build the template.
    await admin.query('SELECT pg_advisory_lock(7424242002)');
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [templateDatabase]);
    if (!exists.rowCount) {
      const building = `${templateDatabase}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(building)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${quoteIdentifier(building)}`);
      await migrate(withDatabase(databaseUrl, building));
      await admin.query(
        `ALTER DATABASE ${quoteIdentifier(building)} RENAME TO ${quoteIdentifier(templateDatabase)}`,
      );
    }
    // Databases left by runs that crashed; their names carry their creation time, so a run
    // going on in parallel keeps its own.
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname ~ '^airlock_t_[0-9]+_'`,
    );
    const cutoff = Math.floor(Date.now() / 1000) - 2 * 3600;
    for (const { datname } of stale.rows) {
      if (Number(datname.split('_')[2]) > cutoff) continue;
      await admin
        .query(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)} WITH (FORCE)`)
        .catch(() => undefined);
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock(7424242002)').catch(() => undefined);
    await admin.end();
  }

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    for (const stop of stops) await stop();
  };
}
