// The gateway the red-team script runs against, outside vitest: the same pieces the
// integration tests' stack starts (container, HTTP app, moderation service on a port of
// its own), on a database created and migrated for this run alone and dropped after it.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildContainer, type Container, type ContainerOptions } from '../src/container.ts';
import { loadConfig, type Config } from '../src/platform/config.ts';
import { quoteIdentifier, withDatabase } from '../src/platform/db.ts';
import { createLogger } from '../src/platform/logger.ts';
import { ensureDatabase, migrate } from '../src/platform/migrator.ts';
import { freePort } from '../test/helpers/free-port.ts';

export interface RedteamScriptStack {
  app: Awaited<ReturnType<Container['createApi']>>;
  container: Container;
  databaseName: string;
  close(): Promise<void>;
}

// `server` supplies only where Postgres and Redis are; everything else is fixed here so a
// run does not depend on the caller's environment (no OpenAI key: the local classifier
// answers, as in the tests).
export async function startRedteamStack(options: {
  server: Pick<Config, 'databaseUrl' | 'redisUrl'>;
  resolveHost: NonNullable<ContainerOptions['resolveHost']>;
  moderationTimeoutMs?: number;
}): Promise<RedteamScriptStack> {
  const suffix = `${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `airlock_redteam_${suffix}`;
  const databaseUrl = withDatabase(options.server.databaseUrl, databaseName);
  await ensureDatabase(databaseUrl);
  const drop = () => dropDatabase(options.server.databaseUrl, databaseName);
  try {
    await migrate(databaseUrl);
    const moderationPort = await freePort();
    const config = loadConfig(
      {
        DATABASE_URL: databaseUrl,
        REDIS_URL: options.server.redisUrl,
        REDIS_PREFIX: `redteam_${suffix}`,
        LOG_LEVEL: 'error',
        PORT: '0',
        WORKER_PORT: '0',
        MODERATION_PORT: String(moderationPort),
        MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
        // A run measures decisions, not capacity: on a busy machine, shedding load would
        // turn proposals into 503s and the run into noise.
        MAX_EVENT_LOOP_DELAY_MS: '60000',
        // No worker runs, so allowed actions stay queued: the execution-backlog admission
        // check would refuse every proposal after its first seconds.
        ADMISSION_MAX_BACKLOG_AGE_MS: '600000',
        ADMISSION_MAX_IN_FLIGHT: '64',
        ...(options.moderationTimeoutMs
          ? { MODERATION_TIMEOUT_MS: String(options.moderationTimeoutMs) }
          : {}),
      },
      { role: 'all' },
    );
    // Errors only, and on stderr: stdout carries the score table.
    const logger = createLogger({ level: config.logLevel, destination: process.stderr });
    const container = buildContainer(config, { logger, resolveHost: options.resolveHost });
    const moderation = container.createModerationApi();
    const app = await container.createApi();
    try {
      await moderation.listen({ host: '127.0.0.1', port: moderationPort });
      await app.ready();
    } catch (err) {
      await app.close().catch(() => undefined);
      await moderation.close().catch(() => undefined);
      await container.close().catch(() => undefined);
      throw err;
    }
    return {
      app,
      container,
      databaseName,
      async close() {
        await app.close();
        await moderation.close();
        await container.close();
        await drop();
      },
    };
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
