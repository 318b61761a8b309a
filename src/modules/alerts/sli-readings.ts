// The SLIs as `drill check` reads them: each SLO's share of bad events over the shortest
// alert window (5 minutes), beside that SLO's error budget. Both are series the shipped rule
// files record (airlock-slo.rules.yml), read from Prometheus or from the local evaluation,
// so the objective lives in the rule files only.
//
// Why not "no fast-burn alert firing": a page's 6h/30m pair keeps firing for up to 30
// minutes after the burn stops (by design: it is the short window that ends it), so an alert
// that paged says little about whether the service is healthy now. Five minutes within the
// objective does.

/** The SLIs' bad-event ratio over the shortest alert window, one series per SLO (and route). */
export const SLI_BAD_RATIO_QUERY = 'airlock:slo_errors:ratio_rate5m';
/** Each SLO's error budget, 1 - objective. */
export const SLO_ERROR_BUDGET_QUERY = 'airlock:slo_error_budget:ratio';
export const SLI_WINDOW = '5m';

export interface SliReading {
  slo: string;
  // The series' other labels, e.g. method and route for the latency SLI.
  labels: Record<string, string>;
  // Share of bad events over the window; null when the window holds no event to judge.
  badRatio: number | null;
  budget: number;
}

interface LabelledValue {
  labels: Record<string, string>;
  value: number;
}

/** Joins the two queries' series by their slo label; a series without a budget is left out. */
export function sliReadings(
  badRatios: readonly LabelledValue[],
  budgets: readonly LabelledValue[],
): SliReading[] {
  const budgetOf = new Map(budgets.map((b) => [b.labels.slo, b.value]));
  const readings: SliReading[] = [];
  for (const series of badRatios) {
    const { slo, __name__: _name, ...labels } = series.labels;
    const budget = slo === undefined ? undefined : budgetOf.get(slo);
    if (slo === undefined || budget === undefined || !Number.isFinite(budget)) continue;
    readings.push({ slo, labels, badRatio: Number.isFinite(series.value) ? series.value : null, budget });
  }
  return readings.sort((a, b) => sliName(a).localeCompare(sliName(b)));
}

export const sliName = (reading: Pick<SliReading, 'slo' | 'labels'>): string =>
  [reading.slo, reading.labels.method, reading.labels.route].filter(Boolean).join(' ');

export const withinObjective = (reading: SliReading): boolean =>
  reading.badRatio === null || reading.badRatio <= reading.budget;
