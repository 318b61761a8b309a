import type { Pool } from '../../platform/db.ts';
import { NotFoundError } from '../../platform/errors.ts';
import type { Principal } from '../auth/auth.repository.ts';
import { findAction } from '../actions/actions.repository.ts';
import { isUuid } from '../../platform/uuid.ts';
import type { ProposalContext } from '../decisions/decision-types.ts';
import { findTraceParent, listActionEvents, listActionReports } from './action-details.repository.ts';

const MAX_EVENTS = 200;
const MAX_REPORTS = 100;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface TimelineEntry {
  at: string;
  type: string;
  actor: string;
  // The status the event moved the action to, when it moved it.
  status: string | null;
  note: string | null;
}

export interface ActionDetails {
  action_id: string;
  context: ProposalContext;
  timeline: TimelineEntry[];
  reports: Array<{ id: string; reason: string; details: string | null; created_at: string }>;
  trace_id: string | null;
  trace_url: string | null;
}

function statusAfter(type: string, data: Record<string, unknown>): string | null {
  switch (type) {
    case 'action.proposed':
      return typeof data.status === 'string' ? data.status : null;
    case 'action.reviewed':
      return data.decision === 'approve' ? 'queued' : 'rejected';
    case 'action.started':
      return 'running';
    case 'action.succeeded':
      return 'succeeded';
    case 'action.failed':
      return 'failed';
    case 'action.retry_scheduled':
    case 'action.replayed':
      return 'queued';
    default:
      return null;
  }
}

// What a reviewer needs beyond the Action itself: the context the assistant proposed with
// (where the evidence spans point), the status timeline, user reports and the trace id.
// The audit hash chain itself stays admin-only (GET /v1/audit).
export function createActionDetailsService(deps: { pool: Pool; traceUrlTemplate?: string }) {
  async function get(principal: Principal, actionId: string): Promise<ActionDetails> {
    if (!isUuid(actionId)) throw new NotFoundError('action');
    const action = await findAction(deps.pool, principal.tenantId, actionId);
    if (!action) throw new NotFoundError('action');
    const [events, reports, traceparent] = await Promise.all([
      listActionEvents(deps.pool, principal.tenantId, actionId, MAX_EVENTS),
      listActionReports(deps.pool, principal.tenantId, actionId, MAX_REPORTS),
      findTraceParent(deps.pool, principal.tenantId, actionId),
    ]);
    const traceId = traceparent ? (TRACEPARENT.exec(traceparent)?.[1] ?? null) : null;
    return {
      action_id: action.id,
      context: action.context,
      timeline: events.map((e) => ({
        at: e.created_at.toISOString(),
        type: e.type,
        actor: e.actor,
        status: statusAfter(e.type, e.data),
        note: typeof e.data.note === 'string' ? e.data.note : null,
      })),
      reports: reports.map((r) => ({ ...r, created_at: r.created_at.toISOString() })),
      trace_id: traceId,
      trace_url:
        traceId && deps.traceUrlTemplate ? deps.traceUrlTemplate.replace('{trace_id}', traceId) : null,
    };
  }

  return { get };
}

export type ActionDetailsService = ReturnType<typeof createActionDetailsService>;
