import { withTransaction, type Pool } from '../db.ts';
import type { Logger } from '../logger.ts';
import { createPgListener, type PgListener } from '../pg-listener.ts';
import { defaultFor, type FlagContext, type FlagProvider, type FlagState } from './flag-provider.ts';

export const FLAGS_CHANNEL = 'airlock_flags';

interface FlagRow {
  name: string;
  scope: string;
  enabled: boolean;
}

// Postgres-backed flags. Each process keeps every row in memory and reloads it when a
// change is NOTIFYed or, at the latest, every refresh interval: a flip reaches all
// processes within that interval even if a notification is lost.
export function createLocalFlagProvider(deps: {
  pool: Pool;
  connectionString: string;
  refreshIntervalMs: number;
  logger: Logger;
  listen?: boolean;
}): FlagProvider {
  let values = new Map<string, boolean>();
  let listener: PgListener | undefined;
  let timer: NodeJS.Timeout | undefined;

  const keyOf = (name: string, scope: string) => `${name}\u0000${scope}`;

  async function refresh(): Promise<void> {
    const { rows } = await deps.pool.query<FlagRow>('SELECT name, scope, enabled FROM flags');
    values = new Map(rows.map((r) => [keyOf(r.name, r.scope), r.enabled]));
  }

  const safeRefresh = () =>
    refresh().catch((err: Error) =>
      deps.logger.warn({ err: { message: err.message } }, 'flag refresh failed; keeping last values'),
    );

  if (deps.listen !== false) {
    listener = createPgListener({
      connectionString: deps.connectionString,
      channels: [FLAGS_CHANNEL],
      onNotify: () => void safeRefresh(),
      logger: deps.logger,
    });
    timer = setInterval(() => void safeRefresh(), deps.refreshIntervalMs);
    timer.unref();
  }

  return {
    kind: 'local',
    isEnabled(name: string, context: FlagContext = {}): boolean {
      if (context.tenantId) {
        const scoped = values.get(keyOf(name, context.tenantId));
        if (scoped !== undefined) return scoped;
      }
      return values.get(keyOf(name, '')) ?? defaultFor(name);
    },
    async set(name, enabled, scope) {
      await withTransaction(deps.pool, async (tx) => {
        await tx.query(
          `INSERT INTO flags (name, scope, enabled) VALUES ($1, $2, $3)
           ON CONFLICT (name, scope) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()`,
          [name, scope?.tenantId ?? '', enabled],
        );
        await tx.query('SELECT pg_notify($1, $2)', [FLAGS_CHANNEL, name]);
      });
      await safeRefresh();
    },
    async unset(name, scope) {
      await withTransaction(deps.pool, async (tx) => {
        await tx.query('DELETE FROM flags WHERE name = $1 AND scope = $2', [name, scope.tenantId]);
        await tx.query('SELECT pg_notify($1, $2)', [FLAGS_CHANNEL, name]);
      });
      await safeRefresh();
    },
    async list(): Promise<FlagState[]> {
      const { rows } = await deps.pool.query<FlagRow & { slug: string | null }>(
        `SELECT f.name, f.scope, f.enabled, t.slug
           FROM flags f LEFT JOIN tenants t ON f.scope <> '' AND t.id::text = f.scope
          ORDER BY f.name, f.scope`,
      );
      return rows.map((r) => ({
        name: r.name,
        enabled: r.enabled,
        scope: r.scope,
        ...(r.slug ? { tenant: r.slug } : {}),
      }));
    },
    refresh,
    async close() {
      clearInterval(timer);
      await listener?.close();
    },
  };
}
