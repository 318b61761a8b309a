import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Type, type Static } from 'typebox';
import { InfrastructureError, PermanentToolError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ExecutionService } from './execution.service.ts';

export const EXECUTE_QUEUE = 'actions-execute';

export const ExecuteJobPayload = Type.Object(
  {
    tenant_id: Type.String({ format: 'uuid' }),
    action_id: Type.String({ format: 'uuid' }),
    outbox_id: Type.Integer({ minimum: 1 }),
    trace_context: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
export type ExecuteJobPayload = Static<typeof ExecuteJobPayload>;

// Job ids are the outbox id, so publishing the same row twice yields one job.
export const jobIdForOutbox = (outboxId: number): string => `outbox-${outboxId}`;

// An infrastructure failure (Postgres down around the tool) must not count as a tool
// attempt: the job goes back to the queue through BullMQ's manual rate limit, which
// leaves attemptsMade alone, and this worker stops taking jobs for a capped, jittered
// delay that grows while the failures continue.
export function createExecuteProcessor(deps: {
  execution: Pick<ExecutionService, 'execute'>;
  // Holds the queue back for this long (BullMQ's queue.rateLimit).
  pause: (ms: number) => Promise<void>;
  infrastructureBackoff: { baseMs: number; maxMs: number };
  logger: Logger;
  random?: () => number;
}) {
  let outage = 0;
  return async (job: Job<ExecuteJobPayload>): Promise<{ status: string }> => {
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    try {
      const status = await deps.execution.execute({
        tenantId: job.data.tenant_id,
        actionId: job.data.action_id,
        jobId: String(job.id),
        attempt,
        maxAttempts,
      });
      if (outage) deps.logger.info({ failures: outage }, 'execution dependencies are back');
      outage = 0;
      return { status };
    } catch (err) {
      if (err instanceof InfrastructureError) {
        outage += 1;
        const delay = infrastructureDelayMs(outage, deps.infrastructureBackoff, deps.random);
        deps.logger[outage === 1 ? 'warn' : 'debug'](
          { err: { message: err.message }, job_id: job.id, delay_ms: delay, failures: outage },
          'execution dependency unavailable; job returned to the queue without using an attempt',
        );
        await deps.pause(delay).catch(() => undefined);
        throw Worker.RateLimitError();
      }
      // BullMQ must not retry what cannot succeed.
      if (err instanceof PermanentToolError) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };
}

// Equal jitter: a delay in [ceiling / 2, ceiling], the ceiling doubling from baseMs to maxMs.
export function infrastructureDelayMs(
  failures: number,
  policy: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}
