import { describe, expect, it } from 'vitest';
import { renderPostmortem } from './drill-postmortem.ts';
import { scoreDrill } from './drill-score.ts';
import type { DrillScenario, TimelineEntry } from './drill-types.ts';
import { firingAlerts } from './drill-view.ts';
import type { Drill } from './drills.repository.ts';

const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 2, 10, 0, seconds)).toISOString();
const entry = (seconds: number, kind: string, data?: Record<string, unknown>): TimelineEntry => ({
  at: at(seconds),
  kind,
  message: `${kind} happened`,
  ...(data ? { data } : {}),
});

const ALERT = 'AirlockAvailabilityBudgetBurnFast';
const timeline: TimelineEntry[] = [
  entry(0, 'drill.started'),
  entry(3, 'fault.injected'),
  entry(40, 'alert.firing', { name: 'AirlockLatencyBudgetBurnFast', labels: { route: '/v1/actions' } }),
  entry(45, 'alert.firing', { name: ALERT, severity: 'page', labels: {} }),
  entry(70, 'detected'),
  entry(80, 'wrong_action'),
  entry(81, 'wrong_action'),
  entry(100, 'mitigation.blocker_terminated'),
  entry(150, 'alert.resolved', { name: ALERT, labels: {} }),
  entry(163, 'check.passed'),
];

describe('drill score', () => {
  it('when the timeline has every mark, then each time counts from the fault and repeated wrong actions count once', () => {
    expect(scoreDrill(timeline, ALERT)).toEqual({
      time_to_fire_s: 42,
      time_to_detect_s: 67,
      time_to_mitigate_s: 97,
      time_to_recover_s: 160,
      wrong_actions: 1,
    });
  });

  it('when another alert fired and nothing was mitigated, then only the fire of the other alert is not counted', () => {
    expect(scoreDrill([entry(0, 'fault.injected'), timeline[2]!], ALERT)).toEqual({
      time_to_fire_s: null,
      time_to_detect_s: null,
      time_to_mitigate_s: null,
      time_to_recover_s: null,
      wrong_actions: 0,
    });
  });

  it('when a scenario records no mitigation, then the passing check is the mitigation', () => {
    const score = scoreDrill([entry(0, 'fault.injected'), entry(30, 'check.passed')], ALERT);
    expect(score.time_to_mitigate_s).toBe(30);
  });
});

describe('the alerts a drill fired', () => {
  it('when an alert fired and resolved, then only those still firing are left, by name and labels', () => {
    expect(firingAlerts(timeline).map((a) => a.name)).toEqual(['AirlockLatencyBudgetBurnFast']);
  });
});

describe('postmortem draft', () => {
  const scenario = {
    name: 'db-slow-queries',
    symptom: 'Proposals fail | with 5xx.',
    alert: ALERT,
    fireWithinSeconds: 90,
    runbook: 'runbooks/x.md',
    mitigation: 'Terminate the blocker.',
  } as DrillScenario;
  const drill = {
    id: '00000000-0000-4000-8000-000000000001',
    scenario: scenario.name,
    tenantSlug: 'drill-x',
    startedAt: new Date(at(0)),
    traffic: { sent: 100, ok: 60, client_errors: 0, server_errors: 40, timeouts: 0, skipped: 0 },
  } as Drill;
  const stopped = { at: at(170), kind: 'drill.stopped', message: 'stopped | clean' };
  const markdown = renderPostmortem({
    drill,
    scenario,
    timeline: [...timeline, stopped],
    score: scoreDrill(timeline, ALERT),
    lastCheck: { passed: true, checks: [{ name: 'blocker gone', passed: true, detail: 'none left' }] },
    runbookUrl: 'http://127.0.0.1:8080/runbooks/x.md',
  });

  it('when rendered, then it follows the template: every section, facts apart from hypotheses, action items', () => {
    for (const heading of [
      '## Summary',
      '## Impact',
      '## Timeline',
      '## Detection',
      '## Mitigation',
      '### Facts',
      '### Hypotheses',
      '## What went well',
      '## What went badly',
      '## Action items',
    ])
      expect(markdown).toContain(`\n${heading}\n`);
    expect(markdown).toContain('| Action | Kind (prevent / detect / mitigate) | Owner | Due | Ticket |');
  });

  it('when rendered, then every timeline entry is a table row and a pipe in a message does not split it', () => {
    const rows = markdown.split('\n').filter((line) => /^\| \d\d:\d\d:\d\d \|/.test(line));
    expect(rows).toHaveLength(timeline.length + 1);
    expect(rows.at(-1)).toBe('| 10:02:50 | `drill.stopped` | stopped \\| clean |');
    expect(markdown).toContain('40 answered 5xx');
    expect(markdown).toContain(`${ALERT} fired 42 s after the fault began`);
    expect(markdown).toContain(drill.id);
  });
});
