import { describe, expect, it } from 'vitest';
import {
  compileRuleFile,
  loadRuleFiles,
  RuleFileError,
  scaleRuleDurations,
  selectedMetricNames,
} from './rule-files.ts';

const file = (rules: string, group = '') => `groups:\n  - name: g\n${group}    rules:\n${rules}`;

describe('rule files', () => {
  it('when the shipped rule files load, then every rule compiles and the rules name the metrics to keep', async () => {
    const groups = await loadRuleFiles();
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.kind === 'alert').length).toBeGreaterThan(10);
    expect(rules.filter((r) => r.kind === 'record').length).toBeGreaterThan(10);
    const names = selectedMetricNames(groups)!;
    expect(names).toContain('http_server_request_duration_seconds_count');
    expect(names).toContain('up');
  });

  it('when a rule uses PromQL or a template the evaluator lacks, then loading fails and names the rule', () => {
    const unsupported = file(
      '      - alert: A\n        expr: histogram_quantile(0.9, rate(x_bucket[5m])) > 1\n',
    );
    expect(() => compileRuleFile('x.yml', unsupported)).toThrow(
      /rule A: unsupported PromQL function histogram_quantile/,
    );
    const template = file(
      "      - alert: B\n        expr: x > 1\n        annotations:\n          summary: '{{ $value | title }}'\n",
    );
    expect(() => compileRuleFile('x.yml', template)).toThrow(RuleFileError);
    const paced = file('      - record: r\n        expr: sum(x)\n', '    interval: 1m\n');
    expect(() => compileRuleFile('x.yml', paced)).toThrow(/interval and limit are not supported/);
    const keep = file('      - alert: C\n        expr: x > 1\n        keep_firing_for: 5m\n');
    expect(() => compileRuleFile('x.yml', keep)).toThrow(/keep_firing_for/);
  });

  it('when durations are scaled for a test, then ranges, offsets and for: shrink and nothing else changes', () => {
    const [group] = compileRuleFile(
      'x.yml',
      file(
        '      - alert: D\n        expr: rate(x[5m] offset 1m) > 1\n        for: 2m\n        labels: { severity: page }\n',
      ),
    );
    const [scaled] = scaleRuleDurations([group!], 60);
    const rule = scaled!.rules[0]!;
    expect(rule.kind === 'alert' && rule.forMs).toBe(2_000);
    expect(rule.expr).toMatchObject({
      lhs: { args: [{ rangeMs: 5_000, selector: { offsetMs: 1_000 } }] },
      rhs: { value: 1 },
    });
    expect(rule.labels).toEqual({ severity: 'page' });
  });
});
