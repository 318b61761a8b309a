import type { Queue } from 'bullmq';
import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { createBackgroundLoop } from '../../platform/background-loop.ts';
import type { Logger } from '../../platform/logger.ts';
import { prepareAuditEvent } from '../audit/audit.repository.ts';
import type { ActionError } from '../actions/action-types.ts';
import { jobIdForOutbox, type ExecuteJobPayload } from './execution.jobs.ts';
import {
  listOpenActions,
  lockOpenActions,
  republishActions,
  type OpenAction,
} from './execution.repository.ts';
import type { ExecutionService } from './execution.service.ts';

export interface ReconcilePass {
  // Open actions looked at, and what became of those whose job was not live.
  checked: number;
  republished: number;
  deadLettered: number;
}

export interface ExecutionReconciler {
  start(): void;
  stop(): Promise<void>;
  runOnce(): Promise<ReconcilePass>;
}

const DEAD_LETTERED: ActionError = {
  code: 'dead_lettered',
  message: 'Execution gave up after repeated failures.',
};

// Postgres is the system of record; Redis can forget acknowledged writes (a restart without
// persistence, a failover with asynchronous replication). This finds actions queued or
// running, untouched for `strandedAfterMs`, whose latest outbox row was published but whose
// job BullMQ no longer has, and re-publishes them through the outbox, under a new job id.
// The worker's claim only takes a queued or running action and every effect row is unique
// per action, so a re-published action whose first job did run after all still changes the
// world once. It also records a job BullMQ failed for good whose action could not be marked
// failed at the time (Postgres was down): the action ends failed and the job dead-lettered.
// A pass that cannot reach Redis decides nothing.
export function createExecutionReconciler(deps: {
  pool: Pool;
  queue: Pick<Queue<ExecuteJobPayload>, 'getJobState'>;
  execution: Pick<ExecutionService, 'failIfOpen'>;
  logger: Logger;
  intervalMs: number;
  strandedAfterMs: number;
  batchSize?: number;
  notifyOutbox?: () => void;
  onRepublished?: (count: number) => void;
}): ExecutionReconciler {
  const batchSize = deps.batchSize ?? 200;
  let cursor: { updatedAt: Date; actionId: string } | undefined;

  async function runOnce(): Promise<ReconcilePass> {
    const open = await listOpenActions(deps.pool, {
      olderThanMs: deps.strandedAfterMs,
      after: cursor,
      limit: batchSize,
    });
    // Walk on next time; start over once the end is reached.
    const last = open.at(-1);
    cursor =
      open.length === batchSize && last ? { updatedAt: last.updatedAt, actionId: last.actionId } : undefined;

    // A row the relay has not published yet is the relay's business.
    const published = open.filter((a) => a.outboxId === null || a.published);
    const states = await Promise.all(
      published.map(async (action) =>
        action.outboxId === null ? 'unknown' : deps.queue.getJobState(jobIdForOutbox(action.outboxId)),
      ),
    );
    const lost = published.filter((_, i) => states[i] === 'unknown');
    const failed = published.filter((_, i) => states[i] === 'failed');

    const republished = lost.length ? await republish(lost) : 0;
    let deadLettered = 0;
    for (const action of failed) {
      const updated = await deps.execution.failIfOpen(
        { tenantId: action.tenantId, actionId: action.actionId, jobId: jobIdForOutbox(action.outboxId!) },
        DEAD_LETTERED,
      );
      if (updated) deadLettered += 1;
    }
    if (republished || deadLettered) {
      deps.logger.warn(
        { republished, dead_lettered: deadLettered, checked: open.length },
        'reconciled actions whose jobs were lost or failed without a record',
      );
    }
    return { checked: open.length, republished, deadLettered };
  }

  async function republish(lost: readonly OpenAction[]): Promise<number> {
    const now = new Date();
    const ids = await withTransaction(deps.pool, async (tx) => {
      const locked = await lockOpenActions(tx, lost);
      const stillOpen = new Set(locked.map((l) => l.actionId));
      const targets = lost.filter((a) => stillOpen.has(a.actionId));
      if (!targets.length) return [];
      return republishActions(
        tx,
        targets,
        targets.map((a) =>
          prepareAuditEvent(
            {
              tenantId: a.tenantId,
              actionId: a.actionId,
              type: 'action.republished',
              actor: 'reconciler',
              data: {
                lost_job_id: a.outboxId === null ? null : jobIdForOutbox(a.outboxId),
                status: a.status,
              },
            },
            now,
          ),
        ),
      );
    });
    if (ids.length) {
      deps.notifyOutbox?.();
      deps.onRepublished?.(ids.length);
    }
    return ids.length;
  }

  const loop = createBackgroundLoop({
    name: 'execution reconciler',
    intervalMs: deps.intervalMs,
    maxBackoffMs: 60_000,
    logger: deps.logger,
    // Up to ten batches a tick: a stranded action behind a large live backlog is found
    // within a few ticks, and Redis sees at most 2,000 state lookups per tick.
    tick: async () => {
      for (let batch = 0; batch < 10 && loop.running(); batch++) {
        await runOnce();
        if (!cursor) break;
      }
    },
  });

  return { runOnce, start: loop.start, stop: loop.stop };
}
