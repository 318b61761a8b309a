import { decodeKeysetCursor, encodeKeysetCursor } from '../../platform/pagination.ts';
import type { Queue } from 'bullmq';
import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { prepareAuditEvent } from '../audit/audit.repository.ts';
import type { ActionError, ActionRecord } from '../actions/action-types.ts';
import type { ActionChangeListener } from '../actions/actions.service.ts';
import type { ExecuteJobPayload } from '../execution/execution.jobs.ts';
import {
  countDeadLetters,
  discardDeadLetter,
  listDeadLetters,
  lockDeadLetters,
  replayDeadLetters,
  type DeadLetterFilter,
  type DeadLetterRow,
  type DeadLetterState,
  type LockedDeadLetter,
} from './dlq.repository.ts';

export interface DeadLetter {
  job_id: string;
  action_id: string;
  tenant_id: string;
  tool: string;
  attempts: number;
  error: ActionError;
  // "<code>: <message>", as BullMQ's failedReason used to read.
  failed_reason: string;
  state: DeadLetterState;
  failed_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  // Every dead letter matching the filter, not only this page's.
  total: number;
  next_cursor: string | null;
}

export interface ReplayResult {
  job_id: string;
  action_id: string;
  replayed: boolean;
  detail: string;
}

export interface BulkReplayResult {
  // Dead letters closed by this call, and how many of their actions went back to the queue.
  matched: number;
  replayed: number;
  skipped: number;
}

export interface DiscardResult {
  job_id: string;
  action_id: string;
  discarded: boolean;
  detail: string;
}

// Who may see a dead letter: an operator sees every tenant's, a tenant's admin only its own.
export interface DeadLetterScope {
  tenantId?: string;
}

export const DLQ_LIST_MAX = 1_000;
const REPLAY_BATCH = 100;

