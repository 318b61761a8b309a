import { beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, noteBody } from '../../../test/helpers/api-client.ts';
import { GENESIS_HASH, hashEvent, type AuditEvent } from './audit.repository.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

interface AuditPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

describe('GET /v1/audit and GET /v1/audit/verify', () => {
  let actionIds: string[];
  const { stack, api, ids } = useTestStack({}, STANDARD_IDENTITIES);
  const { admin, agent, reviewer, otherAdmin } = ids;

  beforeAll(async () => {
    actionIds = [];
    for (const title of ['first', 'second', 'third'])
      actionIds.push((await api.created(agent.key, noteBody(title))).id);
  });

  const { get } = api;
  const list = async (key: string, query = '') => {
    const response = await get(key, `/v1/audit${query}`);
    expect(response.statusCode).toBe(200);
    return response.json() as AuditPage;
  };
  const verify = async (key: string) => {
    const response = await get(key, '/v1/audit/verify');
    expect(response.statusCode).toBe(200);
    return response.json() as { valid: boolean; checked: number; first_invalid_seq: number | null };
  };
  const listAll = async (key: string, query: Record<string, string> = {}, limit = 2) => {
    const items: AuditEvent[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const params = new URLSearchParams({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
      const body = await list(key, `?${params}`);
      expect(body.items.length).toBeLessThanOrEqual(limit);
      items.push(...body.items);
      cursor = body.next_cursor;
      if (!cursor) return items;
    }
    throw new Error('pagination did not end');
  };
  const tenantIdOf = async (key: string) =>
    (await stack.container.auth.authenticate(`Bearer ${key}`)).tenantId;
  const storedCount = async (tenantId: string) =>
    (
      await stack.container.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1',
        [tenantId],
      )
    ).rows[0]!.n;
  // A tenant of its own with `events` audit events, all linked into its chain (verify
  // links what is pending first), so tampering never affects other tests.
  const tenantWithEvents = async (slug: string, events: number) => {
    const { key, tenantId } = await createIdentity(stack, slug, 'admin');
    for (let i = 1; i < events; i++) await createIdentity(stack, slug, 'reviewer');
    expect(await storedCount(tenantId)).toBe(events);
    expect(await verify(key)).toEqual({ valid: true, checked: events, first_invalid_seq: null });
    return { key, tenantId };
  };

  describe('listing', () => {
    it('when an admin lists with small pages, then every event comes back once, oldest first', async () => {
      const items = await listAll(admin.key);
      expect(items.map((e) => e.seq)).toEqual(Array.from({ length: items.length }, (_, i) => i + 1));
      expect(items).toHaveLength(await storedCount(await tenantIdOf(admin.key)));
      const times = items.map((e) => Date.parse(e.created_at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    });

    it('when a page is full, then next_cursor continues after its last event and the last page has null', async () => {
      const first = await list(admin.key, '?limit=2');
      expect(first.items.map((e) => e.seq)).toEqual([1, 2]);
      expect(first.next_cursor).toBe('2');
      const second = await list(admin.key, `?limit=2&cursor=${first.next_cursor}`);
      expect(second.items[0]!.seq).toBe(3);
      const total = await storedCount(await tenantIdOf(admin.key));
      const last = await list(admin.key, `?limit=100&cursor=${total - 1}`);
      expect(last.items.map((e) => e.seq)).toEqual([total]);
      expect(last.next_cursor).toBeNull();
    });

    it('when no limit is given, then at most 50 events come back', async () => {
      const body = await list(admin.key);
      expect(body.items.length).toBeGreaterThan(0);
      expect(body.items.length).toBeLessThanOrEqual(50);
    });

    it('when the limit or cursor is out of range, then 400 invalid_request', async () => {
      for (const query of ['?limit=0', '?limit=101', '?cursor=abc', '?cursor=-1', '?action_id=not-a-uuid']) {
        const response = await get(admin.key, `/v1/audit${query}`);
        expect(response.statusCode, query).toBe(400);
        expect(response.json().code, query).toBe('invalid_request');
      }
    });

    it('when filtered by action_id, then only that action’s events come back, oldest first', async () => {
      const target = actionIds[1]!;
      const items = await listAll(admin.key, { action_id: target }, 1);
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((e) => e.action_id === target)).toBe(true);
      expect(items.map((e) => e.type)).toContain('action.proposed');
      expect(items.map((e) => e.seq)).toEqual([...items.map((e) => e.seq)].sort((a, b) => a - b));
      const stored = await stack.container.pool.query(
        'SELECT seq FROM audit_events WHERE tenant_id = $1 AND action_id = $2 ORDER BY seq',
        [await tenantIdOf(admin.key), target],
      );
      expect(items.map((e) => e.seq)).toEqual(stored.rows.map((r) => r.seq));
    });

    it('when an event is listed, then it has exactly the contract fields', async () => {
      const [event] = (await list(admin.key, '?limit=1')).items;
      expect(Object.keys(event!).sort()).toEqual(
        ['action_id', 'actor', 'created_at', 'data', 'hash', 'prev_hash', 'seq', 'type'].sort(),
      );
      expect(event!.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(new Date(event!.created_at).toISOString()).toBe(event!.created_at);
    });

    it('when the events are listed, then each prev_hash is the previous event’s hash and each hash recomputes', async () => {
      const tenantId = await tenantIdOf(admin.key);
      const items = await listAll(admin.key, {}, 100);
      expect(items[0]!.prev_hash).toBe(GENESIS_HASH);
      items.forEach((event, i) => {
        if (i > 0) expect(event.prev_hash).toBe(items[i - 1]!.hash);
        const { hash, ...unhashed } = event;
        expect(hashEvent(tenantId, unhashed)).toBe(hash);
      });
      expect(new Set(items.map((e) => e.hash)).size).toBe(items.length);
    });
  });

  describe('access', () => {
    it.each([
      ['agent', () => agent.key],
      ['reviewer', () => reviewer.key],
    ])('when a %s key asks, then both endpoints answer 403 forbidden', async (_role, key) => {
      for (const url of ['/v1/audit', '/v1/audit/verify']) {
        const response = await get(key(), url);
        expect(response.statusCode, url).toBe(403);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.json().code, url).toBe('forbidden');
      }
    });

    it('when no key or a bad key is sent, then 401 unauthorized', async () => {
      expect((await stack.app.inject({ method: 'GET', url: '/v1/audit' })).statusCode).toBe(401);
      expect((await get(`alk_${'Z'.repeat(43)}`, '/v1/audit/verify')).statusCode).toBe(401);
    });

    it('when another tenant’s admin lists, then none of this tenant’s events are visible', async () => {
      const theirs = await listAll(otherAdmin.key, {}, 100);
      const ours = await listAll(admin.key, {}, 100);
      const ourHashes = new Set(ours.map((e) => e.hash));
      expect(theirs.length).toBeGreaterThan(0);
      expect(theirs.some((e) => ourHashes.has(e.hash))).toBe(false);
      expect(theirs.some((e) => actionIds.includes(e.action_id ?? ''))).toBe(false);
      expect(theirs.map((e) => e.seq)).toEqual(Array.from({ length: theirs.length }, (_, i) => i + 1));
    });

    it('when another tenant filters by one of our action ids, then the list is empty', async () => {
      const body = await list(otherAdmin.key, `?action_id=${actionIds[0]}`);
      expect(body).toEqual({ items: [], next_cursor: null });
    });

    it('when another tenant verifies, then only its own events are counted', async () => {
      const result = await verify(otherAdmin.key);
      expect(result).toEqual({
        valid: true,
        checked: await storedCount(await tenantIdOf(otherAdmin.key)),
        first_invalid_seq: null,
      });
    });
  });

  describe('verification', () => {
    it('when nothing was tampered with, then verify answers valid true with every event checked', async () => {
      expect(await verify(admin.key)).toEqual({
        valid: true,
        checked: await storedCount(await tenantIdOf(admin.key)),
        first_invalid_seq: null,
      });
    });

    it('when one event’s data is changed, then verify answers valid false at that seq', async () => {
      const { key, tenantId } = await tenantWithEvents('tamper-data', 5);
      await stack.container.pool.query(
        `UPDATE audit_events SET data = jsonb_set(data, '{role}', '"agent"') WHERE tenant_id = $1 AND seq = 3`,
        [tenantId],
      );
      expect(await verify(key)).toEqual({ valid: false, checked: 3, first_invalid_seq: 3 });
    });

    it('when an event’s data is rewritten with the same keys in another order, then the chain stays valid', async () => {
      const { key, tenantId } = await tenantWithEvents('reordered-keys', 2);
      // jsonb normalises key order; rewriting the same value must not look like tampering.
      await stack.container.pool.query(
        `UPDATE audit_events SET data = (SELECT jsonb_object_agg(k, v) FROM jsonb_each(data) AS e(k, v))
          WHERE tenant_id = $1 AND seq = 2`,
        [tenantId],
      );
      expect(await verify(key)).toEqual({ valid: true, checked: 2, first_invalid_seq: null });
    });

    it('when two events swap their seq, then verify answers valid false at the lower one', async () => {
      const { key, tenantId } = await tenantWithEvents('tamper-swap', 5);
      const swap = `UPDATE audit_events SET seq = CASE seq WHEN 2 THEN -4 WHEN 4 THEN -2 END
                     WHERE tenant_id = $1 AND seq IN (2, 4)`;
      await stack.container.pool.query(swap, [tenantId]);
      await stack.container.pool.query(
        'UPDATE audit_events SET seq = -seq WHERE tenant_id = $1 AND seq < 0',
        [tenantId],
      );
      expect(await verify(key)).toEqual({ valid: false, checked: 2, first_invalid_seq: 2 });
    });

    it('when a middle event is deleted, then verify answers valid false at the missing seq', async () => {
      const { key, tenantId } = await tenantWithEvents('tamper-delete', 5);
      await stack.container.pool.query('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 3', [
        tenantId,
      ]);
      expect(await verify(key)).toEqual({ valid: false, checked: 3, first_invalid_seq: 3 });
    });

    it('when the newest event is deleted, then verify answers valid false at its seq', async () => {
      const { key, tenantId } = await tenantWithEvents('tamper-tail', 4);
      await stack.container.pool.query('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 4', [
        tenantId,
      ]);
      expect(await verify(key)).toEqual({ valid: false, checked: 3, first_invalid_seq: 4 });
    });

    it('when an event’s hash is recomputed after a change but the next one still links to the old hash, then the next seq is invalid', async () => {
      const { key, tenantId } = await tenantWithEvents('tamper-rehash', 4);
      const [event] = (await list(key, '?cursor=1&limit=1')).items;
      const forged = { ...event!, data: { ...event!.data, role: 'agent' } };
      const { hash: _old, ...unhashed } = forged;
      await stack.container.pool.query(
        'UPDATE audit_events SET data = $3, hash = $4 WHERE tenant_id = $1 AND seq = $2',
        [tenantId, event!.seq, JSON.stringify(forged.data), hashEvent(tenantId, unhashed)],
      );
      expect(await verify(key)).toEqual({ valid: false, checked: 3, first_invalid_seq: 3 });
    });

    it('when one tenant’s chain is tampered with, then another tenant’s chain still verifies', async () => {
      const { tenantId } = await tenantWithEvents('tamper-neighbour', 2);
      await stack.container.pool.query(
        `UPDATE audit_events SET actor = 'someone-else' WHERE tenant_id = $1`,
        [tenantId],
      );
      expect((await verify(admin.key)).valid).toBe(true);
    });
  });
});
