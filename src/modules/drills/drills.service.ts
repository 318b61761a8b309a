import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withTransaction } from '../../platform/db.ts';
import { AppError, ConflictError } from '../../platform/errors.ts';
import type { FlagProvider } from '../../platform/flags/flag-provider.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AuthService } from '../auth/auth.service.ts';
import type { FlagsService } from '../flags/flags.service.ts';
import { findTenantBySlug } from '../tenants/tenants.repository.ts';
import { buildDrillContext, DRILL_ACTOR, type DrillContextDeps } from './drill-context.ts';
import { SLI_WINDOW, sliName, withinObjective, type SliReading } from '../alerts/sli-readings.ts';
import { recordTransitions } from './drill-alerts.ts';
import { renderPostmortem } from './drill-postmortem.ts';
import { scoreDrill } from './drill-score.ts';
import {
  isMitigation,
  type AlertSource,
  type CheckResult,
  type DrillContext,
  type DrillScenario,
  type FiringAlert,
  type TimelineEntry,
} from './drill-types.ts';
import {
  appendEvent,
  findActiveDrill,
  findDrill,
  findFlagChanges,
  findLastCheck,
  insertCheck,
  insertDrill,
  listEvents,
  markDetected,
  markEnded,
  markPassed,
  revokeTenantKeys,
  saveOutcome,
  setDrillTenant,
  type Drill,
  type DrillScore,
} from './drills.repository.ts';

// Starts, watches and ends the drill runner process. The CLI provides it; the service
// never forks or signals anything itself.
export interface RunnerControl {
  spawn(drillId: string): number;
  isAlive(pid: number, drillId: string): boolean;
  terminate(pid: number, drillId: string): Promise<void>;
}

export interface DrillsServiceDeps extends DrillContextDeps {
  scenarios: readonly DrillScenario[];
  auth: Pick<AuthService, 'createKey'>;
  flags: DrillContextDeps['flags'] & Pick<FlagProvider, 'list'>;
  flagsService: Pick<FlagsService, 'set'>;
  alerts: Pick<AlertSource, 'alerts' | 'slis' | 'kind'>;
  runner?: RunnerControl;
  runbookUrl: (runbook: string) => string;
  logger: Logger;
  // How long `drill start` waits for the runner to put the fault in place.
  startTimeoutMs?: number;
}

export interface ScenarioSummary {
  name: string;
  symptom: string;
  alert: string;
  fire_within_s: number;
  runbook: string;
  runbook_url: string;
  mitigation: string;
}

export interface DrillSummary {
  id: string;
  scenario: string;
  state: Drill['state'];
  started_at: string;
  deadline_at: string;
  tenant: string;
  expected_alert: string;
  runbook_url: string;
  runner: { pid: number | null; alive: boolean | null; last_heartbeat_at: string | null };
}

export interface StatusResult {
  drill: DrillSummary;
  alerts: FiringAlert[];
  // Why alerts is empty when it is not known to be: the evaluation is down or stale.
  alerts_error: string | null;
  detected: boolean;
}

export interface CheckOutcome {
  drill: DrillSummary;
  passed: boolean;
  checks: CheckResult[];
  score: DrillScore | null;
  postmortem: string | null;
}

export interface StopOutcome {
  drill: DrillSummary | null;
  runner_killed: boolean;
  cleanup_error: string | null;
  flags_turned_off: string[];
  score: DrillScore | null;
  postmortem: string | null;
}

const CHAOS_PREFIX = 'chaos.';

