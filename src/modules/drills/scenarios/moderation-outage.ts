import { MODERATION_FALLBACK_LOCAL } from '../../../platform/flags/flag-provider.ts';
import type { CheckResult, DrillContext, DrillScenario } from '../drill-types.ts';
import { chaosSwitchedOff, faultStillInPlace, metricValue, scrapeMetrics } from './scenario-support.ts';

// The moderation service stops answering. The gateway fails closed (ADR 0007): every
// proposal that needs moderation goes to review with reason moderation_unavailable, the
// breaker opens, and the review queue grows by the proposal rate. The outage is the outside
// world: the learner cannot turn it off. The runbook's way out is the documented fallback
// (moderation.fallback-local, ADR 0029), then reviewers working off what piled up.

const CHAOS = 'chaos.moderation-outage';
// Breaker states as airlock_circuit_breaker_state reports them.
const CLOSED = 0;

export async function moderationBacklog(ctx: DrillContext): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM actions
      WHERE tenant_id = $1 AND status = 'pending_review'
        AND decision -> 'reasons' @> '[{"code": "moderation_unavailable"}]'`,
    [ctx.tenant.id],
  );
  return rows[0]!.n;
}

export const moderationOutage: DrillScenario = {
  name: 'moderation-outage',
  symptom:
    'Every proposal goes to human review with reason moderation_unavailable, even harmless notes; the review queue grows.',
  alert: 'AirlockCircuitBreakerOpen',
  // The breaker opens within seconds; the rule wants it open across 2 minutes for 3 more.
  fireWithinSeconds: 240,
  runbook: 'runbooks/AirlockCircuitBreakerOpen.md',
  mitigation:
    'Switch moderation to the local fallback (flags set moderation.fallback-local on), then decide every moderation_unavailable review the outage left.',

  async inject(ctx) {
    // Global: the moderation service is one dependency shared by every tenant.
    await ctx.setFlag(CHAOS, true);
    await ctx.record(
      'fault.detail',
      'The moderation service stops answering; every call runs out of its budget.',
      {
        flag: CHAOS,
      },
    );
  },

  async mitigationObserved(ctx) {
    return (await ctx.isFlagOn(MODERATION_FALLBACK_LOCAL))
      ? `${MODERATION_FALLBACK_LOCAL} was turned on: proposals are moderated locally again`
      : null;
  },

  async verifyMitigated(ctx) {
    const results: CheckResult[] = [await faultStillInPlace(ctx, CHAOS)];
    const fallback = await ctx.isFlagOn(MODERATION_FALLBACK_LOCAL);
    results.push({
      name: 'fallback in place',
      passed: fallback,
      detail: fallback
        ? `${MODERATION_FALLBACK_LOCAL} is on: proposals are moderated by the local classifier`
        : `${MODERATION_FALLBACK_LOCAL} is off: proposals still depend on the failed service`,
    });
    let breaker: number | undefined;
    try {
      breaker = metricValue(await scrapeMetrics(ctx), 'airlock_circuit_breaker_state', {
        dependency: 'moderation',
      });
    } catch (err) {
      ctx.log.debug({ err }, 'metrics scrape failed');
    }
    results.push({
      name: 'breaker closed',
      passed: breaker === CLOSED,
      detail:
        breaker === undefined
          ? 'the breaker state could not be read from the service /metrics'
          : breaker === CLOSED
            ? 'the moderation breaker is closed'
            : `the moderation breaker is ${breaker === 2 ? 'open' : 'half-open'} (state ${breaker})`,
    });
    const backlog = await moderationBacklog(ctx);
    results.push({
      name: 'review backlog drained',
      passed: backlog === 0,
      detail:
        backlog === 0
          ? 'no proposal of the drill tenant waits in review for moderation_unavailable'
          : `${backlog} proposal(s) still wait in review with moderation_unavailable`,
    });
    return results;
  },

  wrongActions: (ctx) => chaosSwitchedOff(ctx, CHAOS),

  async cleanup(ctx) {
    // The fallback is an incident measure (ADR 0029): normal operation calls the service.
    if (await ctx.isFlagOn(CHAOS)) await ctx.setFlag(CHAOS, false);
    if (await ctx.isFlagOn(MODERATION_FALLBACK_LOCAL)) await ctx.setFlag(MODERATION_FALLBACK_LOCAL, false);
  },
};
