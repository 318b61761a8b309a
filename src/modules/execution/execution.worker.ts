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
    void deps.execution
      .failIfOpen(job.data.tenant_id, job.data.action_id, {
        code: 'dead_lettered',
        message: 'Execution gave up after repeated failures.',
      })
      .catch((e: Error) =>
        logger.error({ err: e, job_id: job.id }, 'could not mark a dead-lettered action failed'),
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
