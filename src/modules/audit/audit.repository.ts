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

// An event's hash chains the previous hash, its sequence number and a hash of its content
// (every field a reader relies on, and the tenant): changing, deleting or reordering any
// event breaks every hash after it. The chaining step is simple enough to run in SQL, so an
// append is one statement; both sides must build the same string.
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

// Must run inside the caller's transaction, as its last statement before COMMIT: the event
// commits or rolls back with the change it records, and the tenant's head row stays locked
// from here to the commit, so the shorter that stretch, the more appends a tenant can make.
// One statement moves the head (creating it on the tenant's first event) and inserts the
// event chained to it.
export async function appendAuditEvent(tx: PoolClient, input: AuditEventInput): Promise<AuditEvent> {
  const data = JSON.parse(JSON.stringify(input.data)) as Record<string, unknown>;
  const createdAt = new Date().toISOString();
  const content = contentHash(input.tenantId, {
    action_id: input.actionId,
    type: input.type,
    actor: input.actor,
    data,
    created_at: createdAt,
  });
  const { rows } = await tx.query<{ seq: number; prev_hash: string; hash: string }>(
    `WITH head AS (
       INSERT INTO audit_heads AS h (tenant_id, last_seq, prev_hash, last_hash)
       VALUES ($1, 1, $7, encode(sha256(convert_to($7 || ':1:' || $8, 'UTF8')), 'hex'))
       ON CONFLICT (tenant_id) DO UPDATE
         SET last_seq = h.last_seq + 1,
             prev_hash = h.last_hash,
             last_hash = encode(sha256(convert_to(h.last_hash || ':' || (h.last_seq + 1)::text || ':' || $8, 'UTF8')), 'hex')
       RETURNING last_seq, prev_hash, last_hash
     )
     INSERT INTO audit_events (tenant_id, seq, action_id, type, actor, data, created_at, prev_hash, hash)
     SELECT $1, last_seq, $2, $3, $4, $5, $6, prev_hash, last_hash FROM head
     RETURNING seq, prev_hash, hash`,
    [
      input.tenantId,
      input.actionId,
      input.type,
      input.actor,
      JSON.stringify(data),
      createdAt,
      GENESIS_HASH,
      content,
    ],
  );
  const row = rows[0]!;
  return {
    seq: row.seq,
    action_id: input.actionId,
    type: input.type,
    actor: input.actor,
    data,
    created_at: createdAt,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
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
