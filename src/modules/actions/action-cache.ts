import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from '../../platform/redis.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ActionView } from './action-types.ts';

const SET_IF_NEWER = readFileSync(path.join(import.meta.dirname, 'cache-set-if-newer.lua'), 'utf8');

export type CacheResult = 'hit' | 'miss' | 'error';

export interface ActionCache {
  get(tenantId: string, id: string): Promise<ActionView | null>;
  put(tenantId: string, view: ActionView, version: number): Promise<void>;
}

// Cache-aside for GET /v1/actions/{id}. Redis is an optimisation here, never a dependency:
// every failure is counted and swallowed, and the caller reads Postgres instead.
export function createActionCache(deps: {
  redis: Redis;
  prefix: string;
  ttlSeconds: number;
  logger: Logger;
  onResult?: (result: CacheResult) => void;
}): ActionCache {
  const keyOf = (tenantId: string, id: string) => `${deps.prefix}:action:${tenantId}:${id}`;
  const ttlMs = deps.ttlSeconds * 1000;

  return {
    async get(tenantId, id) {
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
      try {
        await deps.redis.eval(
          SET_IF_NEWER,
          1,
          keyOf(tenantId, view.id),
          version,
          JSON.stringify(view),
          ttlMs,
        );
      } catch (err) {
        deps.logger.debug({ err: { message: (err as Error).message } }, 'action cache write failed');
      }
    },
  };
}
