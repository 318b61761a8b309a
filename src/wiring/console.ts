import type { Config } from '../platform/config.ts';
import type { DlqService } from '../modules/dlq/dlq.service.ts';
import type { TenantDeadLetters } from '../modules/ops/ops.service.ts';
import type { FlagsService } from '../modules/flags/flags.service.ts';
import type { ModerationClient } from '../modules/moderation/moderation-client.ts';
import { createOpsService } from '../modules/ops/ops.service.ts';
import { createActionDetailsService } from '../modules/action-details/action-details.service.ts';
import { runbookUrl } from '../modules/alerts/runbook-url.ts';
import { createDrillView } from '../modules/drills/drill-view.ts';
import { SCENARIOS } from '../modules/drills/scenarios/index.ts';
import type { Infrastructure } from './infrastructure.ts';
import type { ToolCatalogue } from './tools.ts';

// The reads and operator actions the console needs beyond the contract's endpoints. They
// sit on the same services the CLI uses (flags, dead letters), wired after execution
// because the dead-letter service lives there.
export function buildConsoleApi(deps: {
  config: Config;
  infra: Infrastructure;
  catalogue: ToolCatalogue;
  flagsService: FlagsService;
  dlq: DlqService;
  moderation: Pick<ModerationClient, 'state'>;
}) {
  const { infra } = deps;
  return {
    ops: createOpsService({
      pool: infra.pool,
      queue: infra.queue,
      breakers: () => [{ dependency: 'moderation', state: deps.moderation.state() }],
      flags: infra.flags,
      flagsService: deps.flagsService,
      deadLetters: tenantDeadLetters(deps.dlq),
      toolNames: () => deps.catalogue.tools.names(),
    }),
    details: createActionDetailsService({
      pool: infra.pool,
      traceUrlTemplate: deps.config.telemetry.traceUiUrl,
    }),
    drills: createDrillView({
      pool: infra.pool,
      scenarios: SCENARIOS,
      runbookUrl: (runbook) => runbookUrl(runbook, deps.config.alerts.runbookBaseUrl) ?? runbook,
    }),
  };
}

// The dead-letter service takes a tenant scope: the console shows a tenant admin its own
// letters, and another tenant's job is not found.
function tenantDeadLetters(dlq: Pick<DlqService, 'list' | 'replay' | 'discard'>): TenantDeadLetters {
  return {
    async list(tenantId, limit) {
      const page = await dlq.list({ tenantId }, { limit });
      return {
        items: page.items.map((d) => ({
          job_id: d.job_id,
          action_id: d.action_id,
          attempts: d.attempts,
          failed_reason: d.failed_reason,
          failed_at: d.failed_at,
        })),
        total: page.total,
      };
    },
    replay: (tenantId, jobId, actor) => dlq.replay(jobId, actor, { tenantId }),
    discard: (tenantId, jobId, actor, reason) => dlq.discard(jobId, actor, { tenantId, reason }),
  };
}

export type ConsoleApi = ReturnType<typeof buildConsoleApi>;
