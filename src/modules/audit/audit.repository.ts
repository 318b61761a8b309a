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

// The hash covers every field a reader relies on, plus the tenant and the previous hash:
// changing, deleting or reordering any event breaks every hash after it.
export function hashEvent(tenantId: string, event: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      tenant_id: tenantId,
      seq: event.seq,
      action_id: event.action_id,
      type: event.type,
      actor: event.actor,
      data: event.data,
      created_at: event.created_at,
      prev_hash: event.prev_hash,
    }),
  );
}

// Must run inside the caller's transaction: the event commits or rolls back with the
// change it records. The head row lock serialises appends per tenant.
export async function appendAuditEvent(tx: PoolClient, input: AuditEventInput): Promise<AuditEvent> {
  const head = await lockHead(tx, input.tenantId);
  const unhashed = {
    seq: head.last_seq + 1,
    action_id: input.actionId,
    type: input.type,
    actor: input.actor,
    // Round-trip through JSON so the hashed value is exactly what jsonb will give back.
    data: JSON.parse(JSON.stringify(input.data)) as Record<string, unknown>,
    created_at: new Date().toISOString(),
    prev_hash: head.last_hash,
  };
  const event: AuditEvent = { ...unhashed, hash: hashEvent(input.tenantId, unhashed) };
  // One round trip: the event and the new chain tip are written by one statement.
  await tx.query(
    `WITH event AS (
       INSERT INTO audit_events (tenant_id, seq, action_id, type, actor, data, created_at, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     )
     UPDATE audit_heads SET last_seq = $2, last_hash = $9 WHERE tenant_id = $1`,
    [
      input.tenantId,
      event.seq,
      event.action_id,
      event.type,
      event.actor,
      JSON.stringify(event.data),
      event.created_at,
      event.prev_hash,
      event.hash,
    ],
  );
  return event;
}

// Locks the tenant's chain tip, creating it on the tenant's first event.
async function lockHead(tx: PoolClient, tenantId: string): Promise<{ last_seq: number; last_hash: string }> {
  const select = 'SELECT last_seq, last_hash FROM audit_heads WHERE tenant_id = $1 FOR UPDATE';
  const existing = await tx.query<{ last_seq: number; last_hash: string }>(select, [tenantId]);
  if (existing.rows[0]) return existing.rows[0];
  await tx.query(
    'INSERT INTO audit_heads (tenant_id, last_seq, last_hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING',
    [tenantId, GENESIS_HASH],
  );
  return (await tx.query<{ last_seq: number; last_hash: string }>(select, [tenantId])).rows[0]!;
}

function toEvent(row: AuditRow): AuditEvent {
  return { ...row, created_at: row.created_at.toISOString() };
}

export async function listAuditEvents(
  db: Queryable,
  tenantId: string,
  filter: { actionId?: string; afterSeq?: number; limit: number },
): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT seq, action_id, type, actor, data, created_at, prev_hash, hash
       FROM audit_events
      WHERE tenant_id = $1
        AND ($2::uuid IS NULL OR action_id = $2)
        AND seq > $3
      ORDER BY seq
      LIMIT $4`,
    [tenantId, filter.actionId ?? null, filter.afterSeq ?? 0, filter.limit],
  );
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
