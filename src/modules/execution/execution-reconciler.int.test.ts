import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../../../test/helpers/test-env.ts';
import {
  createApiClient,
  createIdentity,
  noteBody,
  type Identity,
} from '../../../test/helpers/api-client.ts';
import { createRedis } from '../../platform/redis.ts';
import { queuePrefix } from '../../platform/queue.ts';
import { EXECUTE_QUEUE, jobIdForOutbox } from './execution.jobs.ts';
import { createExecutionReconciler } from './execution-reconciler.ts';

// The reconciler decides from what Postgres and BullMQ say about each open action. These
// cases set that up directly; test/redis-data-loss.int.test.ts kills a real redis-server.
describe('execution reconciler', () => {
  let stack: TestStack;
  let api: ReturnType<typeof createApiClient>;
  let agent: Identity;

  beforeAll(async () => {
    // Moderation gets room: these tests need allowed actions, not a loaded machine's reviews.
    stack = await startTestStack({
      env: { RECONCILE_STRANDED_AFTER_MS: '300', MODERATION_TIMEOUT_MS: '2000' },
    });
    api = createApiClient(stack);
    agent = await createIdentity(stack, 'acme', 'agent');
  });
  afterAll(async () => stack?.close());

  let n = 0;
  const queued = async () => {
    n += 1;
    const action = await api.created(agent.key, noteBody(`reconcile ${n}`, `user-${n}`));
    expect(action.status, JSON.stringify(action.decision.reasons)).toBe('queued');
    return action.id as string;
  };
  const publishAll = async () => {
    const relay = stack.container.createRelay();
    while ((await relay.relayOnce()) > 0);
  };
  const outboxIdsOf = async (actionId: string) =>
    (
      await stack.container.pool.query<{ id: number }>(
        'SELECT id FROM outbox WHERE action_id = $1 ORDER BY id',
        [actionId],
      )
    ).rows.map((r) => r.id);
  const aged = () => new Promise((resolve) => setTimeout(resolve, 400));

  it('when a published job is missing from BullMQ, then two reconcilers re-publish the action once, under a new job id, and record it', async () => {
    const id = await queued();
    await publishAll();
    const [first] = await outboxIdsOf(id);
    await stack.container.queue.remove(jobIdForOutbox(first!));
    await aged();

    const [a, b] = [stack.container.createReconciler(), stack.container.createReconciler()];
    const passes = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(passes.reduce((sum, p) => sum + p.republished, 0)).toBe(1);
    const ids = await outboxIdsOf(id);
    expect(ids).toHaveLength(2);
    const events = await stack.container.pool.query<{ actor: string; data: Record<string, unknown> }>(
      `SELECT actor, data FROM audit_events WHERE action_id = $1 AND type = 'action.republished'`,
      [id],
    );
    expect(events.rows).toEqual([
      { actor: 'reconciler', data: { lost_job_id: jobIdForOutbox(first!), status: 'queued' } },
    ]);

    // Runs once: the new job is executed, a later pass finds nothing to do.
    await publishAll();
    const worker = stack.container.createExecutionWorker();
    worker.start();
    await api.waitForStatus(id, ['succeeded']);
    await worker.close(5_000);
    await aged();
    expect((await a.runOnce()).republished).toBe(0);
    expect(await api.count('SELECT count(*)::int AS n FROM sandbox_notes WHERE action_id = $1', [id])).toBe(
      1,
    );
  });

  it('when an action’s job is live, its outbox row is not published yet, or it changed recently, then the reconciler leaves it alone', async () => {
    const live = await queued();
    await publishAll();
    const unpublished = await queued();
    await aged();
    const reconciler = stack.container.createReconciler();
    const before = { live: await outboxIdsOf(live), unpublished: await outboxIdsOf(unpublished) };
    expect((await reconciler.runOnce()).republished).toBe(0);
    expect(await outboxIdsOf(live)).toEqual(before.live);
    expect(await outboxIdsOf(unpublished)).toEqual(before.unpublished);

    // Fresh: its job is gone, but it changed within the bound.
    const fresh = await queued();
    await publishAll();
    await stack.container.queue.remove(jobIdForOutbox((await outboxIdsOf(fresh))[0]!));
    const patient = createExecutionReconciler({
      pool: stack.container.pool,
      queue: stack.container.queue,
      execution: stack.container.execution,
      logger: stack.container.logger,
      intervalMs: 1_000,
      strandedAfterMs: 60_000,
    });
    expect(await patient.runOnce()).toMatchObject({ republished: 0, deadLettered: 0 });
    expect((await outboxIdsOf(fresh)).length).toBe(1);
  });

  it('when BullMQ failed a job for good but the action was never marked, then the reconciler fails the action and parks the job as a dead letter', async () => {
    const id = await queued();
    await publishAll();
    const [outboxId] = await outboxIdsOf(id);
    // A consumer that gives up on the job without telling Postgres, as when Postgres was
    // down when the job gave up.
    const connection = createRedis(stack.config.redisUrl, 'worker', {
      logger: stack.container.logger,
    });
    const rogue = new Worker(
      EXECUTE_QUEUE,
      async () => {
        throw new UnrecoverableError('gave up');
      },
      { connection, prefix: queuePrefix(stack.config.redisPrefix) },
    );
    try {
      await waitFor(
        async () => (await stack.container.queue.getJobState(jobIdForOutbox(outboxId!))) === 'failed',
        {
          what: 'the job to fail in BullMQ',
        },
      );
    } finally {
      await rogue.close();
      connection.disconnect();
    }
    expect((await api.actionRow(id))!.status).toBe('queued');
    await aged();
    // The rogue consumer failed every job waiting in the queue, this one among them.
    expect((await stack.container.createReconciler().runOnce()).deadLettered).toBeGreaterThanOrEqual(1);
    const row = (await api.actionRow(id))!;
    expect(row.status).toBe('failed');
    expect(row.error?.code).toBe('dead_lettered');
    const letters = await stack.container.dlq.list({ tenantId: agent.tenantId });
    expect(letters.items.find((d) => d.action_id === id)).toMatchObject({
      job_id: jobIdForOutbox(outboxId!),
      state: 'open',
    });
  });
});
