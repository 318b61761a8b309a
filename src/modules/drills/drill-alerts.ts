// How a drill's timeline records alerts: one alert.firing (or alert.already_firing, for one
// that fired before the drill) when an alert starts firing, one alert.resolved when it
// stops. An alert is known by its name and labels (one rule can fire per route).
import type { DrillContext, FiringAlert, TimelineEntry } from './drill-types.ts';

const sorted = (labels: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

export const alertKey = (alert: { name: string; labels: Record<string, string> }): string =>
  `${alert.name}${JSON.stringify(sorted(alert.labels))}`;

/** What a firing entry carries: enough for the postmortem and the console. */
export const alertData = (alert: FiringAlert): Record<string, unknown> => ({
  name: alert.name,
  severity: alert.severity,
  since: alert.since,
  summary: alert.summary,
  runbook_url: alert.runbook_url,
  labels: alert.labels,
});

/** The alerts the timeline holds as firing now: key → the entry that opened it. */
export function openAlerts(timeline: readonly TimelineEntry[]): Map<string, TimelineEntry> {
  const open = new Map<string, TimelineEntry>();
  for (const entry of timeline) {
    const name = entry.data?.name;
    if (typeof name !== 'string') continue;
    const key = alertKey({ name, labels: labelsOf(entry) });
    if (entry.kind === 'alert.firing' || entry.kind === 'alert.already_firing') open.set(key, entry);
    else if (entry.kind === 'alert.resolved') open.delete(key);
  }
  return open;
}

export const labelsOf = (entry: TimelineEntry): Record<string, string> =>
  (entry.data?.labels as Record<string, string> | undefined) ?? {};

// Records what changed since the timeline's last look: only firing alerts are transitions
// worth a line, pending ones may never fire. What is open is read from the
// timeline, not held here: `drill status` may have recorded a firing first (it reads the
// source directly), and a restarted runner carries on where the last one stopped. An alert
// that was already firing before the drill started is noted as such, not as fired by this
// drill's fault. A failed evaluation (null) changes nothing: the evaluation being down is not
// every alert resolving.
export async function recordTransitions(
  ctx: Pick<DrillContext, 'record' | 'timeline' | 'startedAt'>,
  alerts: FiringAlert[] | null,
): Promise<void> {
  if (!alerts) return;
  const open = openAlerts(await ctx.timeline());
  const now = new Map(alerts.filter((a) => a.state === 'firing').map((a) => [alertKey(a), a]));
  for (const [key, alert] of now) {
    if (open.has(key)) continue;
    const before = Date.parse(alert.since) < ctx.startedAt.getTime();
    await ctx.record(
      before ? 'alert.already_firing' : 'alert.firing',
      before
        ? `${alert.name} was already firing before the drill started (since ${alert.since}).`
        : `${alert.name} is firing${alert.summary ? `: ${alert.summary}` : ''}.`,
      alertData(alert),
    );
  }
  for (const [key, entry] of open) {
    if (now.has(key)) continue;
    const name = String(entry.data?.name);
    await ctx.record('alert.resolved', `${name} resolved.`, { name, labels: labelsOf(entry) });
  }
}
