import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { NotFoundError, UnprocessableError } from '../../platform/errors.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/auth.repository.ts';
import { findAction } from '../actions/actions.repository.ts';
import { isUuid } from '../../platform/uuid.ts';
import { insertReport, resetReports, type Report, type ReportReason } from './reports.repository.ts';

export function createReportsService(deps: {
  pool: Pool;
  knownTools: () => readonly string[];
  onReport?: (tool: string, reason: ReportReason) => void;
}) {
  const { pool } = deps;

  async function report(
    principal: Principal,
    actionId: string,
    input: { reason: ReportReason; details?: string },
  ): Promise<Report> {
    if (!isUuid(actionId)) throw new NotFoundError('action');
    const created = await withTransaction(pool, async (tx) => {
      const action = await findAction(tx, principal.tenantId, actionId);
      if (!action) throw new NotFoundError('action');
      const saved = await insertReport(tx, {
        tenantId: principal.tenantId,
        actionId,
        tool: action.tool,
        reason: input.reason,
        details: input.details ?? null,
        reporter: `key:${principal.keyId}`,
      });
      await appendAuditEvent(tx, {
        tenantId: principal.tenantId,
        actionId,
        type: 'report.created',
        actor: `key:${principal.keyId}`,
        data: { report_id: saved.id, tool: action.tool, reason: input.reason },
      });
      return { report: saved, tool: action.tool };
    });
    deps.onReport?.(created.tool, input.reason);
    return created.report;
  }

  // The admin's way to clear an escalation once the tool has been fixed.
  async function reset(principal: Principal, tool: string): Promise<{ tool: string; reset_at: string }> {
    if (!deps.knownTools().includes(tool))
      throw new UnprocessableError('unknown_tool', `There is no tool named "${tool}".`);
    const resetAt = await withTransaction(pool, async (tx) => {
      const at = await resetReports(tx, principal.tenantId, tool, `key:${principal.keyId}`);
      await appendAuditEvent(tx, {
        tenantId: principal.tenantId,
        actionId: null,
        type: 'reports.reset',
        actor: `key:${principal.keyId}`,
        data: { tool },
      });
      return at;
    });
    return { tool, reset_at: resetAt.toISOString() };
  }

  return { report, reset };
}

export type ReportsService = ReturnType<typeof createReportsService>;
