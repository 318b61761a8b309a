import type { Config } from './platform/config.ts';
import type { DestinationStream } from 'pino';
import { SpanKind } from '@opentelemetry/api';
import { createLogger, type Logger } from './platform/logger.ts';
import { createPool } from './platform/db.ts';
import { createRedis } from './platform/redis.ts';
import { createQueue, createWorker, queuePrefix, type RetryPolicy } from './platform/queue.ts';
import {
  createMetrics,
  registerCollector,
  statusClassOf,
  boundedLabel,
  QUEUE_STATES,
  type Metrics,
} from './platform/metrics.ts';
import { createLocalFlagProvider } from './platform/flags/local-flag-provider.ts';
import { createUnleashFlagProvider } from './platform/flags/unleash-flag-provider.ts';
import type { FlagProvider } from './platform/flags/flag-provider.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import { createRoleGuard } from './modules/auth/auth.guard.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { createPolicyService } from './modules/policy/policy.service.ts';
import { createToolRegistry } from './modules/tools/tool-registry.ts';
import { notesCreate } from './modules/tools/definitions/notes-create.ts';
import { emailSend } from './modules/tools/definitions/email-send.ts';
import { paymentsRefund } from './modules/tools/definitions/payments-refund.ts';
import { filesDelete } from './modules/tools/definitions/files-delete.ts';
import { createDecisionPipeline } from './modules/decisions/decision-pipeline.ts';
import { createToolDefaultStage } from './modules/decisions/stages/tool-default-stage.ts';
import { createKillSwitchStage } from './modules/decisions/stages/kill-switch-stage.ts';
import { createRolloutGateStage } from './modules/decisions/stages/rollout-gate-stage.ts';
import { createUserReportsStage } from './modules/decisions/stages/user-reports-stage.ts';
import { createReviewsService } from './modules/reviews/reviews.service.ts';
import { createReportsService } from './modules/reports/reports.service.ts';
import { createRateLimiter } from './modules/rate-limit/rate-limiter.ts';
import { createDlqService } from './modules/dlq/dlq.service.ts';
import { createFlagsService } from './modules/flags/flags.service.ts';
import { createActionCache } from './modules/actions/action-cache.ts';
import { createActionsService } from './modules/actions/actions.service.ts';
import { createExecutionService } from './modules/execution/execution.service.ts';
import {
  createExecuteProcessor,
  EXECUTE_QUEUE,
  type ExecuteJobPayload,
} from './modules/execution/execution.jobs.ts';
import { attachExecutionWorker } from './modules/execution/execution.worker.ts';
import { createOutboxRelay } from './modules/outbox/outbox-relay.ts';
import { outboxBacklog } from './modules/outbox/outbox.repository.ts';
import { createOutboxNotifier } from './modules/outbox/outbox-notifier.ts';
import { createHttpFetchTool } from './modules/tools/definitions/http-fetch.ts';
import { createSsrfStage } from './modules/decisions/stages/ssrf-stage.ts';
import { createInjectionStage } from './modules/decisions/stages/injection-stage.ts';
import { createProvenanceStage } from './modules/decisions/stages/provenance-stage.ts';
import { createSecretStage } from './modules/decisions/stages/secret-stage.ts';
import type { ToolTraits } from './modules/decisions/stages/safety-stage-support.ts';
import { classifyAddress } from './modules/safety/ip-policy.ts';
import { REDACT_PATHS, redactForLog, redactText, redactValue } from './modules/safety/redaction.ts';
import { detectInjection } from './modules/safety/injection-detector.ts';
import { createModerationClient } from './modules/moderation/moderation-client.ts';
import { createModerationStage } from './modules/decisions/stages/moderation-stage.ts';
import { createModerationClassifier } from './modules/moderation/moderation-classifier.ts';
import { createOpenAiModerationAdapter } from './modules/moderation/openai-moderation-adapter.ts';
import { buildModerationApp } from './modules/moderation/moderation-app.ts';
import type { SafeFetchPolicy } from './platform/http/safe-fetch.ts';
import { createTelemetry, type Telemetry } from './platform/telemetry.ts';
import { tracePool, withRedisSpan, withSpan } from './platform/traced.ts';
import { BREAKER_STATE_VALUE } from './platform/metrics.ts';
import { buildApp } from './app.ts';

