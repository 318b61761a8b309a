import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from './logger.ts';
import { createRedis } from './redis.ts';
import { startPrivateRedis, type PrivateRedis } from '../../test/helpers/private-redis.ts';
import { createRateLimiter } from '../modules/rate-limit/rate-limiter.ts';

// On a Redis of the test's own: SCRIPT FLUSH and the command counters are server-wide.
describe('defineScript', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = createRedis(server.url, 'cache', {
      logger: createLogger({ level: 'silent' }),
      commandTimeoutMs: 2_000,
    });
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  // How many times each scripting command ran, from INFO commandstats.
  const calls = async () => {
    const info = await admin.info('commandstats');
    const count = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    return { eval: count('eval'), evalsha: count('evalsha') };
  };

  it('when a script is called again, then only its SHA crosses the wire; after SCRIPT FLUSH it is sent once more', async () => {
    await admin.config('RESETSTAT');
    const limiter = createRateLimiter({
      redis,
      prefix: 'script-test',
      logger: createLogger({ level: 'silent' }),
    });
    for (let i = 0; i < 3; i++) await limiter.consume('tenant', 'user', 100);
    expect(await calls()).toEqual({ eval: 1, evalsha: 2 });

    await admin.script('FLUSH');
    await limiter.consume('tenant', 'user', 100);
    // EVALSHA answered NOSCRIPT, so the script was sent again with EVAL.
    expect(await calls()).toEqual({ eval: 2, evalsha: 3 });
  });
});
