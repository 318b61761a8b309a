import { SpanKind, type Tracer } from '@opentelemetry/api';
import type { Job, Queue } from 'bullmq';
import type { DestinationStream } from 'pino';
import type { Config } from '../platform/config.ts';
import type { Pool } from '../platform/db.ts';
import type { FlagProvider } from '../platform/flags/flag-provider.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import {
  BREAKER_STATE_VALUE,
  QUEUE_STATES,
  boundedLabel,
  createMetrics,
  registerCollector,
  registerSnapshot,
  statusClassOf,
  type Metrics,
} from '../platform/metrics.ts';
import { createTelemetry, type Telemetry } from '../platform/telemetry.ts';
import { withRedisSpan, withSpan } from '../platform/traced.ts';
import type { ActionCache, CacheResult } from '../modules/actions/action-cache.ts';
import type { ProposalObserver } from '../modules/actions/actions.service.ts';
import type { StageObserver } from '../modules/decisions/decision-pipeline.ts';
import type { ExecutionObserver } from '../modules/execution/execution.service.ts';
import type { ModerationClient, ModerationClientOptions } from '../modules/moderation/moderation-client.ts';
import { unchainedBacklog } from '../modules/audit/audit.repository.ts';
import { oldestUnstartedActionAgeSeconds } from '../modules/execution/execution-backlog.ts';
import { openDeadLetterCount } from '../modules/dlq/dlq.repository.ts';
import type { OutboxMessage } from '../modules/outbox/outbox.repository.ts';
import { outboxBacklog } from '../modules/outbox/outbox.repository.ts';
import { reviewBacklog } from '../modules/reviews/reviews.repository.ts';
import { redactForLog } from '../modules/safety/redaction.ts';

// The one place where domain events become metrics and spans. Services report what
// happened through plain callbacks (observeDecision, onChange, observer.finished); the
// adapters below turn those into Prometheus series and OpenTelemetry spans, so no service
// imports prom-client or the tracer.

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  telemetry: Telemetry;
  tracer: Tracer;
}

// The service's logger: JSON lines, censored by path and scrubbed by content, so a secret
// or an address that reaches a log call by accident never reaches the line.
export function createServiceLogger(
  config: Config,
  options: { destination?: DestinationStream; mixin?: () => Record<string, unknown> } = {},
): Logger {
  return createLogger({
    level: config.logLevel,
    base: { service: 'airlock', role: config.role },
    destination: options.destination,
    mixin: options.mixin,
    redaction: { scrub: (fields) => redactForLog(fields) },
  });
}

// Telemetry is created by main before the logger (so log lines carry trace ids); tests that
// do not pass one get a disabled tracer.
export function buildObservability(
  config: Config,
  options: { logger?: Logger; telemetry?: Telemetry },
): Observability {
  const logger = options.logger ?? createServiceLogger(config);
  const metrics = createMetrics({
    buildInfo: { version: config.version, role: config.role },
    onCollectorError: (name, err) => logger.debug({ collector: name, err }, 'metrics collector failed'),
  });
  const telemetry =
    options.telemetry ??
    createTelemetry({
      enabled: false,
      serviceName: config.telemetry.serviceName,
      serviceVersion: config.version,
      role: config.role,
      sampleRatio: 0,
    });
  return { logger, metrics, telemetry, tracer: telemetry.tracer };
}

export const countRedisErrors = (metrics: Metrics, role: string, client: string) => () =>
  metrics.redisErrors.inc({ client, role });

export function observeModerationCalls(
  metrics: Metrics,
): Pick<ModerationClientOptions, 'onStateChange' | 'observeCall'> {
  metrics.circuitBreakerState.set({ dependency: 'moderation' }, BREAKER_STATE_VALUE.closed);
  return {
    onStateChange: (state) =>
      metrics.circuitBreakerState.set(
        { dependency: 'moderation' },
        BREAKER_STATE_VALUE[state === 'half_open' ? 'half-open' : state],
      ),
    observeCall: (outcome, seconds) =>
      metrics.dependencyRequestDuration.observe({ dependency: 'moderation', outcome }, seconds),
  };
}

export const traceModeration = (
  tracer: Tracer,
  client: Pick<ModerationClient, 'moderate'>,
): Pick<ModerationClient, 'moderate'> => ({
  moderate: (text) =>
    withSpan(tracer, 'moderation.moderate', {}, () => client.moderate(text), { kind: SpanKind.CLIENT }),
});

