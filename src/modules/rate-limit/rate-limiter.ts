import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TooManyRequestsError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Redis } from '../../platform/redis.ts';

const GCRA = readFileSync(path.join(import.meta.dirname, 'gcra.lua'), 'utf8');

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
  return {
    async consume(tenantId, userId, perMinute) {
      // Hash the user id: it is the caller's free text, and keys should not carry it.
      const user = createHash('sha256').update(userId).digest('base64url').slice(0, 22);
      let result: [number, number];
      try {
        result = (await deps.redis.eval(
          GCRA,
          1,
          `${deps.prefix}:rl:${tenantId}:${user}`,
          perMinute,
          60_000,
        )) as [number, number];
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
