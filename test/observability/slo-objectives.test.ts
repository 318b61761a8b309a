import { describe, expect, it } from 'vitest';
import { allRules } from './promql-metric-names.ts';

// Each SLO's error budget is recorded once (airlock:slo_error_budget:ratio, read by `drill
// check`), and the burn-rate alerts write their thresholds as "<burn rate> * <budget>". The
// two must name the same budget, or the check and the pages would judge different objectives.

const rules = allRules();
const budgets = new Map(
  rules
    .filter((r) => r.record === 'airlock:slo_error_budget:ratio')
    .map((r) => [r.labels?.slo, Number(/^vector\(([\d.]+)\)$/.exec(r.expr.trim())?.[1])]),
);
const burnAlerts = rules.filter((r) => r.alert && /BudgetBurn(Fast|Slow)$/.test(r.alert));

describe('SLO objectives in the rule files', () => {
  it('when the budgets are read, then every SLO the SLIs record has exactly one budget, a ratio in (0, 1)', () => {
    const slos = new Set(
      rules.filter((r) => r.record === 'airlock:slo_errors:ratio_rate5m').map((r) => r.labels?.slo),
    );
    expect([...slos].sort()).toEqual(['availability', 'freshness', 'latency']);
    expect([...budgets.keys()].sort()).toEqual([...slos].sort());
    expect(rules.filter((r) => r.record === 'airlock:slo_error_budget:ratio')).toHaveLength(slos.size);
    for (const [slo, budget] of budgets) {
      expect(budget, slo).toBeGreaterThan(0);
      expect(budget, slo).toBeLessThan(1);
    }
  });

  it('when a burn-rate alert states its thresholds, then each is a multiple of its own SLO budget', () => {
    expect(burnAlerts.length).toBe(6);
    for (const alert of burnAlerts) {
      const slos = new Set([...alert.expr.matchAll(/slo="(\w+)"/g)].map((m) => m[1]));
      expect(slos.size, alert.alert).toBe(1);
      const budget = budgets.get([...slos][0]);
      const thresholds = [...alert.expr.matchAll(/>\s*\(\s*([\d.]+)\s*\*\s*([\d.]+)\s*\)/g)];
      expect(thresholds.length, alert.alert).toBe(4);
      for (const [, , stated] of thresholds) expect(Number(stated), alert.alert).toBe(budget);
    }
  });
});
