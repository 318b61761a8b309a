import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createIdentity,
  DEFAULT_POLICY_BODY,
  noteBody,
  reasonCodes,
  refundBody,
  type Identity,
} from '../../../test/helpers/api-client.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

describe('reports: POST /v1/actions/{id}/reports and the user_reports escalation', () => {
  const { stack, api, ids } = useTestStack({}, STANDARD_IDENTITIES);
  const { agent, reviewer, admin, otherAgent } = ids;

  const report = (key: string | null, actionId: string, body: unknown) =>
    api.post(key, `/v1/actions/${actionId}/reports`, body);

  describe('filing a report', () => {
    it('when an agent, a reviewer or an admin reports an action, then 201 with id, action_id, reason and created_at', async () => {
      const action = await api.created(agent.key, noteBody('reported'));
      for (const [key, reason] of [
        [agent.key, 'harmful'],
        [reviewer.key, 'incorrect'],
        [admin.key, 'privacy'],
      ] as const) {
        const before = Date.now();
        const response = await report(key, action.id, { reason, details: 'the note was wrong' });
        expect(response.statusCode).toBe(201);
        const body = response.json();
        expect(Object.keys(body).sort()).toEqual(['action_id', 'created_at', 'id', 'reason']);
        expect(body).toMatchObject({ action_id: action.id, reason });
        expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(Date.parse(body.created_at)).toBeGreaterThanOrEqual(before - 1_000);
      }
      expect(
        await api.count('SELECT count(*)::int AS n FROM reports WHERE action_id = $1', [action.id]),
      ).toBe(3);
    });

    it('when a report is filed, then it is audited as report.created by the reporter key', async () => {
      const action = await api.created(agent.key, noteBody('audited report'));
      const created = (await report(reviewer.key, action.id, { reason: 'spam' })).json();
      const events = (await api.get(admin.key, `/v1/audit?action_id=${action.id}`)).json().items as Array<{
        type: string;
        actor: string;
        data: Record<string, unknown>;
      }>;
      const event = events.find((e) => e.type === 'report.created');
      expect(event).toMatchObject({
        actor: `key:${reviewer.keyId}`,
        data: { report_id: created.id, tool: 'notes.create', reason: 'spam' },
      });
    });

    it('when the reason is not one of the five, the details are too long or a field is unknown, then 400', async () => {
      const action = await api.created(agent.key, noteBody('bad report'));
      for (const body of [
        { reason: 'boring' },
        {},
        { reason: 'other', details: 'd'.repeat(2001) },
        { reason: 'other', severity: 'high' },
      ]) {
        const response = await report(agent.key, action.id, body);
        expect(response.statusCode, JSON.stringify(body).slice(0, 50)).toBe(400);
        expect(response.json().code).toBe('invalid_request');
      }
      expect(
        await api.count('SELECT count(*)::int AS n FROM reports WHERE action_id = $1', [action.id]),
      ).toBe(0);
    });

    it("when another tenant reports this tenant's action, then 404 and nothing is stored", async () => {
      const action = await api.created(agent.key, noteBody('private'));
      const response = await report(otherAgent.key, action.id, { reason: 'harmful' });
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('not_found');
      expect(
        await api.count('SELECT count(*)::int AS n FROM reports WHERE action_id = $1', [action.id]),
      ).toBe(0);
    });

    it('when the action id is unknown or not a uuid, then 404', async () => {
      expect((await report(agent.key, randomUUID(), { reason: 'other' })).statusCode).toBe(404);
      expect((await report(agent.key, 'not-a-uuid', { reason: 'other' })).statusCode).toBe(404);
    });

    it('when there is no key, then 401', async () => {
      const action = await api.created(agent.key, noteBody('anon'));
      expect((await report(null, action.id, { reason: 'other' })).statusCode).toBe(401);
    });
  });

  describe('escalation after report_threshold reports', () => {
    // A tenant of its own, so reports filed by the tests above do not count here.
    let tAgent: Identity;
    let tAdmin: Identity;
    let neighbour: Identity;

    beforeAll(async () => {
      tAgent = await createIdentity(stack, 'reported', 'agent');
      tAdmin = await createIdentity(stack, 'reported', 'admin');
      neighbour = await createIdentity(stack, 'neighbour', 'agent');
      const response = await api.put(tAdmin.key, '/v1/policy', {
        ...DEFAULT_POLICY_BODY,
        report_threshold: 2,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().report_threshold).toBe(2);
    });

    const reportNote = async () => {
      const action = await api.created(tAgent.key, noteBody('to report'));
      expect((await report(tAgent.key, action.id, { reason: 'incorrect' })).statusCode).toBe(201);
    };

    it('when reports reach the threshold, then the next notes.create is review user_reports; other tools and tenants are unaffected; a reset clears it', async () => {
      await reportNote();
      const belowThreshold = await api.created(tAgent.key, noteBody('after one report'));
      expect(belowThreshold.decision.outcome, JSON.stringify(belowThreshold.decision.reasons)).toBe('allow');

      await reportNote();
      const escalated = await api.created(tAgent.key, noteBody('after two reports'));
      expect(escalated.status).toBe('pending_review');
      expect(escalated.decision.outcome, JSON.stringify(escalated.decision.reasons)).toBe('review');
      expect(reasonCodes(escalated)).toEqual(['user_reports']);

      const otherTool = await api.created(tAgent.key, refundBody(100));
      expect(otherTool.decision.outcome, JSON.stringify(otherTool.decision.reasons)).toBe('allow');
      const otherTenant = await api.created(neighbour.key, noteBody('elsewhere'));
      expect(otherTenant.decision.outcome, JSON.stringify(otherTenant.decision.reasons)).toBe('allow');

      const reset = await api.post(tAdmin.key, '/v1/reports/reset', { tool: 'notes.create' });
      expect(reset.statusCode).toBe(200);
      expect(reset.json()).toMatchObject({ tool: 'notes.create' });
      expect(Number.isNaN(Date.parse(reset.json().reset_at))).toBe(false);

      const afterReset = await api.created(tAgent.key, noteBody('after reset'));
      expect(afterReset.decision.outcome, JSON.stringify(afterReset.decision.reasons)).toBe('allow');
      expect(afterReset.status).toBe('queued');

      // Reports after the reset count again from zero.
      await reportNote();
      expect((await api.created(tAgent.key, noteBody('one new report'))).decision.outcome).toBe('allow');
      await reportNote();
      expect(reasonCodes(await api.created(tAgent.key, noteBody('two new reports')))).toEqual([
        'user_reports',
      ]);
    });

    it('when reports are older than report_window_minutes, then they no longer escalate', async () => {
      const windowAgent = await createIdentity(stack, 'windowed', 'agent');
      const windowAdmin = await createIdentity(stack, 'windowed', 'admin');
      await api.put(windowAdmin.key, '/v1/policy', {
        ...DEFAULT_POLICY_BODY,
        report_threshold: 2,
        report_window_minutes: 60,
      });
      for (let i = 0; i < 2; i++) {
        const action = await api.created(windowAgent.key, noteBody(`old ${i}`));
        await report(windowAgent.key, action.id, { reason: 'spam' });
      }
      expect((await api.created(windowAgent.key, noteBody('inside window'))).decision.outcome).toBe('review');
      await stack.container.pool.query(
        `UPDATE reports SET created_at = now() - interval '2 hours' WHERE tenant_id = $1`,
        [windowAgent.tenantId],
      );
      expect((await api.created(windowAgent.key, noteBody('outside window'))).decision.outcome).toBe('allow');
    });

    it('when an admin resets, then a reports.reset event with the admin key is in the audit log', async () => {
      await api.post(tAdmin.key, '/v1/reports/reset', { tool: 'payments.refund' });
      const events = (await api.get(tAdmin.key, '/v1/audit?limit=100')).json().items as Array<{
        type: string;
        actor: string;
        data: Record<string, unknown>;
      }>;
      const resets = events.filter((e) => e.type === 'reports.reset');
      expect(resets.map((e) => e.data.tool)).toEqual(['notes.create', 'payments.refund']);
      expect(resets.every((e) => e.actor === `key:${tAdmin.keyId}`)).toBe(true);
      expect(await stack.container.audit.verify(tAdmin.tenantId)).toMatchObject({ valid: true });
    });

    it('when a non-admin resets, or the tool is unknown, or the body is wrong, then 403, 422 or 400', async () => {
      const forbidden = await api.post(tAgent.key, '/v1/reports/reset', { tool: 'notes.create' });
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json().code).toBe('forbidden');
      const unknown = await api.post(tAdmin.key, '/v1/reports/reset', { tool: 'rockets.launch' });
      expect(unknown.statusCode).toBe(422);
      expect(unknown.json().code).toBe('unknown_tool');
      const bad = await api.post(tAdmin.key, '/v1/reports/reset', { tool: 'notes.create', all: true });
      expect(bad.statusCode).toBe(400);
    });
  });
});