export interface ContainerOptions {
  logger?: Logger;
  // Tests turn LISTEN/NOTIFY and background refresh off when they drive things by hand.
  background?: boolean;
  // Created by main before the logger, so log lines carry trace ids; off when not given.
  telemetry?: Telemetry;
  // DNS for http.fetch and the SSRF check. Only the red-team runner and tests replace it,
  // at the boundary, with a fixed table.
  resolveHost?: SafeFetchPolicy['resolve'];
}

const FETCH_MAX_BYTES = 256 * 1024;
const FETCH_CONTENT_TYPES = ['text/*', 'application/json', 'application/xml', 'application/xhtml+xml'];

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
    redaction: { paths: REDACT_PATHS, scrub: (fields) => redactForLog(fields) },
  });
}

// Builds every dependency once, in one place, from the config. Every role uses it; roles
// differ only in which consumers (HTTP listener, worker, relay) they start.
export function buildContainer(config: Config, options: ContainerOptions = {}) {
  const logger = options.logger ?? createServiceLogger(config);
  const metrics: Metrics = createMetrics({
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
  const { tracer } = telemetry;
  const rawPool = createPool({
    connectionString: config.databaseUrl,
    max: config.db.poolMax,
    statementTimeoutMs: config.db.statementTimeoutMs,
    connectTimeoutMs: config.db.connectTimeoutMs,
    applicationName: `airlock-${config.role}`,
    logger,
  });
  const pool = telemetry.enabled ? tracePool(rawPool, tracer) : rawPool;
  const redisError = (client: string) => () => metrics.redisErrors.inc({ client });
  const cacheRedis = createRedis(config.redisUrl, 'cache', {
    logger,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    onError: redisError('cache'),
  });
  // A command timeout, so a hung Redis cannot hold the relay (and its outbox row locks) for ever.
  const producerRedis = createRedis(config.redisUrl, 'producer', {
    logger,
    commandTimeoutMs: 5_000,
    onError: redisError('producer'),
  });
  const retry: RetryPolicy = {
    maxAttempts: config.worker.maxAttempts,
    backoffBaseMs: config.worker.backoffBaseMs,
    backoffMaxMs: config.worker.backoffMaxMs,
  };
  const bullPrefix = queuePrefix(config.redisPrefix);
  const queue = createQueue(EXECUTE_QUEUE, producerRedis, bullPrefix, retry);
  // BullMQ re-emits connection errors on the queue and, with no listener, prints them raw to
  // stderr. The producer connection's own listener already logs and counts them.
  queue.on('error', () => undefined);

  const background = options.background ?? true;
  const flags: FlagProvider =
    config.unleashUrl && config.unleashApiToken
      ? createUnleashFlagProvider({
          url: config.unleashUrl,
          clientToken: config.unleashApiToken,
          adminToken: config.unleashAdminToken,
          environment: config.unleashEnvironment,
          appName: 'airlock',
          refreshIntervalMs: config.flags.refreshIntervalMs,
          backupPath: config.unleashBackupDir,
          disableMetrics: !background,
          logger,
          tenantSlugs: async (ids) =>
            new Map(
              (
                await pool.query<{ id: string; slug: string }>(
                  'SELECT id::text AS id, slug FROM tenants WHERE id::text = ANY($1)',
                  [ids],
                )
              ).rows.map((r) => [r.id, r.slug]),
            ),
        })
      : createLocalFlagProvider({
          pool,
          connectionString: config.databaseUrl,
          refreshIntervalMs: config.flags.refreshIntervalMs,
          logger,
          listen: background,
        });

  const fetchPolicy: Omit<SafeFetchPolicy, 'isHostAllowed'> = {
    classifyAddress,
    allowPrivateCidrs: config.fetch.allowPrivateCidrs,
    timeoutMs: config.worker.toolTimeoutMs,
    maxBytes: FETCH_MAX_BYTES,
    maxRedirects: 3,
    allowedContentTypes: FETCH_CONTENT_TYPES,
    resolve: options.resolveHost,
  };
  const httpFetch = createHttpFetchTool({
    fetchPolicy,
    scanBody: (text) => {
      const families = [...new Set(detectInjection(text).map((finding) => finding.family))];
      return { flagged: families.length > 0, families };
    },
  });
  const tools = createToolRegistry([notesCreate, emailSend, paymentsRefund, filesDelete, httpFetch]);
  const toolNames = new Set(tools.names());
  // Unknown tools are treated as the most dangerous kind.
  const toolTraits: ToolTraits = {
    isSideEffecting: (tool) => tools.get(tool)?.sideEffecting ?? true,
    isOutbound: (tool) => tools.get(tool)?.outbound ?? true,
  };
  const auth = createAuthService({ pool, knownTools: () => tools.names() });
  const guard = createRoleGuard({
    authenticate: (header) => withSpan(tracer, 'auth', {}, () => auth.authenticate(header)),
    requireRole: auth.requireRole,
  });

  const moderation = createModerationClient({
    baseUrl: config.moderationUrl,
    timeoutMs: config.moderationTimeoutMs,
    breaker: config.moderationBreaker,
    logger,
    onStateChange: (state) =>
      metrics.circuitBreakerState.set(
        { dependency: 'moderation' },
        BREAKER_STATE_VALUE[state === 'half_open' ? 'half-open' : state],
      ),
    observeCall: (outcome, seconds) =>
      metrics.dependencyRequestDuration.observe({ dependency: 'moderation', outcome }, seconds),
  });
  metrics.circuitBreakerState.set({ dependency: 'moderation' }, BREAKER_STATE_VALUE.closed);
  const audit = createAuditService({ pool });
  const policies = createPolicyService({ pool });
  const pipeline = createDecisionPipeline({
    stages: [
      createToolDefaultStage({ tools }),
      createKillSwitchStage({ flags }),
      createRolloutGateStage({ flags }),
      createUserReportsStage({ db: pool }),
      createSsrfStage({ fetchPolicy }),
      createInjectionStage({ tools: toolTraits }),
      createProvenanceStage({ tools: toolTraits }),
      createSecretStage({ tools: toolTraits }),
      createModerationStage({
        client: {
          moderate: (text) =>
            withSpan(tracer, 'moderation.moderate', {}, () => moderation.moderate(text), {
              kind: SpanKind.CLIENT,
            }),
        },
      }),
    ],
    logger,
    tracer,
    observeStage: (stage, seconds) => metrics.decisionStageDuration.observe({ stage }, seconds),
  });
  const rawCache = createActionCache({
    redis: cacheRedis,
    prefix: config.redisPrefix,
    ttlSeconds: config.cache.actionTtlSeconds,
    logger,
    onResult: (result) => metrics.cacheRequests.inc({ cache: 'action', result }),
  });
  const cache: typeof rawCache = {
    get: (tenantId, id) => withRedisSpan(tracer, 'GET', () => rawCache.get(tenantId, id)),
    put: (tenantId, view, version) =>
      withRedisSpan(tracer, 'EVAL', () => rawCache.put(tenantId, view, version)),
  };
  const rateLimiter = createRateLimiter({
    redis: cacheRedis,
    prefix: config.redisPrefix,
    logger,
    onLimited: () => metrics.rateLimited.inc(),
    onUnavailable: () => metrics.redisErrors.inc({ client: 'rate_limiter' }),
  });
  const notifyOutbox = createOutboxNotifier({ db: pool, logger });
  const actions = createActionsService({
    notifyOutbox,
    pool,
    tools,
    pipeline,
    policies,
    cache,
    idempotencyLeaseMs: config.idempotency.leaseMs,
    admission: (principal, input, policy) =>
      withRedisSpan(tracer, 'EVAL', () =>
        rateLimiter.consume(principal.tenantId, input.user_id, policy.rate_limit_per_user_per_minute),
      ),
    traceContext: telemetry.injectContext,
    observeDecision: (tool, decision) => {
      const toolLabel = boundedLabel(tool, toolNames);
      metrics.decisions.inc({ tool: toolLabel, outcome: decision.outcome });
      for (const reason of decision.reasons)
        metrics.decisionReasons.inc({ tool: toolLabel, reason: reason.code });
    },
  });
  const execution = createExecutionService({
    pool,
    tools,
    policies,
    toolTimeoutMs: config.worker.toolTimeoutMs,
    // Tool output leaves the sandbox through the API: secrets, card numbers, phone numbers
    // and addresses outside the tenant's own domains are masked before it is stored.
    redact: (result, { policy }) =>
      redactValue(result, { tenantEmailDomains: policy.email_allowed_domains }) as Record<string, unknown>,
    onChange: actions.onChange,
    redactError: (error) => ({ code: error.code, message: redactText(error.message) }),
    isKilled: (tool, tenantId) =>
      flags.isEnabled('kill-switch.all', { tenantId }) ||
      flags.isEnabled(`kill-switch.${tool}`, { tenantId }),
    logger,
    observer: {
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
    },
  });

  const reviews = createReviewsService({
    notifyOutbox,
    pool,
    onChange: actions.onChange,
    traceContext: telemetry.injectContext,
  });
  const reports = createReportsService({
    pool,
    knownTools: () => tools.names(),
    onReport: (tool, reason) => metrics.reports.inc({ tool: boundedLabel(tool, toolNames), reason }),
  });
  const dlq = createDlqService({
    notifyOutbox,
    pool,
    queue,
    onChange: actions.onChange,
    onReplay: () => metrics.deadLetterReplays.inc(),
    traceContext: telemetry.injectContext,
  });

  const flagsService = createFlagsService({ flags, pool, logger });

  registerCollector(metrics, 'reviews', async () => {
    const { rows } = await pool.query<{ pending: number; oldest: number | null }>(
      `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM actions WHERE status = 'pending_review'`,
    );
    metrics.reviewsPending.set(rows[0]?.pending ?? 0);
    metrics.reviewOldestPendingAge.set(rows[0]?.oldest ?? 0);
  });
  // Global values of the contract's flags only: a bounded label set.
  const observedFlags = ['kill-switch.all', 'auto-approve', ...tools.names().map((t) => `kill-switch.${t}`)];
  registerCollector(metrics, 'flags', async () => {
    for (const flag of observedFlags) metrics.flagEnabled.set({ flag }, flags.isEnabled(flag) ? 1 : 0);
  });
  registerCollector(metrics, 'db_pool', async () => {
    metrics.dbPoolClients.set({ pool: 'main', state: 'total' }, pool.totalCount);
    metrics.dbPoolClients.set({ pool: 'main', state: 'idle' }, pool.idleCount);
    metrics.dbPoolClients.set({ pool: 'main', state: 'waiting' }, pool.waitingCount);
    metrics.dbPoolMax.set({ pool: 'main' }, config.db.poolMax);
  });
  registerCollector(metrics, 'outbox', async () => {
    const backlog = await outboxBacklog(pool);
    metrics.outboxPending.set(backlog.pending);
    metrics.outboxOldestAge.set(backlog.oldestAgeSeconds);
  });
  registerCollector(metrics, 'queue', async () => {
    const counts = await queue.getJobCounts(...QUEUE_STATES);
    for (const state of QUEUE_STATES)
      metrics.queueJobs.set({ queue: EXECUTE_QUEUE, state }, counts[state] ?? 0);
    metrics.deadLetters.set({ queue: EXECUTE_QUEUE }, counts.failed ?? 0);
    const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
    metrics.queueOldestWaitingAge.set(
      { queue: EXECUTE_QUEUE },
      oldest ? (Date.now() - oldest.timestamp) / 1000 : 0,
    );
  });

  let draining = false;
  const readiness = [
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
    { name: 'redis', check: async () => void (await cacheRedis.ping()) },
  ];

  const observeRequest = config.telemetry.requestMetrics
    ? (route: string, method: string, statusCode: number, seconds: number) =>
        metrics.httpRequestDuration.observe(
          { route, method, status_class: statusClassOf(statusCode) },
          seconds,
        )
    : undefined;

  function createApi(options: { exposeApi?: boolean } = {}) {
    return buildApp({
      exposeApi: options.exposeApi,
      logger,
      version: config.version,
      http: config.http,
      guard,
      actions,
      audit,
      tools,
      policies,
      reviews,
      reports,
      readiness,
      isDraining: () => draining,
      metrics: { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
      observeRequest,
      onLoadShed: () => metrics.loadShed.inc(),
      tracer: telemetry.enabled ? tracer : undefined,
    });
  }

  // The moderation role's app. The classifier is local unless OPENAI_API_KEY is set.
  // Drills degrade it through chaos flags, read on every request.
  function createModerationApi() {
    const classifier = config.openAiApiKey
      ? createOpenAiModerationAdapter({
          apiKey: config.openAiApiKey,
          timeoutMs: config.moderationTimeoutMs * 5,
        })
      : createModerationClassifier();
    return buildModerationApp({
      logger: logger.child({ component: 'moderation' }),
      classifier,
      registry: metrics.registry,
      isDraining: () => draining,
      observeRequest,
      faults: {
        latencyMs: () => (flags.isEnabled('chaos.moderation-slow') ? 1_500 : 0),
        failRate: () => (flags.isEnabled('chaos.moderation-errors') ? 1 : 0),
      },
    });
  }

  function createRelay() {
    return createOutboxRelay({
      pool,
      queue,
      connectionString: config.databaseUrl,
      pollIntervalMs: config.outbox.pollIntervalMs,
      batchSize: config.outbox.batchSize,
      logger,
      listen: background,
      onPublished: (count) => metrics.outboxPublished.inc(count),
      // A span from the row's creation to its publication, inside the request's trace, so the
      // time an action waited in the outbox shows on the trace.
      onRowPublished: telemetry.enabled
        ? (row) =>
            void telemetry.withExtractedContext(row.traceContext, async () =>
              tracer.startSpan('outbox publish', { kind: SpanKind.PRODUCER, startTime: row.createdAt }).end(),
            )
        : undefined,
    });
  }

  function createExecutionWorker() {
    const connection = createRedis(config.redisUrl, 'worker', { logger, onError: redisError('worker') });
    const processor = createExecuteProcessor({ execution });
    // The job joins the trace of the request that queued it, through the carrier in its data.
    const traced = (job: Parameters<typeof processor>[0]) =>
      telemetry.withExtractedContext(job.data.trace_context, () =>
        withSpan(
          tracer,
          'job.execute',
          { 'airlock.attempt': job.attemptsMade + 1, 'airlock.max_attempts': job.opts.attempts ?? 1 },
          () => processor(job),
        ),
      );
    const worker = createWorker<ExecuteJobPayload>(EXECUTE_QUEUE, traced, {
      connection,
      prefix: bullPrefix,
      concurrency: config.worker.concurrency,
      retry,
      lockDurationMs: config.worker.lockDurationMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
    });
    const attached = attachExecutionWorker({ worker, execution, logger });
    return {
      start: attached.start,
      async close(timeoutMs: number) {
        await attached.close(timeoutMs);
        connection.disconnect();
      },
    };
  }

  async function close(): Promise<void> {
    await moderation.close().catch(() => undefined);
    await flags.close();
    await queue.close().catch(() => undefined);
    cacheRedis.disconnect();
    producerRedis.disconnect();
    await pool.end();
  }

  return {
    config,
    logger,
    metrics,
    pool,
    queue,
    flags,
    tools,
    auth,
    audit,
    policies,
    actions,
    reviews,
    reports,
    dlq,
    flagsService,
    execution,
    telemetry,
    createApi,
    createModerationApi,
    createRelay,
    createExecutionWorker,
    setDraining: (value: boolean) => {
      draining = value;
    },
    close,
  };
}

export type Container = ReturnType<typeof buildContainer>;
