import type { PoolClient, Queryable } from '../../platform/db.ts';
import { canonicalJson, sha256Hex } from '../../platform/canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEventInput {
  tenantId: string;
  actionId: string | null;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

export interface AuditEvent {
  seq: number;
  action_id: string | null;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  created_at: string;
  prev_hash: string;
  hash: string;
}

interface AuditRow {
  seq: number;
  action_id: string | null;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  created_at: Date;
  prev_hash: string;
  hash: string;
}

// The hash format (ADR 0010, docs/audit-hash.md, test vectors in docs/audit-hash-vectors.json).
// An event's content hash covers every field a reader relies on, and the tenant; its chain
// hash links the previous event's hash, its sequence number and that content hash, so
// changing, deleting or reordering any event breaks every hash after it.
export function contentHash(tenantId: string, event: Omit<AuditEvent, 'hash' | 'seq' | 'prev_hash'>): string {
  return sha256Hex(
    canonicalJson({
      tenant_id: tenantId,
      action_id: event.action_id,
      type: event.type,
      actor: event.actor,
      data: event.data,
      created_at: event.created_at,
    }),
  );
}

export function chainHash(prevHash: string, seq: number, content: string): string {
  return sha256Hex(`${prevHash}:${seq}:${content}`);
}

export function hashEvent(tenantId: string, event: Omit<AuditEvent, 'hash'>): string {
  return chainHash(event.prev_hash, event.seq, contentHash(tenantId, event));
}

// The column values of an event about to be recorded. `data` is round-tripped through JSON
// so the hashed value is exactly what jsonb gives back.
export interface PreparedAuditEvent {
  tenantId: string;
  actionId: string | null;
  type: string;
  actor: string;
  dataJson: string;
  createdAt: string;
  contentHash: string;
}

export function prepareAuditEvent(input: AuditEventInput, now: Date = new Date()): PreparedAuditEvent {
  const dataJson = JSON.stringify(input.data);
  const createdAt = now.toISOString();
  return {
    tenantId: input.tenantId,
    actionId: input.actionId,
    type: input.type,
    actor: input.actor,
    dataJson,
    createdAt,
    contentHash: contentHash(input.tenantId, {
      action_id: input.actionId,
      type: input.type,
      actor: input.actor,
      data: JSON.parse(dataJson) as Record<string, unknown>,
      created_at: createdAt,
    }),
  };
}

// Records an event in the caller's transaction, so it commits or rolls back with the
// change it records. It takes no shared lock: the event has no place in the chain yet
// (seq, prev_hash and hash are NULL) until the chainer links it after the commit
// (audit-chainer.ts). Concurrent writers of one tenant therefore never wait for each other.
export async function appendAuditEvent(tx: PoolClient, input: AuditEventInput): Promise<void> {
  await appendAuditEvents(tx, [input]);
}

// Several events in one statement, in the given order.
export async function appendAuditEvents(tx: Queryable, inputs: readonly AuditEventInput[]): Promise<void> {
  if (!inputs.length) return;
  const now = new Date();
  await tx.query({
    name: 'audit-append',
    text: auditInsertSql(1),
    values: auditParams(inputs.map((input) => prepareAuditEvent(input, now))),
  });
}

