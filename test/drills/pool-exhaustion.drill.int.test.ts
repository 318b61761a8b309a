import { describe, expect, it } from 'vitest';
import { metricValue } from '../../src/modules/drills/scenarios/scenario-support.ts';
import { leakedSessions, poolExhaustion } from '../../src/modules/drills/scenarios/pool-exhaustion.ts';
import { failing, useDrillHarness } from '../helpers/drill-harness.ts';
import { waitFor } from '../helpers/test-env.ts';

// pool-exhaustion end to end: a bad build leaks Postgres clients idle in transaction on the
// drill tenant's reads; the pool fills, callers wait, and AirlockDbPoolSaturated fires from
// the shipped rule. Switching the chaos flag off does not pass; raising DB_POOL_MAX above
// what the leak holds and restarting does, while the leak goes on.
describe('drill pool-exhaustion', () => {
  const drill = useDrillHarness({
    scenario: poolExhaustion.name,
    // Two reads a second, each one a leak.
    perSecond: 6,
    serviceEnv: { DB_POOL_MAX: '10', DB_STATEMENT_TIMEOUT_MS: '5000', DB_CONNECT_TIMEOUT_MS: '3000' },
  });
  const pool = async () => {
    const text = await drill.metrics();
    const clients = (state: string) =>
      metricValue(text, 'airlock_db_pool_clients', { pool: 'main', state }) ?? 0;
    const max = metricValue(text, 'airlock_db_pool_max', { pool: 'main' }) ?? 0;
    return { used: (clients('total') - clients('idle')) / max, waiting: clients('waiting'), max };
  };

  it('when clients leak idle in transaction, then the pool saturates and the alert fires; more headroom and a restart mitigate while the leak goes on', async () => {
    await waitFor(async () => drill.traffic().ok >= 5, {
      timeoutMs: 20_000,
      what: 'background traffic to flow',
    });

    const injectedAt = Date.now();
    await poolExhaustion.inject(drill.ctx);
    // The SLI: the sessions sit idle in transaction and the pool has nothing left to give.
    await waitFor(
      async () => {
        const now = await pool();
        return (now.used > 0.9 || now.waiting > 0) && (await leakedSessions(drill.ctx)).length >= 5;
      },
      { timeoutMs: 40_000, intervalMs: 500, what: 'the pool to saturate with leaked sessions' },
    );
    await drill.waitForAlert(poolExhaustion.alert, 60_000);
    const firedAfterMs = Date.now() - injectedAt;
    // The timeline's time to mitigate: nothing to see before the operator acts.
    expect(await drill.mitigationSeen(poolExhaustion)).toBeNull();
    expect(failing(await drill.verify(poolExhaustion))).toEqual([
      expect.stringMatching(/^pool has headroom/),
    ]);

    // Switching the bad build's fault off is not a mitigation.
    const slug = drill.ctx.tenant.slug;
    expect((await drill.cli('flags', 'set', 'chaos.pool-exhaustion', 'off', '--tenant', slug)).code).toBe(0);
    expect(await poolExhaustion.wrongActions!(drill.ctx)).toHaveLength(1);
    expect(failing(await drill.verify(poolExhaustion))).toContainEqual(
      expect.stringMatching(/^fault still in place/),
    );
    expect((await drill.cli('flags', 'set', 'chaos.pool-exhaustion', 'on', '--tenant', slug)).code).toBe(0);

    // The runbook: headroom above what the leak holds (up to twenty clients), and a restart,
    // which also ends every leaked session.
    const mitigationStarted = Date.now();
    await drill.restartService({ DB_POOL_MAX: '40' });
    expect((await pool()).max).toBe(40);
    // Give the leak time to build up again, then the check must hold across its samples.
    await waitFor(async () => (await leakedSessions(drill.ctx)).length >= 5, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the leak to go on after the restart',
    });
    await waitFor(async () => failing(await drill.verify(poolExhaustion)).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the mitigation to verify',
    });
    const mitigatedAfterMs = Date.now() - mitigationStarted;
    expect(await drill.mitigationSeen(poolExhaustion)).toEqual(expect.any(String));
    await drill.waitForAlertResolved(poolExhaustion.alert, 60_000);

    // The runbook's last step: roll the leaking build back. With the headroom in place (the
    // runner records it as mitigation.observed), that is the fix, not a wrong action.
    await drill.ctx.record('mitigation.observed', (await drill.mitigationSeen(poolExhaustion))!);
    expect((await drill.cli('flags', 'set', 'chaos.pool-exhaustion', 'off', '--tenant', slug)).code).toBe(0);
    expect(await poolExhaustion.wrongActions!(drill.ctx)).toEqual([]);
    const rolledBack = await drill.verify(poolExhaustion);
    expect(rolledBack.find((r) => r.name === 'build rolled back after the headroom')?.passed).toBe(true);
    expect(failing(rolledBack)).toEqual([]);
    console.info(
      `pool-exhaustion: ${poolExhaustion.alert} fired ${(firedAfterMs / 1000).toFixed(1)} s after inject; mitigated ${(mitigatedAfterMs / 1000).toFixed(1)} s after the restart started`,
    );

    await poolExhaustion.cleanup(drill.ctx);
    await poolExhaustion.cleanup(drill.ctx);
    expect(await drill.ctx.isFlagOn('chaos.pool-exhaustion', drill.ctx.tenant.id)).toBe(false);
    await waitFor(async () => (await leakedSessions(drill.ctx)).length === 0, {
      what: 'the leaked sessions to end',
    });
  }, 180_000);
});
