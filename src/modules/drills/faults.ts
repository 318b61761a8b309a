import type { Pool, PoolClient } from '../../platform/db.ts';
import { TransientToolError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';

// The drills' faults that live in the service's own code, each behind a chaos flag
// (CHAOS_FLAGS in src/platform/flags/flag-provider.ts) and each scoped to the tenants the
// flag is on for. They model the outside world or a bad build; none of them is ever the
// thing an operator turns off to mitigate.

// chaos.retry-storm: the tools' downstream dependency throttles. Like a rate-limited API
// answering 429 with Retry-After, it refuses every call for an action made within windowMs
// of that action's first call. Retries that wait get through; retries that follow each
// other at once all land inside the window and exhaust the action's attempts.
// 250 ms: five immediate attempts fit in it; backed-off attempts (WORKER_BACKOFF_BASE_MS 500,
// full jitter) all land inside it with a probability of about 4 in 100,000.
export const THROTTLE_WINDOW_MS = 250;

export function createDependencyThrottle(deps: {
  active(tenantId: string): boolean;
  windowMs?: number;
  // Bounds the memory of first calls; the oldest are forgotten first.
  maxTracked?: number;
  now?: () => number;
}) {
  const windowMs = deps.windowMs ?? THROTTLE_WINDOW_MS;
  const maxTracked = deps.maxTracked ?? 10_000;
  const now = deps.now ?? Date.now;
  const firstCall = new Map<string, number>();

  return (action: { id: string; tenantId: string }): void => {
    if (!deps.active(action.tenantId)) return;
    const at = now();
    let first = firstCall.get(action.id);
    if (first === undefined) {
      first = at;
      firstCall.set(action.id, at);
      if (firstCall.size > maxTracked) firstCall.delete(firstCall.keys().next().value!);
    }
    if (at - first < windowMs) {
      throw new TransientToolError(
        'dependency_throttled',
        `The tool's dependency refused the call: retry after ${windowMs} ms.`,
      );
    }
  };
}

// chaos.pool-exhaustion: a bad build opens a transaction on the tenant's action reads and
// never finishes it, so the client never goes back to the pool: the session sits "idle in
// transaction" in pg_stat_activity until Postgres ends it (idle_in_transaction_session_timeout,
// pg_terminate_backend) or the process exits. At most one leak per intervalMs (500 ms), so the pool
// drains over seconds, as a real leak does, rather than at once.
export const LEAKED_QUERY = 'SELECT count(*) FROM actions WHERE tenant_id = $1';

export function createClientLeak(deps: {
  pool: Pool;
  active(tenantId: string): boolean;
  logger: Logger;
  intervalMs?: number;
  now?: () => number;
}) {
  const intervalMs = deps.intervalMs ?? 500;
  const now = deps.now ?? Date.now;
  let last = Number.NEGATIVE_INFINITY;

  return async (tenantId: string): Promise<void> => {
    if (!deps.active(tenantId) || now() - last < intervalMs) return;
    last = now();
    let client: PoolClient;
    // Like any caller, the leaking code waits for a client when the pool is full, and takes
    // the next one freed: a leak keeps a pool full, it does not stop at full.
    try {
      client = await deps.pool.connect();
    } catch {
      return;
    }
    // When Postgres ends the session, the client is released with the error, so the pool
    // drops it and opens a fresh connection in its place: the only way a leak heals.
    let released = false;
    const release = (err: Error) => {
      if (released) return;
      released = true;
      client.release(err);
    };
    client.on('error', release);
    try {
      await client.query('BEGIN');
      await client.query(LEAKED_QUERY, [tenantId]);
      deps.logger.debug({ tenant_id: tenantId }, 'chaos: leaked a Postgres client idle in transaction');
    } catch (err) {
      release(err as Error);
    }
  };
}
