import type { Pool } from '../../platform/db.ts';
import {
  AppError,
  InfrastructureError,
  isConnectionOutage,
  PermanentToolError,
  TransientToolError,
} from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { prepareAuditEvent } from '../audit/audit.repository.ts';
import type { ActionError, ActionRecord } from '../actions/action-types.ts';
import type { ActionChangeListener } from '../actions/actions.service.ts';
import type { TenantPolicy } from '../decisions/decision-types.ts';
import type { ToolDefinition } from '../tools/tool-definition.ts';
import type { ToolRegistry } from '../tools/tool-registry.ts';
import { claimForExecution, settleAction } from './execution.repository.ts';

export type ExecutionOutcome = 'succeeded' | 'failed' | 'retry' | 'skipped';

export interface ExecutionObserver {
  started?(action: ActionRecord, attempt: number): void;
  finished?(tool: string, outcome: Exclude<ExecutionOutcome, 'skipped'>, seconds: number): void;
}

export type ResultRedactor = (
  result: Record<string, unknown>,
  context: { policy: TenantPolicy },
) => Record<string, unknown>;

export interface ExecutionJob {
  tenantId: string;
  actionId: string;
  // The dead-letter handle if this attempt turns out to be the last (outbox-<id>).
  jobId: string;
  attempt: number;
  maxAttempts: number;
}

