import { RETRY_BACKOFF } from '../../../platform/flags/flag-provider.ts';
import type { CheckResult, DrillContext, DrillScenario } from '../drill-types.ts';
import { chaosSwitchedOff, faultStillInPlace } from './scenario-support.ts';

// The canary-rollback story. A retry-policy change ships to one tenant first: retries
// without backoff. The same minute, the tools' downstream dependency starts throttling
// (chaos.retry-storm: it refuses an action's calls for 250 ms after the first), which a
// backed-off retry rides out. Without backoff all five attempts land inside the window and
// the actions are dead-lettered one after another. The throttling is the outside world; the
// fix is to roll the canary back and then redrive what it dead-lettered.

const CHAOS = 'chaos.retry-storm';
// The queue-age objective the freshness SLO implies, with room for a backed-off retry.
const QUEUED_TOO_LONG_SECONDS = 30;

export const retryStorm: DrillScenario = {
  name: 'retry-storm',
  symptom: 'Notes fail in bursts: actions end failed/dead_lettered within a second of being queued.',
  alert: 'AirlockDeadLettersGrowing',
  // delta() over two scrapes that saw the store grow, then one evaluation.
  fireWithinSeconds: 90,
  runbook: 'runbooks/AirlockDeadLettersGrowing.md',
  mitigation:
    'Roll back the retry-policy canary (flags set worker.retry-backoff on --tenant <drill tenant>), then redrive its dead letters (dlq replay --all --tenant <drill tenant>).',

  async inject(ctx) {
    await ctx.setFlag(CHAOS, true, ctx.tenant.id);
    // The bad change: its canary is the drill tenant.
    await ctx.setFlag(RETRY_BACKOFF, false, ctx.tenant.id);
    await ctx.record(
      'fault.detail',
      'A retry policy without backoff is rolled out to the drill tenant while the tool dependency throttles.',
      { flags: [CHAOS, RETRY_BACKOFF] },
    );
  },

  async mitigationObserved(ctx) {
    return (await ctx.isFlagOn(RETRY_BACKOFF, ctx.tenant.id))
      ? `${RETRY_BACKOFF} was turned back on for the drill tenant: the canary is rolled back`
      : null;
  },

  async verifyMitigated(ctx) {
    const results: CheckResult[] = [await faultStillInPlace(ctx, CHAOS, ctx.tenant.id)];
    const backoff = await ctx.isFlagOn(RETRY_BACKOFF, ctx.tenant.id);
    results.push({
      name: 'retry policy rolled back',
      passed: backoff,
      detail: backoff
        ? `${RETRY_BACKOFF} is on for the drill tenant: retries back off again`
        : `${RETRY_BACKOFF} is still off for the drill tenant: every failure still retries at once`,
    });
    const { rows } = await ctx.pool.query<{ open: number; replayed: number }>(
      `SELECT count(*) FILTER (WHERE state = 'open')::int AS open,
              count(*) FILTER (WHERE state = 'replayed')::int AS replayed
         FROM dead_letters WHERE tenant_id = $1 AND failed_at >= $2`,
      [ctx.tenant.id, ctx.startedAt],
    );
    const { open, replayed } = rows[0]!;
    results.push({
      name: 'dead letters redriven',
      passed: open === 0 && replayed > 0,
      detail:
        open > 0
          ? `${open} dead letter(s) of the drill tenant are still open`
          : replayed > 0
            ? `every dead letter of the drill was replayed (${replayed})`
            : 'no dead letter of the drill was replayed',
    });
    const stuck = await queuedTooLong(ctx);
    results.push({
      name: 'queue age normal',
      passed: stuck === 0,
      detail:
        stuck === 0
          ? `no action of the drill tenant has waited over ${QUEUED_TOO_LONG_SECONDS} s to run`
          : `${stuck} action(s) of the drill tenant have waited over ${QUEUED_TOO_LONG_SECONDS} s to run`,
    });
    return results;
  },

  wrongActions: (ctx) => chaosSwitchedOff(ctx, CHAOS, ctx.tenant.id),

  async cleanup(ctx) {
    if (await ctx.isFlagOn(CHAOS, ctx.tenant.id)) await ctx.setFlag(CHAOS, false, ctx.tenant.id);
    if (!(await ctx.isFlagOn(RETRY_BACKOFF, ctx.tenant.id)))
      await ctx.setFlag(RETRY_BACKOFF, true, ctx.tenant.id);
  },
};

async function queuedTooLong(ctx: DrillContext): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM actions
      WHERE tenant_id = $1 AND status = 'queued' AND queued_at < now() - make_interval(secs => $2)`,
    [ctx.tenant.id, QUEUED_TOO_LONG_SECONDS],
  );
  return rows[0]!.n;
}
