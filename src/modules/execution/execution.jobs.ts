import { UnrecoverableError, type Job } from 'bullmq';
import { Type, type Static } from 'typebox';
import { PermanentToolError } from '../../platform/errors.ts';
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

export function createExecuteProcessor(deps: { execution: Pick<ExecutionService, 'execute'> }) {
  return async (job: Job<ExecuteJobPayload>): Promise<{ status: string }> => {
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    try {
      const status = await deps.execution.execute({
        tenantId: job.data.tenant_id,
        actionId: job.data.action_id,
        attempt,
        maxAttempts,
      });
      return { status };
    } catch (err) {
      // BullMQ must not retry what cannot succeed.
      if (err instanceof PermanentToolError) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };
}
