import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnerLogPath } from '../../src/cli/drill-process.ts';
import { createAuthService } from '../../src/modules/auth/auth.service.ts';
import { startChildService, type ChildService } from '../helpers/child-service.ts';
import { drillCliEnv, type CheckJson } from '../helpers/drill-harness.ts';
import { runCli, singleJsonDocument, type CliRun } from '../helpers/run-cli.ts';
import { createTestDatabase, freePort, testEnv, waitFor } from '../helpers/test-env.ts';

// The drill tool end to end, as a learner uses it: a real `node src/main.ts all`, the CLI as
// separate processes, the drill runner detached from them, and the shipped rules evaluated
// locally over the service's /metrics on a compressed clock (drillCliEnv).

const LISTENING = /^(?!.*"component":"moderation").*Server listening at (http:\/\/127\.0\.0\.1:\d+)/m;
const ALERT = 'AirlockAvailabilityBudgetBurnFast';

interface DrillJson {
  id: string;
  scenario: string;
  state: string;
  runner: { pid: number | null; alive: boolean | null };
}
interface StatusJson {
  drill: DrillJson;
  alerts: Array<{ name: string; state: string; runbook_url: string | null }>;
  alerts_error: string | null;
  detected: boolean;
}

describe('cli drill against a running service', { timeout: 400_000 }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let service: ChildService;
  let pool: pg.Pool;
  let baseUrl: string;
  let adminKey: string;
  let cliEnv: Record<string, string>;
  const postmortemDir = mkdtempSync(path.join(tmpdir(), 'airlock-drills-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    // A port known in advance, so the service's runbook links can name it.
    const port = await freePort();
    const env = testEnv(db.url, {
      LOG_LEVEL: 'info',
      PORT: String(port),
      MODERATION_TIMEOUT_MS: '2000',
      ALERT_RUNBOOK_BASE_URL: `http://127.0.0.1:${port}`,
    });
    service = startChildService('all', env);
    baseUrl = LISTENING.exec(await service.waitForLog(LISTENING, 60_000))![1]!;
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    adminKey = (
      await createAuthService({ pool, knownTools: () => [] }).createKey({ tenant: 'ops', role: 'admin' })
    ).key;
    cliEnv = {
      ...env,
      LOG_LEVEL: 'warn',
      ...drillCliEnv(baseUrl, postmortemDir),
    };
  }, 90_000);

  afterAll(async () => {
    // Whatever a failed test left running.
    if (cliEnv) await cli('drill', 'stop');
    await pool?.end();
    service?.kill('SIGTERM');
    await service?.exited;
    await db?.drop();
    rmSync(postmortemDir, { recursive: true, force: true });
  }, 60_000);

  const cli = (...args: string[]): Promise<CliRun> => runCli([...args, '--json'], cliEnv);
  const json = <T>(run: CliRun): T => singleJsonDocument(run) as T;

  async function currentDrill(): Promise<{ drill: Record<string, unknown> | null }> {
    const response = await fetch(`${baseUrl}/v1/drills/current`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { drill: Record<string, unknown> | null };
  }

  async function rogueBackends(): Promise<number> {
    const { rows } = await pool.query<{ n: number }>(
      // This database's only: another drill on this machine has its own rogue backend.
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'airlock-backfill-%'",
    );
    return rows[0]!.n;
  }

  const runnerAlive = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('drill-runner');
    } catch {
      return false;
    }
  };

  let firstDrill: DrillJson;

  it('when a drill starts, then a second is refused, the alert fires and shows in status with its runbook, and check fails before mitigation', async () => {
    const listed = json<{ scenarios: Array<{ name: string; alert: string; fire_within_s: number }> }>(
      await cli('drill', 'list'),
    );
    expect(listed.scenarios.find((s) => s.name === 'db-slow-queries')).toMatchObject({ alert: ALERT });

    const started = await cli('drill', 'start', 'db-slow-queries');
    expect(started.code, started.stdout + started.stderr).toBe(0);
    firstDrill = json<{ drill: DrillJson }>(started).drill;
    expect(firstDrill).toMatchObject({ scenario: 'db-slow-queries', state: 'running' });
    expect(firstDrill.runner.alive).toBe(true);

    const second = await cli('drill', 'start', 'db-slow-queries');
    expect(second.code).toBe(1);
    expect(json<{ error: { code: string } }>(second).error.code).toBe('drill_running');

    const current = await currentDrill();
    expect(current.drill).toMatchObject({
      id: firstDrill.id,
      scenario: 'db-slow-queries',
      expected_alert: ALERT,
    });
    expect(String(current.drill!.runbook_url)).toBe(`${baseUrl}/runbooks/${ALERT}.md`);

    // The pager: status until the expected alert fires.
    const paged = await waitFor(
      async () => {
        const status = json<StatusJson>(await cli('drill', 'status'));
        return status.alerts.some((a) => a.name === ALERT && a.state === 'firing') ? status : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, what: `${ALERT} to fire` },
    );
    expect(paged.detected).toBe(true);
    expect(paged.alerts.find((a) => a.name === ALERT)!.runbook_url).toBe(`${baseUrl}/runbooks/${ALERT}.md`);

    const check = await cli('drill', 'check');
    expect(check.code).toBe(1);
    const failed = json<CheckJson>(check);
    expect(failed.passed).toBe(false);
    expect(failed.checks.find((c) => c.name === 'blocker gone')?.passed).toBe(false);
    expect(failed.checks.find((c) => c.name === 'write path unblocked')?.passed).toBe(false);
  });

  it('when the blocker is terminated as the runbook says, then check passes with a score and the postmortem draft holds the timeline', async () => {
    // The runbook's query: whoever blocks a waiting backend. Traffic keeps proposals waiting
    // on the lock, so one is there to be found within a moment.
    await waitFor(
      async () => {
        const { rowCount } = await pool.query(
          `SELECT pg_terminate_backend(blocker)
             FROM (SELECT DISTINCT unnest(pg_blocking_pids(pid)) AS blocker FROM pg_stat_activity
                    WHERE datname = current_database()) blockers`,
        );
        return (rowCount ?? 0) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'a blocking backend to terminate' },
    );
    // pg_terminate_backend signals the backend; it is gone a moment later.
    await waitFor(async () => (await rogueBackends()) === 0, { what: 'the blocker to go' });

    let last: CheckJson | undefined;
    const passed = await waitFor(
      async () => {
        last = json<CheckJson>(await cli('drill', 'check'));
        return last.passed ? last : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 2_000, what: 'drill check to pass' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last check: ${JSON.stringify(last?.checks)}`);
    });
    expect(passed.score).toMatchObject({ wrong_actions: 0 });
    for (const key of ['time_to_fire_s', 'time_to_detect_s', 'time_to_mitigate_s', 'time_to_recover_s'])
      expect(passed.score![key], key).toEqual(expect.any(Number));
    expect(passed.score!.time_to_mitigate_s!).toBeLessThanOrEqual(passed.score!.time_to_recover_s!);
    // Someone looked once the page was out, never before it.
    expect(passed.score!.time_to_detect_s!).toBeGreaterThanOrEqual(passed.score!.time_to_fire_s!);
    expect(passed.checks.find((c) => c.name === 'SLIs within objective')?.detail).toMatch(
      /every SLI is within its objective/,
    );

    expect(passed.postmortem).toBe(
      path.join(postmortemDir, `${new Date().toISOString().slice(0, 10)}-db-slow-queries.md`),
    );
    const draft = readFileSync(passed.postmortem!, 'utf8');
    for (const heading of [
      '## Impact',
      '## Timeline',
      '## Detection',
      '## Mitigation',
      '### Facts',
      '### Hypotheses',
      '## Action items',
    ])
      expect(draft).toContain(heading);
    for (const kind of [
      'fault.injected',
      'alert.firing',
      'detected',
      'mitigation.blocker_terminated',
      'check.passed',
    ])
      expect(draft).toContain(`\`${kind}\``);
    expect(draft).toContain(firstDrill.id);

    const current = await currentDrill();
    expect(current.drill).toMatchObject({ state: 'passed', check: { passed: true } });
  });

  it('when the drill is stopped, then no fault, runner, flag or key of it is left', async () => {
    const stopped = await cli('drill', 'stop');
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
    expect(json<{ drill: DrillJson }>(stopped).drill.state).toBe('stopped');
    await expectCleanState(firstDrill);
    const status = await cli('drill', 'status');
    expect(json<{ error: { code: string } }>(status).error.code).toBe('no_drill');
  });

  it('when the runner is SIGKILLed mid-drill, then check does not pass without the mitigation and stop still restores a clean state', async () => {
    const started = await cli('drill', 'start', 'db-slow-queries');
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const drill = json<{ drill: DrillJson }>(started).drill;
    expect(await rogueBackends()).toBe(1);
    // A chaos flag someone left on: stop turns every one off.
    expect((await cli('flags', 'set', 'chaos.moderation-slow', 'on')).code).toBe(0);

    process.kill(drill.runner.pid!, 'SIGKILL');
    await waitFor(async () => !runnerAlive(drill.runner.pid!), { what: 'the runner to die' });
    // Its connection went with it, and so did the lock: the fault is gone, not mitigated.
    await waitFor(async () => (await rogueBackends()) === 0, { what: 'the rogue backend to go' });

    const status = json<StatusJson>(await cli('drill', 'status'));
    expect(status.drill.runner.alive).toBe(false);
    const check = json<CheckJson>(await cli('drill', 'check'));
    expect(check.passed).toBe(false);
    expect(check.checks.find((c) => c.name === 'blocker terminated by an operator')?.passed).toBe(false);

    const stopped = await cli('drill', 'stop');
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
    const result = json<{
      runner_killed: boolean;
      flags_turned_off: string[];
      score: { time_to_recover_s: number | null };
    }>(stopped);
    expect(result.runner_killed).toBe(false);
    expect(result.flags_turned_off).toEqual(['chaos.moderation-slow']);
    expect(result.score.time_to_recover_s).toBeNull();
    await expectCleanState(drill);
    const secondDraft = path.join(
      postmortemDir,
      `${new Date().toISOString().slice(0, 10)}-db-slow-queries-2.md`,
    );
    expect(existsSync(secondDraft)).toBe(true);
    expect(readFileSync(secondDraft, 'utf8')).toContain('`drill.stopped`');
  });

  it('when a chaos flag the drill turned on is turned off by hand, then that is one wrong action, not a mitigation', async () => {
    const started = await cli('drill', 'start', 'moderation-outage');
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const drill = json<{ drill: DrillJson }>(started).drill;
    expect((await cli('flags', 'set', 'chaos.moderation-outage', 'off')).code).toBe(0);
    expect((await cli('flags', 'set', 'chaos.moderation-outage', 'on')).code).toBe(0);
    expect((await cli('flags', 'set', 'chaos.moderation-outage', 'off')).code).toBe(0);
    const check = json<CheckJson>(await cli('drill', 'check'));
    expect(check.passed).toBe(false);
    const timeline = (await currentDrill()).drill!.timeline as Array<{ kind: string; message: string }>;
    const wrong = timeline.filter((e) => e.kind === 'wrong_action');
    expect(wrong).toHaveLength(1);
    expect(wrong[0]!.message).toMatch(/^chaos\.moderation-outage was turned off/);

    const stopped = json<{ score: { wrong_actions: number } }>(await cli('drill', 'stop'));
    expect(stopped.score.wrong_actions).toBe(1);
    await expectCleanState(drill);
  });

  it('when a drill reaches its maximum duration, then its runner ends it and restores a clean state by itself', async () => {
    const started = await runCli(['drill', 'start', 'db-slow-queries', '--json'], {
      ...cliEnv,
      DRILL_MAX_DURATION_MS: '10000',
    });
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const drill = json<{ drill: DrillJson }>(started).drill;
    await waitFor(async () => (await currentDrill()).drill === null, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the drill to end by itself',
    });
    await waitFor(async () => !runnerAlive(drill.runner.pid!), { what: 'the runner to exit' });
    expect(await rogueBackends()).toBe(0);
    const { rows } = await pool.query<{ state: string; kinds: string[] }>(
      `SELECT d.state, array_agg(e.kind ORDER BY e.id) AS kinds
         FROM drills d JOIN drill_events e ON e.drill_id = d.id WHERE d.id = $1 GROUP BY d.state`,
      [drill.id],
    );
    expect(rows[0]!.state).toBe('expired');
    expect(rows[0]!.kinds.at(-1)).toBe('drill.expired');
  });

  async function expectCleanState(drill: DrillJson): Promise<void> {
    expect(await currentDrill()).toEqual({ drill: null });
    expect(await rogueBackends()).toBe(0);
    expect(runnerAlive(drill.runner.pid!)).toBe(false);
    const { rows } = await pool.query<{ state: string; live_keys: number; chaos_on: number }>(
      `SELECT d.state,
              (SELECT count(*)::int FROM api_keys k WHERE k.tenant_id = d.tenant_id AND k.revoked_at IS NULL) AS live_keys,
              (SELECT count(*)::int FROM flags f WHERE f.name LIKE 'chaos.%' AND f.enabled) AS chaos_on
         FROM drills d WHERE d.id = $1`,
      [drill.id],
    );
    expect(rows[0]).toEqual({ state: 'stopped', live_keys: 0, chaos_on: 0 });
    expect(existsSync(runnerLogPath(drill.id))).toBe(true);
  }

  it('when Prometheus shows the expected alert still firing from before, then a drill is refused, because it could not measure its own page', async () => {
    // Prometheus is outside the system: a stand-in for its alerts API, at the network boundary.
    const since = new Date(Date.now() - 60_000).toISOString();
    const prometheus = createServer((req, res) => {
      const alerts =
        req.url === '/api/v1/alerts'
          ? [
              {
                labels: { alertname: ALERT, severity: 'page' },
                annotations: {},
                state: 'firing',
                activeAt: since,
              },
            ]
          : null;
      res.writeHead(alerts ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { alerts } }));
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const prometheusUrl = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
    try {
      const refused = await runCli(['drill', 'start', 'db-slow-queries', '--json'], {
        ...cliEnv,
        PROMETHEUS_URL: prometheusUrl,
      });
      expect(refused.code).toBe(1);
      const error = json<{ error: { code: string; message: string } }>(refused).error;
      expect(error.code).toBe('alert_already_firing');
      expect(error.message).toContain(ALERT);
      expect(error.message).toContain(since);
      expect((await currentDrill()).drill).toBeNull();
    } finally {
      prometheus.closeAllConnections();
      await new Promise((resolve) => prometheus.close(resolve));
    }
  });
});
