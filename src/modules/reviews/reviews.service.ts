import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { decodeKeysetCursor, encodeKeysetCursor, takePage, type Page } from '../../platform/pagination.ts';
import { ConflictError, NotFoundError } from '../../platform/errors.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/auth.repository.ts';
import { toActionView, type ActionView } from '../actions/action-types.ts';
import { findAction, listPendingReviews, transitionAction } from '../actions/actions.repository.ts';
import type { ActionChangeListener } from '../actions/actions.service.ts';
import { isUuid } from '../../platform/uuid.ts';
import { enqueueExecution } from '../outbox/outbox.repository.ts';

export type ReviewDecision = 'approve' | 'reject';

export function createReviewsService(deps: {
  pool: Pool;
  onChange: ActionChangeListener;
  traceContext?: () => Record<string, string> | null;
  notifyOutbox?: () => void;
}) {
  const { pool } = deps;

  async function listPending(
    principal: Principal,
    query: { limit: number; cursor?: string },
  ): Promise<Page<ActionView>> {
    const after = query.cursor ? decodeKeysetCursor(query.cursor) : undefined;
    const rows = await listPendingReviews(pool, principal.tenantId, { after, limit: query.limit + 1 });
    return takePage(rows, query.limit, toActionView, (row) =>
      encodeKeysetCursor({ micros: row.cursorMicros, id: row.id }),
    );
  }

  // Approval queues the action through the outbox in the same transaction that records the
  // reviewer's decision; the state check in the UPDATE makes two reviewers racing on one
  // action produce one decision and one 409.
  async function decide(
    principal: Principal,
    actionId: string,
    decision: ReviewDecision,
    note: string | undefined,
  ): Promise<ActionView> {
    if (!isUuid(actionId)) throw new NotFoundError('action');
    const tenantId = principal.tenantId;
    const updated = await withTransaction(pool, async (tx) => {
      const action =
        decision === 'approve'
          ? await transitionAction(tx, tenantId, actionId, ['pending_review'], 'queued', { queued: true })
          : await transitionAction(tx, tenantId, actionId, ['pending_review'], 'rejected');
      if (!action) {
        const existing = await findAction(tx, tenantId, actionId);
        if (!existing) throw new NotFoundError('action');
        throw new ConflictError('not_pending', `The action is ${existing.status}, not pending_review.`);
      }
      if (decision === 'approve') {
        await enqueueExecution(tx, { tenantId, actionId, traceContext: deps.traceContext?.() ?? null });
      }
      await appendAuditEvent(tx, {
        tenantId,
        actionId,
        type: 'action.reviewed',
        actor: `key:${principal.keyId}`,
        data: {
          decision,
          note: note ?? null,
          reviewer_key_id: principal.keyId,
          reviewed_at: new Date().toISOString(),
        },
      });
      return action;
    });
    if (decision === 'approve') deps.notifyOutbox?.();
    await deps.onChange(updated);
    return toActionView(updated);
  }

  return { listPending, decide };
}

export type ReviewsService = ReturnType<typeof createReviewsService>;