// An INSERT of prepared events taken from seven array parameters starting at $first, in
// their order, when `condition` (SQL) holds: for a caller that records its events in the
// same statement as the change they describe, as a data-modifying CTE.
export function auditInsertSql(first: number, condition = 'true'): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO audit_events (tenant_id, action_id, type, actor, data, created_at, content_hash)
          SELECT tenant_id, action_id, type, actor, data, created_at, content_hash
            FROM unnest(${p(0)}::uuid[], ${p(1)}::uuid[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::jsonb[],
                        ${p(5)}::timestamptz[], ${p(6)}::text[]) WITH ORDINALITY
                 AS e(tenant_id, action_id, type, actor, data, created_at, content_hash, n)
           WHERE ${condition}
           ORDER BY n`;
}

export function auditParams(events: readonly PreparedAuditEvent[]): unknown[] {
  return [
    events.map((e) => e.tenantId),
    events.map((e) => e.actionId),
    events.map((e) => e.type),
    events.map((e) => e.actor),
    events.map((e) => e.dataJson),
    events.map((e) => e.createdAt),
    events.map((e) => e.contentHash),
  ];
}

function toEvent(row: AuditRow): AuditEvent {
  return { ...row, created_at: row.created_at.toISOString() };
}

// Chained events only: an event gets its seq when the chainer links it.
export async function listAuditEvents(
  db: Queryable,
  tenantId: string,
  filter: { actionId?: string; afterSeq?: number; limit: number },
): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditRow>({
    name: 'audit-list',
    text: `SELECT seq, action_id, type, actor, data, created_at, prev_hash, hash
             FROM audit_events
            WHERE tenant_id = $1
              AND ($2::uuid IS NULL OR action_id = $2)
              AND seq > $3
            ORDER BY seq
            LIMIT $4`,
    values: [tenantId, filter.actionId ?? null, filter.afterSeq ?? 0, filter.limit],
  });
  return rows.map(toEvent);
}

export async function readAuditHead(
  db: Queryable,
  tenantId: string,
): Promise<{ lastSeq: number; lastHash: string }> {
  const { rows } = await db.query<{ last_seq: number; last_hash: string }>(
    'SELECT last_seq, last_hash FROM audit_heads WHERE tenant_id = $1',
    [tenantId],
  );
  return { lastSeq: rows[0]?.last_seq ?? 0, lastHash: rows[0]?.last_hash ?? GENESIS_HASH };
}

// Unchained events, for the metrics and for a cheap "anything to do?" before a chain pass.
export async function unchainedBacklog(
  db: Queryable,
  tenantId?: string,
): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const { rows } = await db.query<{ pending: number; oldest: number | null }>({
    name: 'audit-unchained-backlog',
    text: `SELECT count(*)::int AS pending,
                  extract(epoch FROM now() - min(created_at))::float8 AS oldest
             FROM audit_events WHERE seq IS NULL AND ($1::uuid IS NULL OR tenant_id = $1)`,
    values: [tenantId ?? null],
  });
  return { pending: rows[0]?.pending ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
}

export async function hasUnchained(db: Queryable, tenantId?: string): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>({
    name: 'audit-has-unchained',
    text: `SELECT EXISTS (SELECT 1 FROM audit_events
                          WHERE seq IS NULL AND ($1::uuid IS NULL OR tenant_id = $1)) AS any`,
    values: [tenantId ?? null],
  });
  return rows[0]?.any ?? false;
}

// Every chain pass holds this transaction-scoped advisory lock, so passes never overlap:
// background ticks try it and skip when another process is in a pass; a catch-up or a last
// pass at shutdown waits for it (takeChainLock) before reading anything.
const CHAIN_LOCK = `hashtext('airlock.audit-chainer')`;

export async function takeChainLock(tx: PoolClient): Promise<void> {
  await tx.query({ name: 'audit-chain-wait-lock', text: `SELECT pg_advisory_xact_lock(${CHAIN_LOCK})` });
}

interface PendingRow {
  id: number;
  tenant_id: string;
  content_hash: string;
  last_seq: number;
  last_hash: string;
}

// Links up to `limit` unchained events into their tenants' chains, oldest id first, and
// returns how many it linked; 0 when `tryLock` is set and another pass holds the chain lock.
// Must run in a transaction. Two statements: the first takes the lock (or trusts the
// caller's takeChainLock), creates a genesis head for a tenant that has none, locks the
// heads of the tenants with pending events in tenant order and reads the pending events
// with their tenant's tip; the second links them and moves the heads. The head-row locks
// and the `seq IS NULL` guard make each link exactly-once even if the lock were bypassed,
// and `seq` is assigned from the locked head, so each chain stays gap-free. An event that
// commits after the read waits for the next pass.
export async function chainPendingEvents(
  tx: PoolClient,
  options: { tenantId?: string; limit: number; tryLock: boolean },
): Promise<number> {
  const { rows: pending } = await tx.query<PendingRow>({
    name: 'audit-chain-read',
    text: `WITH leader AS (
             SELECT CASE WHEN $3::boolean THEN pg_try_advisory_xact_lock(${CHAIN_LOCK}) ELSE true END AS ok
           ), tenants AS (
             SELECT DISTINCT tenant_id FROM audit_events
              WHERE seq IS NULL AND ($1::uuid IS NULL OR tenant_id = $1) AND (SELECT ok FROM leader)
           ), created AS (
             INSERT INTO audit_heads (tenant_id, last_seq, last_hash, prev_hash)
             SELECT tenant_id, 0, $4, $4 FROM tenants
             ON CONFLICT (tenant_id) DO NOTHING
             RETURNING tenant_id, last_seq, last_hash
           ), locked AS (
             SELECT tenant_id, last_seq, last_hash FROM audit_heads
              WHERE tenant_id IN (SELECT tenant_id FROM tenants)
              ORDER BY tenant_id
                FOR UPDATE
           ), heads AS (
             SELECT * FROM locked UNION ALL SELECT * FROM created
           )
           SELECT e.id, e.tenant_id, e.content_hash, h.last_seq, h.last_hash
             FROM (SELECT id, tenant_id, content_hash FROM audit_events
                    WHERE seq IS NULL AND tenant_id IN (SELECT tenant_id FROM heads)
                    ORDER BY id LIMIT $2) e
             JOIN heads h ON h.tenant_id = e.tenant_id
            ORDER BY e.id`,
    values: [options.tenantId ?? null, options.limit, options.tryLock, GENESIS_HASH],
  });
  if (!pending.length) return 0;

  const tips = new Map<string, { seq: number; hash: string; prevHash: string }>();
  const linked = { ids: [] as number[], seqs: [] as number[], prevs: [] as string[], hashes: [] as string[] };
  for (const event of pending) {
    const tip = tips.get(event.tenant_id) ?? { seq: event.last_seq, hash: event.last_hash, prevHash: '' };
    const seq = tip.seq + 1;
    const hash = chainHash(tip.hash, seq, event.content_hash);
    linked.ids.push(event.id);
    linked.seqs.push(seq);
    linked.prevs.push(tip.hash);
    linked.hashes.push(hash);
    tips.set(event.tenant_id, { seq, hash, prevHash: tip.hash });
  }
  const moved = [...tips];
  const { rows } = await tx.query<{ linked: number }>({
    name: 'audit-chain-link',
    text: `WITH linked AS (
             UPDATE audit_events e
                SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS l(id, seq, prev_hash, hash)
              WHERE e.id = l.id AND e.seq IS NULL
             RETURNING 1
           ), moved AS (
             UPDATE audit_heads h
                SET last_seq = m.last_seq, last_hash = m.last_hash, prev_hash = m.prev_hash
               FROM unnest($5::uuid[], $6::bigint[], $7::text[], $8::text[])
                    AS m(tenant_id, last_seq, last_hash, prev_hash)
              WHERE h.tenant_id = m.tenant_id
           )
           SELECT count(*)::int AS linked FROM linked`,
    values: [
      linked.ids,
      linked.seqs,
      linked.prevs,
      linked.hashes,
      moved.map(([tenantId]) => tenantId),
      moved.map(([, tip]) => tip.seq),
      moved.map(([, tip]) => tip.hash),
      moved.map(([, tip]) => tip.prevHash),
    ],
  });
  // Under the head locks nothing else links these rows; a shortfall means the table was
  // changed underneath us, and the transaction must not move the heads past it.
  if (rows[0]!.linked !== pending.length) {
    throw new Error(`audit chain pass linked ${rows[0]!.linked} of ${pending.length} events; rolled back`);
  }
  return pending.length;
}
