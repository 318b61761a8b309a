import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteBody } from '../helpers/api-client.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.ts';
import { useTestStack } from '../helpers/use-test-stack.ts';
import { waitFor } from '../helpers/test-env.ts';

// The scrape-time collectors behind AirlockDbPoolSaturated, AirlockRedisErrorsRising and
// AirlockExecutionStalled, read through GET /metrics of a real stack as Prometheus does.

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  redis.resume();
  await stack.close();
  await redis.stop();
});

const { stack, api, ids } = useTestStack(
  () => ({ worker: true, env: { REDIS_URL: redis.url, REDIS_PREFIX: 'airlock' } }),
  { agent: ['acme', 'agent'] },
);
const scrape = async () => (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;

describe('scrape-time collectors on a running stack', () => {
  it('when the stack is idle, then no scrape reports a caller waiting for a Postgres client', async () => {
    const waiting: (number | undefined)[] = [];
    for (let i = 0; i < 20; i += 1) {
      waiting.push(sample(await scrape(), 'airlock_db_pool_clients{pool="main",state="waiting"}'));
    }
    expect(waiting).toEqual(Array.from({ length: 20 }, () => 0));
  });

  it('when Redis hangs, then every connection of the process counts errors, labelled with its role', async () => {
    const errors = (text: string, client: string) =>
      sample(text, `airlock_redis_errors_total{client="${client}",role="all"}`) ?? 0;
    const before = await scrape();
    redis.pause();
    try {
      const during = await scrape();
      for (const client of ['cache', 'producer', 'worker']) {
        expect(errors(during, client), client).toBeGreaterThan(errors(before, client));
      }
    } finally {
      redis.resume();
    }
    // Answering again: a scrape adds no error.
    await waitFor(
      async () => {
        const a = await scrape();
        const b = await scrape();
        return ['cache', 'producer', 'worker'].every((c) => errors(a, c) === errors(b, c));
      },
      { what: 'Redis to answer every connection again', timeoutMs: 15_000 },
    );
  });

  it('when an allowed action cannot start, then its age grows from Postgres, and is 0 once it started', async () => {
    await stack.container.pool.query(
      `UPDATE actions SET status = 'succeeded' WHERE status IN ('queued', 'running')`,
    );
    // Stand in for a stalled pipeline without stopping this stack's worker: an allowed
    // action whose queued_at is a minute old and that nothing has attempted.
    const action = await api.created(ids.agent.key, noteBody());
    await stack.container.pool.query(
      `UPDATE actions SET status = 'queued', attempts = 0, queued_at = now() - interval '60 seconds'
        WHERE id = $1`,
      [action.id],
    );
    const age = sample(await scrape(), 'airlock_action_oldest_queued_age_seconds') ?? 0;
    expect(age).toBeGreaterThanOrEqual(60);
    await stack.container.pool.query(`UPDATE actions SET attempts = 1 WHERE id = $1`, [action.id]);
    expect(sample(await scrape(), 'airlock_action_oldest_queued_age_seconds')).toBe(0);
  });
});
