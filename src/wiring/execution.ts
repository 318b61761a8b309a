import type { Config } from '../platform/config.ts';
import { isKillSwitched, RETRY_BACKOFF } from '../platform/flags/flag-provider.ts';
import { createDependencyThrottle } from '../modules/drills/faults.ts';
import { createWorker } from '../platform/queue.ts';
import type { ActionChangeListener } from '../modules/actions/actions.service.ts';
import { createDlqService } from '../modules/dlq/dlq.service.ts';
import {
  createExecuteProcessor,
  EXECUTE_QUEUE,
  type ExecuteJobPayload,
} from '../modules/execution/execution.jobs.ts';
import { createExecutionService } from '../modules/execution/execution.service.ts';
import { attachExecutionWorker } from '../modules/execution/execution.worker.ts';
import { createExecutionReconciler } from '../modules/execution/execution-reconciler.ts';
import { createIdempotencySweeper } from '../modules/actions/idempotency-sweeper.ts';
import { createOutboxRelay } from '../modules/outbox/outbox-relay.ts';
import type { PolicyService } from '../modules/policy/policy.service.ts';
import { redactText, redactValue } from '../modules/safety/redaction.ts';
import type { Infrastructure } from './infrastructure.ts';
import {
  countEvents,
  observeExecution,
  traceJob,
  traceOutboxPublish,
  type Observability,
} from './observability.ts';
import type { ToolCatalogue } from './tools.ts';

// The longest a worker holds back after a dependency failure: short, so work resumes within
// seconds of Postgres coming back.
const INFRASTRUCTURE_PAUSE_MAX_MS = 5_000;

// From the outbox to the tool's effect: the relay publishes committed rows to BullMQ, the
// worker runs each job once in effect, and the dead-letter service replays what failed.
export function buildExecution(deps: {
  config: Config;
  obs: Observability;
  infra: Infrastructure;
  catalogue: ToolCatalogue;
  policies: Pick<PolicyService, 'get'>;
  onChange: ActionChangeListener;
  notifyOutbox: () => void;
  background: boolean;
}) {
  const { config, obs, infra, onChange } = deps;
  const { logger, metrics, telemetry } = obs;
  const { pool, queue, flags } = infra;
  const counts = countEvents(metrics, deps.catalogue.toolNames, deps.config.role);

  const execution = createExecutionService({
    pool,
    tools: deps.catalogue.tools,
    policies: deps.policies,
    toolTimeoutMs: config.worker.toolTimeoutMs,
    // Tool output leaves the sandbox through the API: secrets, card numbers, phone numbers
    // and addresses outside the tenant's own domains are masked before it is stored.
    redact: (result, { policy }) =>
      redactValue(result, { tenantEmailDomains: policy.email_allowed_domains }) as Record<string, unknown>,
    onChange,
    redactError: (error) => ({ code: error.code, message: redactText(error.message) }),
    isKilled: (tool, tenantId) => isKillSwitched(flags, tool, { tenantId }),
    beforeTool: createDependencyThrottle({
      active: (tenantId) => flags.isEnabled('chaos.retry-storm', { tenantId }),
    }),
    logger,
    observer: observeExecution(metrics, deps.catalogue.toolNames),
  });
  const dlq = createDlqService({
    notifyOutbox: deps.notifyOutbox,
    pool,
    queue,
    onChange,
    logger,
    ...counts.dlq,
    traceContext: telemetry.injectContext,
  });

  function createRelay() {
    return createOutboxRelay({
      pool,
      queue,
      connectionString: config.databaseUrl,
      pollIntervalMs: config.outbox.pollIntervalMs,
      backoffMaxMs: config.outbox.backoffMaxMs,
      batchSize: config.outbox.batchSize,
      logger,
      listen: deps.background,
      ...counts.relay,
      onRowPublished: traceOutboxPublish(obs),
    });
  }

  function createExecutionWorker() {
    const connection = infra.createWorkerConnection();
    const worker = createWorker<ExecuteJobPayload>(
      EXECUTE_QUEUE,
      traceJob(
        obs,
        createExecuteProcessor({
          execution,
          pause: (ms) => queue.rateLimit(ms),
          infrastructureBackoff: {
            baseMs: config.worker.backoffBaseMs,
            maxMs: Math.min(config.worker.backoffMaxMs, INFRASTRUCTURE_PAUSE_MAX_MS),
          },
          logger,
        }),
      ),
      {
        connection,
        prefix: infra.queuePrefix,
        concurrency: config.worker.concurrency,
        retry: infra.retry,
        lockDurationMs: config.worker.lockDurationMs,
        stalledIntervalMs: config.worker.stalledIntervalMs,
        backoffEnabled: (job) => flags.isEnabled(RETRY_BACKOFF, { tenantId: job.data.tenant_id }),
      },
    );
    const attached = attachExecutionWorker({ worker, connection, execution, logger });
    return {
      start: attached.start,
      async close(timeoutMs: number) {
        await attached.close(timeoutMs);
        connection.disconnect();
      },
    };
  }

  function createReconciler() {
    return createExecutionReconciler({
      pool,
      queue,
      execution,
      logger,
      intervalMs: config.reconcile.intervalMs,
      strandedAfterMs: config.reconcile.strandedAfterMs,
      notifyOutbox: deps.notifyOutbox,
      ...counts.reconciler,
    });
  }

  function createSweeper() {
    return createIdempotencySweeper({
      pool,
      logger,
      retentionMs: config.idempotency.retentionMs,
      intervalMs: config.idempotency.sweepIntervalMs,
      ...counts.sweeper,
    });
  }

  return { execution, dlq, createRelay, createExecutionWorker, createReconciler, createSweeper };
}