// The dead-letter queue is the dead_letters table (migrations/0004_dead_letters.sql),
// written in the statement that fails the action, so Postgres, not Redis, is its system of
// record. Replaying goes through the outbox like every other execution, so it is safe to
// repeat; a discarded letter is kept, quarantined, and no bulk replay picks it up.
export function createDlqService(deps: {
  pool: Pool;
  // BullMQ's failed set mirrors the table; its entries are tidied away best-effort.
  queue: Pick<Queue<ExecuteJobPayload>, 'remove'>;
  onChange: ActionChangeListener;
  logger?: Logger;
  onReplay?: (count: number) => void;
  traceContext?: () => Record<string, string> | null;
  notifyOutbox?: () => void;
}) {
  const { pool } = deps;

  async function list(
    filter: DeadLetterFilter & DeadLetterScope = {},
    page: { limit?: number; cursor?: string } = {},
  ): Promise<DeadLetterPage> {
    const limit = page.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > DLQ_LIST_MAX) {
      throw new ValidationError('invalid_request', `limit must be an integer from 1 to ${DLQ_LIST_MAX}.`);
    }
    const after = page.cursor ? decodeKeysetCursor(page.cursor, isJobId) : undefined;
    const [rows, total] = await Promise.all([
      listDeadLetters(pool, filter, { limit: limit + 1, after }),
      countDeadLetters(pool, filter),
    ]);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toDeadLetter),
      total,
      next_cursor:
        rows.length > limit && last
          ? encodeKeysetCursor({ micros: last.failedAtMicros, id: last.jobId })
          : null,
    };
  }

  async function replay(jobId: string, actor: string, scope: DeadLetterScope = {}): Promise<ReplayResult> {
    const outcome = await withTransaction(pool, async (tx) => {
      const [letter] = await lockDeadLetters(tx, { jobId, tenantId: scope.tenantId });
      if (!letter) throw new NotFoundError('dead letter');
      if (letter.state === 'discarded') {
        throw new ConflictError(
          'dead_letter_discarded',
          `The dead letter ${jobId} was discarded; it is not replayed.`,
        );
      }
      if (letter.state === 'replayed') return { letter, requeued: [], detail: 'already replayed' };
      const requeued = await replayLocked(tx, [letter], actor);
      return {
        letter,
        requeued,
        detail: requeued.length
          ? 'requeued through the outbox'
          : `the action is ${letter.actionStatus}, not failed; closed`,
      };
    });
    await afterReplay([outcome.letter], outcome.requeued);
    return {
      job_id: jobId,
      action_id: outcome.letter.actionId,
      replayed: outcome.requeued.length > 0,
      detail: outcome.detail,
    };
  }

  // Every open dead letter matching the filter and parked before the call, in batches of
  // 100 (one short transaction each). A replayed action that fails again is parked under a
  // new job id after the call started, so it is not picked up again here.
  async function replayAll(
    filter: Omit<DeadLetterFilter, 'state' | 'failedUpTo'> & DeadLetterScope,
    actor: string,
  ): Promise<BulkReplayResult> {
    const snapshot: DeadLetterFilter = { ...filter, state: 'open', failedUpTo: new Date() };
    const total: BulkReplayResult = { matched: 0, replayed: 0, skipped: 0 };
    for (;;) {
      const batch = await withTransaction(pool, async (tx) => {
        const letters = await lockDeadLetters(tx, { filter: snapshot, limit: REPLAY_BATCH });
        return { letters, requeued: letters.length ? await replayLocked(tx, letters, actor) : [] };
      });
      if (!batch.letters.length) return total;
      total.matched += batch.letters.length;
      total.replayed += batch.requeued.length;
      total.skipped += batch.letters.length - batch.requeued.length;
      await afterReplay(batch.letters, batch.requeued);
      if (batch.letters.length < REPLAY_BATCH) return total;
    }
  }

  async function replayLocked(
    tx: Parameters<typeof replayDeadLetters>[0],
    letters: readonly LockedDeadLetter[],
    actor: string,
  ): Promise<ActionRecord[]> {
    const failed = letters.filter((l) => l.actionStatus === 'failed');
    const now = new Date();
    const requeued = await replayDeadLetters(tx, {
      close: letters.map((l) => l.jobId),
      requeue: failed.map((l) => ({ tenantId: l.tenantId, actionId: l.actionId })),
      actor,
      traceContext: deps.traceContext?.() ?? null,
      events: failed.map((l) =>
        prepareAuditEvent(
          {
            tenantId: l.tenantId,
            actionId: l.actionId,
            type: 'action.replayed',
            actor,
            data: { dead_letter_job_id: l.jobId },
          },
          now,
        ),
      ),
    });
    return requeued;
  }

  // Once the transaction has committed: wake the relay, refresh the read cache, count.
  async function afterReplay(
    letters: readonly DeadLetterRow[],
    requeued: readonly ActionRecord[],
  ): Promise<void> {
    if (requeued.length) {
      deps.notifyOutbox?.();
      deps.onReplay?.(requeued.length);
    }
    for (const action of requeued) await deps.onChange(action);
    await tidyQueue(letters.map((l) => l.jobId));
  }

  async function discard(
    jobId: string,
    actor: string,
    options: DeadLetterScope & { reason?: string } = {},
  ): Promise<DiscardResult> {
    const reason = options.reason?.trim() || 'Discarded by an operator; it will not run.';
    if (reason.length > 2_000)
      throw new ValidationError('invalid_request', 'The reason must be at most 2000 characters.');
    const outcome = await withTransaction(pool, async (tx) => {
      const [letter] = await lockDeadLetters(tx, { jobId, tenantId: options.tenantId });
      if (!letter) throw new NotFoundError('dead letter');
      if (letter.state === 'replayed') {
        throw new ConflictError('dead_letter_replayed', `The dead letter ${jobId} was already replayed.`);
      }
      if (letter.state === 'discarded') return { letter, action: null, detail: 'already discarded' };
      const action = await discardDeadLetter(tx, {
        jobId,
        tenantId: letter.tenantId,
        actionId: letter.actionId,
        actor,
        error: { code: 'discarded', message: reason },
        event: prepareAuditEvent({
          tenantId: letter.tenantId,
          actionId: letter.actionId,
          type: 'action.discarded',
          actor,
          data: { dead_letter_job_id: jobId, reason, previous_error: letter.error },
        }),
      });
      return { letter, action, detail: 'quarantined; the action stays failed with code discarded' };
    });
    if (outcome.action) await deps.onChange(outcome.action);
    if (outcome.detail !== 'already discarded') await tidyQueue([jobId]);
    return {
      job_id: jobId,
      action_id: outcome.letter.actionId,
      discarded: outcome.detail !== 'already discarded',
      detail: outcome.detail,
    };
  }

  // BullMQ's failed entries are a mirror: failing to remove one leaves a stale entry in
  // Redis and changes nothing in Postgres.
  async function tidyQueue(jobIds: readonly string[]): Promise<void> {
    for (const jobId of jobIds) {
      await deps.queue
        .remove(jobId)
        .catch((err: Error) =>
          deps.logger?.debug(
            { err: { message: err.message }, job_id: jobId },
            'could not remove a failed job',
          ),
        );
    }
  }

  return { list, replay, replayAll, discard };
}

export type DlqService = ReturnType<typeof createDlqService>;

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    job_id: row.jobId,
    action_id: row.actionId,
    tenant_id: row.tenantId,
    tool: row.tool,
    attempts: row.attempts,
    error: row.error,
    failed_reason: `${row.error.code}: ${row.error.message}`,
    state: row.state,
    failed_at: row.failedAt.toISOString(),
    resolved_at: row.resolvedAt?.toISOString() ?? null,
    resolved_by: row.resolvedBy,
  };
}

// BullMQ job ids are ours (outbox-<n>), but a cursor is client input: bound its length.
const isJobId = (id: string) => id.length <= 200;
