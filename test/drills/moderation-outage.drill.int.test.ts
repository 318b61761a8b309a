import { describe, expect, it } from 'vitest';
import { metricValue } from '../../src/modules/drills/scenarios/scenario-support.ts';
import { moderationBacklog, moderationOutage } from '../../src/modules/drills/scenarios/moderation-outage.ts';
import { failing, useDrillHarness } from '../helpers/drill-harness.ts';
import { waitFor } from '../helpers/test-env.ts';

// moderation-outage end to end: the moderation service stops answering; proposals fail
// closed to review, the breaker opens and AirlockCircuitBreakerOpen fires from the shipped
// rule. Turning the chaos flag off does not pass; the documented fallback through the CLI
// closes the breaker, and reviewers deciding the backlog completes the mitigation.
describe('drill moderation-outage', () => {
  const drill = useDrillHarness({
    scenario: moderationOutage.name,
    serviceEnv: { MODERATION_BREAKER_VOLUME: '3', MODERATION_BREAKER_RESET_MS: '1000' },
  });
  const breaker = async () =>
    metricValue(await drill.metrics(), 'airlock_circuit_breaker_state', { dependency: 'moderation' });
  const pendingModerationReviews = async () =>
    (
      await drill.ctx.pool.query<{ id: string }>(
        `SELECT id FROM actions WHERE tenant_id = $1 AND status = 'pending_review'
            AND decision -> 'reasons' @> '[{"code": "moderation_unavailable"}]'`,
        [drill.ctx.tenant.id],
      )
    ).rows.map((r) => r.id);

  it('when the moderation service stops answering, then proposals go to review, the breaker opens and the alert fires; the fallback and a drained backlog mitigate', async () => {
    await waitFor(async () => drill.traffic().ok >= 5, {
      timeoutMs: 20_000,
      what: 'background traffic to flow',
    });
    expect(await breaker()).toBe(0);

    const injectedAt = Date.now();
    await moderationOutage.inject(drill.ctx);
    // The SLI: harmless notes wait for a human, and the breaker stops calling the service.
    await waitFor(async () => (await moderationBacklog(drill.ctx)) >= 3 && (await breaker()) === 2, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'proposals to fail closed and the breaker to open',
    });
    await drill.waitForAlert(moderationOutage.alert, 60_000);
    const firedAfterMs = Date.now() - injectedAt;
    // The timeline's time to mitigate: nothing to see before the operator acts.
    expect(await drill.mitigationSeen(moderationOutage)).toBeNull();
    expect(failing(await drill.verify(moderationOutage)).map((f) => f.split(':')[0])).toEqual([
      'fallback in place',
      'breaker closed',
      'review backlog drained',
    ]);

    // Switching the outage off is not a mitigation: it hides the fault and is a wrong action.
    expect((await drill.cli('flags', 'set', 'chaos.moderation-outage', 'off')).code).toBe(0);
    expect(await moderationOutage.wrongActions!(drill.ctx)).toHaveLength(1);
    expect(failing(await drill.verify(moderationOutage))).toContainEqual(
      expect.stringMatching(/^fault still in place/),
    );
    expect((await drill.cli('flags', 'set', 'chaos.moderation-outage', 'on')).code).toBe(0);

    // The runbook: the documented fallback, then the reviewers work off the backlog.
    const mitigationStarted = Date.now();
    const fallback = await drill.cli('flags', 'set', 'moderation.fallback-local', 'on');
    expect(fallback.code, fallback.stderr).toBe(0);
    await waitFor(async () => (await breaker()) === 0, {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'the breaker to close on the fallback',
    });
    // The backlog stops growing once the fallback answers; decide everything in it.
    for (let round = 0; round < 5 && (await pendingModerationReviews()).length; round++) {
      for (const id of await pendingModerationReviews()) {
        const decided = await fetch(`${drill.targetUrl}/v1/reviews/${id}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${drill.reviewerKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ decision: 'approve', note: 'moderated again on the local fallback' }),
        });
        expect([200, 409]).toContain(decided.status);
      }
    }
    await waitFor(async () => failing(await drill.verify(moderationOutage)).length === 0, {
      timeoutMs: 20_000,
      intervalMs: 500,
      what: 'the mitigation to verify',
    });
    const mitigatedAfterMs = Date.now() - mitigationStarted;
    expect(await drill.mitigationSeen(moderationOutage)).toEqual(expect.any(String));
    // New proposals are moderated again: a harmless note is allowed while the service is down.
    const since = new Date();
    await waitFor(
      async () =>
        (
          await drill.ctx.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM actions WHERE tenant_id = $1 AND created_at > $2 AND status IN ('queued', 'running', 'succeeded')`,
            [drill.ctx.tenant.id, since],
          )
        ).rows[0]!.n >= 3,
      { timeoutMs: 20_000, what: 'new proposals to be allowed on the fallback' },
    );
    await drill.waitForAlertResolved(moderationOutage.alert, 60_000);
    console.info(
      `moderation-outage: ${moderationOutage.alert} fired ${(firedAfterMs / 1000).toFixed(1)} s after inject; mitigated ${(mitigatedAfterMs / 1000).toFixed(1)} s after the fallback started`,
    );

    await moderationOutage.cleanup(drill.ctx);
    await moderationOutage.cleanup(drill.ctx);
    expect(await drill.ctx.isFlagOn('chaos.moderation-outage')).toBe(false);
    expect(await drill.ctx.isFlagOn('moderation.fallback-local')).toBe(false);
  }, 180_000);
});
