import { LEAKED_QUERY } from '../faults.ts';
import { isMitigation, type CheckResult, type DrillContext, type DrillScenario } from '../drill-types.ts';
import {
  chaosSwitchedOff,
  faultStillInPlace,
  metricValue,
  scrapeMetrics,
  sleep,
} from './scenario-support.ts';

// A bad build leaks Postgres clients: on the drill tenant's action reads it opens a
// transaction and never finishes it (chaos.pool-exhaustion, at most two a second). Each
// leaked client sits "idle in transaction" until Postgres ends it after the pool's
// idle_in_transaction_session_timeout (2 x DB_STATEMENT_TIMEOUT_MS, 10 s by default), so the
// leak holds up to twenty clients at once: more than DB_POOL_MAX=10. Requests then queue for a
// client, time out, and answer 5xx. The bad build stays until a rollback ships; the
// on-call mitigation is headroom: raise DB_POOL_MAX above what the leak holds and restart,
// ending the leaked sessions (pg_terminate_backend) to get the pool back at once.

const CHAOS = 'chaos.pool-exhaustion';
const SATURATED = 0.9;
const SAMPLES = 3;
const SAMPLE_EVERY_MS = 1_000;

interface PoolSample {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

async function poolSample(ctx: DrillContext): Promise<PoolSample> {
  const text = await scrapeMetrics(ctx);
  const clients = (state: string) =>
    metricValue(text, 'airlock_db_pool_clients', { pool: 'main', state }) ?? 0;
  return {
    total: clients('total'),
    idle: clients('idle'),
    waiting: clients('waiting'),
    max: metricValue(text, 'airlock_db_pool_max', { pool: 'main' }) ?? 0,
  };
}

const mitigationSeen = async (ctx: DrillContext): Promise<boolean> =>
  (await ctx.timeline()).some(isMitigation);

export async function leakedSessions(ctx: DrillContext): Promise<number[]> {
  const { rows } = await ctx.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'idle in transaction' AND query = $1
        AND pid <> pg_backend_pid()`,
    [LEAKED_QUERY],
  );
  return rows.map((r) => r.pid);
}

export const poolExhaustion: DrillScenario = {
  name: 'pool-exhaustion',
  symptom:
    'Requests hang and then fail with 5xx; Postgres itself is idle, but the API has no free connection.',
  alert: 'AirlockDbPoolSaturated',
  // Saturated within about ten seconds of the first leaks, then the rule's 5 minutes.
  fireWithinSeconds: 360,
  runbook: 'runbooks/AirlockDbPoolSaturated.md',
  mitigation:
    'Find the sessions idle in transaction (pg_stat_activity), raise DB_POOL_MAX above what the leak holds and restart the API, and end the leaked sessions with pg_terminate_backend; then roll back the leaking build.',

  async inject(ctx) {
    await ctx.setFlag(CHAOS, true, ctx.tenant.id);
    let before: PoolSample | undefined;
    try {
      before = await poolSample(ctx);
    } catch (err) {
      ctx.log.debug({ err }, 'metrics scrape failed');
    }
    await ctx.record(
      'fault.detail',
      "A bad build leaks a Postgres client on each of the drill tenant's reads.",
      {
        flag: CHAOS,
        pool_max_before: before?.max ?? null,
      },
    );
  },

  // Headroom is the on-call action (the runbook's first step); ending the leaked sessions
  // alone does not last while the bad build keeps leaking.
  async mitigationObserved(ctx) {
    const injected = (await ctx.timeline()).find((e) => e.kind === 'fault.detail');
    const before = injected?.data?.pool_max_before;
    if (typeof before !== 'number' || before <= 0) return null;
    const now = (await poolSample(ctx)).max;
    return now > before ? `DB_POOL_MAX was raised from ${before} to ${now}` : null;
  },

  async verifyMitigated(ctx) {
    const results: CheckResult[] = [
      (await ctx.isFlagOn(CHAOS, ctx.tenant.id)) || !(await mitigationSeen(ctx))
        ? await faultStillInPlace(ctx, CHAOS, ctx.tenant.id)
        : {
            name: 'build rolled back after the headroom',
            passed: true,
            detail: `${CHAOS} is off, turned off after the headroom was in place: the leaking build is rolled back`,
          },
    ];
    // Several samples: a pool that is fine for one scrape after the leaked sessions were
    // ended, and full again ten seconds later, is not mitigated.
    const samples: PoolSample[] = [];
    try {
      for (let i = 0; i < SAMPLES && !ctx.signal.aborted; i++) {
        if (i) await sleep(SAMPLE_EVERY_MS, ctx.signal);
        samples.push(await poolSample(ctx));
      }
    } catch (err) {
      ctx.log.debug({ err }, 'metrics scrape failed');
    }
    const used = samples.map((s) => (s.max > 0 ? (s.total - s.idle) / s.max : 1));
    const worstUsed = Math.max(0, ...used);
    const worstWaiting = Math.max(0, ...samples.map((s) => s.waiting));
    const max = samples.at(-1)?.max ?? 0;
    const healthy = samples.length === SAMPLES && worstWaiting === 0 && worstUsed <= SATURATED;
    results.push({
      name: 'pool has headroom',
      passed: healthy,
      detail:
        samples.length < SAMPLES
          ? 'the pool gauges could not be read from the service /metrics'
          : `worst of ${SAMPLES} samples: ${Math.round(worstUsed * 100)}% of DB_POOL_MAX=${max} in use, ${worstWaiting} caller(s) waiting`,
    });
    return results;
  },

  // The leaking build is rolled back last (the runbook's fix); before the headroom, turning
  // it off only hides the fault.
  rollbackFlag: CHAOS,
  async wrongActions(ctx) {
    return (await mitigationSeen(ctx)) ? [] : chaosSwitchedOff(ctx, CHAOS, ctx.tenant.id);
  },

  async cleanup(ctx) {
    if (await ctx.isFlagOn(CHAOS, ctx.tenant.id)) await ctx.setFlag(CHAOS, false, ctx.tenant.id);
    // What the bad build leaked goes back to the pool once Postgres ends the sessions.
    await ctx.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'idle in transaction' AND query = $1
          AND pid <> pg_backend_pid()`,
      [LEAKED_QUERY],
    );
  },
};