// Runs one approved action, exactly once in effect. A sandbox tool runs in one
// transaction: the claim (queued to running, attempt counted, action.started), the tool's
// effect row (unique per action) and the settle (running to succeeded, action.succeeded)
// commit together or not at all, so a job delivered twice or retried after a crash
// changes the world once. A remote tool's effect happens outside any transaction, so its
// claim commits first and the settle follows the call.
//
// Only the tool can fail an attempt. When Postgres fails around it (connection refused or
// lost, the server shutting down, the pool timing out), nothing of the attempt is
// recorded and the job is handed back as an InfrastructureError, which the processor
// turns into a delay that uses none of the job's attempts.
export function createExecutionService(deps: {
  pool: Pool;
  tools: ToolRegistry;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  toolTimeoutMs: number;
  redact: ResultRedactor;
  onChange: ActionChangeListener;
  logger: Logger;
  observer?: ExecutionObserver;
  isKilled?: (tool: string, tenantId: string) => boolean;
  // Runs just before the tool; a throw counts as the tool's failure (the drills' faults).
  beforeTool?: (action: ActionRecord) => void;
  // Error messages can quote what a remote server sent; they are scrubbed like results.
  redactError?: (error: ActionError, context: { tenantId: string }) => ActionError;
}) {
  const { pool, logger } = deps;

  const event = (action: { tenantId: string; id: string }, type: string, data: Record<string, unknown>) =>
    prepareAuditEvent({ tenantId: action.tenantId, actionId: action.id, type, actor: 'worker', data });

  // Records a failed attempt in one statement: the action goes back to queued (a retry) or
  // to failed with its job parked in the dead-letter store (the last attempt, or a
  // permanent failure). `claimed` says whether the claim committed (a remote tool) and so
  // already counted the attempt and recorded action.started.
  async function recordFailure(
    job: ExecutionJob,
    action: { tenantId: string; id: string; attempts: number },
    failure: { error: ActionError; final: boolean; claimed: boolean },
  ): Promise<ActionRecord | null> {
    const prepared = [
      ...(failure.claimed ? [] : [event(action, 'action.started', { attempt: job.attempt })]),
      event(action, failure.final ? 'action.failed' : 'action.retry_scheduled', { error: failure.error }),
    ];
    return settleAction(pool, {
      tenantId: action.tenantId,
      actionId: action.id,
      from: failure.claimed ? ['running'] : ['queued', 'running'],
      to: failure.final ? 'failed' : 'queued',
      error: failure.final ? failure.error : undefined,
      countAttempt: !failure.claimed,
      events: prepared,
      deadLetterJobId: failure.final ? job.jobId : undefined,
    });
  }

  async function execute(job: ExecutionJob): Promise<ExecutionOutcome> {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const policy = await infrastructure(() => deps.policies.get(job.tenantId));
    const client = await infrastructure(() => pool.connect());
    let open = false;
    let action: ActionRecord | null = null;
    let claimed = false;
    let broken: Error | undefined;
    try {
      await infrastructure(() => client.query('BEGIN'));
      open = true;
      action = await infrastructure(() =>
        claimForExecution(client, {
          tenantId: job.tenantId,
          actionId: job.actionId,
          statementTimeoutMs: deps.toolTimeoutMs,
          started: event({ tenantId: job.tenantId, id: job.actionId }, 'action.started', {
            attempt: job.attempt,
          }),
        }),
      );
      if (!action) {
        await infrastructure(() => client.query('ROLLBACK'));
        open = false;
        logger.info({ action_id: job.actionId }, 'action is not runnable any more; skipping redelivered job');
        return 'skipped';
      }
      deps.observer?.started?.(action, job.attempt);
      const tool = runnableTool(action);
      deps.beforeTool?.(action);
      const signal = AbortSignal.timeout(deps.toolTimeoutMs);
      const context = { tenantId: action.tenantId, actionId: action.id, signal, policy };
      let result: Record<string, unknown>;
      if (tool.effect === 'remote') {
        // The claim commits before the call: a remote effect cannot roll back with it.
        await infrastructure(() => client.query('COMMIT'));
        open = false;
        claimed = true;
        client.release();
        await deps.onChange(action);
        result = await raceSignal(tool.execute({ ...context, tx: null }, action.arguments), signal);
      } else {
        result = await raceSignal(tool.execute({ ...context, tx: client }, action.arguments), signal);
      }
      const done = await infrastructure(() =>
        settleAction(claimed ? pool : client, {
          tenantId: action!.tenantId,
          actionId: action!.id,
          from: ['running'],
          to: 'succeeded',
          result: deps.redact(result, { policy }),
          error: null,
          events: [event(action!, 'action.succeeded', { attempt: action!.attempts })],
        }),
      );
      if (!done)
        throw new PermanentToolError('state_conflict', 'The action left the running state during execution.');
      if (open) {
        await infrastructure(() => client.query('COMMIT'));
        open = false;
      }
      await deps.onChange(done);
      deps.observer?.finished?.(action.tool, 'succeeded', elapsed());
      return 'succeeded';
    } catch (err) {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof InfrastructureError || isConnectionOutage(err)) {
        broken = err as Error;
        throw err instanceof InfrastructureError ? err : asInfrastructure(err);
      }
      // A failure before the claim is a bug, not the tool's: BullMQ counts it, and the
      // dead-letter listener records the action if it runs out of attempts.
      if (!action) throw err;
      const permanent = err instanceof PermanentToolError;
      const final = permanent || job.attempt >= job.maxAttempts;
      const raw = toActionError(err);
      const error = deps.redactError?.(raw, { tenantId: job.tenantId }) ?? raw;
      logger.warn(
        { action_id: job.actionId, tool: action.tool, attempt: job.attempt, final, code: error.code },
        'tool execution failed',
      );
      const updated = await infrastructure(() => recordFailure(job, action!, { error, final, claimed }));
      if (updated) await deps.onChange(updated);
      deps.observer?.finished?.(action.tool, final ? 'failed' : 'retry', elapsed());
      throw err;
    } finally {
      // A connection that failed is destroyed rather than handed to the next caller.
      if (!claimed) client.release(broken);
    }
  }

  // A kill switch also stops what was approved or queued before it was flipped: an
  // operator braking during an incident expects nothing of that tool to run. The action
  // is dead-lettered and can be replayed once the switch is off.
  function runnableTool(action: ActionRecord): ToolDefinition {
    if (deps.isKilled?.(action.tool, action.tenantId)) {
      throw new PermanentToolError('kill_switch', `A kill switch for ${action.tool} is on.`);
    }
    const tool = deps.tools.get(action.tool);
    if (!tool)
      throw new PermanentToolError('unknown_tool', `The tool ${action.tool} is no longer registered.`);
    return tool;
  }

  // For jobs that end in the dead-letter set without the processor finishing them (stalled
  // too often): the action must not stay queued or running for ever.
  async function failIfOpen(
    target: { tenantId: string; actionId: string; jobId: string },
    error: ActionError,
  ): Promise<ActionRecord | null> {
    const updated = await settleAction(pool, {
      tenantId: target.tenantId,
      actionId: target.actionId,
      from: ['queued', 'running'],
      to: 'failed',
      error,
      events: [event({ tenantId: target.tenantId, id: target.actionId }, 'action.failed', { error })],
      deadLetterJobId: target.jobId,
    });
    if (updated) await deps.onChange(updated);
    return updated;
  }

  return { execute, failIfOpen };
}

export type ExecutionService = ReturnType<typeof createExecutionService>;

// Runs a step that talks to Postgres and turns a dependency failure into an
// InfrastructureError; anything else passes through.
async function infrastructure<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw isConnectionOutage(err) ? asInfrastructure(err) : err;
  }
}

function asInfrastructure(err: unknown): InfrastructureError {
  return new InfrastructureError(`A dependency failed during execution: ${(err as Error).message}`, {
    cause: err,
  });
}

function toActionError(err: unknown): ActionError {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  // The transaction's statement_timeout (57014) and the abort signal share one deadline;
  // whichever fires first under load, the failure is the same timeout.
  if ((err as { code?: unknown } | null)?.code === '57014') {
    return { code: 'tool_timeout', message: 'The tool did not finish in time.' };
  }
  return { code: 'execution_error', message: 'The tool failed unexpectedly.' };
}

async function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw new TransientToolError('tool_timeout', 'The tool did not finish in time.');
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new TransientToolError('tool_timeout', 'The tool did not finish in time.'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
