import type { Queryable } from '../../platform/db.ts';

export type ReportReason = 'harmful' | 'incorrect' | 'privacy' | 'spam' | 'other';

export interface Report {
  id: string;
  action_id: string;
  reason: ReportReason;
  created_at: string;
}

export async function insertReport(
  db: Queryable,
  report: {
    tenantId: string;
    actionId: string;
    tool: string;
    reason: ReportReason;
    details: string | null;
    reporter: string;
  },
): Promise<Report> {
  const { rows } = await db.query<{ id: string; action_id: string; reason: ReportReason; created_at: Date }>(
    `INSERT INTO reports (tenant_id, action_id, tool, reason, details, reporter) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING id, action_id, reason, created_at`,
    [report.tenantId, report.actionId, report.tool, report.reason, report.details, report.reporter],
  );
  const row = rows[0]!;
  return { ...row, created_at: row.created_at.toISOString() };
}

// Reports on a tool inside the window, counting only those after an admin's last reset.
export async function countRecentReports(
  db: Queryable,
  tenantId: string,
  tool: string,
  windowMinutes: number,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>({
    name: 'count_recent_reports',
    text: `SELECT count(*)::int AS n
       FROM reports r
       LEFT JOIN report_resets z ON z.tenant_id = r.tenant_id AND z.tool = r.tool
      WHERE r.tenant_id = $1 AND r.tool = $2
        AND r.created_at > now() - make_interval(mins => $3)
        AND (z.reset_at IS NULL OR r.created_at > z.reset_at)`,
    values: [tenantId, tool, windowMinutes],
  });
  return rows[0]?.n ?? 0;
}

export async function resetReports(
  db: Queryable,
  tenantId: string,
  tool: string,
  actor: string,
): Promise<Date> {
  const { rows } = await db.query<{ reset_at: Date }>(
    `INSERT INTO report_resets (tenant_id, tool, reset_at, reset_by) VALUES ($1, $2, now(), $3)
     ON CONFLICT (tenant_id, tool) DO UPDATE SET reset_at = now(), reset_by = EXCLUDED.reset_by
     RETURNING reset_at`,
    [tenantId, tool, actor],
  );
  return rows[0]!.reset_at;
}
