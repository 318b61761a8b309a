import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';

export type { Redis };

// Three kinds of connection, because each fails differently on purpose:
// - cache: fails fast (no offline queue, short command timeout), so a Redis outage costs
//   a read one cache miss, never a hung request;
// - queue producers: fail fast too (BullMQ's advice), so the caller sees the error;
// - workers: retry forever (maxRetriesPerRequest null), as BullMQ requires for blocking calls.
export type RedisRole = 'cache' | 'producer' | 'worker';

export function createRedis(
  url: string,
  role: RedisRole,
  options: { logger: Logger; commandTimeoutMs?: number; onError?: () => void },
): Redis {
  const base: RedisOptions = {
    connectionName: `airlock-${role}`,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000) + Math.floor(Math.random() * 100),
  };
  const byRole: Record<RedisRole, RedisOptions> = {
    cache: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 100,
    },
    producer: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs,
    },
    worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
  };
  const redis = new Redis(url, { ...base, ...byRole[role] });
  let lastLogged = 0;
  redis.on('error', (err) => {
    options.onError?.();
    // Reconnect loops emit an error per attempt; one line every 5 s is enough.
    const now = Date.now();
    if (now - lastLogged > 5_000) {
      lastLogged = now;
      options.logger.warn(
        { err: { message: err.message, code: (err as { code?: string }).code }, role },
        'redis error',
      );
    }
  });
  return redis;
}

// Resolves at once if the connection is not ready, or as soon as it stops being ready: a
// shutdown races its graceful close against this, so it never waits on a Redis that has gone.
export function untilDown(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('close', () => resolve()));
}

// A Lua script kept in its own .lua file, registered with ioredis's defineCommand: the first
// call on a connection sends the script (EVAL) and later ones only its SHA1 (EVALSHA), with a
// fallback to EVAL should Redis have dropped it (NOSCRIPT after a restart or SCRIPT FLUSH).
export function defineScript<Result>(
  redis: Redis,
  script: { name: string; file: string; keys: number },
): (...keysThenArgs: Array<string | number>) => Promise<Result> {
  redis.defineCommand(script.name, { lua: readFileSync(script.file, 'utf8'), numberOfKeys: script.keys });
  const command = (redis as unknown as Record<string, (...args: Array<string | number>) => Promise<Result>>)[
    script.name
  ]!;
  return (...keysThenArgs) => command.apply(redis, keysThenArgs);
}
