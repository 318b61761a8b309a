import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { AppError, PermanentToolError, TransientToolError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { findAction, transitionAction } from '../actions/actions.repository.ts';
import type { ActionError, ActionRecord } from '../actions/action-types.ts';
import type { ActionChangeListener } from '../actions/actions.service.ts';
import type { TenantPolicy } from '../decisions/decision-types.ts';
import type { ToolRegistry } from '../tools/tool-registry.ts';

export type ExecutionOutcome = 'succeeded' | 'failed' | 'retry' | 'skipped';

export interface ExecutionObserver {
  started?(action: ActionRecord, attempt: number): void;
  finished?(tool: string, outcome: Exclude<ExecutionOutcome, 'skipped'>, seconds: number): void;
}

export type ResultRedactor = (
  result: Record<string, unknown>,
  context: { policy: TenantPolicy },
) => Record<string, unknown>;

// Runs one approved action. The tool's effect and the action's new status are written in
// one transaction, and every effect row is unique per action, so a job delivered twice, or
// retried after a crash, changes the world once.
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
  // Error messages can quote what a remote server sent; they are scrubbed like results.
  redactError?: (error: ActionError, context: { tenantId: string }) => ActionError;
}) {
  const { pool, logger } = deps;

  async function start(tenantId: string, actionId: string, attempt: number): Promise<ActionRecord | null> {
    return withTransaction(pool, async (tx) => {
      const action = await transitionAction(tx, tenantId, actionId, ['queued', 'running'], 'running', {
        incrementAttempts: true,
      });
      if (!action) return null;
      await appendAuditEvent(tx, {
        tenantId,
        actionId,
        type: 'action.started',
        actor: 'worker',
        data: { attempt },
      });
      return action;
    });
  }

  async function runTool(action: ActionRecord, policy: TenantPolicy): Promise<ActionRecord> {
    const tool = deps.tools.get(action.tool);
    if (!tool)
      throw new PermanentToolError('unknown_tool', `The tool ${action.tool} is no longer registered.`);
    const signal = AbortSignal.timeout(deps.toolTimeoutMs);
    const context = { tenantId: action.tenantId, actionId: action.id, signal, policy };
    // A remote effect happens first, outside any transaction; the transaction records it.
    const remote =
      tool.effect === 'remote'
        ? await raceSignal(tool.execute({ ...context, tx: null }, action.arguments), signal)
        : undefined;
    return withTransaction(pool, async (tx) => {
      await tx.query(`SELECT set_config('statement_timeout', $1, true)`, [String(deps.toolTimeoutMs)]);
      const result = remote ?? (await raceSignal(tool.execute({ ...context, tx }, action.arguments), signal));
      const redacted = deps.redact(result, { policy });
      const done = await transitionAction(tx, action.tenantId, action.id, ['running'], 'succeeded', {
        result: redacted,
        error: null,
      });
      if (!done)
        throw new PermanentToolError('state_conflict', 'The action left the running state during execution.');
      await appendAuditEvent(tx, {
        tenantId: action.tenantId,
        actionId: action.id,
        type: 'action.succeeded',
        actor: 'worker',
        data: { attempt: action.attempts },
      });
      return done;
    });
  }

  async function finish(
    tenantId: string,
    actionId: string,
    outcome: 'failed' | 'retry',
    error: ActionError,
  ): Promise<ActionRecord | null> {
    return withTransaction(pool, async (tx) => {
      const updated =
        outcome === 'failed'
          ? await transitionAction(tx, tenantId, actionId, ['running', 'queued'], 'failed', { error })
          : await transitionAction(tx, tenantId, actionId, ['running'], 'queued', {});
      if (!updated) return null;
      await appendAuditEvent(tx, {
        tenantId,
        actionId,
        type: outcome === 'failed' ? 'action.failed' : 'action.retry_scheduled',
        actor: 'worker',
        data: { error },
      });
      return updated;
    });
  }

  async function execute(job: {
    tenantId: string;
    actionId: string;
    attempt: number;
    maxAttempts: number;
  }): Promise<ExecutionOutcome> {
    const started = performance.now();
    const action = await start(job.tenantId, job.actionId, job.attempt);
    if (!action) {
      logger.info({ action_id: job.actionId }, 'action is not runnable any more; skipping redelivered job');
      return 'skipped';
    }
    await deps.onChange(action);
    deps.observer?.started?.(action, job.attempt);
    const elapsed = () => (performance.now() - started) / 1000;
    try {
      // A kill switch also stops what was approved or queued before it was flipped: an
      // operator braking during an incident expects nothing of that tool to run. The action
      // is dead-lettered and can be replayed once the switch is off.
      if (deps.isKilled?.(action.tool, action.tenantId)) {
        throw new PermanentToolError('kill_switch', `A kill switch for ${action.tool} is on.`);
      }
      const policy = await deps.policies.get(job.tenantId);
      const done = await runTool(action, policy);
      await deps.onChange(done);
      deps.observer?.finished?.(action.tool, 'succeeded', elapsed());
      return 'succeeded';
    } catch (err) {
      const permanent = err instanceof PermanentToolError;
      const final = permanent || job.attempt >= job.maxAttempts;
      const raw = toActionError(err);
      const error = deps.redactError?.(raw, { tenantId: job.tenantId }) ?? raw;
      logger.warn(
        { action_id: job.actionId, tool: action.tool, attempt: job.attempt, final, code: error.code },
        'tool execution failed',
      );
      const updated = await finish(job.tenantId, job.actionId, final ? 'failed' : 'retry', error);
      if (updated) await deps.onChange(updated);
      deps.observer?.finished?.(action.tool, final ? 'failed' : 'retry', elapsed());
      throw err;
    }
  }

  // For jobs that end in the dead-letter set without the processor finishing them (stalled
  // too often): the action must not stay "running" for ever.
  async function failIfOpen(tenantId: string, actionId: string, error: ActionError): Promise<void> {
    const current = await findAction(pool, tenantId, actionId);
    if (!current || !['queued', 'running'].includes(current.status)) return;
    const updated = await finish(tenantId, actionId, 'failed', error);
    if (updated) await deps.onChange(updated);
  }

  return { execute, failIfOpen };
}

export type ExecutionService = ReturnType<typeof createExecutionService>;

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
