import type { Config } from '../platform/config.ts';
import { createPool, type Pool } from '../platform/db.ts';
import type { FlagProvider } from '../platform/flags/flag-provider.ts';
import { createLocalFlagProvider } from '../platform/flags/local-flag-provider.ts';
import { createUnleashFlagProvider } from '../platform/flags/unleash-flag-provider.ts';
import { createQueue, queuePrefix as bullPrefixOf, type RetryPolicy } from '../platform/queue.ts';
import { createRedis, type Redis } from '../platform/redis.ts';
import { createDeadlineScope, withDeadlines } from '../platform/request-deadline.ts';
import { tracePool } from '../platform/traced.ts';
import { EXECUTE_QUEUE } from '../modules/execution/execution.jobs.ts';
import { findTenantSlugs } from '../modules/tenants/tenants.repository.ts';
import { countRedisErrors, type Observability, type ObservedRedis } from './observability.ts';

export type Infrastructure = ReturnType<typeof buildInfrastructure>;

// Connections and the flag provider: what every role shares and what close() releases.
// Each connection fails the way its user needs (see platform/redis.ts).
export function buildInfrastructure(config: Config, obs: Observability, options: { background: boolean }) {
  const { logger, metrics, telemetry, tracer } = obs;
  const rawPool = createPool({
    connectionString: config.databaseUrl,
    max: config.db.poolMax,
    statementTimeoutMs: config.db.statementTimeoutMs,
    connectTimeoutMs: config.db.connectTimeoutMs,
    applicationName: `airlock-${config.role}`,
    logger,
  });
  // One deadline per API request, honoured by the pool wait and every query
  // (src/platform/request-deadline.ts); background work runs outside any deadline.
  const deadlines = createDeadlineScope();
  const boundedPool = withDeadlines(rawPool, deadlines, config.databaseUrl);
  const pool: Pool = telemetry.enabled ? tracePool(boundedPool, tracer) : boundedPool;
  const cacheRedis = createRedis(config.redisUrl, 'cache', {
    logger,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    onError: countRedisErrors(metrics, config.role, 'cache'),
  });
  // A command timeout, so a hung Redis cannot hold the relay (and its outbox row locks) for ever.
  const producerRedis = createRedis(config.redisUrl, 'producer', {
    logger,
    commandTimeoutMs: 5_000,
    onError: countRedisErrors(metrics, config.role, 'producer'),
  });
  const retry: RetryPolicy = {
    maxAttempts: config.worker.maxAttempts,
    backoffBaseMs: config.worker.backoffBaseMs,
    backoffMaxMs: config.worker.backoffMaxMs,
  };
  const queuePrefix = bullPrefixOf(config.redisPrefix);
  const queue = createQueue(EXECUTE_QUEUE, producerRedis, queuePrefix, retry);
  // BullMQ re-emits connection errors on the queue and, with no listener, prints them raw to
  // stderr. The producer connection's own listener already logs and counts them.
  queue.on('error', () => undefined);

  const flags: FlagProvider =
    config.unleashUrl && config.unleashApiToken
      ? createUnleashFlagProvider({
          url: config.unleashUrl,
          clientToken: config.unleashApiToken,
          adminToken: config.unleashAdminToken,
          environment: config.unleashEnvironment,
          appName: 'airlock',
          refreshIntervalMs: config.flags.refreshIntervalMs,
          backupPath: config.unleashBackupDir,
          disableMetrics: !options.background,
          logger,
          tenantSlugs: (ids) => findTenantSlugs(pool, ids),
        })
      : createLocalFlagProvider({
          pool,
          connectionString: config.databaseUrl,
          refreshIntervalMs: config.flags.refreshIntervalMs,
          logger,
          listen: options.background,
        });

  // Every connection this process holds, for the scrape-time health ping
  // (registerCollectors): a connection leaves the list when it ends for good.
  const redisClients = new Set<ObservedRedis>();
  const observe = (client: string, redis: Redis): Redis => {
    const entry: ObservedRedis = { client, ping: () => redis.ping() };
    redisClients.add(entry);
    redis.once('end', () => redisClients.delete(entry));
    return redis;
  };
  observe('cache', cacheRedis);
  observe('producer', producerRedis);

  // Workers block on Redis, so each gets a connection of its own that retries for ever.
  const createWorkerConnection = (): Redis =>
    observe(
      'worker',
      createRedis(config.redisUrl, 'worker', {
        logger,
        onError: countRedisErrors(metrics, config.role, 'worker'),
      }),
    );

  const readiness = [
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
    { name: 'redis', check: async () => void (await cacheRedis.ping()) },
  ];

  async function close(): Promise<void> {
    await flags.close();
    await queue.close().catch(() => undefined);
    cacheRedis.disconnect();
    producerRedis.disconnect();
    await pool.end();
  }

  return {
    pool,
    deadlines,
    cacheRedis,
    queue,
    queuePrefix,
    retry,
    flags,
    readiness,
    createWorkerConnection,
    redisClients: (): readonly ObservedRedis[] => [...redisClients],
    close,
  };
}
