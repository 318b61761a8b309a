import type { Job, Worker } from 'bullmq';
import type { Logger } from '../../platform/logger.ts';
import type { ExecuteJobPayload } from './execution.jobs.ts';
import type { ExecutionService } from './execution.service.ts';

// Wires the BullMQ worker's lifecycle: start, the dead-letter safety net, and a close that
// lets active jobs finish (or leaves them to stall back onto the queue if the deadline hits).
export function attachExecutionWorker(deps: {
  worker: Worker<ExecuteJobPayload>;
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
    async close(timeoutMs: number) {
      const graceful = worker.close();
      const timer = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), timeoutMs).unref(),
      );
      if ((await Promise.race([graceful, timer])) === 'timeout') {
        logger.warn('worker did not drain in time; active jobs will be redelivered after their lock expires');
        await worker.close(true);
      }
    },
  };
}
