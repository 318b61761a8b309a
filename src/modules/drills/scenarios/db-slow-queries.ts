import pg from 'pg';
import type { CheckResult, DrillContext, DrillScenario } from '../drill-types.ts';

// A rogue transaction, dressed as a forgotten backfill job, takes a row lock on the drill
// tenant and sits idle in transaction. Every proposal of that tenant writes rows that
// reference the tenant, so each one waits on the lock until its statement times out while
// holding a pool connection; the pool drains and the API answers 5xx. Nothing is wrong
// with the pool or with Postgres itself: the fix is to find the one blocker and end it.

const MITIGATION_KIND = 'mitigation.blocker_terminated';
// Postgres's code for "terminating connection due to administrator command".
const ADMIN_SHUTDOWN = '57P01';

// The tag the rogue backend carries in pg_stat_activity: how cleanup finds it from any
// process, and how the check tells this drill's blocker from anything else.
export const rogueApplicationName = (drillId: string): string => `airlock-backfill-${drillId.slice(0, 8)}`;

async function rogueBackends(ctx: DrillContext): Promise<number[]> {
  const { rows } = await ctx.pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [rogueApplicationName(ctx.drillId)],
  );
  return rows.map((row) => row.pid);
}

export const dbSlowQueries: DrillScenario = {
  name: 'db-slow-queries',
  symptom: 'Proposals hang for seconds and then fail with 5xx; reads of existing actions still work.',
  alert: 'AirlockAvailabilityBudgetBurnFast',
  // Measured with Prometheus at the shipped 15 s scrape and 30 s evaluation: 99 and 106 s.
  fireWithinSeconds: 120,
  runbook: 'runbooks/AirlockAvailabilityBudgetBurnFast.md',
  mitigation:
    'Find the backend blocking the writes (pg_blocking_pids in pg_stat_activity) and end it with pg_terminate_backend.',

  async inject(ctx) {
    // Its own connection, outside every pool, with no timeout to end the transaction for us.
    const rogue = new pg.Client({
      connectionString: ctx.databaseUrl,
      application_name: rogueApplicationName(ctx.drillId),
      statement_timeout: 0,
      idle_in_transaction_session_timeout: 0,
    });
    let terminated = false;
    rogue.on('error', (err: Error & { code?: string }) => {
      // Ending the drill closes the connection from this side first: only an operator (or
      // a Postgres restart, which wrongActions reports) terminates it from the server.
      // The closed socket that follows a termination is no news.
      if (ctx.signal.aborted || terminated) return;
      terminated = err.code === ADMIN_SHUTDOWN;
      if (!terminated) {
        ctx.log.warn({ err }, 'the rogue transaction lost its connection');
        return;
      }
      void ctx
        .record(MITIGATION_KIND, 'The backend holding the lock was terminated by an operator.', {
          application_name: rogueApplicationName(ctx.drillId),
        })
        .catch((recordErr: unknown) => ctx.log.error({ err: recordErr }, 'could not record the mitigation'));
    });
    await rogue.connect();
    ctx.signal.addEventListener('abort', () => void rogue.end().catch(() => undefined), { once: true });
    const { pid } = (await rogue.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
    await rogue.query('BEGIN');
    await rogue.query('SELECT id FROM tenants WHERE id = $1 FOR UPDATE /* backfill: recount actions */', [
      ctx.tenant.id,
    ]);
    await ctx.record('fault.detail', 'A transaction holds a row lock on the drill tenant and stays idle.', {
      application_name: rogueApplicationName(ctx.drillId),
      pid,
    });
  },

  async verifyMitigated(ctx) {
    const results: CheckResult[] = [];
    const remaining = await rogueBackends(ctx);
    results.push({
      name: 'blocker gone',
      passed: remaining.length === 0,
      detail: remaining.length
        ? `the blocking backend still runs (pid ${remaining.join(', ')})`
        : 'no backend of the rogue job is left in pg_stat_activity',
    });
    const terminated = (await ctx.timeline()).find((entry) => entry.kind === MITIGATION_KIND);
    results.push({
      name: 'blocker terminated by an operator',
      passed: terminated !== undefined,
      detail: terminated
        ? `terminated at ${terminated.at}`
        : 'the rogue transaction was not terminated from Postgres (pg_terminate_backend)',
    });
    results.push(await writePathProbe(ctx));
    return results;
  },

  async wrongActions(ctx) {
    const { rows } = await ctx.pool.query<{ started: Date }>('SELECT pg_postmaster_start_time() AS started');
    return rows[0]!.started > ctx.startedAt
      ? ['Postgres was restarted: that drops every connection to end one blocking transaction.']
      : [];
  },

  async cleanup(ctx) {
    await ctx.pool.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [rogueApplicationName(ctx.drillId)],
    );
  },
};

// What a proposal's write needs: a key-share lock on its tenant row, without waiting long.
async function writePathProbe(ctx: DrillContext): Promise<CheckResult> {
  const client = await ctx.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL lock_timeout = '1s'");
    await client.query('SELECT 1 FROM tenants WHERE id = $1 FOR KEY SHARE', [ctx.tenant.id]);
    return {
      name: 'write path unblocked',
      passed: true,
      detail: 'a write lock on the tenant is granted at once',
    };
  } catch (err) {
    return {
      name: 'write path unblocked',
      passed: false,
      detail: `a write still waits: ${(err as Error).message}`,
    };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
