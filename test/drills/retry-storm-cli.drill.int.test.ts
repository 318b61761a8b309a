import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildService, type ChildService } from '../helpers/child-service.ts';
import { drillCliEnv, type CheckJson } from '../helpers/drill-harness.ts';
import { runCli, singleJsonDocument, type CliRun } from '../helpers/run-cli.ts';
import { createTestDatabase, freePort, testEnv, waitFor } from '../helpers/test-env.ts';

// One of the scenarios as a learner runs it, through `cli drill` only: start, the page in
// status, a check that fails before the mitigation, the runbook's commands, a check that
// passes with a score, and stop. The other scenarios' tests drive the same scenario code
// from the test process (test/helpers/drill-harness.ts), which is faster.

describe('cli drill retry-storm', { timeout: 300_000 }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: ChildService;
  let env: Record<string, string>;
  let pool: pg.Pool;
  const postmortemDir = mkdtempSync(path.join(tmpdir(), 'airlock-drills-'));
  const cli = (...args: string[]): Promise<CliRun> => runCli([...args, '--json'], env);
  const json = <T>(run: CliRun): T => singleJsonDocument(run) as T;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    env = testEnv(db.url, {
      LOG_LEVEL: 'warn',
      PORT: String(port),
      MODERATION_PORT: String(await freePort()),
      // Production's backoff, so the rollback means what it means in production.
      WORKER_BACKOFF_BASE_MS: '500',
      WORKER_BACKOFF_MAX_MS: '30000',
      ...drillCliEnv(base, postmortemDir),
    });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    service = startChildService('all', env);
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the service to be ready',
    });
  }, 90_000);

  afterAll(async () => {
    if (env) await cli('drill', 'stop');
    await pool?.end();
    service?.kill('SIGTERM');
    await service?.exited;
    await db?.drop();
    rmSync(postmortemDir, { recursive: true, force: true });
  }, 60_000);

  it('when the learner follows the runbook, then check fails before the rollback and redrive and passes after, and stop restores the flags', async () => {
    const started = await cli('drill', 'start', 'retry-storm');
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const tenant = json<{ drill: { tenant: string } }>(started).drill.tenant;

    await waitFor(
      async () =>
        json<{ alerts: Array<{ name: string; state: string }> }>(await cli('drill', 'status')).alerts.some(
          (a) => a.name === 'AirlockDeadLettersGrowing' && a.state === 'firing',
        ),
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'AirlockDeadLettersGrowing in drill status' },
    );
    const before = await cli('drill', 'check');
    expect(before.code).toBe(1);
    const failed = json<CheckJson>(before)
      .checks.filter((c) => !c.passed)
      .map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining(['retry policy rolled back', 'dead letters redriven']));

    // The runbook (runbooks/AirlockDeadLettersGrowing.md): roll the canary back, then redrive.
    expect((await runCli(['flags', 'set', 'worker.retry-backoff', 'on', '--tenant', tenant], env)).code).toBe(
      0,
    );
    // Whatever the bad policy dead-lettered until the flip reached the worker is in this
    // redrive. The throttled tool lets only a backed-off retry through, so the rollback has
    // reached the worker once an action of the tenant queued after it has succeeded.
    const rolledBackAt = new Date();
    await waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM actions a JOIN tenants t ON t.id = a.tenant_id
            WHERE t.slug = $1 AND a.status = 'succeeded' AND a.queued_at > $2`,
          [tenant, rolledBackAt],
        );
        return rows[0]!.n > 0;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the rollback to reach the worker' },
    );
    const replay = await runCli(['dlq', 'replay', '--all', '--tenant', tenant, '--json'], env);
    expect(replay.code, replay.stderr).toBe(0);
    let last: CheckJson | undefined;
    await waitFor(
      async () => {
        last = json<CheckJson>(await cli('drill', 'check'));
        return last.passed ? last : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 5_000, what: 'drill check to pass' },
    )
      .catch((err: Error) => {
        throw new Error(
          `${err.message}; last check: ${JSON.stringify(last?.checks.filter((c) => !c.passed))}`,
        );
      })
      .then((check) => {
        expect(check.score).toMatchObject({ wrong_actions: 0 });
        const { time_to_fire_s, time_to_detect_s, time_to_mitigate_s, time_to_recover_s } = check.score!;
        // The rollback is the mitigation, seen when it happened, not when the check passed.
        expect(readFileSync(check.postmortem!, 'utf8')).toContain('`mitigation.observed`');
        expect(time_to_mitigate_s).toEqual(expect.any(Number));
        expect(time_to_mitigate_s!).toBeLessThanOrEqual(time_to_recover_s!);
        expect(time_to_detect_s!).toBeGreaterThanOrEqual(time_to_fire_s!);
      });

    const stopped = await cli('drill', 'stop');
    expect(stopped.code, stopped.stderr).toBe(0);
    const flags = json<{ flags: Array<{ name: string; enabled: boolean; tenant?: string }> }>(
      await runCli(['flags', 'list', '--json'], env),
    ).flags;
    expect(flags.filter((f) => f.name.startsWith('chaos.') && f.enabled)).toEqual([]);
    expect(flags.find((f) => f.name === 'worker.retry-backoff' && f.tenant === tenant)?.enabled).toBe(true);
  });
});
