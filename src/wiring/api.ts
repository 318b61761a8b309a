import { buildApp } from '../app.ts';
import type { Config } from '../platform/config.ts';
import { withSpan } from '../platform/traced.ts';
import { createActionCache } from '../modules/actions/action-cache.ts';
import { redactValue } from '../modules/safety/redaction.ts';
import { createActionsService } from '../modules/actions/actions.service.ts';
import { createAlertInboxService } from '../modules/alerts/alerts.service.ts';
import { createAuditService } from '../modules/audit/audit.service.ts';
import { createRoleGuard } from '../modules/auth/auth.guard.ts';
import { createAuthService } from '../modules/auth/auth.service.ts';
import type { DecisionPipeline } from '../modules/decisions/decision-pipeline.ts';
import { createFlagsService } from '../modules/flags/flags.service.ts';
import { createOutboxNotifier } from '../modules/outbox/outbox-notifier.ts';
import { executionBacklogAgeMs, sampleExecutionBacklog } from '../modules/execution/execution-backlog.ts';
import { createAdmission } from '../platform/admission.ts';
import { createPolicyService } from '../modules/policy/policy.service.ts';
import { createRateLimiter } from '../modules/rate-limit/rate-limiter.ts';
import { createReportsService } from '../modules/reports/reports.service.ts';
import { createReviewsService } from '../modules/reviews/reviews.service.ts';
import type { Infrastructure } from './infrastructure.ts';
import {
  countEvents,
  observeDecisions,
  observeRequests,
  traceActionCache,
  traceRedisCall,
  type Observability,
} from './observability.ts';
import type { ToolCatalogue } from './tools.ts';
import type { ConsoleApi } from './console.ts';
import { CACHE_ACTION_READS } from '../platform/flags/flag-provider.ts';
import { createClientLeak } from '../modules/drills/faults.ts';

// The services behind the HTTP API, and the app factory every role's listener uses.
export function buildApiServices(deps: {
  config: Config;
  obs: Observability;
  infra: Infrastructure;
  catalogue: ToolCatalogue;
  pipeline: DecisionPipeline;
  isDraining: () => boolean;
  background: boolean;
}) {
  const { config, obs, infra, pipeline } = deps;
  const { logger, metrics, telemetry, tracer } = obs;
  const { pool, flags } = infra;
  const { tools, toolNames } = deps.catalogue;
  const counts = countEvents(metrics, toolNames, config.role);

  const auth = createAuthService({ pool, knownTools: () => tools.names() });
  const guard = createRoleGuard({
    authenticate: (header) => withSpan(tracer, 'auth', {}, () => auth.authenticate(header)),
    requireRole: auth.requireRole,
  });
  const audit = createAuditService({ pool });
  const policies = createPolicyService({ pool });
  const cache = traceActionCache(
    tracer,
    createActionCache({
      redis: infra.cacheRedis,
      prefix: config.redisPrefix,
      ttlSeconds: config.cache.actionTtlSeconds,
      logger,
      ...counts.actionCache,
      readsEnabled: (tenantId) => flags.isEnabled(CACHE_ACTION_READS, { tenantId }),
    }),
  );
  const rateLimiter = createRateLimiter({
    redis: infra.cacheRedis,
    prefix: config.redisPrefix,
    logger,
    ...counts.rateLimiter,
  });
  const notifyOutbox = createOutboxNotifier({ db: pool, logger });
  // Admission control (docs/adr/0018-admission-control.md): proposals in flight, and the
  // execution backlog sampled where proposals are admitted.
  const admission = createAdmission({
    ...config.admission,
    onShed: (reason) => metrics.loadShed.inc({ reason }),
  });
  let stopBacklogSampler: (() => void) | undefined;
  const startBacklogSampler = (): void => {
    stopBacklogSampler ??= sampleExecutionBacklog({
      intervalMs: config.admission.backlogSampleMs,
      read: () => executionBacklogAgeMs({ db: pool, queue: infra.queue }),
      report: (ageMs) => {
        admission.reportBacklogAge(ageMs);
        if (ageMs !== undefined) metrics.executionBacklogAge.set(ageMs / 1000);
      },
    });
  };
  const actions = createActionsService({
    capacity: {
      acquire: async () => {
        const release = await admission.acquire();
        metrics.admissionInFlight.set(admission.stats().inFlight);
        return () => {
          release();
          metrics.admissionInFlight.set(admission.stats().inFlight);
        };
      },
    },
    outsideDeadline: infra.deadlines.exempt,
    notifyOutbox,
    pool,
    tools,
    pipeline,
    policies,
    cache,
    idempotencyLeaseMs: config.idempotency.leaseMs,
    admission: (principal, input, policy) =>
      traceRedisCall(tracer, 'EVAL', () =>
        rateLimiter.consume(principal.tenantId, input.user_id, policy.rate_limit_per_user_per_minute),
      ),
    traceContext: telemetry.injectContext,
    observeDecision: observeDecisions(metrics, toolNames),
    // The same masking as tool results (src/wiring/execution.ts), for agent keys' reads.
    redactArguments: (args, policy) =>
      redactValue(args, { tenantEmailDomains: policy.email_allowed_domains }) as Record<string, unknown>,
  });
  // chaos.pool-exhaustion: the bad build's leak sits on the tenant's action reads.
  const leak = createClientLeak({
    pool,
    active: (tenantId) => flags.isEnabled('chaos.pool-exhaustion', { tenantId }),
    logger,
  });
  const readsWithFault: typeof actions = {
    ...actions,
    async get(principal, id) {
      await leak(principal.tenantId);
      return actions.get(principal, id);
    },
    async list(principal, query) {
      await leak(principal.tenantId);
      return actions.list(principal, query);
    },
  };
  const reviews = createReviewsService({
    notifyOutbox,
    pool,
    onChange: actions.onChange,
    traceContext: telemetry.injectContext,
  });
  const reports = createReportsService({
    pool,
    knownTools: () => tools.names(),
    ...counts.reports,
  });
  const flagsService = createFlagsService({ flags, pool, logger });
  const alertInbox = createAlertInboxService({ pool, runbookBaseUrl: config.alerts.runbookBaseUrl });
  const observeRequest = observeRequests(config, metrics);

  function createApi(options: { exposeApi?: boolean; console: ConsoleApi }) {
    if (options.exposeApi !== false && deps.background) startBacklogSampler();
    return buildApp({
      exposeApi: options.exposeApi,
      logger,
      version: config.version,
      http: config.http,
      guard,
      actions: readsWithFault,
      audit,
      tools,
      policies,
      reviews,
      reports,
      console: options.console,
      readiness: infra.readiness,
      isDraining: deps.isDraining,
      metrics: { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
      observeRequest,
      ...counts.app,
      tracer: telemetry.enabled ? tracer : undefined,
      deadlines: { scope: infra.deadlines, ms: config.http.requestDeadlineMs },
      operator: config.operatorToken ? { auth, token: config.operatorToken } : undefined,
      alerts: { inbox: alertInbox, webhookToken: config.alerts.webhookToken },
    });
  }

  return {
    auth,
    audit,
    policies,
    actions,
    reviews,
    reports,
    flagsService,
    alertInbox,
    notifyOutbox,
    admission,
    createApi,
    close: () => stopBacklogSampler?.(),
  };
}
