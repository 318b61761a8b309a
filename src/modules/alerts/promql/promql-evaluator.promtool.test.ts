// A differential test of the PromQL evaluator against Prometheus itself: series with counter
// resets, gaps, staleness markers, histograms and several label sets, and one expression for
// every operator, modifier and function the evaluator implements, each at several instants.
// promtool is asked for each answer (a promql_expr_test expecting nothing prints what it
// got) and the evaluator must give the same samples, labels and values.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { stringify } from 'yaml';
import { itWithTool, run, toolVersion } from '../../../../test/deploy/deploy-tools.ts';
import { parsePromql } from './promql-ast.ts';
import { PromqlEvaluator } from './promql-evaluator.ts';
import { SeriesStore, type Labels } from './series-store.ts';

const promtool = toolVersion('promtool');
const STEP_MS = 60_000;

// A deterministic generator, so a failure reproduces.
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const random = lcg(42);
const counter = (length: number, resetAt?: number) => {
  let value = Math.floor(random() * 50);
  return Array.from({ length }, (_, i) => {
    value = i === resetAt ? Math.floor(random() * 5) : value + Math.floor(random() * 40);
    return String(value);
  });
};
const gauge = (length: number) => Array.from({ length }, () => (random() * 100).toFixed(2));

const SERIES: { series: string; values: string[] }[] = [
  { series: 'req_total{job="api",instance="a:1",route="/x",code="200"}', values: counter(30) },
  { series: 'req_total{job="api",instance="a:1",route="/x",code="500"}', values: counter(30, 12) },
  { series: 'req_total{job="api",instance="b:1",route="/y",code="200"}', values: counter(30, 20) },
  // Gaps (missed scrapes) and a staleness marker in the middle.
  {
    series: 'req_total{job="worker",instance="w:1",route="/x",code="200"}',
    values: [...counter(8), '_', '_', ...counter(6), 'stale', ...counter(14)],
  },
  { series: 'temp{job="api",instance="a:1"}', values: gauge(30) },
  { series: 'temp{job="api",instance="b:1"}', values: [...gauge(10), 'stale', '_', '_', ...gauge(17)] },
  { series: 'temp{job="worker",instance="w:1"}', values: gauge(18) }, // ends early: lookback
  { series: 'limit{job="api"}', values: gauge(30) },
  { series: 'limit{job="worker"}', values: gauge(30) },
  ...['0.1', '0.5', '1', '+Inf'].map((le, i) => ({
    series: `lat_bucket{job="api",le="${le}"}`,
    values: Array.from({ length: 30 }, (_, t) => String(t * (10 + 5 * i))),
  })),
];

const EXPRESSIONS = [
  'req_total',
  'req_total{code=~"5.."}',
  'req_total{route!="/x",code!~"2.*"}',
  'rate(req_total[5m])',
  'increase(req_total[3m])',
  'rate(req_total[5m] offset 2m)',
  'req_total offset 4m',
  'delta(temp[4m])',
  'max_over_time(temp[3m])',
  'min_over_time(temp[3m])',
  'avg_over_time(temp[5m])',
  'sum_over_time(temp[2m])',
  'count_over_time(temp[4m])',
  'last_over_time(temp[4m])',
  'sum(rate(req_total[5m]))',
  'sum by (job) (rate(req_total[5m]))',
  'max without (instance, code) (req_total)',
  'min by (route) (req_total)',
  'avg by (job) (temp)',
  'count by (job, route) (req_total)',
  'sum by (le) (rate(lat_bucket[5m]))',
  'req_total > 100',
  'req_total > bool 100',
  '100 < req_total',
  '-temp',
  'temp % 7',
  'temp ^ 2',
  'round(temp, 0.5)',
  'round(rate(req_total[5m]), 0.01)',
  'temp / on(job) group_left limit',
  'limit * on(job) group_right temp',
  // Errors: both sides must refuse these, with the same message.
  'limit * on(job) group_right(instance) temp',
  'temp * on(job) limit',
  'req_total + on(route) temp',
  'temp > on(job) group_left limit',
  'sum by (job) (temp) / ignoring(job) group_left sum(limit)',
  'sum by (job) (rate(req_total[5m])) / on(job) sum by (job) (temp)',
  'sum by (job) (temp) > bool on(job) sum by (job) (limit)',
  'req_total and on(instance) temp',
  'req_total unless on(code) req_total{code="500"}',
  'temp or limit',
  'sum(rate(req_total{code="418"}[5m])) or on() vector(0)',
  'sum(rate(req_total[5m])) / on() vector(0)',
  'absent(req_total{code="418"})',
  'absent(req_total)',
  'vector(3) * 2',
  'time()',
  '14.4 * 0.01',
  'lat_bucket{le=~"0\\\\.5|1"}',
];
const EVAL_TIMES = ['3m', '9m', '11m', '12m', '13m', '16m', '17m', '22m', '29m', '33m'];

