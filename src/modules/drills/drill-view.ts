import { openAlerts } from './drill-alerts.ts';
import type { Pool } from '../../platform/db.ts';
import type { DrillScenario, TimelineEntry } from './drill-types.ts';
import {
  findActiveDrill,
  findLastCheck,
  listEvents,
  type DrillScore,
  type DrillState,
} from './drills.repository.ts';

export interface DrillAlertView {
  name: string;
  state: 'firing';
  severity: string | null;
  since: string;
  summary: string | null;
  runbook_url: string | null;
}

export interface DrillView {
  id: string;
  scenario: string;
  state: DrillState;
  started_at: string;
  deadline_at: string;
  tenant: string;
  symptom: string | null;
  expected_alert: string | null;
  runbook_url: string | null;
  mitigation: string | null;
  timeline: Array<{ at: string; kind: string; message: string }>;
  alerts: DrillAlertView[];
  check: {
    at: string;
    passed: boolean;
    checks: Array<{ name: string; passed: boolean; detail: string }>;
  } | null;
  score: DrillScore | null;
}

// The running drill as the console shows it, read from Postgres only: the service that
// serves it runs no drill and evaluates no alert. Its alerts are those the drill runner saw
// fire and not resolve.
export function createDrillView(deps: {
  pool: Pool;
  scenarios: readonly DrillScenario[];
  runbookUrl: (runbook: string) => string;
}) {
  async function current(): Promise<{ drill: DrillView | null }> {
    const drill = await findActiveDrill(deps.pool);
    if (!drill) return { drill: null };
    const scenario = deps.scenarios.find((s) => s.name === drill.scenario);
    const [timeline, check] = await Promise.all([
      listEvents(deps.pool, drill.id),
      findLastCheck(deps.pool, drill.id),
    ]);
    return {
      drill: {
        id: drill.id,
        scenario: drill.scenario,
        state: drill.state,
        started_at: drill.startedAt.toISOString(),
        deadline_at: drill.deadlineAt.toISOString(),
        tenant: drill.tenantSlug,
        symptom: scenario?.symptom ?? null,
        expected_alert: scenario?.alert ?? null,
        runbook_url: scenario ? deps.runbookUrl(scenario.runbook) : null,
        mitigation: scenario?.mitigation ?? null,
        timeline: timeline.map(({ at, kind, message }) => ({ at, kind, message })),
        alerts: firingAlerts(timeline),
        check: check && { at: check.at.toISOString(), passed: check.passed, checks: check.checks },
        score: drill.score,
      },
    };
  }
  return { current };
}

export type DrillViewService = ReturnType<typeof createDrillView>;

// The alerts the timeline holds as firing (alert.firing and alert.already_firing entries
// not yet followed by alert.resolved).
export function firingAlerts(timeline: readonly TimelineEntry[]): DrillAlertView[] {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return [...openAlerts(timeline).values()].map((entry) => ({
    name: String(entry.data?.name),
    state: 'firing',
    severity: text(entry.data?.severity),
    since: text(entry.data?.since) ?? entry.at,
    summary: text(entry.data?.summary),
    runbook_url: text(entry.data?.runbook_url),
  }));
}
