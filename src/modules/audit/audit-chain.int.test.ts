import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTransaction } from '../../platform/db.ts';
import {
  appendAuditEvent,
  GENESIS_HASH,
  hashEvent,
  prepareAuditEvent,
  type AuditEvent,
} from './audit.repository.ts';
import { catchUpTenantChain, createAuditChainer } from './audit-chainer.ts';
import { createIdentity } from '../../../test/helpers/api-client.ts';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';

// The chain is linked after commit by the chainer (ADR 0010). These tests hold it to what
// the in-transaction chain promised: every tamper is caught, each tenant's chain is
// gap-free and links each event exactly once, however many chainers and writers race.
describe('audit chain linked after commit', () => {
  // No background chainer: each test decides when events get linked.
  const { stack, api } = useTestStack({ auditChainer: false });

  const pool = () => stack.container.pool;
  const newTenant = async (slug: string) => {
    const { key, tenantId } = await createIdentity(stack, `${slug}-${randomUUID().slice(0, 8)}`, 'admin');
    return { key, tenantId };
  };
  const record = (tenantId: string, n: number, type = 'test.event') =>
    withTransaction(pool(), (tx) =>
      appendAuditEvent(tx, { tenantId, actionId: null, type, actor: 'test', data: { n } }),
    );
  const rows = async (tenantId: string) =>
    (
      await pool().query<Omit<AuditEvent, 'created_at'> & { id: number; created_at: Date }>(
        `SELECT id, seq, action_id, type, actor, data, created_at, prev_hash, hash
           FROM audit_events WHERE tenant_id = $1 ORDER BY seq NULLS LAST, id`,
        [tenantId],
      )
    ).rows;
  const verify = (tenantId: string) => stack.container.audit.verify(tenantId);
  // A tenant whose `n` events (its key's creation plus n - 1 more) are linked.
  const chained = async (slug: string, n: number) => {
    const tenant = await newTenant(slug);
    for (let i = 1; i < n; i++) await record(tenant.tenantId, i);
    expect(await verify(tenant.tenantId)).toEqual({ valid: true, checked: n, first_invalid_seq: null });
    return tenant;
  };

  describe('linking', () => {
    it('when events are recorded, then they wait unlinked, take no shared lock, and the chainer links them in the order they were recorded', async () => {
      const { tenantId } = await newTenant('linking');
      // Two open transactions of one tenant record events at the same time: neither waits.
      const a = await pool().connect();
      const b = await pool().connect();
      try {
        await a.query('BEGIN');
        await b.query('BEGIN');
        await a.query(`SET LOCAL lock_timeout = '1s'`);
        await b.query(`SET LOCAL lock_timeout = '1s'`);
        await appendAuditEvent(a, { tenantId, actionId: null, type: 'test.a', actor: 'test', data: {} });
        await appendAuditEvent(b, { tenantId, actionId: null, type: 'test.b', actor: 'test', data: {} });
        await b.query('COMMIT');
        await a.query('COMMIT');
      } finally {
        a.release();
        b.release();
      }
      const before = await rows(tenantId);
      expect(before.filter((r) => r.seq === null).map((r) => r.type)).toEqual([
        'api_key.created',
        'test.a',
        'test.b',
      ]);

      const chainer = createAuditChainer({ pool: pool(), logger: stack.container.logger, intervalMs: 10 });
      expect(await chainer.runOnce()).toBeGreaterThanOrEqual(3);
      const after = await rows(tenantId);
      expect(after.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(after.map((r) => r.type)).toEqual(['api_key.created', 'test.a', 'test.b']);
      expect(after[0]!.prev_hash).toBe(GENESIS_HASH);
      after.forEach((event, i) => {
        if (i > 0) expect(event.prev_hash).toBe(after[i - 1]!.hash);
        const { hash, id: _id, ...unhashed } = event;
        expect(hashEvent(tenantId, { ...unhashed, created_at: event.created_at.toISOString() })).toBe(hash);
      });
      expect(await verify(tenantId)).toEqual({ valid: true, checked: 3, first_invalid_seq: null });
    });

    it('when a transaction that recorded an event rolls back, then the event never exists and the chain has no gap', async () => {
      const { tenantId } = await newTenant('rollback');
      await withTransaction(pool(), async (tx) => {
        await appendAuditEvent(tx, { tenantId, actionId: null, type: 'test.lost', actor: 'test', data: {} });
        throw new Error('roll back');
      }).catch(() => undefined);
      await record(tenantId, 1);
      expect(await verify(tenantId)).toEqual({ valid: true, checked: 2, first_invalid_seq: null });
      expect((await rows(tenantId)).map((r) => [r.seq, r.type])).toEqual([
        [1, 'api_key.created'],
        [2, 'test.event'],
      ]);
    });

    it('when many writers of two tenants race with three chainers and catch-ups, then each chain is gap-free, links every event exactly once and verifies', async () => {
      const first = await newTenant('race-a');
      const second = await newTenant('race-b');
      const chainers = [1, 2, 3].map(() =>
        createAuditChainer({ pool: pool(), logger: stack.container.logger, intervalMs: 5, batchSize: 7 }),
      );
      chainers.forEach((c) => c.start());
      const writes = Array.from({ length: 120 }, (_, i) =>
        record(i % 2 ? first.tenantId : second.tenantId, i).then(() =>
          i % 25 === 0 ? catchUpTenantChain(pool(), first.tenantId) : undefined,
        ),
      );
      await Promise.all(writes);
      await Promise.all(chainers.map((c) => c.stop()));

      for (const tenant of [first, second]) {
        const events = await rows(tenant.tenantId);
        expect(events).toHaveLength(61);
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
        expect(new Set(events.map((e) => e.id)).size).toBe(61);
        const head = await pool().query('SELECT last_seq, last_hash FROM audit_heads WHERE tenant_id = $1', [
          tenant.tenantId,
        ]);
        expect(head.rows[0]).toEqual({ last_seq: 61, last_hash: events.at(-1)!.hash });
        expect(await verify(tenant.tenantId)).toEqual({ valid: true, checked: 61, first_invalid_seq: null });
      }
    });

    it('when events wait unlinked, then the metrics count them, the first audit page links them and the chainer finds nothing left', async () => {
      const { key, tenantId } = await newTenant('pending');
      await record(tenantId, 1);
      const metrics = (await api.get(null, '/metrics')).body;
      const unchained = Number(/^airlock_audit_unchained_events (\d+)/m.exec(metrics)?.[1]);
      expect(unchained).toBeGreaterThanOrEqual(2);
      expect(metrics).toMatch(/^airlock_audit_chain_lag_seconds \d/m);

      const page = await api.get(key, '/v1/audit?limit=10');
      expect(page.statusCode).toBe(200);
      expect((page.json().items as AuditEvent[]).map((e) => e.seq)).toEqual([1, 2]);
      expect((await rows(tenantId)).every((r) => r.seq !== null)).toBe(true);
    });
  });

  it('when the published test vectors are stored and linked, then Postgres gives back exactly the vector hashes and the chains verify', async () => {
    const vectors = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../../../docs/audit-hash-vectors.json'), 'utf8'),
    ) as {
      chains: Array<{
        tenant_id: string;
        events: Array<
          Omit<AuditEvent, 'hash' | 'prev_hash'> & { hash: string; prev_hash: string; content_hash: string }
        >;
      }>;
    };
    for (const chain of vectors.chains) {
      await pool().query(`INSERT INTO tenants (id, slug) VALUES ($1, $2)`, [
        chain.tenant_id,
        `vectors-${chain.tenant_id.slice(0, 8)}`,
      ]);
      for (const event of chain.events) {
        const prepared = prepareAuditEvent(
          {
            tenantId: chain.tenant_id,
            actionId: event.action_id,
            type: event.type,
            actor: event.actor,
            data: event.data,
          },
          new Date(event.created_at),
        );
        expect(prepared.contentHash).toBe(event.content_hash);
        await pool().query(
          `INSERT INTO audit_events (tenant_id, action_id, type, actor, data, created_at, content_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            chain.tenant_id,
            event.action_id,
            event.type,
            event.actor,
            prepared.dataJson,
            prepared.createdAt,
            prepared.contentHash,
          ],
        );
      }
      await catchUpTenantChain(pool(), chain.tenant_id);
      const stored = await rows(chain.tenant_id);
      expect(stored.map((r) => [r.seq, r.prev_hash, r.hash])).toEqual(
        chain.events.map((e) => [e.seq, e.prev_hash, e.hash]),
      );
      expect(await verify(chain.tenant_id)).toEqual({
        valid: true,
        checked: chain.events.length,
        first_invalid_seq: null,
      });
    }
  });

  describe('tampering', () => {
    it.each([
      ['data', `data = data || '{"n": 99}'::jsonb`],
      ['actor', `actor = 'someone-else'`],
      ['type', `type = 'test.other'`],
      ['created_at', `created_at = created_at + interval '1 millisecond'`],
      ['action_id', `action_id = gen_random_uuid()`],
    ])(
      'when an event’s %s is changed, then verify answers valid false at that seq',
      async (field, change) => {
        const { tenantId } = await chained(`change-${field.replace('_', '-')}`, 5);
        await pool().query(`UPDATE audit_events SET ${change} WHERE tenant_id = $1 AND seq = 3`, [tenantId]);
        expect(await verify(tenantId)).toEqual({ valid: false, checked: 3, first_invalid_seq: 3 });
      },
    );

    it('when an event is copied into another tenant’s chain with its hashes, then that chain is invalid at the copy', async () => {
      const source = await chained('copy-from', 3);
      const target = await chained('copy-to', 3);
      await pool().query(
        `UPDATE audit_events t SET data = s.data, actor = s.actor, type = s.type, created_at = s.created_at,
                prev_hash = s.prev_hash, hash = s.hash
           FROM audit_events s
          WHERE s.tenant_id = $1 AND s.seq = 2 AND t.tenant_id = $2 AND t.seq = 2`,
        [source.tenantId, target.tenantId],
      );
      expect(await verify(target.tenantId)).toEqual({ valid: false, checked: 2, first_invalid_seq: 2 });
    });

    it('when two events swap their contents, then verify answers valid false at the first', async () => {
      const { tenantId } = await chained('reorder', 5);
      await pool().query(
        `UPDATE audit_events e SET data = o.data, type = o.type, created_at = o.created_at
           FROM audit_events o
          WHERE e.tenant_id = $1 AND o.tenant_id = $1 AND (e.seq, o.seq) IN ((2, 4), (4, 2))`,
        [tenantId],
      );
      expect(await verify(tenantId)).toEqual({ valid: false, checked: 2, first_invalid_seq: 2 });
    });

    it('when a forged event is inserted in the middle and the later ones renumbered, then verify answers valid false at the insertion', async () => {
      const { tenantId } = await chained('insert-middle', 5);
      await pool().query('UPDATE audit_events SET seq = -(seq + 1) WHERE tenant_id = $1 AND seq >= 3', [
        tenantId,
      ]);
      await pool().query('UPDATE audit_events SET seq = -seq WHERE tenant_id = $1 AND seq < 0', [tenantId]);
      const two = (await rows(tenantId)).find((r) => r.seq === 2)!;
      const forged = {
        seq: 3,
        action_id: null,
        type: 'test.forged',
        actor: 'test',
        data: { n: 0 },
        created_at: two.created_at.toISOString(),
        prev_hash: two.hash,
      };
      await pool().query(
        `INSERT INTO audit_events (tenant_id, seq, action_id, type, actor, data, created_at, prev_hash, hash)
         VALUES ($1, 3, NULL, $2, $3, $4, $5, $6, $7)`,
        [
          tenantId,
          forged.type,
          forged.actor,
          forged.data,
          forged.created_at,
          forged.prev_hash,
          hashEvent(tenantId, forged),
        ],
      );
      // The forged event itself verifies; the one after it was hashed at another seq.
      expect(await verify(tenantId)).toEqual({ valid: false, checked: 4, first_invalid_seq: 4 });
    });

    it('when a correctly hashed event is appended past the head, then verify answers valid false at it', async () => {
      const { tenantId } = await chained('insert-tail', 3);
      const last = (await rows(tenantId)).at(-1)!;
      const forged = {
        seq: 4,
        action_id: null,
        type: 'test.forged',
        actor: 'test',
        data: {},
        created_at: last.created_at.toISOString(),
        prev_hash: last.hash,
      };
      await pool().query(
        `INSERT INTO audit_events (tenant_id, seq, action_id, type, actor, data, created_at, prev_hash, hash)
         VALUES ($1, 4, NULL, $2, $3, '{}', $4, $5, $6)`,
        [
          tenantId,
          forged.type,
          forged.actor,
          forged.created_at,
          forged.prev_hash,
          hashEvent(tenantId, forged),
        ],
      );
      expect(await verify(tenantId)).toEqual({ valid: false, checked: 4, first_invalid_seq: 4 });
    });

    it('when the last two events are deleted, then verify answers valid false at the first missing seq', async () => {
      const { tenantId } = await chained('truncate', 6);
      await pool().query('DELETE FROM audit_events WHERE tenant_id = $1 AND seq > 4', [tenantId]);
      expect(await verify(tenantId)).toEqual({ valid: false, checked: 4, first_invalid_seq: 5 });
    });

    it('when a linked event is made to look unlinked, then the chainer re-links it at the end and verify answers valid false at its old seq', async () => {
      const { tenantId } = await chained('unlink', 4);
      await pool().query(
        `UPDATE audit_events SET seq = NULL, prev_hash = NULL, hash = NULL, content_hash = repeat('0', 64)
          WHERE tenant_id = $1 AND seq = 2`,
        [tenantId],
      );
      expect(await verify(tenantId)).toEqual({ valid: false, checked: 2, first_invalid_seq: 2 });
    });

    it('when one tenant’s chain is tampered with, then another tenant’s chain still verifies', async () => {
      const tampered = await chained('neighbour-a', 3);
      const other = await chained('neighbour-b', 3);
      await pool().query(`UPDATE audit_events SET actor = 'x' WHERE tenant_id = $1`, [tampered.tenantId]);
      expect((await verify(tampered.tenantId)).valid).toBe(false);
      expect(await verify(other.tenantId)).toEqual({ valid: true, checked: 3, first_invalid_seq: null });
    });
  });
});
