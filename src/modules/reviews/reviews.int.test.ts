import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createIdentity,
  deleteBody,
  emailBody,
  noteBody,
  reasonCodes,
  refundBody,
  type ActionJson,
} from '../../../test/helpers/api-client.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

describe('reviews: decisions that need a human, and the reviewer API', () => {
  const { stack, api, ids } = useTestStack(
    { worker: true },
    { ...STANDARD_IDENTITIES, secondReviewer: ['acme', 'reviewer'] },
  );
  const { agent, reviewer, secondReviewer, admin, otherAgent, otherReviewer } = ids;

  beforeAll(async () => {
    await api.setPolicy(admin.key, { email_allowed_domains: ['acme.test'] });
  });

  const insertFile = (tenantId: string, path: string) =>
    stack.container.pool.query('INSERT INTO sandbox_files (tenant_id, path, content) VALUES ($1, $2, $3)', [
      tenantId,
      path,
      'contents',
    ]);
  const pendingDelete = async (path = `/tmp/${randomUUID()}.txt`) => {
    const action = await api.created(agent.key, deleteBody(path));
    expect(action.status).toBe('pending_review');
    return action;
  };

  describe('decisions by tool default', () => {
    it('when files.delete is proposed, then it always awaits review with reason destructive_tool', async () => {
      const action = await api.created(agent.key, deleteBody('/reports/q3.pdf'));
      expect(action.status).toBe('pending_review');
      expect(action.decision.outcome, JSON.stringify(action.decision.reasons)).toBe('review');
      expect(reasonCodes(action)).toEqual(['destructive_tool']);
    });

    it('when email.send goes to a domain outside the policy, then review external_recipient', async () => {
      const action = await api.created(agent.key, emailBody('mallory@elsewhere.example'));
      expect(action.status).toBe('pending_review');
      expect(reasonCodes(action)).toEqual(['external_recipient']);
    });

    it('when email.send goes to an allowed domain (any letter case), then it is allowed and queued', async () => {
      for (const to of ['bob@acme.test', 'Carol@ACME.test']) {
        const action = await api.created(agent.key, emailBody(to));
        expect(action.decision).toMatchObject({ outcome: 'allow', reasons: [] });
        expect(action.status).toBe('queued');
      }
    });

    it('when a subdomain of an allowed domain is the recipient, then it still needs review', async () => {
      const action = await api.created(agent.key, emailBody('eve@evil.acme.test'));
      expect(reasonCodes(action)).toEqual(['external_recipient']);
    });

    it('when payments.refund is above refund_review_above_cents, then review high_amount; at the threshold, allow', async () => {
      const above = await api.created(agent.key, refundBody(5001));
      expect(above.status).toBe('pending_review');
      expect(reasonCodes(above)).toEqual(['high_amount']);
      const at = await api.created(agent.key, refundBody(5000));
      expect(at.status).toBe('queued');
      expect(at.decision.outcome, JSON.stringify(at.decision.reasons)).toBe('allow');
    });
  });

  describe('GET /v1/reviews', () => {
    it('when an agent lists reviews, then 403 forbidden', async () => {
      const response = await api.get(agent.key, '/v1/reviews');
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('forbidden');
    });

    it('when a reviewer or an admin lists reviews, then 200 with only pending_review actions', async () => {
      await pendingDelete();
      for (const key of [reviewer.key, admin.key]) {
        const response = await api.get(key, '/v1/reviews?limit=100');
        expect(response.statusCode).toBe(200);
        const items = response.json().items as ActionJson[];
        expect(items.length).toBeGreaterThan(0);
        expect(items.every((a) => a.status === 'pending_review')).toBe(true);
      }
    });

    it('when there is no key, then 401 unauthorized', async () => {
      const response = await api.get(null, '/v1/reviews');
      expect(response.statusCode).toBe(401);
    });

    it('when pending actions span several pages, then limit and cursor walk them oldest first, each once', async () => {
      const pagingAgent = await createIdentity(stack, 'paging', 'agent');
      const pagingReviewer = await createIdentity(stack, 'paging', 'reviewer');
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        created.push((await api.created(pagingAgent.key, deleteBody(`/p/${i}`))).id);
        // An allowed action in between must not appear in the review queue.
        await api.created(pagingAgent.key, noteBody(`between ${i}`));
      }
      const seen: ActionJson[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/reviews?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const response = await api.get(pagingReviewer.key, url);
        expect(response.statusCode).toBe(200);
        const body = response.json();
        expect(body.items.length).toBeLessThanOrEqual(3);
        seen.push(...body.items);
        cursor = body.next_cursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen.map((a) => a.id)).toEqual(created);
      const times = seen.map((a) => Date.parse(a.created_at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    });

    it('when another tenant lists reviews, then it sees none of this tenant’s pending actions', async () => {
      const mine = await pendingDelete();
      const theirs = await api.created(otherAgent.key, deleteBody('/theirs.txt'));
      const response = await api.get(otherReviewer.key, '/v1/reviews?limit=100');
      const ids = (response.json().items as ActionJson[]).map((a) => a.id);
      expect(ids).toContain(theirs.id);
      expect(ids).not.toContain(mine.id);
    });

    it('when the limit is out of range or the cursor is garbage, then 400 invalid_request', async () => {
      for (const query of ['limit=0', 'limit=101', 'cursor=not-a-cursor', 'surprise=1']) {
        const response = await api.get(reviewer.key, `/v1/reviews?${query}`);
        expect(response.statusCode, query).toBe(400);
        expect(response.json().code, query).toBe('invalid_request');
      }
    });
  });

  describe('POST /v1/reviews/{id}', () => {
    it('when a reviewer approves an external email, then 200 queued, and it executes once into the mailbox', async () => {
      const action = await api.created(agent.key, emailBody('partner@elsewhere.example'));
      const response = await api.review(reviewer.key, action.id, {
        decision: 'approve',
        note: 'known partner',
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ id: action.id, object: 'action', status: 'queued' });
      const done = await api.waitForStatus(action.id, ['succeeded', 'failed']);
      expect(done.status).toBe('succeeded');
      expect(done.attempts).toBe(1);
      const { rows } = await stack.container.pool.query(
        'SELECT to_address, subject FROM sandbox_mailbox WHERE action_id = $1',
        [action.id],
      );
      expect(rows).toEqual([{ to_address: 'partner@elsewhere.example', subject: 'Hello' }]);
      const read = (await api.get(agent.key, `/v1/actions/${action.id}`)).json();
      expect(read.status).toBe('succeeded');
      // The mailbox has the real recipient; the result shown through the API masks an address
      // outside the tenant's domains.
      expect(read.result).toMatchObject({ to: '[REDACTED_EMAIL]' });
    });

    it('when an admin approves a high refund, then it is written to the refunds ledger once', async () => {
      const action = await api.created(agent.key, refundBody(750_000, 'order-big'));
      const response = await api.review(admin.key, action.id, { decision: 'approve' });
      expect(response.statusCode).toBe(200);
      expect((await api.waitForStatus(action.id, ['succeeded', 'failed'])).status).toBe('succeeded');
      const { rows } = await stack.container.pool.query(
        'SELECT order_id, amount_cents::int AS amount, currency FROM sandbox_refunds WHERE action_id = $1',
        [action.id],
      );
      expect(rows).toEqual([{ order_id: 'order-big', amount: 750_000, currency: 'EUR' }]);
    });

    it('when a reviewer approves files.delete of an existing file, then the file is soft-deleted by that action', async () => {
      await insertFile(agent.tenantId, '/drafts/old.txt');
      const action = await api.created(agent.key, deleteBody('/drafts/old.txt'));
      const response = await api.review(reviewer.key, action.id, { decision: 'approve' });
      expect(response.json().status).toBe('queued');
      expect((await api.waitForStatus(action.id, ['succeeded', 'failed'])).status).toBe('succeeded');
      const { rows } = await stack.container.pool.query(
        'SELECT deleted_at IS NOT NULL AS deleted, deleted_by_action FROM sandbox_files WHERE tenant_id = $1 AND path = $2',
        [agent.tenantId, '/drafts/old.txt'],
      );
      expect(rows).toEqual([{ deleted: true, deleted_by_action: action.id }]);
    });

    it('when a reviewer rejects, then the action is rejected and never executed', async () => {
      const rejected = await api.created(agent.key, emailBody('nope@elsewhere.example'));
      const response = await api.review(reviewer.key, rejected.id, { decision: 'reject', note: 'no' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ id: rejected.id, status: 'rejected' });
      // A later approved action that has run is a barrier: the worker has had its chance.
      const barrier = await api.created(agent.key, emailBody('later@elsewhere.example'));
      await api.review(reviewer.key, barrier.id, { decision: 'approve' });
      await api.waitForStatus(barrier.id, ['succeeded']);
      expect(await api.actionRow(rejected.id)).toMatchObject({ status: 'rejected', attempts: 0 });
      expect(
        await api.count('SELECT count(*)::int AS n FROM sandbox_mailbox WHERE action_id = $1', [rejected.id]),
      ).toBe(0);
      expect(
        await api.count('SELECT count(*)::int AS n FROM outbox WHERE action_id = $1', [rejected.id]),
      ).toBe(0);
    });

    it('when a second decision arrives, then 409 not_pending and the first decision stands', async () => {
      const approved = await pendingDelete();
      expect((await api.review(reviewer.key, approved.id, { decision: 'approve' })).statusCode).toBe(200);
      const again = await api.review(reviewer.key, approved.id, { decision: 'reject' });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('not_pending');
      expect((await api.actionRow(approved.id))!.status).not.toBe('rejected');

      const rejected = await pendingDelete();
      expect((await api.review(reviewer.key, rejected.id, { decision: 'reject' })).statusCode).toBe(200);
      const late = await api.review(admin.key, rejected.id, { decision: 'approve' });
      expect(late.statusCode).toBe(409);
      expect(late.json().code).toBe('not_pending');
      expect((await api.actionRow(rejected.id))!.status).toBe('rejected');
      expect(
        await api.count('SELECT count(*)::int AS n FROM outbox WHERE action_id = $1', [rejected.id]),
      ).toBe(0);
    });

    it('when the action was allowed (never pending), then 409 not_pending', async () => {
      const allowed = await api.created(agent.key, noteBody('not for review'));
      const response = await api.review(reviewer.key, allowed.id, { decision: 'approve' });
      expect(response.statusCode).toBe(409);
      expect(response.json().code).toBe('not_pending');
    });

    it('when another tenant decides on the action, then 404 and the action stays pending', async () => {
      const action = await pendingDelete();
      const response = await api.review(otherReviewer.key, action.id, { decision: 'approve' });
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('not_found');
      expect((await api.actionRow(action.id))!.status).toBe('pending_review');
    });

    it('when the id is unknown or not a uuid, then 404', async () => {
      expect((await api.review(reviewer.key, randomUUID(), { decision: 'approve' })).statusCode).toBe(404);
      expect((await api.review(reviewer.key, 'nope', { decision: 'approve' })).statusCode).toBe(404);
    });

    it('when an agent decides, then 403 forbidden', async () => {
      const action = await pendingDelete();
      const response = await api.review(agent.key, action.id, { decision: 'approve' });
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('forbidden');
      expect((await api.actionRow(action.id))!.status).toBe('pending_review');
    });

    it('when the body has an unknown field, a bad decision or a note over 2000 characters, then 400 and no change', async () => {
      const action = await pendingDelete();
      for (const body of [
        { decision: 'approve', surprise: true },
        { decision: 'maybe' },
        {},
        { decision: 'approve', note: 'n'.repeat(2001) },
      ]) {
        const response = await api.review(reviewer.key, action.id, body);
        expect(response.statusCode, JSON.stringify(body).slice(0, 60)).toBe(400);
        expect(response.json().code).toBe('invalid_request');
      }
      expect((await api.actionRow(action.id))!.status).toBe('pending_review');
      const atLimit = await api.review(reviewer.key, action.id, {
        decision: 'reject',
        note: 'n'.repeat(2000),
      });
      expect(atLimit.statusCode).toBe(200);
    });

    it('when a reviewer decides, then the audit log has action.reviewed with the reviewer key id and the time', async () => {
      const action = await pendingDelete();
      const before = Date.now();
      await api.review(secondReviewer.key, action.id, { decision: 'reject', note: 'looks wrong' });
      const after = Date.now();
      const response = await api.get(admin.key, `/v1/audit?action_id=${action.id}`);
      expect(response.statusCode).toBe(200);
      const reviewed = (response.json().items as Array<Record<string, unknown>>).filter(
        (e) => e.type === 'action.reviewed',
      );
      expect(reviewed).toHaveLength(1);
      const event = reviewed[0] as { actor: string; data: Record<string, string>; created_at: string };
      expect(event.actor).toBe(`key:${secondReviewer.keyId}`);
      expect(event.data).toMatchObject({
        decision: 'reject',
        note: 'looks wrong',
        reviewer_key_id: secondReviewer.keyId,
      });
      const at = Date.parse(event.data.reviewed_at!);
      expect(at).toBeGreaterThanOrEqual(before - 1_000);
      expect(at).toBeLessThanOrEqual(after + 1_000);
      expect(await stack.container.audit.verify(agent.tenantId)).toMatchObject({ valid: true });
    });

    it('when two reviewers race on one action, then exactly one 200 and one 409, one audit event and one outbox row', async () => {
      for (let round = 0; round < 5; round++) {
        const action = await pendingDelete();
        const responses = await Promise.all([
          api.review(reviewer.key, action.id, { decision: 'approve' }),
          api.review(secondReviewer.key, action.id, { decision: round % 2 ? 'approve' : 'reject' }),
        ]);
        const codes = responses.map((r) => r.statusCode).sort();
        expect(codes).toEqual([200, 409]);
        const loser = responses.find((r) => r.statusCode === 409)!;
        expect(loser.json().code).toBe('not_pending');
        const winner = responses.find((r) => r.statusCode === 200)!.json();
        expect(
          await api.count(
            `SELECT count(*)::int AS n FROM audit_events WHERE action_id = $1 AND type = 'action.reviewed'`,
            [action.id],
          ),
        ).toBe(1);
        expect(
          await api.count('SELECT count(*)::int AS n FROM outbox WHERE action_id = $1', [action.id]),
        ).toBe(winner.status === 'queued' ? 1 : 0);
      }
    });
  });
});
