import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createIdentity,
  deleteBody,
  noteBody,
  refundBody,
  type ActionJson,
  type Identity,
} from '../../../test/helpers/api-client.ts';
import { insertAction } from './actions.repository.ts';
import type { ActionRecord } from './action-types.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

// No worker: statuses stay where the proposal left them, so filters have fixed answers.
describe('GET /v1/actions', () => {
  // In creation order.
  const created: ActionJson[] = [];
  const { stack, api, ids } = useTestStack({}, STANDARD_IDENTITIES);
  const { agent, reviewer, otherAgent } = ids;

  beforeAll(async () => {
    const bodies = [
      noteBody('a1', 'alice'),
      deleteBody('/a/1', 'alice'),
      noteBody('b1', 'bob'),
      refundBody(9_000, 'o-1', 'bob'),
      noteBody('a2', 'alice'),
      refundBody(10, 'o-2', 'alice'),
      deleteBody('/b/1', 'bob'),
    ];
    for (const body of bodies) created.push(await api.created(agent.key, body));
    await api.created(otherAgent.key, noteBody('theirs', 'alice'));
  });

  const list = async (key: string, query = '') => {
    const response = await api.get(key, `/v1/actions${query ? `?${query}` : ''}`);
    expect(response.statusCode, `${query}: ${response.body.slice(0, 200)}`).toBe(200);
    return response.json() as { items: ActionJson[]; next_cursor: string | null };
  };

  // Walks every page and returns the ids in order.
  const walk = async (key: string, query: string, limit: number) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 200; page++) {
      const params = new URLSearchParams(query);
      params.set('limit', String(limit));
      if (cursor) params.set('cursor', cursor);
      const body = await list(key, params.toString());
      expect(body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...body.items.map((a) => a.id));
      cursor = body.next_cursor;
      if (!cursor) return ids;
    }
    throw new Error('pagination did not end within 200 pages');
  };

  it('when an agent lists actions, then it gets them newest first', async () => {
    const body = await list(agent.key);
    expect(body.items.map((a) => a.id)).toEqual(created.map((a) => a.id).reverse());
    expect(body.next_cursor).toBeNull();
    expect(body.items[0]).toMatchObject({ object: 'action', tool: 'files.delete', user_id: 'bob' });
  });

  it('when a reviewer lists actions, then it sees the same tenant rows', async () => {
    expect((await list(reviewer.key)).items).toHaveLength(created.length);
  });

  it('when filtered by status, user_id or tool, then only matching rows come back, newest first', async () => {
    const expectIds = (items: ActionJson[], predicate: (a: ActionJson) => boolean) =>
      expect(items.map((a) => a.id)).toEqual(
        created
          .filter(predicate)
          .map((a) => a.id)
          .reverse(),
      );
    const pending = (await list(agent.key, 'status=pending_review')).items;
    expect(pending.length).toBe(3);
    expectIds(pending, (a) => a.status === 'pending_review');
    expectIds((await list(agent.key, 'status=queued')).items, (a) => a.status === 'queued');
    expectIds((await list(agent.key, 'user_id=alice')).items, (a) => a.user_id === 'alice');
    expectIds((await list(agent.key, 'tool=notes.create')).items, (a) => a.tool === 'notes.create');
    expectIds(
      (await list(agent.key, 'tool=files.delete&user_id=bob&status=pending_review')).items,
      (a) => a.tool === 'files.delete' && a.user_id === 'bob',
    );
    expect((await list(agent.key, 'status=succeeded')).items).toEqual([]);
    expect((await list(agent.key, 'user_id=nobody')).items).toEqual([]);
  });

  it('when limit is 0, 101, not a number, or a filter value is unknown, then 400 invalid_request', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=-1', 'limit=ten', 'status=exploded', 'color=red']) {
      const response = await api.get(agent.key, `/v1/actions?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code, query).toBe('invalid_request');
    }
  });

  it('when limit is 1 or 100, then it is honoured; without a limit, at most 20 come back', async () => {
    const one = await list(agent.key, 'limit=1');
    expect(one.items).toHaveLength(1);
    expect(one.next_cursor).not.toBeNull();
    expect((await list(agent.key, 'limit=100')).items).toHaveLength(created.length);
    const crowd = await createIdentity(stack, 'crowd', 'agent');
    for (let i = 0; i < 21; i++) await api.created(crowd.key, noteBody(`n${i}`, `u${i}`));
    const page = await list(crowd.key);
    expect(page.items).toHaveLength(20);
    expect(page.next_cursor).not.toBeNull();
  });

  it('when a filtered list is paged, then the cursor keeps the filter and walks every match once', async () => {
    const ids = await walk(agent.key, 'user_id=alice', 1);
    expect(ids).toEqual(
      created
        .filter((a) => a.user_id === 'alice')
        .map((a) => a.id)
        .reverse(),
    );
  });

  describe('cursor pagination when many rows share created_at', () => {
    let tied: Identity;
    let expected: string[];

    beforeAll(async () => {
      tied = await createIdentity(stack, 'tied', 'agent');
      const instants = [new Date('2020-01-01T00:00:00.000Z'), new Date('2020-01-01T00:00:00.001Z')];
      const rows: ActionRecord[] = [];
      // 23 rows at one instant, 8 at the next millisecond, 4 at an earlier one: page edges
      // fall inside the groups whatever the limit.
      const groups: Array<[Date, number]> = [
        [instants[0]!, 23],
        [instants[1]!, 8],
        [new Date('2019-12-31T23:59:59.999Z'), 4],
      ];
      for (const [at, n] of groups) {
        for (let i = 0; i < n; i++) {
          rows.push({
            id: randomUUID(),
            tenantId: tied.tenantId,
            tool: 'notes.create',
            arguments: { title: `tied ${i}`, body: '' },
            userId: i % 2 ? 'odd' : 'even',
            context: {},
            status: 'succeeded',
            decision: { outcome: 'allow', risk_score: 0, reasons: [] },
            result: null,
            error: null,
            attempts: 1,
            version: 1,
            queuedAt: at,
            createdAt: at,
            updatedAt: at,
          });
        }
      }
      for (const row of rows) await insertAction(stack.container.pool, row);
      expected = rows
        .slice()
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
        .map((r) => r.id);
    });

    it.each([1, 2, 5, 7, 23, 100])(
      'when walked %i at a time, then every row comes back exactly once, in order',
      async (limit) => {
        const ids = await walk(tied.key, '', limit);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toEqual(expected);
      },
    );

    it('when a filter and ties combine, then the walk still returns each match once', async () => {
      const ids = await walk(tied.key, 'user_id=odd', 3);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(11 + 4 + 2);
    });

    it('when rows are added while a reader pages, then the pages already read are not repeated', async () => {
      const first = await list(tied.key, 'limit=10');
      await api.created(tied.key, noteBody('newer than all'));
      const rest: string[] = [];
      let cursor = first.next_cursor;
      for (let page = 0; cursor && page < 50; page++) {
        const body = await list(tied.key, `limit=10&cursor=${encodeURIComponent(cursor)}`);
        rest.push(...body.items.map((a) => a.id));
        cursor = body.next_cursor;
      }
      expect([...first.items.map((a) => a.id), ...rest]).toEqual(expected);
    });
  });

  it('when rows share a created_at with sub-millisecond precision (set in SQL), then a walk still returns each row once', async () => {
    const micro = await createIdentity(stack, 'micro', 'agent');
    for (let i = 0; i < 6; i++) await api.created(micro.key, noteBody(`micro ${i}`));
    // Three rows on one microsecond instant, three on the next: both inside one millisecond.
    await stack.container.pool.query(
      `UPDATE actions SET created_at = CASE WHEN rn <= 3 THEN '2021-06-01T00:00:00.123456Z'::timestamptz
                                            ELSE '2021-06-01T00:00:00.123789Z'::timestamptz END
         FROM (SELECT id AS rid, row_number() OVER (ORDER BY id) AS rn FROM actions WHERE tenant_id = $1) r
        WHERE id = r.rid`,
      [micro.tenantId],
    );
    const { rows } = await stack.container.pool.query<{ id: string }>(
      'SELECT id FROM actions WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC',
      [micro.tenantId],
    );
    for (const limit of [1, 2, 4]) {
      expect(await walk(micro.key, '', limit), `limit ${limit}`).toEqual(rows.map((r) => r.id));
    }
  });

  it('when the cursor is tampered with, then 400 invalid_request', async () => {
    const valid = (await list(agent.key, 'limit=2')).next_cursor!;
    const decoded = Buffer.from(valid, 'base64url').toString('utf8');
    const tampered = [
      'not-a-cursor',
      Buffer.from('yesterday|' + randomUUID()).toString('base64url'),
      Buffer.from(decoded.replace(/\|.*/, '|not-a-uuid')).toString('base64url'),
      Buffer.from(decoded.split('|')[0]!).toString('base64url'),
      'x'.repeat(300),
    ];
    for (const cursor of tampered) {
      const response = await api.get(agent.key, `/v1/actions?cursor=${encodeURIComponent(cursor)}`);
      expect(response.statusCode, cursor.slice(0, 40)).toBe(400);
      expect(response.json().code).toBe('invalid_request');
    }
  });

  it("when another tenant lists, filters or replays this tenant's cursor, then it sees only its own rows", async () => {
    const theirs = await list(otherAgent.key, 'limit=100');
    expect(theirs.items.map((a) => a.arguments.title)).toEqual(['theirs']);
    expect((await list(otherAgent.key, 'user_id=alice')).items).toHaveLength(1);
    const mine = created.map((a) => a.id);
    const cursor = (await list(agent.key, 'limit=1')).next_cursor!;
    const replayed = await list(otherAgent.key, `cursor=${encodeURIComponent(cursor)}`);
    expect(replayed.items.some((a) => mine.includes(a.id))).toBe(false);
  });

  it('when there is no key, then 401', async () => {
    expect((await api.get(null, '/v1/actions')).statusCode).toBe(401);
  });
});
