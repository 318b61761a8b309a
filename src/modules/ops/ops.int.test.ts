import { describe, expect, it } from 'vitest';
import { deleteBody, noteBody, type Identity } from '../../../test/helpers/api-client.ts';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';

describe('ops API', () => {
  const { stack, api, ids } = useTestStack(
    { worker: true },
    {
      agentA: ['ops-a', 'agent'],
      adminA: ['ops-a', 'admin'],
      reviewerA: ['ops-a', 'reviewer'],
      agentB: ['ops-b', 'agent'],
      adminB: ['ops-b', 'admin'],
    },
  );
  const { agentA, adminA, reviewerA, agentB, adminB } = ids;

  const flagOf = async (admin: Identity, name: string) => {
    const list = (await api.get(admin.key, '/v1/ops/flags')).json() as {
      items: Array<{ name: string; effective: boolean; tenant_value: boolean | null }>;
    };
    return list.items.find((f) => f.name === name)!;
  };

  it('when a reviewer, an agent or no key calls the ops API, then it answers 403, 403 and 401', async () => {
    expect((await api.get(reviewerA.key, '/v1/ops/overview')).statusCode).toBe(403);
    expect((await api.get(agentA.key, '/v1/ops/flags')).statusCode).toBe(403);
    expect((await api.get(null, '/v1/ops/dead-letters')).statusCode).toBe(401);
  });

  it('when an admin reads the overview, then it has queue, outbox, breaker and its tenant review backlog', async () => {
    await api.created(agentA.key, deleteBody('/tmp/overview'));
    const response = await api.get(adminA.key, '/v1/ops/overview');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.breakers).toEqual([{ dependency: 'moderation', state: 'closed' }]);
    expect(body.reviews.pending).toBeGreaterThanOrEqual(1);
    expect(body.reviews.slo_seconds).toBe(900);
    expect(typeof body.queue.waiting).toBe('number');
    expect(typeof body.outbox.oldest_age_seconds).toBe('number');
    expect((await api.get(adminB.key, '/v1/ops/overview')).json().reviews.pending).toBe(0);
  });

  it("when a tenant admin turns a kill switch on, then only that tenant's next proposal is denied, and turning it off drops the override", async () => {
    const on = await api.put(adminA.key, '/v1/ops/flags/kill-switch.notes.create', { enabled: true });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({
      name: 'kill-switch.notes.create',
      effective: true,
      tenant_value: true,
    });
    expect(on.json().blast_radius.if_enabled).toContain('ops-a');

    const denied = await api.created(agentA.key, noteBody());
    expect(denied.status).toBe('denied');
    expect(denied.decision.reasons.map((r) => r.code)).toContain('kill_switch');
    expect((await api.created(agentB.key, noteBody())).status).not.toBe('denied');

    const off = await api.put(adminA.key, '/v1/ops/flags/kill-switch.notes.create', { enabled: false });
    expect(off.json()).toMatchObject({ effective: false, tenant_value: null });
    expect((await api.created(agentA.key, noteBody())).status).not.toBe('denied');

    const audit = await api.count(
      `SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND type IN ('flag.changed', 'flag.cleared')`,
      [adminA.tenantId],
    );
    expect(audit).toBe(2);
  });

  it('when the global kill switch is on, then a tenant admin turning it off cannot exempt its tenant', async () => {
    await stack.container.flagsService.set('kill-switch.all', true, 'test');
    try {
      const off = await api.put(adminA.key, '/v1/ops/flags/kill-switch.all', { enabled: false });
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ effective: true, global_value: true, tenant_value: null });
      expect((await api.created(agentA.key, noteBody())).status).toBe('denied');
    } finally {
      await stack.container.flagsService.set('kill-switch.all', false, 'test');
    }
  });

  it('when a tenant admin closes the rollout gate, then its allowed proposals wait for review with rollout_gate', async () => {
    await api.put(adminA.key, '/v1/ops/flags/auto-approve', { enabled: false });
    try {
      const held = await api.created(agentA.key, noteBody('gated'));
      expect(held.status).toBe('pending_review');
      expect(held.decision.reasons.map((r) => r.code)).toContain('rollout_gate');
      expect((await flagOf(adminB, 'auto-approve')).effective).toBe(true);
    } finally {
      await api.put(adminA.key, '/v1/ops/flags/auto-approve', { enabled: true });
    }
    expect(await flagOf(adminA, 'auto-approve')).toMatchObject({ effective: true, tenant_value: null });
  });

  it('when a flag is a chaos flag, unknown, or the body has an unknown field, then 403 operator_only, 404 and 400', async () => {
    const chaos = await api.put(adminA.key, '/v1/ops/flags/chaos.moderation-slow', { enabled: true });
    expect(chaos.statusCode).toBe(403);
    expect(chaos.json().code).toBe('operator_only');
    expect(
      (await api.put(adminA.key, '/v1/ops/flags/kill-switch.nope.nope', { enabled: true })).statusCode,
    ).toBe(404);
    const extra = await api.put(adminA.key, '/v1/ops/flags/kill-switch.all', { enabled: true, global: true });
    expect(extra.statusCode).toBe(400);
    expect(extra.headers['content-type']).toContain('application/problem+json');
    expect(extra.json().code).toBe('invalid_request');
    expect((await flagOf(adminA, 'kill-switch.all')).effective).toBe(false);
  });

  // Approved while its tool's kill switch is on: the worker dead-letters it.
  async function deadLetterOf(file: string): Promise<{ actionId: string; jobId: string }> {
    await stack.container.pool.query('INSERT INTO sandbox_files (tenant_id, path) VALUES ($1, $2)', [
      adminA.tenantId,
      file,
    ]);
    const pending = await api.created(agentA.key, deleteBody(file));
    await api.put(adminA.key, '/v1/ops/flags/kill-switch.files.delete', { enabled: true });
    expect((await api.review(reviewerA.key, pending.id, { decision: 'approve' })).statusCode).toBe(200);
    await api.waitForStatus(pending.id, ['failed']);
    await api.put(adminA.key, '/v1/ops/flags/kill-switch.files.delete', { enabled: false });
    const list = (await api.get(adminA.key, '/v1/ops/dead-letters')).json() as {
      items: Array<{ job_id: string; action_id: string }>;
    };
    return { actionId: pending.id, jobId: list.items.find((d) => d.action_id === pending.id)!.job_id };
  }

  it('when an admin discards a dead letter, then its action stays failed with code discarded and it leaves the list; another tenant gets 404', async () => {
    const { actionId, jobId } = await deadLetterOf('/tmp/discard-me');
    expect((await api.post(adminB.key, `/v1/ops/dead-letters/${jobId}/discard`, {})).statusCode).toBe(404);
    const discarded = await api.post(adminA.key, `/v1/ops/dead-letters/${jobId}/discard`, {
      reason: 'a duplicate of an earlier delete',
    });
    expect(discarded.statusCode).toBe(200);
    expect(discarded.json()).toMatchObject({ job_id: jobId, action_id: actionId, discarded: true });
    expect((await api.actionRow(actionId))?.error?.code).toBe('discarded');
    const list = (await api.get(adminA.key, '/v1/ops/dead-letters')).json() as {
      items: Array<{ job_id: string }>;
    };
    expect(list.items.some((d) => d.job_id === jobId)).toBe(false);
    const extra = await api.post(adminA.key, `/v1/ops/dead-letters/${jobId}/discard`, { why: 'x' });
    expect(extra.statusCode).toBe(400);
  });

  it("when an action is dead-lettered, then only its tenant's admin sees and replays it; another tenant gets 404", async () => {
    await stack.container.pool.query('INSERT INTO sandbox_files (tenant_id, path) VALUES ($1, $2)', [
      adminA.tenantId,
      '/tmp/dead-letter',
    ]);
    const pending = await api.created(agentA.key, deleteBody('/tmp/dead-letter'));
    await api.put(adminA.key, '/v1/ops/flags/kill-switch.files.delete', { enabled: true });
    expect((await api.review(reviewerA.key, pending.id, { decision: 'approve' })).statusCode).toBe(200);
    await api.waitForStatus(pending.id, ['failed']);
    await api.put(adminA.key, '/v1/ops/flags/kill-switch.files.delete', { enabled: false });

    type DeadLetters = {
      items: Array<{ job_id: string; action_id: string; failed_reason: string }>;
      total: number;
    };
    const mine = (await api.get(adminA.key, '/v1/ops/dead-letters')).json() as DeadLetters;
    const letter = mine.items.find((d) => d.action_id === pending.id)!;
    expect(letter.failed_reason).toContain('kill switch');
    expect(mine.total).toBe(mine.items.length);
    const theirs = (await api.get(adminB.key, '/v1/ops/dead-letters')).json() as DeadLetters;
    expect(theirs.items.some((d) => d.action_id === pending.id)).toBe(false);

    const stolen = await api.post(adminB.key, `/v1/ops/dead-letters/${letter.job_id}/replay`, {});
    expect(stolen.statusCode).toBe(404);
    const replayed = await api.post(adminA.key, `/v1/ops/dead-letters/${letter.job_id}/replay`, {});
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json()).toMatchObject({ action_id: pending.id, replayed: true });
    await api.waitForStatus(pending.id, ['succeeded']);
  });

  it('when a reviewer reads action details, then it gets the context and timeline; another tenant gets 404 and an agent 403', async () => {
    const action = await api.created(agentA.key, {
      ...deleteBody('/tmp/details'),
      context: {
        user_prompt: 'tidy my tmp folder',
        source_documents: [{ source: 'mail', content: 'hello' }],
      },
    });
    const details = await api.get(reviewerA.key, `/v1/actions/${action.id}/details`);
    expect(details.statusCode).toBe(200);
    expect(details.json()).toMatchObject({
      action_id: action.id,
      context: { user_prompt: 'tidy my tmp folder' },
      timeline: [{ type: 'action.proposed', status: 'pending_review' }],
      reports: [],
      trace_id: null,
    });
    expect((await api.get(adminB.key, `/v1/actions/${action.id}/details`)).statusCode).toBe(404);
    expect((await api.get(agentA.key, `/v1/actions/${action.id}/details`)).statusCode).toBe(403);
  });

  it('when a key asks who it is, then it gets its tenant and role', async () => {
    const me = await api.get(reviewerA.key, '/v1/me');
    expect(me.json()).toEqual({ key_id: reviewerA.keyId, tenant: 'ops-a', role: 'reviewer', tools: null });
  });
});
