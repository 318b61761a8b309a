import type { Queue } from 'bullmq';
import type { Pool } from '../../platform/db.ts';
import { ForbiddenError, NotFoundError } from '../../platform/errors.ts';
import { contractFlagNames, type FlagProvider } from '../../platform/flags/flag-provider.ts';
import type { Principal } from '../auth/auth.repository.ts';
import type { DiscardResult, ReplayResult } from '../dlq/dlq.service.ts';
import type { FlagsService } from '../flags/flags.service.ts';
import type { ExecuteJobPayload } from '../execution/execution.jobs.ts';
import { readTenantBacklog, readTrafficByTool, type TrafficCounts } from './ops.repository.ts';

export const REVIEW_SLO_SECONDS = 15 * 60;
const BLAST_WINDOW_MINUTES = 60;
const QUEUE_COUNT_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

export interface BreakerView {
  dependency: string;
  state: 'closed' | 'open' | 'half_open';
}

export interface OpsOverview {
  generated_at: string;
  // Service-wide: the execution queue and the worker are shared by every tenant.
  queue: Record<(typeof QUEUE_COUNT_STATES)[number], number> & { oldest_waiting_age_seconds: number };
  outbox: { pending: number; oldest_age_seconds: number };
  breakers: BreakerView[];
  // The tenant's own share.
  reviews: { pending: number; oldest_age_seconds: number; slo_seconds: number };
  flags_provider: 'local' | 'unleash';
}

export interface BlastRadius {
  tenant: string;
  tools: string[];
  window_minutes: number;
  proposals: number;
  allowed: number;
  in_flight: number;
  pending_review: number;
  // One sentence per direction, for the console's confirmation and the CLI alike.
  if_enabled: string;
  if_disabled: string;
}

export interface TenantDeadLetter {
  job_id: string;
  action_id: string;
  attempts: number;
  failed_reason: string;
  failed_at: string | null;
}

// The dead-letter service as the ops API needs it: one tenant's letters only. The wiring
// adapts the service the CLI uses (src/wiring/console.ts); a letter of another tenant is
// reported as missing.
export interface TenantDeadLetters {
  list(tenantId: string, limit: number): Promise<{ items: TenantDeadLetter[]; total: number }>;
  replay(tenantId: string, jobId: string, actor: string): Promise<ReplayResult>;
  discard(tenantId: string, jobId: string, actor: string, reason?: string): Promise<DiscardResult>;
}

export interface FlagView {
  name: string;
  kind: 'kill_switch' | 'rollout_gate';
  description: string;
  effective: boolean;
  tenant_value: boolean | null;
  global_value: boolean;
  blast_radius: BlastRadius;
}

