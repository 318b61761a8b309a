import { describe, expect, it } from 'vitest';
import { cacheStampede, measureHitRatio } from '../../src/modules/drills/scenarios/cache-stampede.ts';
import { failing, useDrillHarness } from '../helpers/drill-harness.ts';
import { waitFor } from '../helpers/test-env.ts';

// cache-stampede end to end: a configuration rollout turns the read cache off for the drill
// tenant; the hit ratio collapses and AirlockCacheHitRatioLow fires from the shipped rule.
// Nothing fails, so only rolling the configuration back through the CLI passes the check.
describe('drill cache-stampede', () => {
  const drill = useDrillHarness({ scenario: cacheStampede.name, perSecond: 6 });

  it('when the read cache is rolled off for the tenant, then the hit ratio collapses and the alert fires; rolling the configuration back recovers it', async () => {
    await waitFor(async () => drill.traffic().read >= 3, {
      timeoutMs: 20_000,
      what: 'background reads to flow',
    });
    const before = await measureHitRatio(drill.ctx);
    expect(before.lookups).toBeGreaterThanOrEqual(3);
    expect(before.ratio).toBeGreaterThanOrEqual(0.5);
    expect(failing(await drill.verify(cacheStampede))).toEqual([]);

    const injectedAt = Date.now();
    await cacheStampede.inject(drill.ctx);
    // The SLI: reads still answer, but none of them from the cache.
    await waitFor(async () => (await measureHitRatio(drill.ctx, 2_000)).ratio < 0.2, {
      timeoutMs: 20_000,
      what: 'the hit ratio to collapse',
    });
    await drill.waitForAlert(cacheStampede.alert, 60_000);
    const firedAfterMs = Date.now() - injectedAt;
    // The timeline's time to mitigate: nothing to see before the operator acts.
    expect(await drill.mitigationSeen(cacheStampede)).toBeNull();
    expect(drill.traffic().serverErrors).toBe(0);
    // Skipping the rollback: nothing recovers by itself.
    expect(failing(await drill.verify(cacheStampede)).map((f) => f.split(':')[0])).toEqual([
      'configuration rolled back',
      'hit ratio recovered',
    ]);

    const mitigationStarted = Date.now();
    const rollback = await drill.cli(
      'flags',
      'set',
      'cache.action-reads',
      'on',
      '--tenant',
      drill.ctx.tenant.slug,
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    await waitFor(async () => failing(await drill.verify(cacheStampede)).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the hit ratio to recover',
    });
    const mitigatedAfterMs = Date.now() - mitigationStarted;
    expect(await drill.mitigationSeen(cacheStampede)).toEqual(expect.any(String));
    await drill.waitForAlertResolved(cacheStampede.alert, 60_000);
    console.info(
      `cache-stampede: ${cacheStampede.alert} fired ${(firedAfterMs / 1000).toFixed(1)} s after inject; mitigated ${(mitigatedAfterMs / 1000).toFixed(1)} s after the rollback started`,
    );

    await cacheStampede.cleanup(drill.ctx);
    await cacheStampede.cleanup(drill.ctx);
    expect(await drill.ctx.isFlagOn('cache.action-reads', drill.ctx.tenant.id)).toBe(true);
  }, 180_000);
});
