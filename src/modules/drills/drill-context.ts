import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.ts';
import type { Pool } from '../../platform/db.ts';
import type { FlagProvider } from '../../platform/flags/flag-provider.ts';
import type { Logger } from '../../platform/logger.ts';
import type { FlagsService } from '../flags/flags.service.ts';
import { findTenantBySlug } from '../tenants/tenants.repository.ts';
import type { DrillContext } from './drill-types.ts';
import { appendEvent, listEvents, type Drill } from './drills.repository.ts';

export interface DrillContextDeps {
  pool: Pool;
  redis: Redis;
  config: Config;
  flags: Pick<FlagProvider, 'isEnabled' | 'refresh'>;
  flagsService: Pick<FlagsService, 'set'>;
  logger: Logger;
}

// Flag changes the drill makes are audited as this actor; any other actor is a person.
export const DRILL_ACTOR = 'drill';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// What a scenario may touch, for one call, in whichever process makes it (the runner for
// inject, the CLI for checks and cleanup). Everything it records goes to Postgres at once.
export function buildDrillContext(deps: DrillContextDeps, drill: Drill, signal: AbortSignal): DrillContext {
  if (!drill.tenantId) throw new Error(`drill ${drill.id} has no tenant yet`);
  const log = deps.logger.child({ drill_id: drill.id, scenario: drill.scenario });

  // A tenant by id or slug, as a scenario has either at hand.
  async function tenantIdOf(tenant: string | undefined): Promise<string | undefined> {
    if (tenant === undefined || UUID.test(tenant)) return tenant;
    const found = await findTenantBySlug(deps.pool, tenant);
    if (!found) throw new Error(`no tenant named "${tenant}"`);
    return found.id;
  }

  async function record(kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
    if (!(await appendEvent(deps.pool, drill.id, { kind, message, data })))
      log.warn({ kind }, 'the drill timeline is full; entry not recorded');
  }

  return {
    drillId: drill.id,
    scenario: drill.scenario,
    startedAt: drill.startedAt,
    pool: deps.pool,
    redis: deps.redis,
    config: deps.config,
    databaseUrl: deps.config.databaseUrl,
    redisUrl: deps.config.redisUrl,
    targetUrl: deps.config.drill.targetUrl,
    tenant: { slug: drill.tenantSlug, id: drill.tenantId },
    async setFlag(name, on, tenant) {
      const tenantId = await tenantIdOf(tenant);
      await deps.flagsService.set(name, on, DRILL_ACTOR, tenantId);
      // The record of what the drill turned on tells a fault flag from a person's flip.
      await record(
        'fault.flag',
        `The drill turned ${name} ${on ? 'on' : 'off'}${tenant ? ` for ${tenant}` : ''}.`,
        {
          flag: name,
          on,
          tenant_id: tenantId ?? null,
        },
      );
    },
    async isFlagOn(name, tenant) {
      const tenantId = await tenantIdOf(tenant);
      await deps.flags.refresh();
      return deps.flags.isEnabled(name, tenantId ? { tenantId } : undefined);
    },
    record,
    timeline: () => listEvents(deps.pool, drill.id),
    log,
    signal,
  };
}
