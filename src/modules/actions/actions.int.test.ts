import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authHeaders, waitFor } from '../../../test/helpers/test-env.ts';
import { claimIdempotencyKey } from './idempotency.repository.ts';
import { createIdentity, noteBody } from '../../../test/helpers/api-client.ts';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';

describe('POST /v1/actions and GET /v1/actions/{id} (notes.create)', () => {
  const { stack, api, ids } = useTestStack(
    { worker: true },
    {
      agent: ['acme', 'agent'],
      reviewer: ['acme', 'reviewer'],
      otherTenantAgent: ['globex', 'agent'],
    },
  );
  const { agent, reviewer, otherTenantAgent } = ids;

  const { propose } = api;
  const read = (key: string, id: string) => api.get(key, `/v1/actions/${id}`);
  const noteCount = async (actionId: string) =>
    (
      await stack.container.pool.query('SELECT count(*)::int AS n FROM sandbox_notes WHERE action_id = $1', [
        actionId,
      ])
    ).rows[0].n as number;

  it('when an agent proposes notes.create, then it answers 201 with an allowed, queued action that later succeeds once', async () => {
    const response = await propose(agent.key, noteBody());
    expect(response.statusCode).toBe(201);
    const action = response.json();
    expect(action).toMatchObject({
      object: 'action',
      tool: 'notes.create',
      user_id: 'user-1',
      status: 'queued',
      decision: { outcome: 'allow', reasons: [] },
      result: null,
      error: null,
      attempts: 0,
    });
    const done = await waitFor(
      async () => {
        const current = (await read(agent.key, action.id)).json();
        return current.status === 'succeeded' ? current : undefined;
      },
      { what: 'the action to succeed' },
    );
    expect(done.result).toMatchObject({ title: 'Groceries' });
    expect(done.attempts).toBe(1);
    expect(await noteCount(action.id)).toBe(1);
  });

  it('when one transaction writes the action, then its audit event and outbox row exist too', async () => {
    const action = (await propose(agent.key, noteBody('audited'))).json();
    const { rows } = await stack.container.pool.query(
      `SELECT (SELECT count(*)::int FROM outbox WHERE action_id = $1) AS outbox,
              (SELECT count(*)::int FROM audit_events WHERE action_id = $1 AND type = 'action.proposed') AS audit`,
      [action.id],
    );
    expect(rows[0]).toEqual({ outbox: 1, audit: 1 });
  });

  describe('idempotency', () => {
    it('when the same key and body are sent again, then it answers 200 with the same action and Idempotent-Replayed', async () => {
      const key = randomUUID();
      const first = await propose(agent.key, noteBody('replay'), key);
      const second = await propose(agent.key, noteBody('replay'), key);
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.json().id).toBe(first.json().id);
    });

    it('when the same key comes with a different body, then it answers 422 idempotency_key_mismatch', async () => {
      const key = randomUUID();
      await propose(agent.key, noteBody('one'), key);
      const response = await propose(agent.key, noteBody('two'), key);
      expect(response.statusCode).toBe(422);
      expect(response.json().code).toBe('idempotency_key_mismatch');
    });

    it('when the first request with a key is still in flight, then a second answers 409 idempotency_key_in_flight', async () => {
      const key = randomUUID();
      const tenantId = (await stack.container.auth.authenticate(`Bearer ${agent.key}`)).tenantId;
      const { canonicalJson, sha256Hex } = await import('../../platform/canonical-json.ts');
      await claimIdempotencyKey(stack.container.pool, {
        tenantId,
        key,
        requestHash: sha256Hex(canonicalJson(noteBody('in flight'))),
        leaseMs: 60_000,
      });
      const response = await propose(agent.key, noteBody('in flight'), key);
      expect(response.statusCode).toBe(409);
      expect(response.json().code).toBe('idempotency_key_in_flight');
    });

    it('when the holder of a key outlived its lease, then a retry takes the key over and the stale holder cannot complete it', async () => {
      const key = randomUUID();
      const tenantId = (await stack.container.auth.authenticate(`Bearer ${agent.key}`)).tenantId;
      const { canonicalJson, sha256Hex } = await import('../../platform/canonical-json.ts');
      const { completeIdempotencyKey } = await import('./idempotency.repository.ts');
      const stale = await claimIdempotencyKey(stack.container.pool, {
        tenantId,
        key,
        requestHash: sha256Hex(canonicalJson(noteBody('lease'))),
        leaseMs: 1_000,
      });
      expect(stale.kind).toBe('claimed');
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const retry = await propose(agent.key, noteBody('lease'), key);
      expect(retry.statusCode).toBe(201);
      const completed = await completeIdempotencyKey(stack.container.pool, {
        tenantId,
        key,
        token: (stale as { token: string }).token,
        actionId: retry.json().id,
      });
      expect(completed).toBe(false);
    });

    it('when the same key is used by another tenant, then it is a different request', async () => {
      const key = randomUUID();
      const mine = await propose(agent.key, noteBody('shared key'), key);
      const theirs = await propose(otherTenantAgent.key, noteBody('shared key'), key);
      expect(mine.statusCode).toBe(201);
      expect(theirs.statusCode).toBe(201);
      expect(theirs.json().id).not.toBe(mine.json().id);
    });

    it('when 50 requests race with one key, then exactly one action is created and every answer is 201, 200 or 409', async () => {
      const key = randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => propose(agent.key, noteBody('race'), key)),
      );
      const codes = responses.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 201)).toHaveLength(1);
      expect(codes.every((c) => c === 201 || c === 200 || c === 409)).toBe(true);
      const ids = new Set(responses.filter((r) => r.statusCode !== 409).map((r) => r.json().id));
      expect(ids.size).toBe(1);
      const { rows } = await stack.container.pool.query(
        `SELECT count(*)::int AS n FROM actions a JOIN idempotency_keys k ON k.action_id = a.id WHERE k.key = $1`,
        [key],
      );
      expect(rows[0].n).toBe(1);
    });

    it('when the Idempotency-Key header is missing, then it answers 400 idempotency_key_required', async () => {
      const response = await propose(agent.key, noteBody(), null);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('idempotency_key_required');
    });

    it('when the Idempotency-Key is longer than 255 characters, then it answers 400', async () => {
      const response = await propose(agent.key, noteBody(), 'k'.repeat(256));
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('invalid_request');
    });

    it('when a request fails validation, then its key stays free for a corrected retry', async () => {
      const key = randomUUID();
      const bad = await propose(agent.key, { ...noteBody(), arguments: { title: '' } }, key);
      expect(bad.statusCode).toBe(422);
      const good = await propose(agent.key, noteBody('corrected'), key);
      expect(good.statusCode).toBe(201);
    });
  });

  describe('errors are problem+json with stable codes', () => {
    const expectProblem = (response: Awaited<ReturnType<typeof propose>>, status: number, code: string) => {
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = response.json();
      expect(body).toMatchObject({ status, code });
      expect(typeof body.type).toBe('string');
      expect(typeof body.title).toBe('string');
      expect(typeof body.detail).toBe('string');
      return body;
    };

    it('when the Authorization header is missing, then 401 unauthorized', async () => {
      const response = await stack.app.inject({
        method: 'POST',
        url: '/v1/actions',
        payload: noteBody(),
        headers: { 'idempotency-key': 'x' },
      });
      expectProblem(response, 401, 'unauthorized');
    });

    it('when the key is unknown, then 401 unauthorized', async () => {
      expectProblem(await propose(`alk_${'A'.repeat(43)}`, noteBody()), 401, 'unauthorized');
      expectProblem(await propose('not-a-key', noteBody()), 401, 'unauthorized');
    });

    it('when a reviewer key proposes, then 403 forbidden', async () => {
      expectProblem(await propose(reviewer.key, noteBody()), 403, 'forbidden');
    });

    it('when the tool is outside the key scope, then 403 tool_not_permitted', async () => {
      const key = (await createIdentity(stack, 'acme', 'agent', ['email.send'])).key;
      expectProblem(await propose(key, noteBody()), 403, 'tool_not_permitted');
    });

    it('when the body has an unknown field, then 400 invalid_request naming it', async () => {
      const body = expectProblem(
        await propose(agent.key, { ...noteBody(), surprise: true }),
        400,
        'invalid_request',
      );
      expect(body.detail).toContain('surprise');
    });

    it('when the context has an unknown field, then 400 invalid_request', async () => {
      expectProblem(
        await propose(agent.key, { ...noteBody(), context: { user_prompt: 'hi', sneaky: 1 } }),
        400,
        'invalid_request',
      );
    });

    it('when the body is not JSON, then 400 invalid_request', async () => {
      const response = await stack.app.inject({
        method: 'POST',
        url: '/v1/actions',
        headers: authHeaders(agent.key, randomUUID()),
        payload: '{"tool": ',
      });
      expectProblem(response, 400, 'invalid_request');
    });

    it('when the body is larger than 1 MiB, then 413', async () => {
      const response = await propose(agent.key, {
        ...noteBody(),
        arguments: { title: 'x', body: 'y'.repeat(1024 * 1024) },
      });
      expectProblem(response, 413, 'payload_too_large');
    });

    it('when the tool does not exist, then 422 unknown_tool', async () => {
      expectProblem(await propose(agent.key, { ...noteBody(), tool: 'rockets.launch' }), 422, 'unknown_tool');
    });

    it('when the arguments fail the tool schema, then 422 invalid_arguments naming the field', async () => {
      const body = expectProblem(
        await propose(agent.key, { ...noteBody(), arguments: { title: 'x'.repeat(201), body: '' } }),
        422,
        'invalid_arguments',
      );
      expect(body.errors[0].field).toBe('arguments.title');
      const missing = expectProblem(
        await propose(agent.key, { ...noteBody(), arguments: { title: 'x' } }),
        422,
        'invalid_arguments',
      );
      expect(missing.errors[0].field).toBe('arguments.body');
    });

    it('when user_id is empty or too long, then 400 invalid_request', async () => {
      expectProblem(await propose(agent.key, { ...noteBody(), user_id: '' }), 400, 'invalid_request');
      expectProblem(
        await propose(agent.key, { ...noteBody(), user_id: 'u'.repeat(129) }),
        400,
        'invalid_request',
      );
    });

    it('when any JSON value is posted, then the answer is never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
          const response = await stack.app.inject({
            method: 'POST',
            url: '/v1/actions',
            headers: authHeaders(agent.key, randomUUID()),
            payload: JSON.stringify(value),
          });
          return response.statusCode < 500;
        }),
        { numRuns: 60 },
      );
    });

    it('when the route does not exist, then 404 not_found as problem+json', async () => {
      const response = await stack.app.inject({
        method: 'GET',
        url: '/v1/nothing-here',
        headers: authHeaders(agent.key),
      });
      expectProblem(response, 404, 'not_found');
    });
  });

  describe('reads and tenant isolation', () => {
    it('when an agent key reads an action, then secrets and personal data in its arguments are masked; a reviewer sees them as proposed', async () => {
      // Split so secret scanners of this repository do not flag the fixture.
      const token = ['ghp_', 'x7Kp2LmQ9rT4vW8zN1yB6hJ3dC5sGa0FeT2u'].join('');
      const text = `call +1 415 555 2671 or bob@elsewhere.test, token ${token}`;
      const proposed = await propose(agent.key, noteBody('contacts', 'user-redact', text));
      expect(proposed.statusCode, proposed.body).toBe(201);
      const id = proposed.json().id as string;
      const leaks = (value: unknown) =>
        [token, '415 555 2671', 'bob@elsewhere.test'].filter((s) => JSON.stringify(value).includes(s));

      const listed = await api.get(agent.key, '/v1/actions?user_id=user-redact');
      for (const asAgent of [proposed.json(), (await read(agent.key, id)).json(), listed.json().items[0]]) {
        expect(leaks(asAgent.arguments)).toEqual([]);
        expect(asAgent.arguments.body).toBe(
          'call [REDACTED_PHONE] or [REDACTED_EMAIL], token [REDACTED_SECRET]',
        );
      }
      const asReviewer = (await read(reviewer.key, id)).json();
      expect(asReviewer.arguments).toEqual({ title: 'contacts', body: text });
      const stored = await stack.container.pool.query('SELECT arguments FROM actions WHERE id = $1', [id]);
      expect(stored.rows[0].arguments.body).toBe(text);
    });

    it('when another tenant reads an action, then 404, never 403', async () => {
      const action = (await propose(agent.key, noteBody('private'))).json();
      const response = await read(otherTenantAgent.key, action.id);
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('not_found');
    });

    it('when a reviewer of the same tenant reads an action, then 200', async () => {
      const action = (await propose(agent.key, noteBody('shared'))).json();
      expect((await read(reviewer.key, action.id)).statusCode).toBe(200);
    });

    it('when the id is unknown or not a uuid, then 404', async () => {
      expect((await read(agent.key, randomUUID())).statusCode).toBe(404);
      expect((await read(agent.key, 'not-a-uuid')).statusCode).toBe(404);
    });

    it('when the action changes status, then a cached read shows the new status', async () => {
      const action = (await propose(agent.key, noteBody('cached'))).json();
      // The first read fills the cache with the queued (or running) version.
      await read(agent.key, action.id);
      const done = await waitFor(
        async () => ((await read(agent.key, action.id)).json().status === 'succeeded' ? true : undefined),
        {
          what: 'the cached read to show success',
        },
      );
      expect(done).toBe(true);
    });
  });
});
