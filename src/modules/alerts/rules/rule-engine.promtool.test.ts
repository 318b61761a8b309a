// The local evaluation is Prometheus' logic only if it reaches Prometheus' answers. Every
// promtool unit test shipped in observability/prometheus/tests is replayed here through the
// rule engine: the same rule files, the same input series, the same evaluation steps, and
// the same expected alerts (labels and rendered annotations) and expression samples that
// promtool checks. promtool itself runs on the same files first, so the expectations are
// known to be Prometheus' own.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { itWithTool, run, toolVersion } from '../../../../test/deploy/deploy-tools.ts';
import { parseDuration, parsePromql } from '../promql/promql-ast.ts';
import { PromqlEvaluator } from '../promql/promql-evaluator.ts';
import { SeriesStore, type Labels } from '../promql/series-store.ts';
import { compileRuleFile, loadRuleFiles } from './rule-files.ts';
import { RuleEngine, type AlertState } from './rule-engine.ts';

const TESTS_DIR = path.join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'observability',
  'prometheus',
  'tests',
);
const promtool = toolVersion('promtool');

interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: {
    name?: string;
    external_labels?: Record<string, string>;
    interval?: string;
    input_series?: { series: string; values: string }[];
    alert_rule_test?: {
      eval_time: string;
      alertname: string;
      exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
    }[];
    promql_expr_test?: {
      expr: string;
      eval_time: string;
      exp_samples?: { labels: string; value: number | string }[];
    }[];
  }[];
}

// promtool's series notation: "a+bxn" is a then n more samples adding b each time, "axn"
// is a+0xn, "_" a missed scrape ("_xn" n of them), "stale" a staleness marker.
function expandValues(text: string): (number | '_' | 'stale')[] {
  const out: (number | '_' | 'stale')[] = [];
  for (const token of text.trim().split(/\s+/)) {
    if (token === '_' || token === 'stale') {
      out.push(token);
      continue;
    }
    const missing = /^_x(\d+)$/.exec(token);
    if (missing) {
      for (let i = 0; i < Number(missing[1]); i++) out.push('_');
      continue;
    }
    const expanding = /^([-+]?[\d.eE]+|[-+]?Inf|NaN)(?:([-+])([\d.eE]+))?x(\d+)$/.exec(token);
    if (expanding) {
      const [, start, sign, step, times] = expanding;
      const delta = step === undefined ? 0 : (sign === '-' ? -1 : 1) * Number(step);
      let value = Number(start);
      for (let i = 0; i <= Number(times); i++) {
        out.push(value);
        value += delta;
      }
      continue;
    }
    out.push(Number(token));
  }
  return out;
}

// A series as promtool writes one: 'name{a="b"}', or '{a="b"}' for a series without a name.
function seriesLabels(text: string): Labels {
  const nameless = text.trim().startsWith('{');
  const expr = parsePromql(nameless ? `placeholder${text}` : text);
  if (expr.kind !== 'vector') throw new Error(`not a series: ${text}`);
  return Object.fromEntries(
    expr.matchers.filter((m) => !(nameless && m.name === '__name__')).map((m) => [m.name, m.value]),
  );
}

const sortedJson = (labels: Labels) => JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

const testFiles = readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yml'));

