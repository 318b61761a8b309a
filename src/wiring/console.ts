import type { Config } from '../platform/config.ts';
import type { Queue } from 'bullmq';
import { NotFoundError } from '../platform/errors.ts';
import type { DlqService } from '../modules/dlq/dlq.service.ts';
import type { ExecuteJobPayload } from '../modules/execution/execution.jobs.ts';
import type { TenantDeadLetters } from '../modules/ops/ops.service.ts';
import type { FlagsService } from '../modules/flags/flags.service.ts';
import type { ModerationClient } from '../modules/moderation/moderation-client.ts';
import { createOpsService } from '../modules/ops/ops.service.ts';
import { createActionDetailsService } from '../modules/action-details/action-details.service.ts';
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
      deadLetters: tenantDeadLetters(deps.dlq, infra.queue),
      toolNames: () => deps.catalogue.tools.names(),
    }),
    details: createActionDetailsService({
      pool: infra.pool,
      traceUrlTemplate: deps.config.telemetry.traceUiUrl,
    }),
  };
}

// The dead-letter service lists every tenant's letters (the CLI is an operator's tool); the
// console shows a tenant admin its own, and another tenant's job is not found.
function tenantDeadLetters(
  dlq: Pick<DlqService, 'list' | 'replay'>,
  queue: Pick<Queue<ExecuteJobPayload>, 'getJob'>,
): TenantDeadLetters {
  return {
    async list(tenantId, limit) {
      const mine = (await dlq.list(1_000)).filter((d) => d.tenant_id === tenantId);
      return {
        items: mine.slice(0, limit).map(({ tenant_id: _tenant, ...letter }) => letter),
        total: mine.length,
      };
    },
    async replay(tenantId, jobId, actor) {
      const job = await queue.getJob(jobId);
      if (!job?.data || job.data.tenant_id !== tenantId) throw new NotFoundError('dead letter');
      return dlq.replay(jobId, actor);
    },
  };
}

export type ConsoleApi = ReturnType<typeof buildConsoleApi>;
