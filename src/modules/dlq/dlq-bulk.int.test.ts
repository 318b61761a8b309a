import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { startTestStack, waitFor, type TestStack } from '../../../test/helpers/test-env.ts';
import {
  createApiClient,
  createIdentity,
  noteBody,
  type Identity,
} from '../../../test/helpers/api-client.ts';
import type { DeadLetter } from './dlq.service.ts';

const LETTERS = 130;

// Many dead letters made for real, the way a drill makes them: actions queued, then a kill
// switch flipped before the worker reaches them, so each fails permanently on its first
// attempt. Then the operator pages through them, quarantines one, and replays the rest in
// bulk once the switch is off.
describe('dead-letter store: paging, bulk replay and discard', () => {
  let stack: TestStack;
  let api: ReturnType<typeof createApiClient>;
  let agent: Identity;
  let other: Identity;
  let ids: string[];
  let otherIds: string[];
  let relay: ReturnType<TestStack['container']['createRelay']>;
  let worker: ReturnType<TestStack['container']['createExecutionWorker']>;

  const setKill = async (on: boolean) => {
    await stack.container.flagsService.set('kill-switch.notes.create', on, 'test');
    await waitFor(async () => {
      await stack.container.flags.refresh();
      return stack.container.flags.isEnabled('kill-switch.notes.create') === on;
    });
  };
  const statusOf = async (actionIds: string[]) =>
    (
      await stack.container.pool.query<{ status: string; code: string | null; n: number }>(
        `SELECT status, error->>'code' AS code, count(*)::int AS n FROM actions
          WHERE id = ANY($1::uuid[]) GROUP BY 1, 2 ORDER BY 1, 2`,
        [actionIds],
      )
    ).rows;
  const propose = async (identity: Identity, n: number, prefix: string) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const action = await api.created(identity.key, noteBody(`${prefix} ${i}`, `${prefix}-${i}`));
      if (action.status === 'queued') out.push(action.id);
    }
    return out;
  };

  beforeAll(async () => {
    stack = await startTestStack({ env: { WORKER_CONCURRENCY: '4', MODERATION_TIMEOUT_MS: '2000' } });
    api = createApiClient(stack);
    agent = await createIdentity(stack, 'acme', 'agent');
    other = await createIdentity(stack, 'globex', 'agent');
    // Queued while the switch is off, run while it is on: each fails with kill_switch.
    await setKill(false);
    ids = await propose(agent, LETTERS, 'acme');
    otherIds = await propose(other, 3, 'globex');
    await setKill(true);
    relay = stack.container.createRelay();
    worker = stack.container.createExecutionWorker();
    relay.start();
    worker.start();
    await waitFor(
      async () => {
        const rows = await statusOf([...ids, ...otherIds]);
        return rows.every((r) => r.status === 'failed');
      },
      { what: 'every action to run or fail', timeoutMs: 60_000 },
    );
  });
  afterAll(async () => {
    await relay?.stop();
    await worker?.close(5_000);
    await stack?.close();
  });

  const failedIds = async (actionIds: string[]) =>
    (
      await stack.container.pool.query<{ id: string }>(
        `SELECT id FROM actions WHERE id = ANY($1::uuid[]) AND status = 'failed'`,
        [actionIds],
      )
    ).rows.map((r) => r.id);

  it('when more than 100 letters wait, then list pages through all of them, newest first, with the total on every page', async () => {
    const failed = await failedIds(ids);
    expect(failed.length).toBeGreaterThan(100);
    const seen: DeadLetter[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await stack.container.dlq.list({ tenantId: agent.tenantId }, { limit: 50, cursor });
      expect(page.total).toBe(failed.length);
      expect(page.items.length).toBeLessThanOrEqual(50);
      seen.push(...page.items);
      cursor = page.next_cursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.map((d) => d.action_id).sort()).toEqual([...failed].sort());
    expect(new Set(seen.map((d) => d.job_id)).size).toBe(seen.length);
    const times = seen.map((d) => Date.parse(d.failed_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen.every((d) => d.error.code === 'kill_switch' && d.state === 'open' && d.attempts === 1)).toBe(
      true,
    );

    // Across tenants the total counts both; the runbook's SQL finds the same actions.
    const all = await stack.container.dlq.list({}, { limit: 1_000 });
    expect(all.total).toBe(failed.length + (await failedIds(otherIds)).length);
    const runbook = await stack.container.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM actions
        WHERE status = 'failed' AND updated_at > now() - interval '1 hour' AND id = ANY($1::uuid[])`,
      [ids],
    );
    expect(runbook.rows[0]!.n).toBe(failed.length);
  });

  it('when the limit or cursor is out of range, then the list refuses with invalid_request', async () => {
    for (const page of [{ limit: 0 }, { limit: 1_001 }, { limit: 1.5 }, { cursor: 'not-a-cursor' }]) {
      await expect(stack.container.dlq.list({}, page)).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it('when a letter is discarded, then its action ends failed with code discarded, it is audited, and neither a bulk nor a single replay runs it', async () => {
    const [target] = (await stack.container.dlq.list({ tenantId: agent.tenantId }, { limit: 1 })).items;
    const result = await stack.container.dlq.discard(target!.job_id, 'test', {
      reason: 'refund re-requested',
    });
    expect(result).toMatchObject({ job_id: target!.job_id, discarded: true });
    const row = (await api.actionRow(target!.action_id))!;
    expect(row.status).toBe('failed');
    expect(row.error).toEqual({ code: 'discarded', message: 'refund re-requested' });
    const events = await stack.container.pool.query<{ data: Record<string, unknown> }>(
      `SELECT data FROM audit_events WHERE action_id = $1 AND type = 'action.discarded'`,
      [target!.action_id],
    );
    expect(events.rows).toHaveLength(1);
    expect(events.rows[0]!.data).toMatchObject({
      dead_letter_job_id: target!.job_id,
      reason: 'refund re-requested',
    });
    expect(await stack.container.dlq.discard(target!.job_id, 'test')).toMatchObject({ discarded: false });
    await expect(stack.container.dlq.replay(target!.job_id, 'test')).rejects.toBeInstanceOf(ConflictError);
    const quarantined = await stack.container.dlq.list({ state: 'discarded' });
    expect(quarantined.items.map((d) => d.job_id)).toContain(target!.job_id);
  });

  it('when another tenant’s scope asks for a letter, then it is not found', async () => {
    const [theirs] = (await stack.container.dlq.list({ tenantId: other.tenantId })).items;
    expect(theirs).toBeDefined();
    await expect(
      stack.container.dlq.replay(theirs!.job_id, 'test', { tenantId: agent.tenantId }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      stack.container.dlq.discard(theirs!.job_id, 'test', { tenantId: agent.tenantId }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(
      (await stack.container.dlq.list({ tenantId: agent.tenantId }, { limit: 1_000 })).items.map(
        (d) => d.tenant_id,
      ),
    ).not.toContain(other.tenantId);
  });

  it('when the switch is off and one tenant’s kill_switch letters are replayed in bulk, then each runs exactly once, the discarded one stays failed, and a second bulk replay finds nothing', async () => {
    await setKill(false);
    const before = await stack.container.dlq.list({ tenantId: agent.tenantId, code: 'kill_switch' });
    const result = await stack.container.dlq.replayAll(
      { tenantId: agent.tenantId, code: 'kill_switch' },
      'test',
    );
    expect(result).toEqual({ matched: before.total, replayed: before.total, skipped: 0 });

    await waitFor(
      async () =>
        (await statusOf(ids)).every(
          (r) => r.status === 'succeeded' || (r.status === 'failed' && r.code === 'discarded'),
        ),
      { what: 'every replayed action to succeed', timeoutMs: 60_000 },
    );
    const notes = await stack.container.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sandbox_notes WHERE action_id = ANY($1::uuid[]) GROUP BY action_id HAVING count(*) > 1`,
      [ids],
    );
    expect(notes.rows).toEqual([]);
    expect((await statusOf(ids)).find((r) => r.code === 'discarded')?.n).toBe(1);
    expect(await stack.container.dlq.replayAll({ tenantId: agent.tenantId }, 'test')).toEqual({
      matched: 0,
      replayed: 0,
      skipped: 0,
    });
    // The other tenant's letters were outside the filter.
    expect((await stack.container.dlq.list({ tenantId: other.tenantId })).total).toBeGreaterThan(0);
    expect(await stack.container.audit.verify(agent.tenantId)).toMatchObject({ valid: true });
  });
});
