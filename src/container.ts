import type { Config } from './platform/config.ts';
import { contractFlagNames } from './platform/flags/flag-provider.ts';
import type { SafeFetchPolicy } from './platform/http/safe-fetch.ts';
import type { Logger } from './platform/logger.ts';
import type { Telemetry } from './platform/telemetry.ts';
import { createAuditChainer } from './modules/audit/audit-chainer.ts';
import { buildApiServices } from './wiring/api.ts';
import { buildDecisionPipeline } from './wiring/decision-pipeline.ts';
import { buildExecution } from './wiring/execution.ts';
import { buildInfrastructure } from './wiring/infrastructure.ts';
import { buildModerationBackend, createModerationApi } from './wiring/moderation-service.ts';
import { buildObservability, registerCollectors } from './wiring/observability.ts';
import { buildTools } from './wiring/tools.ts';
import { buildConsoleApi } from './wiring/console.ts';

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

// Builds every dependency once, from the config. Every role uses it; roles differ only in
// which consumers (HTTP listener, worker, relay, moderation service) they start. Each
// concern is wired in its own file under src/wiring/, in the order they depend on each other.
export function buildContainer(config: Config, options: ContainerOptions = {}) {
  const background = options.background ?? true;
  let draining = false;
  const isDraining = () => draining;

  const obs = buildObservability(config, options);
  const infra = buildInfrastructure(config, obs, { background });
  const catalogue = buildTools(config, options);
  const moderationBackend = buildModerationBackend({ config, obs, flags: infra.flags });
  const decisions = buildDecisionPipeline({
    config,
    obs,
    db: infra.pool,
    flags: infra.flags,
    catalogue,
    moderationBackend,
  });
  const api = buildApiServices({
    config,
    obs,
    infra,
    catalogue,
    pipeline: decisions.pipeline,
    isDraining,
    background,
  });
  const execution = buildExecution({
    config,
    obs,
    infra,
    catalogue,
    policies: api.policies,
    onChange: api.actions.onChange,
    notifyOutbox: api.notifyOutbox,
    background,
  });
  const consoleApi = buildConsoleApi({
    config,
    infra,
    catalogue,
    flagsService: api.flagsService,
    dlq: execution.dlq,
    moderation: decisions.moderation,
  });
  registerCollectors(obs.metrics, {
    pool: infra.pool,
    poolMax: config.db.poolMax,
    queue: infra.queue,
    flags: infra.flags,
    observedFlags: contractFlagNames(catalogue.tools.names()),
    role: config.role,
    redisClients: infra.redisClients,
  });

  return {
    config,
    logger: obs.logger,
    metrics: obs.metrics,
    telemetry: obs.telemetry,
    pool: infra.pool,
    // The cache's Redis connection, for the drills' scenarios (src/wiring/drills.ts).
    redis: infra.cacheRedis,
    queue: infra.queue,
    flags: infra.flags,
    tools: catalogue.tools,
    auth: api.auth,
    audit: api.audit,
    policies: api.policies,
    actions: api.actions,
    reviews: api.reviews,
    reports: api.reports,
    flagsService: api.flagsService,
    alertInbox: api.alertInbox,
    dlq: execution.dlq,
    execution: execution.execution,
    createApi: (options: { exposeApi?: boolean } = {}) => api.createApi({ ...options, console: consoleApi }),
    createModerationApi: () => createModerationApi({ config, obs, backend: moderationBackend, isDraining }),
    createRelay: execution.createRelay,
    createReconciler: execution.createReconciler,
    createIdempotencySweeper: execution.createSweeper,
    // Every role that writes audit events runs one; they take turns (ADR 0010).
    createAuditChainer: () =>
      createAuditChainer({
        pool: infra.pool,
        logger: obs.logger,
        intervalMs: config.audit.chainIntervalMs,
        onChained: (count) => obs.metrics.auditChained.inc(count),
      }),
    createExecutionWorker: execution.createExecutionWorker,
    setDraining: (value: boolean) => {
      draining = value;
    },
    admission: api.admission,
    async close(): Promise<void> {
      api.close();
      await decisions.moderation.close().catch(() => undefined);
      await infra.close();
    },
  };
}

export type Container = ReturnType<typeof buildContainer>;
