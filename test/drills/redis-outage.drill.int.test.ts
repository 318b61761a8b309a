import { describe, expect, it } from 'vitest';
import { metricValue } from '../../src/modules/drills/scenarios/scenario-support.ts';
import { redisOutage } from '../../src/modules/drills/scenarios/redis-outage.ts';
import { failing, useDrillHarness } from '../helpers/drill-harness.ts';
import { waitFor } from '../helpers/test-env.ts';

// redis-outage end to end, against a redis-server of the drill's own: the drill shuts it down
// without saving. Proposals keep committing, nothing runs, the outbox ages past 30 s and
// AirlockOutboxLagHigh fires from the shipped rule. Starting Redis again (empty) is the
// mitigation: the relay publishes the backlog, the reconciler re-publishes what Redis lost,
// and every acknowledged action runs once.
describe('drill redis-outage', () => {
  const drill = useDrillHarness({ scenario: redisOutage.name, privateRedis: true });
  const statuses = async () =>
    Object.fromEntries(
      (
        await drill.ctx.pool.query<{ status: string; n: number }>(
          'SELECT status, count(*)::int AS n FROM actions WHERE tenant_id = $1 GROUP BY status',
          [drill.ctx.tenant.id],
        )
      ).rows.map((r) => [r.status, r.n]),
    ) as Record<string, number>;

  it('when Redis stops, then proposals still commit, the outbox holds them and the alert fires; restarting Redis drains everything with nothing lost', async () => {
    await waitFor(async () => drill.traffic().ok >= 5, {
      timeoutMs: 20_000,
      what: 'background traffic to flow',
    });

    // Never against a Redis the drill does not own.
    const shared = {
      ...drill.ctx,
      config: { ...drill.ctx.config, drill: { ...drill.ctx.config.drill, redisControl: false } },
    };
    await expect(redisOutage.inject(shared)).rejects.toThrow(/DRILL_REDIS_CONTROL=shutdown/);

    const injectedAt = Date.now();
    await redisOutage.inject(drill.ctx);
    const okBefore = drill.traffic().ok;
    // The SLI: proposals answer, but the outbox ages.
    await waitFor(
      async () => (metricValue(await drill.metrics(), 'airlock_outbox_oldest_age_seconds') ?? 0) > 30,
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'the outbox to age past 30 s' },
    );
    expect(drill.traffic().ok - okBefore).toBeGreaterThanOrEqual(20);
    expect((await statuses()).queued).toBeGreaterThanOrEqual(20);
    await drill.waitForAlert(redisOutage.alert, 30_000);
    const firedAfterMs = Date.now() - injectedAt;
    // The timeline's time to mitigate: nothing to see before the operator acts.
    expect(await drill.mitigationSeen(redisOutage)).toBeNull();
    expect(failing(await drill.verify(redisOutage)).map((f) => f.split(':')[0])).toEqual([
      'redis back',
      'outbox drained',
    ]);

    // The mitigation: start Redis again; it comes back empty.
    const mitigationStarted = Date.now();
    await drill.redisServer.restart();
    await waitFor(async () => failing(await drill.verify(redisOutage)).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      what: 'the outbox to drain and the actions to run',
    });
    const mitigatedAfterMs = Date.now() - mitigationStarted;
    expect(await drill.mitigationSeen(redisOutage)).toEqual(expect.any(String));
    // Nothing acknowledged is lost, and nothing ran twice.
    await waitFor(
      async () => {
        const now = await statuses();
        return !now.queued && !now.running;
      },
      { timeoutMs: 30_000, what: 'every action of the drill to finish' },
    );
    const { rows } = await drill.ctx.pool.query<{ succeeded: number; notes: number; other: number }>(
      `SELECT count(*) FILTER (WHERE a.status = 'succeeded')::int AS succeeded,
              (SELECT count(*)::int FROM sandbox_notes n WHERE n.tenant_id = $1) AS notes,
              count(*) FILTER (WHERE a.status <> 'succeeded')::int AS other
         FROM actions a WHERE a.tenant_id = $1`,
      [drill.ctx.tenant.id],
    );
    expect(rows[0]!.other).toBe(0);
    expect(rows[0]!.notes).toBe(rows[0]!.succeeded);
    await drill.waitForAlertResolved(redisOutage.alert, 60_000);
    console.info(
      `redis-outage: ${redisOutage.alert} fired ${(firedAfterMs / 1000).toFixed(1)} s after inject; mitigated ${(mitigatedAfterMs / 1000).toFixed(1)} s after Redis was started again`,
    );

    await redisOutage.cleanup(drill.ctx);
    await redisOutage.cleanup(drill.ctx);
  }, 240_000);
});
