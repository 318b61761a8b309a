import { createHash } from 'node:crypto';
import path from 'node:path';
import { TooManyRequestsError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { defineScript, type Redis } from '../../platform/redis.ts';

export interface RateLimiter {
  // Throws 429 rate_limited with Retry-After when the caller is over its limit.
  consume(tenantId: string, userId: string, perMinute: number): Promise<void>;
}

// Per (tenant, user_id) limits in Redis. When Redis is unreachable the limiter lets the
// request through and counts it: losing rate limiting for a minute is a smaller harm than
// refusing every proposal while the cache is down (ADR 0005).
export function createRateLimiter(deps: {
  redis: Redis;
  prefix: string;
  logger: Logger;
  onLimited?: () => void;
  onUnavailable?: () => void;
}): RateLimiter {
  // Logged when the limiter starts failing open and when it recovers, not per request: an
  // outage would otherwise write a line for every proposal. The rest is counted.
  let unavailable = false;
  const gcra = defineScript<[number, number]>(deps.redis, {
    name: 'airlockGcra',
    file: path.join(import.meta.dirname, 'gcra.lua'),
    keys: 1,
  });
  return {
    async consume(tenantId, userId, perMinute) {
      // Hash the user id: it is the caller's free text, and keys should not carry it.
      const user = createHash('sha256').update(userId).digest('base64url').slice(0, 22);
      let result: [number, number];
      try {
        result = await gcra(`${deps.prefix}:rl:${tenantId}:${user}`, perMinute, 60_000);
      } catch (err) {
        deps.onUnavailable?.();
        if (!unavailable) {
          unavailable = true;
          deps.logger.warn(
            { err: { message: (err as Error).message } },
            'rate limiter unavailable; allowing requests until Redis answers',
          );
        }
        return;
      }
      if (unavailable) {
        unavailable = false;
        deps.logger.info('rate limiter available again');
      }
      if (result[0] === 1) return;
      deps.onLimited?.();
      throw new TooManyRequestsError(
        result[1] / 1000,
        `More than ${perMinute} proposals per minute for this user.`,
      );
    },
  };
}
