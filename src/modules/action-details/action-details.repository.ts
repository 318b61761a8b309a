import type { Queryable } from '../../platform/db.ts';

export interface TimelineRow {
  type: string;
  actor: string;
  data: Record<string, unknown>;
  created_at: Date;
}

export async function listActionEvents(
  db: Queryable,
  tenantId: string,
  actionId: string,
  limit: number,
): Promise<TimelineRow[]> {
  const { rows } = await db.query<TimelineRow>(
    // By id, the order events were recorded in: an event gets its seq only once the
    // chainer has linked it, after commit.
    `SELECT type, actor, data, created_at
       FROM audit_events WHERE tenant_id = $1 AND action_id = $2
      ORDER BY id LIMIT $3`,
    [tenantId, actionId, limit],
  );
  return rows;
}

export interface ReportRow {
  id: string;
  reason: string;
  details: string | null;
  created_at: Date;
}

export async function listActionReports(
  db: Queryable,
  tenantId: string,
  actionId: string,
  limit: number,
): Promise<ReportRow[]> {
  const { rows } = await db.query<ReportRow>(
    `SELECT id, reason, details, created_at FROM reports
      WHERE tenant_id = $1 AND action_id = $2 ORDER BY created_at LIMIT $3`,
    [tenantId, actionId, limit],
  );
  return rows;
}

// The W3C trace context written with the action's first outbox row: the trace its
// execution joined. Actions that never reached the outbox have none.
export async function findTraceParent(
  db: Queryable,
  tenantId: string,
  actionId: string,
): Promise<string | null> {
  const { rows } = await db.query<{ traceparent: string | null }>(
    `SELECT trace_context->>'traceparent' AS traceparent FROM outbox
      WHERE tenant_id = $1 AND action_id = $2 AND trace_context IS NOT NULL
      ORDER BY id LIMIT 1`,
    [tenantId, actionId],
  );
  return rows[0]?.traceparent ?? null;
}
