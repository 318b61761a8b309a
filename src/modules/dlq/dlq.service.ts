import type { Queue } from 'bullmq';
import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { NotFoundError } from '../../platform/errors.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { transitionAction } from '../actions/actions.repository.ts';
import type { ActionChangeListener } from '../actions/actions.service.ts';
import type { ExecuteJobPayload } from '../execution/execution.jobs.ts';
import { enqueueExecution } from '../outbox/outbox.repository.ts';

export interface DeadLetter {
  job_id: string;
  action_id: string;
  tenant_id: string;
  attempts: number;
  failed_reason: string;
  failed_at: string | null;
}

export interface ReplayResult {
  job_id: string;
  action_id: string;
  replayed: boolean;
  detail: string;
}

const MAX_LIST = 1_000;

// The dead-letter queue is BullMQ's failed set. Replaying goes through the outbox like
// every other execution, so it is safe to repeat: a second replay of the same job finds
// the action no longer failed and only tidies the job away.
export function createDlqService(deps: {
  pool: Pool;
  queue: Pick<Queue<ExecuteJobPayload>, 'getFailed' | 'getJob'>;
  onChange: ActionChangeListener;
  onReplay?: () => void;
  traceContext?: () => Record<string, string> | null;
  notifyOutbox?: () => void;
}) {
  async function list(limit = 100): Promise<DeadLetter[]> {
    const jobs = await deps.queue.getFailed(0, Math.min(limit, MAX_LIST) - 1);
    return jobs
      .filter((job) => job?.data)
      .map((job) => ({
        job_id: String(job.id),
        action_id: job.data.action_id,
        tenant_id: job.data.tenant_id,
        attempts: job.attemptsMade,
        failed_reason: job.failedReason,
        failed_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      }));
  }

  async function replay(jobId: string, actor: string): Promise<ReplayResult> {
    const job = await deps.queue.getJob(jobId);
    if (!job || !(await job.isFailed())) throw new NotFoundError('dead letter');
    const { tenant_id: tenantId, action_id: actionId } = job.data;
    const requeued = await withTransaction(deps.pool, async (tx) => {
      // 'queued' and 'running' cover an action whose dead-lettering could not be recorded
      // (Postgres was down when the job gave up): without a job it would wait for ever.
      const action = await transitionAction(
        tx,
        tenantId,
        actionId,
        ['failed', 'queued', 'running'],
        'queued',
        {
          error: null,
          queued: true,
        },
      );
      if (!action) return null;
      await enqueueExecution(tx, { tenantId, actionId, traceContext: deps.traceContext?.() ?? null });
      await appendAuditEvent(tx, {
        tenantId,
        actionId,
        type: 'action.replayed',
        actor,
        data: { dead_letter_job_id: jobId },
      });
      return action;
    });
    await job.remove();
    if (!requeued) {
      return {
        job_id: jobId,
        action_id: actionId,
        replayed: false,
        detail: 'the action already finished; job removed',
      };
    }
    deps.notifyOutbox?.();
    await deps.onChange(requeued);
    deps.onReplay?.();
    return { job_id: jobId, action_id: actionId, replayed: true, detail: 'requeued through the outbox' };
  }

  return { list, replay };
}

export type DlqService = ReturnType<typeof createDlqService>;
