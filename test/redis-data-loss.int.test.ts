import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from './helpers/test-env.ts';
import { startPrivateRedis, type PrivateRedis } from './helpers/private-redis.ts';
import { createApiClient, createIdentity, noteBody, type Identity } from './helpers/api-client.ts';

const PROPOSALS = 200;

// Redis is not the system of record and can forget acknowledged writes: here a private,
// non-durable redis-server is SIGKILLed while a backlog of published jobs waits in it, and
// comes back empty. Postgres must notice the actions whose jobs vanished and run each of
// them exactly once.
describe('Redis loses its data under a backlog', () => {
  let redis: PrivateRedis;
  let stack: TestStack;
  let api: ReturnType<typeof createApiClient>;
  let agent: Identity;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stack = await startTestStack({
      env: {
        REDIS_URL: redis.url,
        WORKER_CONCURRENCY: '2',
        RECONCILE_STRANDED_AFTER_MS: '1000',
        MODERATION_TIMEOUT_MS: '2000',
      },
    });
    api = createApiClient(stack);
    agent = await createIdentity(stack, 'acme', 'agent');
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    (await stack.container.pool.query<{ n: number }>(sql, params)).rows[0]!.n;
  const statusCount = (ids: string[], status: string) =>
    count('SELECT count(*)::int AS n FROM actions WHERE id = ANY($1::uuid[]) AND status = $2', [ids, status]);

  it('when redis-server is killed with jobs waiting and restarts empty, then the reconciler re-publishes every stranded action and each runs exactly once', async () => {
    // Acknowledged and allowed: every proposal that answered 201 queued.
    const acknowledged: string[] = [];
    for (let i = 0; i < PROPOSALS; i++) {
      const action = await api.created(agent.key, noteBody(`backlog ${i}`, `user-${i}`));
      if (action.status === 'queued') acknowledged.push(action.id);
    }
    expect(acknowledged.length).toBeGreaterThan(PROPOSALS / 2);

    // Every row published: the jobs wait in Redis, and nothing in Postgres still points at
    // the relay.
    const relay = stack.container.createRelay();
    while ((await relay.relayOnce()) > 0);
    expect(await count('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).toBe(0);

    const worker = stack.container.createExecutionWorker();
    worker.start();
    await waitFor(async () => (await statusCount(acknowledged, 'succeeded')) >= 20, {
      what: 'some jobs to run before the crash',
      timeoutMs: 60_000,
    });
    await redis.kill();
    const executedBeforeCrash = await statusCount(acknowledged, 'succeeded');
    await redis.restart();
    relay.start();

    // The fault is real: once the worker has drained what it held, actions stay queued
    // with no job anywhere.
    let settled = -1;
    await waitFor(
      async () => {
        const done = await statusCount(acknowledged, 'succeeded');
        const stable = done === settled;
        settled = done;
        return stable;
      },
      { what: 'the worker to run out of jobs', intervalMs: 2_000, timeoutMs: 60_000 },
    );
    const stranded = acknowledged.length - (await statusCount(acknowledged, 'succeeded'));
    expect(stranded).toBeGreaterThan(0);

    const reconciler = stack.container.createReconciler();
    let republished = 0;
    await waitFor(
      async () => {
        republished += (await reconciler.runOnce()).republished;
        return (await statusCount(acknowledged, 'succeeded')) === acknowledged.length;
      },
      { what: 'every acknowledged action to succeed', intervalMs: 500, timeoutMs: 120_000 },
    );
    await relay.stop();
    await worker.close(5_000);

    const notes = await stack.container.pool.query<{ action_id: string; n: number }>(
      'SELECT action_id, count(*)::int AS n FROM sandbox_notes WHERE action_id = ANY($1::uuid[]) GROUP BY 1',
      [acknowledged],
    );
    const duplicates = notes.rows.filter((r) => r.n > 1).length;
    const summary = {
      acknowledged: acknowledged.length,
      executed_before_crash: executedBeforeCrash,
      stranded,
      republished,
      executed: notes.rows.length,
      duplicates,
    };
    console.log(`redis data loss: ${JSON.stringify(summary)}`);
    expect(duplicates).toBe(0);
    expect(notes.rows.length).toBe(acknowledged.length);
    expect(republished).toBeGreaterThanOrEqual(stranded);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM audit_events WHERE action_id = ANY($1::uuid[]) AND type = 'action.republished'`,
        [acknowledged],
      ),
    ).toBe(republished);
    expect(await stack.container.audit.verify(agent.tenantId)).toMatchObject({ valid: true });
  });
});
