import { describe, expect, it } from 'vitest';
import { sliName, sliReadings, withinObjective } from './sli-readings.ts';

const budgets = [
  { labels: { __name__: 'airlock:slo_error_budget:ratio', slo: 'availability' }, value: 0.001 },
  { labels: { __name__: 'airlock:slo_error_budget:ratio', slo: 'latency' }, value: 0.01 },
];

describe('sliReadings', () => {
  it('when bad ratios and budgets are joined, then each SLI carries its own SLO budget and its other labels', () => {
    const readings = sliReadings(
      [
        { labels: { __name__: 'airlock:slo_errors:ratio_rate5m', slo: 'availability' }, value: 0.002 },
        {
          labels: { slo: 'latency', method: 'POST', route: '/v1/actions' },
          value: 0.005,
        },
      ],
      budgets,
    );
    expect(readings).toEqual([
      { slo: 'availability', labels: {}, badRatio: 0.002, budget: 0.001 },
      { slo: 'latency', labels: { method: 'POST', route: '/v1/actions' }, badRatio: 0.005, budget: 0.01 },
    ]);
    expect(readings.map(withinObjective)).toEqual([false, true]);
    expect(readings.map(sliName)).toEqual(['availability', 'latency POST /v1/actions']);
  });

  it('when a window holds no event (NaN), then the SLI is unjudged and counts as within objective', () => {
    const [reading] = sliReadings([{ labels: { slo: 'availability' }, value: NaN }], budgets);
    expect(reading).toMatchObject({ badRatio: null });
    expect(withinObjective(reading!)).toBe(true);
  });

  it('when a series has no slo label or no recorded budget, then it is left out rather than judged against nothing', () => {
    expect(
      sliReadings(
        [
          { labels: {}, value: 1 },
          { labels: { slo: 'freshness' }, value: 1 },
        ],
        budgets,
      ),
    ).toEqual([]);
  });

  it('when the ratio equals the budget, then it is within objective (the objective is "at most")', () => {
    const [reading] = sliReadings([{ labels: { slo: 'latency' }, value: 0.01 }], budgets);
    expect(withinObjective(reading!)).toBe(true);
  });
});
