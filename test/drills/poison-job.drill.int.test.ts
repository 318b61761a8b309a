import { describe, expect, it } from 'vitest';
import { poisonJob } from '../../src/modules/drills/scenarios/poison-job.ts';
import { failing, useDrillHarness } from '../helpers/drill-harness.ts';
import { waitFor } from '../helpers/test-env.ts';

interface DeadLetterPage {
  items: Array<{ job_id: string; action_id: string; state: string; attempts: number; failed_reason: string }>;
}

// poison-job end to end: a malformed note written behind the API fails every attempt and is
// dead-lettered; AirlockDeadLettersGrowing fires from the shipped rule. Replaying it (the
// reflex) only dead-letters it again and is counted as a wrong action; quarantining it with
// dlq discard and replaying the rest passes.
describe('drill poison-job', () => {
  const drill = useDrillHarness({ scenario: poisonJob.name });
  const poisonId = () => {
    const data = drill.timeline().find((e) => e.kind === 'fault.poison')?.data as { action_id: string };
    return data.action_id;
  };
  const openLetters = async () =>
    (await drill.cliJson<DeadLetterPage>('dlq', 'list', '--tenant', drill.ctx.tenant.slug, '--state', 'open'))
      .items;

  it('when a malformed action is queued, then it is dead-lettered, the alert fires, a replay fails again, and quarantine plus replay of the rest mitigates', async () => {
    await waitFor(async () => drill.traffic().ok >= 5, {
      timeoutMs: 20_000,
      what: 'background traffic to flow',
    });

    const injectedAt = Date.now();
    await poisonJob.inject(drill.ctx);
    // The SLI: the poison exhausted its attempts, and only it.
    const [letter] = await waitFor(async () => ((await openLetters()).length ? openLetters() : undefined), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the poison job to be dead-lettered',
    });
    expect(letter).toMatchObject({ action_id: poisonId(), attempts: 5 });
    await drill.waitForAlert(poisonJob.alert, 60_000);
    const firedAfterMs = Date.now() - injectedAt;
    // The timeline's time to mitigate: nothing to see before the operator acts.
    expect(await drill.mitigationSeen(poisonJob)).toBeNull();
    expect(failing(await drill.verify(poisonJob))).toEqual([expect.stringMatching(/^poison quarantined/)]);

    // The reflex: replay everything. The poison runs again, fails again, and is parked again.
    const replay = await drill.cliJson<{ replayed: number }>(
      'dlq',
      'replay',
      '--all',
      '--tenant',
      drill.ctx.tenant.slug,
    );
    expect(replay.replayed).toBe(1);
    const [again] = await waitFor(
      async () => {
        const open = await openLetters();
        return open.length && open[0]!.job_id !== letter!.job_id ? open : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the replayed poison to be dead-lettered again' },
    );
    expect(again!.action_id).toBe(poisonId());
    expect(await poisonJob.wrongActions!(drill.ctx)).toEqual([
      expect.stringMatching(/poison job was replayed 1 time/),
    ]);
    expect(failing(await drill.verify(poisonJob))).toEqual([expect.stringMatching(/^poison quarantined/)]);

    // The runbook: quarantine the poison one, then replay the rest.
    const mitigationStarted = Date.now();
    const discard = await drill.cli(
      'dlq',
      'discard',
      again!.job_id,
      '--reason',
      'note without a title: poison',
    );
    expect(discard.code, discard.stderr).toBe(0);
    const rest = await drill.cliJson<{ replayed: number }>(
      'dlq',
      'replay',
      '--all',
      '--tenant',
      drill.ctx.tenant.slug,
    );
    expect(rest.replayed).toBe(0);
    expect(failing(await drill.verify(poisonJob))).toEqual([]);
    const mitigatedAfterMs = Date.now() - mitigationStarted;
    expect(await drill.mitigationSeen(poisonJob)).toEqual(expect.any(String));
    const { rows } = await drill.ctx.pool.query<{ status: string; error: { code: string } }>(
      'SELECT status, error FROM actions WHERE id = $1',
      [poisonId()],
    );
    expect(rows[0]).toMatchObject({ status: 'failed', error: { code: 'discarded' } });
    await drill.waitForAlertResolved(poisonJob.alert, 60_000);
    console.info(
      `poison-job: ${poisonJob.alert} fired ${(firedAfterMs / 1000).toFixed(1)} s after inject; mitigated ${(mitigatedAfterMs / 1000).toFixed(1)} s after the quarantine started`,
    );

    await poisonJob.cleanup(drill.ctx);
    await poisonJob.cleanup(drill.ctx);
    expect(await openLetters()).toEqual([]);
  }, 180_000);
});
