import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { waitFor } from './helpers/test-env.ts';
import { startFlakyProxy, type FlakyProxy } from './helpers/flaky-proxy.ts';
import { createIdentity, noteBody } from './helpers/api-client.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

const PROPOSALS = 30;
const SPACING_MS = 100;
const OUTAGE_MS = 2_000;

// Redis is a cache, a rate limiter and a queue here, never the system of record: while it
// refuses connections, proposals must still commit and reads must still answer from
// Postgres; once it is back, the outbox must deliver everything that piled up, once.
describe('Redis outage', () => {
  let proxy: FlakyProxy;
  const { stack, api, ids } = useTestStack(
    async () => {
      const redis = new URL(inject('redisUrl'));
      const started = await startFlakyProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
      proxy = started;
      return {
        worker: true,
        env: {
          REDIS_URL: started.url(redis.pathname),
          WORKER_LOCK_DURATION_MS: '2000',
          WORKER_STALLED_INTERVAL_MS: '1000',
        },
      };
    },
    { agent: ['acme', 'agent'] },
  );
  const { agent } = ids;

  afterAll(async () => {
    await proxy?.accept();
    await stack.close();
    await proxy?.close();
  });

  it('when Redis refuses connections for 2 s under steady proposals, then every proposal answers 201, reads answer 200, and afterwards every action succeeds exactly once', async () => {
    // Warm up: the relay and worker are connected and a proposal runs end to end.
    const warm = await api.created(agent.key, noteBody('warm-up'));
    await api.waitForStatus(warm.id, ['succeeded']);

    // Logs are JSON on stdout; nothing may print raw errors to the console during the outage.
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const ids: string[] = [];
    const duringOutage: string[] = [];
    let outageStarted = 0;
    let outageOver = false;
    let readyDuringOutage: { statusCode: number; failing: string[] } | undefined;
    let slowest = 0;
    let connectionsBeforeRecovery = 0;

    for (let i = 0; i < PROPOSALS; i++) {
      if (i === 5) {
        await proxy.refuse();
        outageStarted = Date.now();
      }
      const inOutage = outageStarted > 0 && !outageOver;
      if (inOutage && Date.now() - outageStarted >= OUTAGE_MS) {
        // Nothing proposed during the outage can have run: the relay could not publish.
        const { rows } = await stack.container.pool.query<{ status: string }>(
          'SELECT status FROM actions WHERE id = ANY($1::uuid[])',
          [duringOutage],
        );
        expect(rows.map((r) => r.status)).toEqual(duringOutage.map(() => 'queued'));
        connectionsBeforeRecovery = proxy.connections();
        await proxy.accept();
        outageOver = true;
      }

      const started = Date.now();
      const response = await api.propose(agent.key, noteBody(`steady ${i}`, `user-${i % 3}`));
      expect(response.statusCode, `proposal ${i}: ${response.body.slice(0, 200)}`).toBe(201);
      const action = response.json();
      expect(action.status).toBe('queued');
      const read = await api.get(agent.key, `/v1/actions/${action.id}`);
      expect(read.statusCode, `read ${i}`).toBe(200);
      expect(read.json().id).toBe(action.id);
      slowest = Math.max(slowest, Date.now() - started);
      ids.push(action.id);
      if (outageStarted > 0 && !outageOver) {
        duringOutage.push(action.id);
        if (!readyDuringOutage) {
          const ready = await api.get(null, '/readyz');
          readyDuringOutage = { statusCode: ready.statusCode, failing: ready.json().failing };
        }
      }
      await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
    }

    expect(outageOver).toBe(true);
    // The proposals got through because the limiter failed open, and said so.
    const limiterErrors = await stack.container.metrics.redisErrors.get();
    const failedOpen = limiterErrors.values.find((v) => v.labels.client === 'rate_limiter')?.value ?? 0;
    expect(failedOpen).toBeGreaterThanOrEqual(duringOutage.length);
    expect(duringOutage.length).toBeGreaterThanOrEqual(10);
    expect(readyDuringOutage).toEqual({ statusCode: 503, failing: ['redis'] });
    // Fail-fast Redis clients: an outage costs a request milliseconds, not a hang.
    expect(slowest).toBeLessThan(2_000);

    const all = [warm.id, ...ids];
    await waitFor(
      async () =>
        (await api.count(
          `SELECT count(*)::int AS n FROM actions WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
          [all],
        )) === all.length,
      { timeoutMs: 30_000, intervalMs: 200, what: 'every action to succeed after Redis returned' },
    );
    expect(proxy.connections()).toBeGreaterThan(connectionsBeforeRecovery);
    const printed = consoleError.mock.calls.map((args) => String(args[0]));
    consoleError.mockRestore();
    expect(printed).toEqual([]);
    const { rows } = await stack.container.pool.query<{ id: string; notes: number; attempts: number }>(
      `SELECT a.id, a.attempts, (SELECT count(*)::int FROM sandbox_notes n WHERE n.action_id = a.id) AS notes
         FROM actions a WHERE a.id = ANY($1::uuid[])`,
      [all],
    );
    expect(rows).toHaveLength(all.length);
    expect(rows.filter((r) => r.notes !== 1)).toEqual([]);
    expect(await api.count('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).toBe(0);
    expect(
      await api.count(`SELECT count(*)::int AS n FROM outbox WHERE action_id = ANY($1::uuid[])`, [all]),
    ).toBe(all.length);
    expect(await stack.container.audit.verify(agent.tenantId)).toMatchObject({ valid: true });
    // And the cache serves again: a read now shows the final state.
    expect((await api.get(agent.key, `/v1/actions/${duringOutage[0]}`)).json().status).toBe('succeeded');
  }, 60_000);

  it('when an action changes while Redis is down, then once Redis is back a read shows the change, not the entry cached before', async () => {
    const reviewer = await createIdentity(stack, 'acme', 'reviewer');
    const action = await api.created(agent.key, {
      tool: 'files.delete',
      arguments: { path: '/x' },
      user_id: 'u',
    });
    // The read fills the cache with the pending_review version.
    expect((await api.get(agent.key, `/v1/actions/${action.id}`)).json().status).toBe('pending_review');

    await proxy.refuse();
    try {
      const rejected = await api.review(reviewer.key, action.id, { decision: 'reject' });
      expect(rejected.statusCode).toBe(200);
      expect((await api.get(agent.key, `/v1/actions/${action.id}`)).json().status).toBe('rejected');
    } finally {
      await proxy.accept();
    }
    // Once the cache client is connected again, the cache must not serve the old version (it
    // would for CACHE_ACTION_TTL_SECONDS: the refresh after the commit was lost in the outage).
    await waitFor(async () => (await api.get(null, '/readyz')).statusCode === 200, {
      timeoutMs: 10_000,
      what: 'Redis to be reachable again',
    });
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await api.get(agent.key, `/v1/actions/${action.id}`)).json().status);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(statuses).toEqual(statuses.map(() => 'rejected'));
  }, 30_000);
});