describe('the local rule evaluation against promtool', () => {
  itWithTool(
    'promtool',
    Boolean(promtool),
    'when promtool runs the shipped rule tests, then they pass',
    () => {
      const result = run('promtool', ['test', 'rules', ...testFiles], { cwd: TESTS_DIR });
      expect(result.status, result.output).toBe(0);
    },
  );

  it('when the shipped rules are listed, then every alert fires in at least one replayed test', async () => {
    const alerts = (await loadRuleFiles()).flatMap((g) =>
      g.rules.filter((r) => r.kind === 'alert').map((r) => r.name),
    );
    const fired = new Set(
      testFiles.flatMap((file) =>
        (parseYaml(readFileSync(path.join(TESTS_DIR, file), 'utf8')) as PromtoolTestFile).tests.flatMap((t) =>
          (t.alert_rule_test ?? []).filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname),
        ),
      ),
    );
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.filter((name) => !fired.has(name))).toEqual([]);
  });

  for (const file of testFiles) {
    const spec = parseYaml(readFileSync(path.join(TESTS_DIR, file), 'utf8')) as PromtoolTestFile;
    const groups = spec.rule_files.flatMap((ruleFile) => {
      const full = path.resolve(TESTS_DIR, ruleFile);
      return compileRuleFile(full, readFileSync(full, 'utf8'));
    });
    const evalInterval = parseDuration(spec.evaluation_interval ?? '1m');

    for (const [index, test] of spec.tests.entries()) {
      it(`${file} #${index + 1} ${test.name ?? ''}: the same alerts fire at the same times, with the same text`, () => {
        const store = new SeriesStore({ maxSeries: 100_000 });
        const interval = parseDuration(test.interval ?? '1m');
        const inputs = (test.input_series ?? []).map((s) => ({
          labels: seriesLabels(s.series),
          values: expandValues(s.values),
        }));
        const alertTests = test.alert_rule_test ?? [];
        const exprTests = test.promql_expr_test ?? [];
        const evalTimes = [...alertTests, ...exprTests].map((t) => parseDuration(t.eval_time));
        const end = Math.max(0, ...evalTimes);
        const engine = new RuleEngine(groups, store, { externalLabels: test.external_labels });
        const firingAt = new Map<number, AlertState[]>();
        let loadedUpTo = -1;
        for (let ts = 0; ts <= end; ts += evalInterval) {
          // Samples up to this instant, as promtool appends them before each evaluation.
          for (const input of inputs) {
            input.values.forEach((value, i) => {
              const t = i * interval;
              if (t <= loadedUpTo || t > ts || value === '_') return;
              store.append(input.labels, t, value);
            });
          }
          loadedUpTo = ts;
          const result = engine.evaluate(ts);
          expect(result.failures).toEqual([]);
          firingAt.set(
            ts,
            result.alerts.filter((a) => a.state === 'firing'),
          );
        }
        for (const check of alertTests) {
          const at = parseDuration(check.eval_time);
          const evaluatedAt = Math.floor(at / evalInterval) * evalInterval;
          const got = (firingAt.get(evaluatedAt) ?? [])
            .filter((a) => a.name === check.alertname)
            .map((a) => ({ labels: sortedJson(a.labels), annotations: a.annotations }));
          const expected = (check.exp_alerts ?? []).map((a) => ({
            labels: sortedJson({ ...a.exp_labels, alertname: check.alertname }),
            annotations: a.exp_annotations ?? {},
          }));
          const byLabels = (a: { labels: string }, b: { labels: string }) => a.labels.localeCompare(b.labels);
          expect(got.sort(byLabels), `${check.alertname} at ${check.eval_time}`).toEqual(
            expected.sort(byLabels),
          );
        }
        const evaluator = new PromqlEvaluator(store);
        for (const check of exprTests) {
          const value = evaluator.evaluate(parsePromql(check.expr), parseDuration(check.eval_time));
          const got =
            value.type === 'scalar'
              ? [{ labels: '{}', value: value.value }]
              : value.type === 'vector'
                ? value.samples.map((s) => ({ labels: sortedJson(s.labels), value: s.value }))
                : [];
          const expected = (check.exp_samples ?? []).map((s) => ({
            labels: sortedJson(seriesLabels(s.labels)),
            value: Number(s.value),
          }));
          const what = `${check.expr.trim()} at ${check.eval_time}`;
          expect(got.map((s) => s.labels).sort(), what).toEqual(expected.map((s) => s.labels).sort());
          for (const e of expected) {
            const g = got.find((s) => s.labels === e.labels)!;
            expect(g.value, what).toBeCloseTo(e.value, 9);
          }
        }
      });
    }
  }
});