export const observeStages =
  (metrics: Metrics): StageObserver =>
  (stage, seconds) =>
    metrics.decisionStageDuration.observe({ stage }, seconds);

export const traceActionCache = (tracer: Tracer, cache: ActionCache): ActionCache => ({
  get: (tenantId, id) => withRedisSpan(tracer, 'GET', () => cache.get(tenantId, id)),
  put: (tenantId, view, version) => withRedisSpan(tracer, 'EVAL', () => cache.put(tenantId, view, version)),
});

export const traceRedisCall = <T>(tracer: Tracer, command: string, call: () => Promise<T>): Promise<T> =>
  withRedisSpan(tracer, command, call);

export const observeDecisions =
  (metrics: Metrics, toolNames: ReadonlySet<string>): ProposalObserver =>
  (tool, decision) => {
    const toolLabel = boundedLabel(tool, toolNames);
    metrics.decisions.inc({ tool: toolLabel, outcome: decision.outcome });
    for (const reason of decision.reasons)
      metrics.decisionReasons.inc({ tool: toolLabel, reason: reason.code });
  };

export const observeExecution = (metrics: Metrics, toolNames: ReadonlySet<string>): ExecutionObserver => ({
  started: (action) => {
    // The database's attempt count, not BullMQ's: a stalled job restarts with the same
    // BullMQ attempt number and must not be observed twice.
    if (action.attempts === 1 && action.queuedAt) {
      metrics.actionStartDelay.observe((Date.now() - action.queuedAt.getTime()) / 1000);
    }
  },
  finished: (tool, result, seconds) => {
    const toolLabel = boundedLabel(tool, toolNames);
    metrics.jobDuration.observe({ tool: toolLabel, result }, seconds);
    metrics.jobAttempts.inc({ tool: toolLabel, result });
  },
});

// One-line counters, grouped by the service whose callbacks they fill.
export const countEvents = (metrics: Metrics, toolNames: ReadonlySet<string>, role: string) => ({
  actionCache: {
    onResult: (result: CacheResult) => metrics.cacheRequests.inc({ cache: 'action', result }),
  },
  rateLimiter: {
    onLimited: () => metrics.rateLimited.inc(),
    onUnavailable: () => metrics.redisErrors.inc({ client: 'rate_limiter', role }),
  },
  reports: {
    onReport: (tool: string, reason: string) =>
      metrics.reports.inc({ tool: boundedLabel(tool, toolNames), reason }),
  },
  dlq: { onReplay: (count: number) => metrics.deadLetterReplays.inc(count) },
  relay: { onPublished: (count: number) => metrics.outboxPublished.inc(count) },
  reconciler: { onRepublished: (count: number) => metrics.actionsRepublished.inc(count) },
  sweeper: { onSwept: (count: number) => metrics.idempotencyKeysSwept.inc(count) },
  app: { onLoadShed: () => metrics.loadShed.inc({ reason: 'event_loop' }) },
});

export const observeRequests = (
  config: Config,
  metrics: Metrics,
): ((route: string, method: string, statusCode: number, seconds: number) => void) | undefined =>
  config.telemetry.requestMetrics
    ? (route, method, statusCode, seconds) =>
        metrics.httpRequestDuration.observe(
          { route, method, status_class: statusClassOf(statusCode) },
          seconds,
        )
    : undefined;

// A span from the row's creation to its publication, inside the request's trace, so the
// time an action waited in the outbox shows on the trace.
export const traceOutboxPublish = ({
  telemetry,
  tracer,
}: Observability): ((row: OutboxMessage) => void) | undefined =>
  telemetry.enabled
    ? (row) =>
        void telemetry.withExtractedContext(row.traceContext, async () =>
          tracer.startSpan('outbox publish', { kind: SpanKind.PRODUCER, startTime: row.createdAt }).end(),
        )
    : undefined;

// The job joins the trace of the request that queued it, through the carrier in its data.
export const traceJob =
  <J extends Job<{ trace_context?: Record<string, string> }>, R>(
    { telemetry, tracer }: Observability,
    processor: (job: J) => Promise<R>,
  ) =>
  (job: J): Promise<R> =>
    telemetry.withExtractedContext(job.data.trace_context, () =>
      withSpan(
        tracer,
        'job.execute',
        { 'airlock.attempt': job.attemptsMade + 1, 'airlock.max_attempts': job.opts.attempts ?? 1 },
        () => processor(job),
      ),
    );

