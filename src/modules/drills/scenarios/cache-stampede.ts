import { CACHE_ACTION_READS } from '../../../platform/flags/flag-provider.ts';
import type { CheckResult, DrillContext, DrillScenario } from '../drill-types.ts';
import { metricValue, scrapeMetrics, sleep } from './scenario-support.ts';

// A configuration rollout turns the read cache off for a tenant (cache.action-reads off:
// someone chasing a stale read, a rollout list with the wrong tenant in it). Nothing
// errors: every GET /v1/actions/{id} of that tenant now goes to Postgres, the cache hit
// ratio falls, Postgres does the work Redis used to, and the read p99 creeps up. The fix is
// to roll the configuration back and watch the hit ratio recover.

// The hit ratio the cache keeps under the drill's traffic (reads of recent actions, which
// were written through the cache): well above the alert's 0.5.
const RECOVERED_RATIO = 0.5;
const MEASURE_MS = 3_000;
const MIN_LOOKUPS = 3;

type CacheCounts = { hit: number; total: number };

async function cacheCounts(ctx: DrillContext): Promise<CacheCounts> {
  const text = await scrapeMetrics(ctx);
  return {
    hit: metricValue(text, 'airlock_cache_requests_total', { cache: 'action', result: 'hit' }) ?? 0,
    total: metricValue(text, 'airlock_cache_requests_total', { cache: 'action' }) ?? 0,
  };
}

// The hit ratio over a few seconds of the live traffic, from two scrapes of the counters.
export async function measureHitRatio(
  ctx: DrillContext,
  windowMs = MEASURE_MS,
): Promise<{ ratio: number; lookups: number }> {
  const before = await cacheCounts(ctx);
  await sleep(windowMs, ctx.signal);
  const after = await cacheCounts(ctx);
  const lookups = after.total - before.total;
  return { ratio: lookups > 0 ? (after.hit - before.hit) / lookups : 0, lookups };
}

export const cacheStampede: DrillScenario = {
  name: 'cache-stampede',
  symptom:
    'No errors, but reads of actions get slower and Postgres works harder; the read cache hit ratio has collapsed.',
  alert: 'AirlockCacheHitRatioLow',
  // The 5-minute ratio crosses 0.5 after about half its window, then the rule's 5 minutes.
  fireWithinSeconds: 480,
  runbook: 'runbooks/AirlockCacheHitRatioLow.md',
  mitigation:
    'Roll the cache configuration back (flags set cache.action-reads on --tenant <drill tenant>) and watch the hit ratio recover.',

  async inject(ctx) {
    await ctx.setFlag(CACHE_ACTION_READS, false, ctx.tenant.id);
    await ctx.record(
      'fault.detail',
      'A configuration rollout turned the read cache off for the drill tenant.',
      {
        flag: CACHE_ACTION_READS,
      },
    );
  },

  async mitigationObserved(ctx) {
    return (await ctx.isFlagOn(CACHE_ACTION_READS, ctx.tenant.id))
      ? `${CACHE_ACTION_READS} was turned back on for the drill tenant: the configuration is rolled back`
      : null;
  },

  async verifyMitigated(ctx) {
    const on = await ctx.isFlagOn(CACHE_ACTION_READS, ctx.tenant.id);
    const results: CheckResult[] = [
      {
        name: 'configuration rolled back',
        passed: on,
        detail: on
          ? `${CACHE_ACTION_READS} is on for the drill tenant`
          : `${CACHE_ACTION_READS} is still off for the drill tenant: its reads bypass the cache`,
      },
    ];
    let measured: { ratio: number; lookups: number } | undefined;
    try {
      measured = await measureHitRatio(ctx);
    } catch (err) {
      ctx.log.debug({ err }, 'metrics scrape failed');
    }
    const passed =
      measured !== undefined && measured.lookups >= MIN_LOOKUPS && measured.ratio >= RECOVERED_RATIO;
    results.push({
      name: 'hit ratio recovered',
      passed,
      detail:
        measured === undefined
          ? 'the cache counters could not be read from the service /metrics'
          : measured.lookups < MIN_LOOKUPS
            ? `only ${measured.lookups} cache lookup(s) in ${MEASURE_MS / 1000} s: not enough reads to measure`
            : `hit ratio ${measured.ratio.toFixed(2)} over ${measured.lookups} lookups in ${MEASURE_MS / 1000} s (recovered at ${RECOVERED_RATIO})`,
    });
    return results;
  },

  async cleanup(ctx) {
    if (!(await ctx.isFlagOn(CACHE_ACTION_READS, ctx.tenant.id)))
      await ctx.setFlag(CACHE_ACTION_READS, true, ctx.tenant.id);
  },
};