// What the operations page reads and changes. Every change goes through the same services
// as the CLI (flags, dead letters). A tenant admin may change only its own tenant's values,
// and only towards safety: "off" for a kill switch and "on" for the rollout gate drop the
// tenant's override instead of writing one, so a tenant can never exempt itself from a
// global brake an operator has pulled.
export function createOpsService(deps: {
  pool: Pool;
  queue: Pick<Queue<ExecuteJobPayload>, 'getJobCounts' | 'getJobs'>;
  breakers: () => BreakerView[];
  flags: Pick<FlagProvider, 'isEnabled' | 'list' | 'kind'>;
  flagsService: Pick<FlagsService, 'set' | 'clear'>;
  deadLetters: TenantDeadLetters;
  toolNames: () => readonly string[];
}) {
  const tenantFlags = () => contractFlagNames(deps.toolNames());

  async function overview(principal: Principal): Promise<OpsOverview> {
    const [counts, oldest, backlog, globalOutbox] = await Promise.all([
      deps.queue.getJobCounts(...QUEUE_COUNT_STATES),
      deps.queue.getJobs(['wait'], 0, 0, true),
      readTenantBacklog(deps.pool, principal.tenantId),
      deps.pool.query<{ pending: number; age: number | null }>(
        `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS age
           FROM outbox WHERE published_at IS NULL`,
      ),
    ]);
    const queue = Object.fromEntries(
      QUEUE_COUNT_STATES.map((s) => [s, counts[s] ?? 0]),
    ) as OpsOverview['queue'];
    queue.oldest_waiting_age_seconds = oldest[0] ? Math.max(0, (Date.now() - oldest[0].timestamp) / 1000) : 0;
    const outboxRow = globalOutbox.rows[0];
    return {
      generated_at: new Date().toISOString(),
      queue,
      outbox: { pending: outboxRow?.pending ?? 0, oldest_age_seconds: round(outboxRow?.age ?? 0) },
      breakers: deps.breakers(),
      reviews: {
        pending: backlog.pendingReviews,
        oldest_age_seconds: round(backlog.oldestReviewAgeSeconds),
        slo_seconds: REVIEW_SLO_SECONDS,
      },
      flags_provider: deps.flags.kind,
    };
  }

  function flagView(
    principal: Principal,
    name: string,
    tenantValues: Map<string, boolean> | null,
    byTool: Map<string, TrafficCounts>,
  ): FlagView {
    const tool = name.startsWith('kill-switch.') && name !== 'kill-switch.all' ? name.slice(12) : null;
    const traffic = tool ? (byTool.get(tool) ?? NO_TRAFFIC) : sumTraffic(byTool);
    const tenant = principal.tenantSlug;
    const what = tool ? `${tool} proposal` : 'proposal';
    const recent = `${traffic.proposals} ${what}${traffic.proposals === 1 ? '' : 's'} in the last ${BLAST_WINDOW_MINUTES} min`;
    const kind: FlagView['kind'] = name === 'auto-approve' ? 'rollout_gate' : 'kill_switch';
    const globalValue = deps.flags.isEnabled(name);
    const blast: BlastRadius = {
      tenant,
      tools: tool ? [tool] : [...deps.toolNames()],
      window_minutes: BLAST_WINDOW_MINUTES,
      proposals: traffic.proposals,
      allowed: traffic.allowed,
      in_flight: traffic.inFlight,
      pending_review: traffic.pendingReview,
      if_enabled:
        kind === 'kill_switch'
          ? `Every new ${what} of tenant ${tenant} is denied (kill_switch): ${recent}. ` +
            `${traffic.inFlight} queued or running action(s) fail at execution and go to the dead-letter queue, ` +
            `and ${traffic.pendingReview} pending review(s) fail if approved. Other tenants are not affected.`
          : `Auto-approval resumes for tenant ${tenant}: allowed proposals run without a reviewer ` +
            `(${traffic.allowed} of ${recent} were allowed).`,
      if_disabled:
        kind === 'kill_switch'
          ? `Tenant ${tenant} follows the global value again` +
            (globalValue
              ? ', which is ON: only an operator can lift it (CLI).'
              : ': new proposals are decided as usual.')
          : `Every allowed proposal of tenant ${tenant} waits for a reviewer (rollout_gate): ` +
            `${traffic.allowed} of ${recent} would have. ${traffic.pendingReview} review(s) already pending.`,
    };
    return {
      name,
      kind,
      description:
        kind === 'rollout_gate'
          ? 'The staged-rollout gate: when off, every allow becomes review.'
          : tool
            ? `Denies every new ${tool} proposal and stops queued ${tool} work.`
            : 'Denies every new proposal and stops queued work, for every tool.',
      effective: deps.flags.isEnabled(name, { tenantId: principal.tenantId }),
      tenant_value: tenantValues ? (tenantValues.get(name) ?? null) : null,
      global_value: globalValue,
      blast_radius: blast,
    } satisfies FlagView;
  }

  async function tenantValuesOf(principal: Principal): Promise<Map<string, boolean> | null> {
    const states = await deps.flags.list().catch(() => null);
    if (!states) return null;
    return new Map(states.filter((s) => s.scope === principal.tenantId).map((s) => [s.name, s.enabled]));
  }

  async function listFlags(principal: Principal): Promise<{ provider: string; items: FlagView[] }> {
    const [values, byTool] = await Promise.all([tenantValuesOf(principal), trafficOf(principal)]);
    return {
      provider: deps.flags.kind,
      items: tenantFlags().map((name) => flagView(principal, name, values, byTool)),
    };
  }

  const trafficOf = (principal: Principal) =>
    readTrafficByTool(deps.pool, principal.tenantId, BLAST_WINDOW_MINUTES);

  function assertTenantFlag(name: string): void {
    if (name.startsWith('chaos.')) {
      throw new ForbiddenError('operator_only', 'Chaos flags are an operator action: use the CLI.');
    }
    if (!tenantFlags().includes(name)) throw new NotFoundError('flag');
  }

  async function setFlag(principal: Principal, name: string, enabled: boolean): Promise<FlagView> {
    assertTenantFlag(name);
    const actor = `key:${principal.keyId}`;
    // Only the stricter direction writes a tenant value; the other drops it.
    const strict = name === 'auto-approve' ? !enabled : enabled;
    if (strict) await deps.flagsService.set(name, enabled, actor, principal.tenantId);
    else await deps.flagsService.clear(name, actor, principal.tenantId);
    const [values, byTool] = await Promise.all([tenantValuesOf(principal), trafficOf(principal)]);
    return flagView(principal, name, values, byTool);
  }

  const listDeadLetters = (principal: Principal, limit: number) =>
    deps.deadLetters.list(principal.tenantId, limit);

  const replayDeadLetter = (principal: Principal, jobId: string): Promise<ReplayResult> =>
    deps.deadLetters.replay(principal.tenantId, jobId, `key:${principal.keyId}`);

  const discardDeadLetter = (principal: Principal, jobId: string, reason?: string): Promise<DiscardResult> =>
    deps.deadLetters.discard(principal.tenantId, jobId, `key:${principal.keyId}`, reason);

  return { overview, listFlags, setFlag, listDeadLetters, replayDeadLetter, discardDeadLetter };
}

const round = (seconds: number) => Math.round(seconds * 10) / 10;

const NO_TRAFFIC: TrafficCounts = { proposals: 0, allowed: 0, inFlight: 0, pendingReview: 0 };

function sumTraffic(byTool: Map<string, TrafficCounts>): TrafficCounts {
  const total = { ...NO_TRAFFIC };
  for (const t of byTool.values()) {
    total.proposals += t.proposals;
    total.allowed += t.allowed;
    total.inFlight += t.inFlight;
    total.pendingReview += t.pendingReview;
  }
  return total;
}

export type OpsService = ReturnType<typeof createOpsService>;
