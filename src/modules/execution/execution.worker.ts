import type { Job, Worker } from 'bullmq';
import type { Logger } from '../../platform/logger.ts';
import { untilDown, type Redis } from '../../platform/redis.ts';
import type { ExecuteJobPayload } from './execution.jobs.ts';
import type { ExecutionService } from './execution.service.ts';

// Wires the BullMQ worker's lifecycle: start, the dead-letter safety net, and a close that
// lets active jobs finish (or leaves them to stall back onto the queue if the deadline hits
// or Redis is gone).
export function attachExecutionWorker(deps: {
  worker: Worker<ExecuteJobPayload>;
  // The worker's own connection, watched so a close never waits on a Redis that has gone.
  connection: Redis;
  execution: Pick<ExecutionService, 'failIfOpen'>;
  logger: Logger;
}) {
  const { worker, logger } = deps;

  worker.on('failed', (job: Job<ExecuteJobPayload> | undefined, err: Error) => {
    if (!job) return;
    const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError';
    if (!exhausted) return;
    logger.warn(
      { job_id: job.id, action_id: job.data.action_id, reason: err.message },
      'job moved to the dead-letter set',
    );
    // Usually the processor has already failed the action and parked the job in the same
    // statement, and this finds nothing open. It matters for a job BullMQ failed on its own
    // (stalled too often). If Postgres is down now, the reconciler records it later: it
    // finds the action queued or running with its job in BullMQ's failed set.
    void deps.execution
      .failIfOpen(
        { tenantId: job.data.tenant_id, actionId: job.data.action_id, jobId: String(job.id) },
        { code: 'dead_lettered', message: 'Execution gave up after repeated failures.' },
      )
      .catch((e: Error) =>
        logger.warn(
          { err: { message: e.message }, job_id: job.id },
          'could not record a dead-lettered job yet; the reconciler will',
        ),
      );
  });
  worker.on('error', (err) => logger.warn({ err: { message: err.message } }, 'worker error'));

  return {
    start() {
      void worker.run().catch((err: Error) => logger.error({ err }, 'worker stopped unexpectedly'));
    },
    // A graceful close waits for active jobs and then for Redis to acknowledge QUIT. With Redis
    // gone neither can happen (a job's completion cannot be recorded, QUIT waits in the offline
    // queue), so the close is cut short and the active jobs, whose locks expire, are
    // redelivered, as after a crash. BullMQ's close(true) cannot cut it short once a graceful
    // close has begun (it returns the close in progress), and its disconnect() waits for an
    // `end` event that a client between reconnects never emits (bullmq#4585): it is started,
    // not awaited, and the caller drops the worker's connection.
    async close(timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([
        worker.close().then(() => 'closed' as const),
        untilDown(deps.connection).then(() => 'redis_down' as const),
        deadline,
      ]);
      clearTimeout(timer);
      if (outcome === 'closed') return;
      logger.warn(
        { reason: outcome },
        'worker closed without draining; active jobs will be redelivered after their lock expires',
      );
      void worker.disconnect().catch(() => undefined);
    },
  };
}