type Got = Map<string, { labels: string; value: number }[] | { error: string }>;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

// promtool's report of a failed expression test: `expr: "<expr>", time: <t>,` then `got: …`.
function parsePromtoolOutput(output: string): Got {
  const got: Got = new Map();
  const block = /expr: ("(?:[^"\\]|\\.)*"), time: (\S+),\n\s*exp: .*\n\s*got: (.*)/g;
  for (const match of output.matchAll(block)) {
    const samples = [...match[3]!.matchAll(/(\{[^}]*\}) (\S+?)(?:, |$)/g)].map((m) => ({
      labels: canonical(m[1]!),
      value: parseValue(m[2]!),
    }));
    got.set(`${JSON.parse(match[1]!) as string}@${match[2]}`, samples);
  }
  for (const match of output.matchAll(/expr: ("(?:[^"\\]|\\.)*"), time: (\S+), err: (.*)/g)) {
    got.set(`${JSON.parse(match[1]!) as string}@${match[2]}`, { error: match[3]!.trim() });
  }
  return got;
}

// {a="x", b="1"} as promtool prints it, as a sorted, comparable string.
function canonical(text: string): string {
  const pairs = [...text.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}=${m[2]}`);
  return pairs.sort().join(',');
}

const labelsText = (labels: Labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}`)
    .sort()
    .join(',');

describe('the PromQL evaluator against promtool', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-promql-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itWithTool(
    'promtool',
    Boolean(promtool),
    `when ${EXPRESSIONS.length} expressions are evaluated at ${EVAL_TIMES.length} instants, then every answer is promtool's`,
    () => {
      writeFileSync(path.join(dir, 'rules.yml'), 'groups: []\n');
      const spec = {
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: SERIES.map((s) => ({ series: s.series, values: s.values.join(' ') })),
            promql_expr_test: EXPRESSIONS.flatMap((expr) =>
              EVAL_TIMES.map((eval_time) => ({ expr, eval_time, exp_samples: [] })),
            ),
          },
        ],
      };
      writeFileSync(path.join(dir, 'test.yml'), stringify(spec));
      const result = run('promtool', ['test', 'rules', 'test.yml'], { cwd: dir });
      expect(result.output).not.toMatch(/could not|parse error/i);
      const expected = parsePromtoolOutput(result.output);
      // Most answers are non-empty; an answer promtool did not print was empty.
      expect(expected.size).toBeGreaterThan(EXPRESSIONS.length * EVAL_TIMES.length * 0.6);

      const store = new SeriesStore({ maxSeries: 1_000 });
      for (const s of SERIES) {
        const selector = parsePromql(s.series);
        if (selector.kind !== 'vector') throw new Error(s.series);
        const labels = Object.fromEntries(selector.matchers.map((m) => [m.name, m.value]));
        s.values.forEach((v, i) => {
          if (v !== '_') store.append(labels, i * STEP_MS, v === 'stale' ? 'stale' : parseValue(v));
        });
      }
      const evaluator = new PromqlEvaluator(store);
      const minutes = (t: string) => Number(t.slice(0, -1)) * 60_000;
      for (const expr of EXPRESSIONS) {
        const ast = parsePromql(expr);
        for (const time of EVAL_TIMES) {
          const what = `${expr} at ${time}`;
          const answer = expected.get(`${expr}@${time}`) ?? [];
          if (!Array.isArray(answer)) {
            // Prometheus' message goes on to list the series; the reason is what must agree.
            const reason = answer.error.split(/[{:]/)[0]!.trim();
            expect(() => evaluator.evaluate(ast, minutes(time)), what).toThrow(reason);
            continue;
          }
          let value: ReturnType<typeof evaluator.evaluate>;
          try {
            value = evaluator.evaluate(ast, minutes(time));
          } catch (err) {
            throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
          }
          const got =
            value.type === 'scalar'
              ? [{ labels: '', value: value.value }]
              : value.type === 'vector'
                ? value.samples.map((s) => ({ labels: labelsText(s.labels), value: s.value }))
                : [];
          const want = answer;
          expect(got.map((s) => s.labels).sort(), what).toEqual(want.map((s) => s.labels).sort());
          for (const w of want) {
            const g = got.find((s) => s.labels === w.labels)!.value;
            if (Number.isNaN(w.value) || !Number.isFinite(w.value)) expect(g, what).toBe(w.value);
            else
              expect(Math.abs(g - w.value), `${what} ${w.labels}: ${g} vs ${w.value}`).toBeLessThanOrEqual(
                Math.abs(w.value) * 1e-12,
              );
          }
        }
      }
    },
  );
});