export function createDrillsService(deps: DrillsServiceDeps) {
  const { pool } = deps;
  const startTimeoutMs = deps.startTimeoutMs ?? 60_000;

  function scenarioOf(name: string): DrillScenario {
    const scenario = deps.scenarios.find((s) => s.name === name);
    if (!scenario) {
      throw new AppError(
        'unknown_scenario',
        404,
        `There is no scenario "${name}"; \`drill list\` names them: ${deps.scenarios.map((s) => s.name).join(', ')}.`,
      );
    }
    return scenario;
  }

  async function activeDrill(): Promise<Drill> {
    const drill = await findActiveDrill(pool);
    if (!drill)
      throw new AppError('no_drill', 404, 'No drill is running; start one with `drill start <scenario>`.');
    return drill;
  }

  function summary(drill: Drill): DrillSummary {
    const scenario = deps.scenarios.find((s) => s.name === drill.scenario);
    return {
      id: drill.id,
      scenario: drill.scenario,
      state: drill.state,
      started_at: drill.startedAt.toISOString(),
      deadline_at: drill.deadlineAt.toISOString(),
      tenant: drill.tenantSlug,
      expected_alert: scenario?.alert ?? '',
      runbook_url: scenario ? deps.runbookUrl(scenario.runbook) : '',
      runner: {
        pid: drill.runnerPid,
        alive: drill.runnerPid && deps.runner ? deps.runner.isAlive(drill.runnerPid, drill.id) : null,
        last_heartbeat_at: drill.runnerHeartbeatAt?.toISOString() ?? null,
      },
    };
  }

  const contextOf = (drill: Drill, signal: AbortSignal): DrillContext =>
    buildDrillContext(deps, drill, signal);

  function list(): ScenarioSummary[] {
    return deps.scenarios.map((s) => ({
      name: s.name,
      symptom: s.symptom,
      alert: s.alert,
      fire_within_s: s.fireWithinSeconds,
      runbook: s.runbook,
      runbook_url: deps.runbookUrl(s.runbook),
      mitigation: s.mitigation,
    }));
  }

  // Claims the one active slot, gives the drill its own tenant and keys, and hands it to a
  // runner process; returns once the fault is in place (or the runner said why not).
  async function start(name: string): Promise<{ drill: DrillSummary; timeline: TimelineEntry[] }> {
    const scenario = scenarioOf(name);
    if (!deps.runner) throw new Error('drill start needs a runner control');
    // The drill measures its own fault's page; one still firing from before would be
    // counted as fired at once, and its resolving as this drill's recovery. Only Prometheus
    // carries alerts over: the local evaluation starts afresh in each drill's runner.
    const stale =
      deps.alerts.kind === 'prometheus'
        ? (await currentAlerts()).alerts.find((a) => a.name === scenario.alert && a.state === 'firing')
        : undefined;
    if (stale) {
      throw new ConflictError(
        'alert_already_firing',
        `${scenario.alert} is already firing (since ${stale.since}), before any fault of this drill: wait until \`drill status\` or \`cli alerts\` shows it resolved, then start the drill.`,
      );
    }
    const tenantSlug = `drill-${scenario.name}-${randomBytes(3).toString('hex')}`.slice(0, 63);
    let drill: Drill;
    try {
      drill = await withTransaction(pool, (tx) =>
        insertDrill(tx, {
          scenario: scenario.name,
          tenantSlug,
          maxDurationMs: deps.config.drill.maxDurationMs,
        }),
      );
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      const running = await findActiveDrill(pool);
      throw new ConflictError(
        'drill_running',
        `A drill is already running${running ? ` (${running.scenario}, started ${running.startedAt.toISOString()})` : ''}; end it with \`drill stop\` first.`,
      );
    }
    try {
      await appendEvent(pool, drill.id, {
        kind: 'drill.started',
        message: `Drill ${scenario.name} started: tenant ${tenantSlug}, ${deps.config.drill.trafficPerSecond} requests/s of background traffic against ${deps.config.drill.targetUrl}.`,
        data: {
          tenant: tenantSlug,
          target: deps.config.drill.targetUrl,
          traffic_per_second: deps.config.drill.trafficPerSecond,
        },
      });
      deps.runner.spawn(drill.id);
      const outcome = await waitForRunner(drill.id);
      if (outcome.kind !== 'fault.injected') throw new AppError('drill_start_failed', 500, outcome.message);
    } catch (err) {
      // A drill that could not start must not block the next one or leave its fault behind.
      await stop({ reason: `start failed: ${(err as Error).message}` }).catch((stopErr: unknown) =>
        deps.logger.error({ err: stopErr }, 'could not clean up after a failed drill start'),
      );
      throw err;
    }
    const started = (await findDrill(pool, drill.id))!;
    return { drill: summary(started), timeline: await listEvents(pool, drill.id) };
  }

  async function waitForRunner(drillId: string): Promise<TimelineEntry> {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      const entry = (await listEvents(pool, drillId)).find((e) =>
        ['fault.injected', 'runner.failed', 'drill.stopped', 'drill.expired'].includes(e.kind),
      );
      if (entry) return entry;
      if (Date.now() > deadline) {
        return {
          at: new Date().toISOString(),
          kind: 'timeout',
          message: `the drill runner did not inject the fault within ${startTimeoutMs} ms`,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  // What a pager shows now. The first look after the expected alert fired is the detection.
  // The look records what it sees on the timeline, as the runner does on its next poll, so
  // the alert's firing never comes after the look that detected it.
  async function status(): Promise<StatusResult> {
    const drill = await activeDrill();
    const scenario = scenarioOf(drill.scenario);
    const { alerts, error } = await currentAlerts();
    const ctx = contextOf(drill, new AbortController().signal);
    if (!error) await recordTransitions(ctx, alerts);
    const timeline = await listEvents(pool, drill.id);
    const fired = timeline.some((e) => e.kind === 'alert.firing' && e.data?.name === scenario.alert);
    let detected = drill.detectedAt !== null;
    if (fired && !detected) {
      // Two racing looks record one detection.
      await withTransaction(pool, async (tx) => {
        if (!(await markDetected(tx, drill.id))) return;
        await appendEvent(tx, drill.id, {
          kind: 'detected',
          message: `Someone looked (drill status) while ${scenario.alert} had fired.`,
        });
      });
      detected = true;
    }
    return { drill: summary(drill), alerts, alerts_error: error, detected };
  }

  async function currentAlerts(): Promise<{ alerts: FiringAlert[]; error: string | null }> {
    try {
      return { alerts: await deps.alerts.alerts(), error: null };
    } catch (err) {
      return { alerts: [], error: (err as Error).message };
    }
  }

  // Passes only when the SLIs are back within objective over the last 5 minutes, the
  // expected alert fired during this drill and has resolved, and the scenario's own
  // mitigation is verified from the system's state.
  async function check(): Promise<CheckOutcome> {
    const drill = await activeDrill();
    const scenario = scenarioOf(drill.scenario);
    const ctx = contextOf(drill, new AbortController().signal);
    // The mitigation first: a rollback after it is no wrong action.
    await observeMitigation(ctx, scenario, 'drill check');
    await recordWrongActions(ctx, scenario);
    const checks: CheckResult[] = [await sliCheck()];
    const { alerts, error } = await currentAlerts();
    if (error) {
      checks.push({ name: 'alerts evaluated', passed: false, detail: error });
    } else {
      const timeline = await listEvents(pool, drill.id);
      const fired = timeline.some((e) => e.kind === 'alert.firing' && e.data?.name === scenario.alert);
      const active = alerts.filter((a) => a.name === scenario.alert);
      checks.push({
        name: `${scenario.alert} resolved`,
        passed: fired && active.length === 0,
        detail: !fired
          ? `${scenario.alert} has not fired during this drill yet`
          : active.length
            ? `${scenario.alert} is still ${active[0]!.state}`
            : `${scenario.alert} fired and has resolved`,
      });
    }
    try {
      checks.push(...(await scenario.verifyMitigated(ctx)));
    } catch (err) {
      checks.push({
        name: 'mitigation verified',
        passed: false,
        detail: `the check failed: ${(err as Error).message}`,
      });
    }
    const passed = checks.every((c) => c.passed);
    await withTransaction(pool, async (tx) => {
      await insertCheck(tx, drill.id, { passed, checks });
      await appendEvent(tx, drill.id, {
        kind: passed ? 'check.passed' : 'check.failed',
        message: passed
          ? 'drill check passed: every check holds.'
          : `drill check failed: ${checks
              .filter((c) => !c.passed)
              .map((c) => c.name)
              .join(', ')}.`,
        data: { checks },
      });
      if (passed) await markPassed(tx, drill.id);
    });
    let score: DrillScore | null = null;
    let postmortem: string | null = null;
    if (passed) ({ score, postmortem } = await concludeDrill(drill.id));
    return { drill: summary((await findDrill(pool, drill.id))!), passed, checks, score, postmortem };
  }

  // Every SLI within its objective over the last 5 minutes (the shortest alert window). Not
  // "no page firing": a fast-burn page's 6h/30m pair holds for up to 30 minutes after the
  // burn has stopped (ADR 0021).
  async function sliCheck(): Promise<CheckResult> {
    const name = 'SLIs within objective';
    let readings: SliReading[];
    try {
      readings = await deps.alerts.slis();
    } catch (err) {
      return { name, passed: false, detail: `the SLIs could not be read: ${(err as Error).message}` };
    }
    if (readings.length === 0)
      return {
        name,
        passed: false,
        detail: 'no SLI has been recorded yet (the rules record them every evaluation)',
      };
    const outside = readings.filter((r) => !withinObjective(r));
    const percent = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.01 ? 2 : 1)}%`;
    return {
      name,
      passed: outside.length === 0,
      detail: outside.length
        ? `over the last ${SLI_WINDOW}, ${outside
            .map(
              (r) => `${sliName(r)}: ${percent(r.badRatio!)} bad (objective: at most ${percent(r.budget)})`,
            )
            .join('; ')}`
        : `over the last ${SLI_WINDOW}, every SLI is within its objective (${readings
            .map((r) => `${sliName(r)} ${r.badRatio === null ? 'no events' : percent(r.badRatio)}`)
            .join(', ')})`,
    };
  }

  // Records the scenario's mitigation the first time its state shows it (the runner looks on
  // every poll, `drill check` on every check), so the score has a time to mitigate.
  async function observeMitigation(ctx: DrillContext, scenario: DrillScenario, by: string): Promise<void> {
    if (!scenario.mitigationObserved) return;
    const timeline = await ctx.timeline();
    if (timeline.some(isMitigation)) return;
    const seen = await scenario.mitigationObserved(ctx);
    if (seen) await ctx.record('mitigation.observed', seen, { observed_by: by });
  }

  // Restores a clean state whatever happened before: the runner may be alive, dead, or
  // never started. Each step runs even when an earlier one failed; the first failure is
  // reported at the end.
  async function stop(
    options: { reason?: string; expired?: boolean; fromRunner?: boolean } = {},
  ): Promise<StopOutcome> {
    const drill = await findActiveDrill(pool);
    let runnerKilled = false;
    let cleanupError: string | null = null;
    if (drill) {
      if (!options.fromRunner && drill.runnerPid && deps.runner?.isAlive(drill.runnerPid, drill.id)) {
        await deps.runner.terminate(drill.runnerPid, drill.id);
        runnerKilled = true;
      }
      // A drill of a scenario this build no longer has still ends; only its cleanup is lost.
      const scenario = deps.scenarios.find((s) => s.name === drill.scenario);
      if (!scenario) cleanupError = `this build has no scenario "${drill.scenario}" to clean up`;
      else if (drill.tenantId) {
        const ctx = contextOf(drill, AbortSignal.timeout(60_000));
        // Before the flags are turned off below, which would look like a person's doing; the
        // mitigation first, since a rollback after it is no wrong action.
        await observeMitigation(ctx, scenario, 'drill stop').catch((err: unknown) =>
          deps.logger.warn({ err }, 'could not look for the mitigation'),
        );
        await recordWrongActions(ctx, scenario).catch((err: unknown) =>
          deps.logger.warn({ err }, 'could not assess wrong actions'),
        );
        try {
          await scenario.cleanup(ctx);
        } catch (err) {
          cleanupError = (err as Error).message;
          await appendEvent(pool, drill.id, {
            kind: 'cleanup.failed',
            message: `Scenario cleanup failed: ${cleanupError}`,
          });
        }
      }
    }
    const flagsTurnedOff = await chaosFlagsOff();
    if (!drill)
      return {
        drill: null,
        runner_killed: false,
        cleanup_error: null,
        flags_turned_off: flagsTurnedOff,
        score: null,
        postmortem: null,
      };

    const state = options.expired ? 'expired' : 'stopped';
    // The drill ends, and its keys with it, at once or not at all.
    await withTransaction(pool, async (tx) => {
      if (drill.tenantId) await revokeTenantKeys(tx, drill.tenantId);
      await appendEvent(tx, drill.id, {
        kind: options.expired ? 'drill.expired' : 'drill.stopped',
        message: options.expired
          ? 'The drill reached its maximum duration; the runner restored a clean state.'
          : `Drill stopped${options.reason ? ` (${options.reason})` : ''}; clean state restored${runnerKilled ? ', runner ended' : ''}${flagsTurnedOff.length ? `, ${flagsTurnedOff.join(', ')} off` : ''}.`,
        data: { runner_killed: runnerKilled, flags_turned_off: flagsTurnedOff, cleanup_error: cleanupError },
      });
      await markEnded(tx, drill.id, state);
    });
    const { score, postmortem } = await concludeDrill(drill.id);
    if (cleanupError)
      throw new AppError(
        'drill_cleanup_failed',
        500,
        `The drill ended but its cleanup failed: ${cleanupError}`,
      );
    return {
      drill: summary((await findDrill(pool, drill.id))!),
      runner_killed: runnerKilled,
      cleanup_error: null,
      flags_turned_off: flagsTurnedOff,
      score,
      postmortem,
    };
  }

  // Every chaos flag off, global and per tenant: no fault outlives a drill.
  async function chaosFlagsOff(): Promise<string[]> {
    await deps.flags.refresh();
    const on = (await deps.flags.list()).filter((f) => f.name.startsWith(CHAOS_PREFIX) && f.enabled);
    for (const flag of on)
      await deps.flagsService.set(flag.name, false, DRILL_ACTOR, flag.scope || undefined);
    return on.map((f) => (f.scope ? `${f.name} (${f.tenant ?? f.scope})` : f.name));
  }

  // The scenario's own list, and the generic one: a chaos flag the drill turned on that is
  // off now although the drill did not turn it off was turned off by hand; so is any
  // person's chaos flip in the drill tenant's audit chain. Each is recorded once.
  async function recordWrongActions(ctx: DrillContext, scenario: DrillScenario): Promise<string[]> {
    const timeline = await ctx.timeline();
    const found = [...((await scenario.wrongActions?.(ctx)) ?? [])];
    const flagState = new Map<string, { on: boolean; tenantId: string | null }>();
    for (const e of timeline.filter((entry) => entry.kind === 'fault.flag')) {
      const key = `${String(e.data?.flag)}|${String(e.data?.tenant_id ?? '')}`;
      flagState.set(key, { on: e.data?.on === true, tenantId: (e.data?.tenant_id as string | null) ?? null });
    }
    const known = new Set(timeline.filter((e) => e.kind === 'wrong_action').map((e) => e.message));
    // A scenario's bad build may be rolled back once its mitigation was seen, not before.
    const mitigated = timeline.find(isMitigation);
    const rollback = (flag: string, at?: Date): boolean =>
      flag === scenario.rollbackFlag &&
      mitigated !== undefined &&
      (at === undefined || at.getTime() >= Date.parse(mitigated.at));
    // Each flag's wrong action once, however often it was flipped and whoever noticed it (the
    // scenario or the generic rules below): a flag's name starts its message.
    const reported = new Set([...known, ...found].map((message) => message.split(' ')[0]!));
    for (const [key, value] of flagState) {
      const name = key.split('|')[0]!;
      if (
        value.on &&
        !reported.has(name) &&
        !rollback(name) &&
        !(await ctx.isFlagOn(name, value.tenantId ?? undefined))
      ) {
        reported.add(name);
        found.push(
          `${name} was turned off by hand: the flag injects the fault; the runbook's action is the mitigation.`,
        );
      }
    }
    // A flip the state above does not show (turned off and on again), once per flag.
    for (const change of await findFlagChanges(pool, ctx.tenant.id, ctx.startedAt)) {
      if (
        change.flag.startsWith(CHAOS_PREFIX) &&
        change.actor !== DRILL_ACTOR &&
        !reported.has(change.flag) &&
        !rollback(change.flag, change.at)
      ) {
        reported.add(change.flag);
        found.push(`${change.flag} was changed by hand (${change.actor}).`);
      }
    }
    for (const message of new Set(found)) {
      if (!known.has(message)) await ctx.record('wrong_action', message);
    }
    return found;
  }

  // The score and the postmortem draft, from the timeline as it stands.
  async function concludeDrill(
    drillId: string,
  ): Promise<{ score: DrillScore | null; postmortem: string | null }> {
    const drill = (await findDrill(pool, drillId))!;
    const scenario = deps.scenarios.find((s) => s.name === drill.scenario);
    if (!scenario) return { score: null, postmortem: null };
    const timeline = await listEvents(pool, drillId);
    const score = scoreDrill(timeline, scenario.alert);
    const markdown = renderPostmortem({
      drill,
      scenario,
      timeline,
      score,
      lastCheck: await findLastCheck(pool, drillId),
      runbookUrl: deps.runbookUrl(scenario.runbook),
    });
    let postmortem: string | null = null;
    try {
      postmortem = await writePostmortem(drill, markdown);
    } catch (err) {
      deps.logger.error({ err, drill_id: drillId }, 'could not write the postmortem draft');
    }
    await saveOutcome(pool, drillId, { score, postmortemPath: postmortem ?? drill.postmortemPath });
    return { score, postmortem };
  }

  // <dir>/<date>-<scenario>.md; another drill of the same scenario that day gets -2, -3...
  async function writePostmortem(drill: Drill, markdown: string): Promise<string> {
    await mkdir(deps.config.drill.postmortemDir, { recursive: true });
    const base = `${drill.startedAt.toISOString().slice(0, 10)}-${drill.scenario}`;
    for (let n = 1; n <= 100; n++) {
      const file = path.join(deps.config.drill.postmortemDir, `${base}${n === 1 ? '' : `-${n}`}.md`);
      const existing = await readFile(file, 'utf8').catch(() => null);
      if (existing === null || existing.includes(drill.id)) {
        await writeFile(file, markdown);
        return file;
      }
    }
    throw new Error(`more than 100 postmortem drafts named ${base}`);
  }

  // The runner's own key for the background traffic, minted when the runner starts and held
  // in its memory only: like every key, the key table keeps its hash, and no drill row holds
  // it. The first mint creates the drill's tenant (with its sandbox). Every key of the tenant
  // is revoked when the drill ends.
  async function mintTrafficKey(drill: Drill): Promise<{ drill: Drill; agentKey: string }> {
    const agent = await deps.auth.createKey({ tenant: drill.tenantSlug, role: 'agent' });
    const tenant = await findTenantBySlug(pool, drill.tenantSlug);
    if (!tenant) throw new Error(`the drill tenant ${drill.tenantSlug} was not created`);
    if (drill.tenantId !== tenant.id) await setDrillTenant(pool, drill.id, tenant.id);
    return { drill: { ...drill, tenantId: tenant.id }, agentKey: agent.key };
  }

  // The timeline as the drill's processes see it, for the runner.
  const timelineOf = (drillId: string): Promise<TimelineEntry[]> => listEvents(pool, drillId);

  return {
    list,
    start,
    status,
    check,
    stop,
    recordWrongActions,
    observeMitigation,
    mintTrafficKey,
    contextOf,
    scenarioOf,
    summary,
    timelineOf,
  };
}

export type DrillsService = ReturnType<typeof createDrillsService>;
