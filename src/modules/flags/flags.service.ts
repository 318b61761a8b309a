import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import {
  assertValidFlagName,
  type FlagProvider,
  type FlagState,
} from '../../platform/flags/flag-provider.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Logger } from '../../platform/logger.ts';

// The operator's side of flags. A tenant-scoped flip is recorded in that tenant's audit
// chain; a global flip belongs to no tenant's chain and is logged instead. The record is a
// second transaction, because the flag itself may live in Unleash: a crash between the two
// loses the record, never the flip.
export function createFlagsService(deps: { flags: FlagProvider; pool: Pool; logger: Logger }) {
  async function set(name: string, enabled: boolean, actor: string, tenantId?: string): Promise<void> {
    assertValidFlagName(name);
    await deps.flags.set(name, enabled, tenantId ? { tenantId } : undefined);
    if (tenantId) {
      await withTransaction(deps.pool, (tx) =>
        appendAuditEvent(tx, {
          tenantId,
          actionId: null,
          type: 'flag.changed',
          actor,
          data: { flag: name, enabled, provider: deps.flags.kind },
        }),
      );
    }
    deps.logger.info({ flag: name, enabled, tenant_id: tenantId ?? null, actor }, 'flag changed');
  }

  // Drops the tenant's own value: the global value applies to that tenant again.
  async function clear(name: string, actor: string, tenantId: string): Promise<void> {
    assertValidFlagName(name);
    await deps.flags.unset(name, { tenantId });
    await withTransaction(deps.pool, (tx) =>
      appendAuditEvent(tx, {
        tenantId,
        actionId: null,
        type: 'flag.cleared',
        actor,
        data: { flag: name, provider: deps.flags.kind },
      }),
    );
    deps.logger.info({ flag: name, tenant_id: tenantId, actor }, 'flag override cleared');
  }

  const list = (): Promise<FlagState[]> => deps.flags.list();

  return { set, clear, list, kind: deps.flags.kind };
}

export type FlagsService = ReturnType<typeof createFlagsService>;
