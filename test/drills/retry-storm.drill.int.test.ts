import { describe, expect, it } from 'vitest';
import { retryStorm } from '../../src/modules/drills/scenarios/retry-storm.ts';
import { failing, useDrillHarness } from '../helpers/drill-harness.ts';
import { waitFor } from '../helpers/test-env.ts';

// retry-storm end to end: a retry policy without backoff rolled out to the drill tenant while
// the tool dependency throttles. Dead letters grow and AirlockDeadLettersGrowing fires from
// the shipped rule; turning the chaos flag off does not pass; rolling the policy back and
// redriving the dead letters through the CLI does.
describe('drill retry-storm', () => {
  const drill = useDrillHarness({
    scenario: retryStorm.name,
    // Production's backoff, so "with backoff" means what it means in production.
    serviceEnv: { WORKER_BACKOFF_BASE_MS: '500', WORKER_BACKOFF_MAX_MS: '30000' },
  });
  const deadLetters = async (state: string) =>
    (
      await drill.ctx.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM dead_letters WHERE tenant_id = $1 AND state = $2',
        [drill.ctx.tenant.id, state],
      )
    ).rows[0]!.n;

  it('when the bad retry policy meets a throttling dependency, then dead letters grow, the alert fires, and only the rollback plus a redrive mitigates', async () => {
    await waitFor(async () => drill.traffic().ok >= 5, {
      timeoutMs: 20_000,
      what: 'background traffic to flow',
    });
    expect(await deadLetters('open')).toBe(0);

    const injectedAt = Date.now();
    await retryStorm.inject(drill.ctx);
    await waitFor(async () => (await deadLetters('open')) >= 3, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'actions of the drill tenant to be dead-lettered',
    });
    const alert = await drill.waitForAlert(retryStorm.alert, 60_000);
    const firedAfterMs = Date.now() - injectedAt;
    // The timeline's time to mitigate: nothing to see before the operator acts.
    expect(await drill.mitigationSeen(retryStorm)).toBeNull();
    expect(alert.labels.queue).toBe('actions-execute');
    // Not mitigated yet: the policy is still the bad one and the dead letters are open.
    expect(failing(await drill.verify(retryStorm))).toEqual([
      expect.stringMatching(/^retry policy rolled back/),
      expect.stringMatching(/^dead letters redriven/),
    ]);

    // The wrong lever: switching the outside world off. It hides the fault and fails the check.
    expect(
      (await drill.cli('flags', 'set', 'chaos.retry-storm', 'off', '--tenant', drill.ctx.tenant.slug)).code,
    ).toBe(0);
    expect(await retryStorm.wrongActions!(drill.ctx)).toEqual([
      expect.stringMatching(/chaos\.retry-storm was turned off/),
    ]);
    expect(failing(await drill.verify(retryStorm))).toContainEqual(
      expect.stringMatching(/^fault still in place/),
    );
    expect(
      (await drill.cli('flags', 'set', 'chaos.retry-storm', 'on', '--tenant', drill.ctx.tenant.slug)).code,
    ).toBe(0);

    // The runbook's mitigation, through the CLI.
    const mitigationStarted = Date.now();
    const rollback = await drill.cli(
      'flags',
      'set',
      'worker.retry-backoff',
      'on',
      '--tenant',
      drill.ctx.tenant.slug,
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    // Whatever the bad policy dead-lettered until the flip reached the worker.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const replay = await drill.cliJson<{ replayed: number }>(
      'dlq',
      'replay',
      '--all',
      '--tenant',
      drill.ctx.tenant.slug,
    );
    expect(replay.replayed).toBeGreaterThanOrEqual(3);
    await waitFor(async () => failing(await drill.verify(retryStorm)).length === 0, {
      timeoutMs: 45_000,
      intervalMs: 1_000,
      what: `the mitigation to verify (last: ${failing(await drill.verify(retryStorm)).join('; ')})`,
    });
    const mitigatedAfterMs = Date.now() - mitigationStarted;
    expect(await drill.mitigationSeen(retryStorm)).toEqual(expect.any(String));
    // The replayed actions ran: every dead letter was replayed and none is open.
    expect(await deadLetters('open')).toBe(0);
    await drill.waitForAlertResolved(retryStorm.alert, 60_000);
    console.info(
      `retry-storm: ${retryStorm.alert} fired ${(firedAfterMs / 1000).toFixed(1)} s after inject; mitigated ${(mitigatedAfterMs / 1000).toFixed(1)} s after the rollback started`,
    );

    await retryStorm.cleanup(drill.ctx);
    await retryStorm.cleanup(drill.ctx);
    expect(await drill.ctx.isFlagOn('chaos.retry-storm', drill.ctx.tenant.id)).toBe(false);
    expect(await drill.ctx.isFlagOn('worker.retry-backoff', drill.ctx.tenant.id)).toBe(true);
  }, 180_000);
});
