import { describe, expect, it } from 'vitest';
import { openAlerts, recordTransitions } from './drill-alerts.ts';
import type { FiringAlert, TimelineEntry } from './drill-types.ts';

const STARTED = new Date('2026-12-07T10:00:00Z');

function timelineContext() {
  const entries: TimelineEntry[] = [];
  return {
    entries,
    ctx: {
      startedAt: STARTED,
      timeline: async () => [...entries],
      record: async (kind: string, message: string, data?: Record<string, unknown>) => {
        entries.push({ at: new Date().toISOString(), kind, message, ...(data ? { data } : {}) });
      },
    },
  };
}

const alert = (name: string, since: string, labels: Record<string, string> = {}): FiringAlert => ({
  name,
  state: 'firing',
  severity: 'page',
  since,
  summary: null,
  runbook_url: null,
  labels: { alertname: name, ...labels },
});

describe('recordTransitions', () => {
  it('when an alert starts firing after the drill started, then one alert.firing is recorded however often it is seen', async () => {
    const { ctx, entries } = timelineContext();
    const firing = alert('AirlockOutboxLagHigh', '2026-12-07T10:01:00Z');
    await recordTransitions(ctx, [firing]);
    // A second look (the runner after `drill status`, or the next poll) sees it open already.
    await recordTransitions(ctx, [firing]);
    expect(entries.map((e) => e.kind)).toEqual(['alert.firing']);
    expect(entries[0]!.data).toMatchObject({ name: 'AirlockOutboxLagHigh', since: '2026-12-07T10:01:00Z' });
  });

  it('when an alert was active before the drill started, then it is noted as already firing, not as fired by the drill', async () => {
    const { ctx, entries } = timelineContext();
    await recordTransitions(ctx, [alert('AirlockAvailabilityBudgetBurnFast', '2026-12-07T09:40:00Z')]);
    expect(entries.map((e) => e.kind)).toEqual(['alert.already_firing']);
    expect(entries[0]!.message).toContain('already firing before the drill started');
  });

  it('when a firing alert disappears, then it is resolved once; the same rule on another route is its own alert', async () => {
    const { ctx, entries } = timelineContext();
    const post = alert('AirlockLatencyBudgetBurnFast', '2026-12-07T10:02:00Z', { route: '/v1/actions' });
    const get = alert('AirlockLatencyBudgetBurnFast', '2026-12-07T10:02:00Z', { route: '/v1/actions/:id' });
    await recordTransitions(ctx, [post, get]);
    await recordTransitions(ctx, [get]);
    await recordTransitions(ctx, [get]);
    expect(entries.map((e) => [e.kind, (e.data?.labels as Record<string, string>).route])).toEqual([
      ['alert.firing', '/v1/actions'],
      ['alert.firing', '/v1/actions/:id'],
      ['alert.resolved', '/v1/actions'],
    ]);
    expect([...openAlerts(entries).values()].map((e) => e.data?.labels)).toEqual([get.labels]);
  });

  it('when the evaluation failed (null) or an alert is only pending, then nothing is recorded', async () => {
    const { ctx, entries } = timelineContext();
    await recordTransitions(ctx, [alert('A', '2026-12-07T10:01:00Z')]);
    await recordTransitions(ctx, null);
    await recordTransitions(ctx, [
      { ...alert('B', '2026-12-07T10:01:00Z'), state: 'pending' },
      alert('A', '2026-12-07T10:01:00Z'),
    ]);
    expect(entries.map((e) => `${e.kind} ${String(e.data?.name)}`)).toEqual(['alert.firing A']);
  });
});
