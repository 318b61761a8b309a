import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../platform/errors.ts';
import { waitFor } from '../../../test/helpers/test-env.ts';
import { deleteBody, noteBody } from '../../../test/helpers/api-client.ts';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';

// Real failures through the real worker: a permanent one (the file is not there) and a
// transient one (the sandbox table is locked past the tool timeout).
describe('dead-letter queue: failing for real, then replaying', () => {
  const { stack, api, ids } = useTestStack(
    {
      worker: true,
      env: { WORKER_MAX_ATTEMPTS: '2', WORKER_TOOL_TIMEOUT_MS: '400' },
    },
    {
      agent: ['acme', 'agent'],
      reviewer: ['acme', 'reviewer'],
    },
  );
  const { agent, reviewer } = ids;

  const approve = async (actionId: string) => {
    const principal = await stack.container.auth.authenticate(`Bearer ${reviewer.key}`);
    const action = await stack.container.reviews.decide(principal, actionId, 'approve', undefined);
    expect(action.status).toBe('queued');
  };
  const deadLetterOf = async (actionId: string) =>
    waitFor(async () => (await stack.container.dlq.list()).items.find((d) => d.action_id === actionId), {
      what: `a dead letter for ${actionId}`,
    });
  const eventCount = (actionId: string, type: string) =>
    api.count('SELECT count(*)::int AS n FROM audit_events WHERE action_id = $1 AND type = $2', [
      actionId,
      type,
    ]);

  it('when files.delete targets a missing file, then it fails after one attempt with file_not_found and lands in the DLQ; a replay after the file appears succeeds once', async () => {
    const path = '/missing/report.pdf';
    const action = await api.created(agent.key, deleteBody(path));
    await approve(action.id);

    const failed = await api.waitForStatus(action.id, ['failed', 'succeeded']);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('file_not_found');
    expect(failed.attempts).toBe(1);

    const dead = await deadLetterOf(action.id);
    expect(dead.attempts).toBe(1);
    expect(dead.tenant_id).toBe(agent.tenantId);
    expect(dead.failed_reason).toContain('file_not_found');
    // The action's error stays the tool's, not the generic dead-letter code.
    expect((await api.actionRow(action.id))!.error?.code).toBe('file_not_found');

    await stack.container.pool.query('INSERT INTO sandbox_files (tenant_id, path) VALUES ($1, $2)', [
      agent.tenantId,
      path,
    ]);
    const replay = await stack.container.dlq.replay(dead.job_id, 'test');
    expect(replay).toMatchObject({ job_id: dead.job_id, action_id: action.id, replayed: true });

    const done = await api.waitForStatus(action.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeNull();
    expect(done.attempts).toBe(2);
    const { rows } = await stack.container.pool.query(
      'SELECT deleted_by_action FROM sandbox_files WHERE tenant_id = $1 AND path = $2 AND deleted_at IS NOT NULL',
      [agent.tenantId, path],
    );
    expect(rows).toEqual([{ deleted_by_action: action.id }]);
    expect((await stack.container.dlq.list()).items.some((d) => d.job_id === dead.job_id)).toBe(false);

    // Replaying twice is harmless: the letter is closed, nothing is queued again.
    expect(await stack.container.dlq.replay(dead.job_id, 'test')).toMatchObject({
      replayed: false,
      detail: 'already replayed',
    });
    // Give a wrongly re-published job time to run before counting effects.
    const barrier = await api.created(agent.key, noteBody('barrier'));
    await api.waitForStatus(barrier.id, ['succeeded']);
    expect(await eventCount(action.id, 'action.succeeded')).toBe(1);
    expect(await eventCount(action.id, 'action.replayed')).toBe(1);
    expect(await eventCount(action.id, 'action.started')).toBe(2);
    expect(await api.count('SELECT count(*)::int AS n FROM outbox WHERE action_id = $1', [action.id])).toBe(
      2,
    );
    expect((await api.actionRow(action.id))!.attempts).toBe(2);
    expect(await stack.container.audit.verify(agent.tenantId)).toMatchObject({ valid: true });
  });

  it('when a job id is unknown, then replay throws NotFound', async () => {
    await expect(stack.container.dlq.replay('outbox-999999999', 'test')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('when notes.create times out on a locked table, then it is retried, fails with tool_timeout after 2 attempts, is dead-lettered and leaves no note; a replay after the lock goes writes one note', async () => {
    const blocker = new pg.Client({ connectionString: stack.databaseUrl });
    await blocker.connect();
    let actionId: string;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE sandbox_notes IN EXCLUSIVE MODE');
      actionId = (await api.created(agent.key, noteBody('never written'))).id;
      const failed = await api.waitForStatus(actionId, ['failed', 'succeeded'], 20_000);
      expect(failed.status).toBe('failed');
      expect(failed.error?.code).toBe('tool_timeout');
      expect(failed.attempts).toBe(2);
      const dead = await deadLetterOf(actionId);
      expect(dead.attempts).toBe(2);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expect(await eventCount(actionId, 'action.retry_scheduled')).toBe(1);
    expect(await eventCount(actionId, 'action.failed')).toBe(1);
    expect(
      await api.count('SELECT count(*)::int AS n FROM sandbox_notes WHERE action_id = $1', [actionId]),
    ).toBe(0);

    const dead = await deadLetterOf(actionId);
    await stack.container.dlq.replay(dead.job_id, 'test');
    expect((await api.waitForStatus(actionId, ['succeeded', 'failed'])).status).toBe('succeeded');
    expect(
      await api.count('SELECT count(*)::int AS n FROM sandbox_notes WHERE action_id = $1', [actionId]),
    ).toBe(1);
    expect((await api.get(agent.key, `/v1/actions/${actionId}`)).json()).toMatchObject({
      status: 'succeeded',
      error: null,
      attempts: 3,
    });
  });
});