// A Redis connection this process owns, named as in airlock_redis_errors_total{client}.
export interface ObservedRedis {
  client: string;
  ping(): Promise<unknown>;
}

// Longer than a healthy PING over loopback by orders of magnitude, short enough that the
// probes of every connection finish inside the collector timeout.
export const REDIS_PING_TIMEOUT_MS = 500;

// Gauges read at scrape time, from the system of record rather than from counters kept in
// memory, so every process reports the same backlog.
export function registerCollectors(
  metrics: Metrics,
  sources: {
    pool: Pool;
    poolMax: number;
    queue: Pick<Queue, 'getJobCounts' | 'getJobs' | 'name'>;
    flags: Pick<FlagProvider, 'isEnabled'>;
    // Global values of these flags only: a bounded label set.
    observedFlags: readonly string[];
    // The process role, for airlock_redis_errors_total{role}.
    role: string;
    // The Redis connections open now (worker connections come and go with the workers).
    redisClients: () => readonly ObservedRedis[];
  },
): void {
  const { pool, queue, flags } = sources;
  // A snapshot, read before the collectors below take clients from the same pool. Callers
  // queued while an idle client exists are handed that client on the next tick; only the
  // ones beyond the idle clients are waiting for a connection.
  registerSnapshot(metrics, 'db_pool', () => {
    metrics.dbPoolClients.set({ pool: 'main', state: 'total' }, pool.totalCount);
    metrics.dbPoolClients.set({ pool: 'main', state: 'idle' }, pool.idleCount);
    metrics.dbPoolClients.set(
      { pool: 'main', state: 'waiting' },
      Math.max(0, pool.waitingCount - pool.idleCount),
    );
    metrics.dbPoolMax.set({ pool: 'main' }, sources.poolMax);
  });
  registerCollector(metrics, 'reviews', async () => {
    const backlog = await reviewBacklog(pool);
    metrics.reviewsPending.set(backlog.pending);
    metrics.reviewOldestPendingAge.set(backlog.oldestAgeSeconds);
  });
  registerCollector(metrics, 'flags', async () => {
    for (const flag of sources.observedFlags)
      metrics.flagEnabled.set({ flag }, flags.isEnabled(flag) ? 1 : 0);
  });
  // The dead-letter store is in Postgres; BullMQ's failed count is only its mirror.
  registerCollector(metrics, 'dead_letters', async () => {
    metrics.deadLetters.set({ queue: queue.name }, await openDeadLetterCount(pool));
  });
  registerCollector(metrics, 'audit_chain', async () => {
    const backlog = await unchainedBacklog(pool);
    metrics.auditUnchained.set(backlog.pending);
    metrics.auditChainLag.set(backlog.oldestAgeSeconds);
  });
  registerCollector(metrics, 'outbox', async () => {
    const backlog = await outboxBacklog(pool);
    metrics.outboxPending.set(backlog.pending);
    metrics.outboxOldestAge.set(backlog.oldestAgeSeconds);
  });
  registerCollector(metrics, 'execution', async () => {
    metrics.actionOldestQueuedAge.set(await oldestUnstartedActionAgeSeconds(pool));
  });
  registerCollector(metrics, 'queue', async () => {
    const counts = await queue.getJobCounts(...QUEUE_STATES);
    for (const state of QUEUE_STATES) metrics.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
    const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
    metrics.queueOldestWaitingAge.set(
      { queue: queue.name },
      oldest ? (Date.now() - oldest.timestamp) / 1000 : 0,
    );
  });
  // A hung Redis (paused, swapping, a dead network path) raises no connection error: its
  // commands only stop answering. One PING per connection per scrape, bounded, counts it
  // on every connection the process owns, the relay's and the workers' included.
  registerCollector(metrics, 'redis', async () => {
    await Promise.all(
      sources.redisClients().map(async ({ client, ping }) => {
        if (!(await answersWithin(ping, REDIS_PING_TIMEOUT_MS)))
          metrics.redisErrors.inc({ client, role: sources.role });
      }),
    );
  });
}

async function answersWithin(call: () => Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      call().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
