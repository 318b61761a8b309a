import path from 'node:path';
import { defineScript, type Redis } from '../../platform/redis.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ActionView } from './action-types.ts';

export type CacheResult = 'hit' | 'miss' | 'error' | 'bypass';

export interface ActionCache {
  get(tenantId: string, id: string): Promise<ActionView | null>;
  put(tenantId: string, view: ActionView, version: number): Promise<void>;
}

const FLUSH_BATCH = 500;

// Cache-aside for GET /v1/actions/{id}. Redis is an optimisation here, never a dependency:
// every failure is counted and swallowed, and the caller reads Postgres instead.
//
// A write-through that fails leaves an older version in Redis that nothing will replace.
// So a failed write marks the cache dirty: reads bypass it, and once Redis answers again
// this process drops every cached action before it trusts the cache again. Only the
// process whose write failed can know, and it is the one that flushes.
export function createActionCache(deps: {
  redis: Redis;
  prefix: string;
  ttlSeconds: number;
  logger: Logger;
  onResult?: (result: CacheResult) => void;
  // Whether reads for this tenant may be served from the cache (the cache.action-reads flag);
  // when not, a read is counted as a bypass and goes to Postgres. Writes go on either way.
  readsEnabled?: (tenantId: string) => boolean;
}): ActionCache {
  const keyOf = (tenantId: string, id: string) => `${deps.prefix}:action:${tenantId}:${id}`;
  const ttlMs = deps.ttlSeconds * 1000;
  let dirty = false;
  let flushing: Promise<void> | undefined;
  const setIfNewer = defineScript<unknown>(deps.redis, {
    name: 'airlockCacheSetIfNewer',
    file: path.join(import.meta.dirname, 'cache-set-if-newer.lua'),
    keys: 1,
  });

  async function flush(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await deps.redis.scan(
        cursor,
        'MATCH',
        `${deps.prefix}:action:*`,
        'COUNT',
        FLUSH_BATCH,
      );
      if (keys.length) await deps.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    dirty = false;
    deps.logger.info('action cache flushed after a failed write; serving from cache again');
  }

  // True while the cache must not be used; starts a flush when Redis is reachable.
  function bypass(): boolean {
    if (!dirty) return false;
    flushing ??= flush()
      .catch((err: Error) =>
        deps.logger.debug({ err: { message: err.message } }, 'action cache flush failed'),
      )
      .finally(() => {
        flushing = undefined;
      });
    return true;
  }

  return {
    async get(tenantId, id) {
      if (bypass() || deps.readsEnabled?.(tenantId) === false) {
        deps.onResult?.('bypass');
        return null;
      }
      try {
        const raw = await deps.redis.get(keyOf(tenantId, id));
        deps.onResult?.(raw ? 'hit' : 'miss');
        if (!raw) return null;
        return JSON.parse(raw.slice(raw.indexOf(':') + 1)) as ActionView;
      } catch (err) {
        deps.onResult?.('error');
        deps.logger.debug({ err: { message: (err as Error).message } }, 'action cache read failed');
        return null;
      }
    },
    async put(tenantId, view, version) {
      if (bypass()) return;
      try {
        await setIfNewer(keyOf(tenantId, view.id), version, JSON.stringify(view), ttlMs);
      } catch (err) {
        dirty = true;
        deps.logger.debug(
          { err: { message: (err as Error).message } },
          'action cache write failed; cache marked dirty',
        );
      }
    },
  };
}
