// Evaluates the PromQL subset of promql-ast.ts at one instant, with the semantics of
// Prometheus 2 (Debian's promtool 2.42, which the cross-check test runs): closed range and
// lookback windows, rate()/increase()/delta() extrapolated to the window's edges, vector
// matching on all labels but the metric name unless on()/ignoring() say otherwise, and the
// metric name dropped by arithmetic, by `bool` comparisons and by the range functions.
import { PromqlError, type Expr, type BinaryOp, type VectorMatching } from './promql-ast.ts';
import { labelsKey, type Labels, type SeriesPoints, type SeriesStore } from './series-store.ts';

export interface Sample {
  labels: Labels;
  value: number;
}

export type Value =
  | { type: 'scalar'; value: number }
  | { type: 'vector'; samples: Sample[] }
  | { type: 'matrix'; series: SeriesPoints[]; rangeMs: number; endMs: number };

type Vector = Sample[];

const ARITHMETIC: ReadonlySet<BinaryOp> = new Set(['+', '-', '*', '/', '%', '^']);
const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless']);

function withoutName(labels: Labels): Labels {
  if (!('__name__' in labels)) return labels;
  const { __name__: _name, ...rest } = labels;
  return rest;
}

function pick(labels: Labels, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (labels[name] !== undefined && labels[name] !== '') out[name] = labels[name]!;
  return out;
}

function omit(labels: Labels, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const name of names) delete out[name];
  return out;
}

// The labels two sides are matched on: only the on() labels, or all but the ignoring()
// labels and the metric name.
function signature(labels: Labels, matching: Pick<VectorMatching, 'on' | 'labels'>): string {
  return labelsKey(
    matching.on ? pick(labels, matching.labels) : omit(labels, ['__name__', ...matching.labels]),
  );
}

function arithmetic(op: BinaryOp, lhs: number, rhs: number): number {
  switch (op) {
    case '+':
      return lhs + rhs;
    case '-':
      return lhs - rhs;
    case '*':
      return lhs * rhs;
    case '/':
      return lhs / rhs;
    case '%':
      return lhs % rhs;
    case '^':
      return lhs ** rhs;
    default:
      throw new PromqlError(`not an arithmetic operator: ${op}`);
  }
}

function compare(op: BinaryOp, lhs: number, rhs: number): boolean {
  switch (op) {
    case '==':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
    case '>':
      return lhs > rhs;
    case '<':
      return lhs < rhs;
    case '>=':
      return lhs >= rhs;
    case '<=':
      return lhs <= rhs;
    default:
      throw new PromqlError(`not a comparison operator: ${op}`);
  }
}

// Prometheus' extrapolatedRate (promql/functions.go, v2.42): the increase between the first
// and last sample in the window, corrected for counter resets, extrapolated towards the
// window's edges (by at most half a sample interval where the series does not reach them,
// and never below zero for a counter), per second for rate().
function extrapolatedRate(
  series: SeriesPoints,
  rangeMs: number,
  endMs: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const { timestamps, values } = series;
  const n = timestamps.length;
  if (n < 2) return undefined;
  const rangeStart = endMs - rangeMs;
  let result = values[n - 1]! - values[0]!;
  if (isCounter) {
    let last = 0;
    for (const v of values) {
      if (v < last) result += last;
      last = v;
    }
  }
  let durationToStart = (timestamps[0]! - rangeStart) / 1000;
  const durationToEnd = (endMs - timestamps[n - 1]!) / 1000;
  const sampledInterval = (timestamps[n - 1]! - timestamps[0]!) / 1000;
  const averageInterval = sampledInterval / (n - 1);
  if (isCounter && result > 0 && values[0]! >= 0) {
    const durationToZero = sampledInterval * (values[0]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageInterval * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageInterval / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageInterval / 2;
  result *= extrapolateTo / sampledInterval;
  return isRate ? result / (rangeMs / 1000) : result;
}

type OverTime = (values: readonly number[]) => number;

const OVER_TIME: Record<string, OverTime> = {
  max_over_time: (vs) => vs.reduce((max, v) => (v > max || Number.isNaN(max) ? v : max)),
  min_over_time: (vs) => vs.reduce((min, v) => (v < min || Number.isNaN(min) ? v : min)),
  avg_over_time: (vs) => vs.reduce((sum, v) => sum + v, 0) / vs.length,
  sum_over_time: (vs) => vs.reduce((sum, v) => sum + v, 0),
  count_over_time: (vs) => vs.length,
  last_over_time: (vs) => vs.at(-1)!,
};

const RATE_FUNCTIONS: Record<string, { isCounter: boolean; isRate: boolean }> = {
  rate: { isCounter: true, isRate: true },
  increase: { isCounter: true, isRate: false },
  delta: { isCounter: false, isRate: false },
};

/** The functions the evaluator implements; a rule using any other fails to load. */
export const SUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  ...Object.keys(OVER_TIME),
  ...Object.keys(RATE_FUNCTIONS),
  'vector',
  'absent',
  'time',
  'round',
]);

/** Checks, before any evaluation, that an expression uses only what the evaluator implements. */
export function assertSupported(expr: Expr): void {
  switch (expr.kind) {
    case 'call':
      if (!SUPPORTED_FUNCTIONS.has(expr.func))
        throw new PromqlError(`unsupported PromQL function ${expr.func}()`);
      expr.args.forEach(assertSupported);
      return;
    case 'aggregate':
    case 'negate':
      assertSupported(expr.expr);
      return;
    case 'binary':
      assertSupported(expr.lhs);
      assertSupported(expr.rhs);
      return;
    default:
      return;
  }
}

function assertUniqueLabelSets(vector: Vector, what: string): Vector {
  const seen = new Set<string>();
  for (const s of vector) {
    const key = labelsKey(s.labels);
    if (seen.has(key)) throw new PromqlError(`${what}: vector cannot contain metrics with the same labelset`);
    seen.add(key);
  }
  return vector;
}

export class PromqlEvaluator {
  private readonly store: SeriesStore;

  constructor(store: SeriesStore) {
    this.store = store;
  }

  /** Evaluates an expression at `t` (ms) as an instant query. */
  evaluate(expr: Expr, t: number): Value {
    switch (expr.kind) {
      case 'number':
        return { type: 'scalar', value: expr.value };
      case 'string':
        throw new PromqlError('a string is not a valid expression result');
      case 'vector':
        return { type: 'vector', samples: this.store.instant(expr.matchers, t - expr.offsetMs) };
      case 'matrix': {
        const end = t - expr.selector.offsetMs;
        return {
          type: 'matrix',
          series: this.store.range(expr.selector.matchers, end - expr.rangeMs, end),
          rangeMs: expr.rangeMs,
          endMs: end,
        };
      }
      case 'negate': {
        const inner = this.evaluate(expr.expr, t);
        if (inner.type === 'scalar') return { type: 'scalar', value: -inner.value };
        return {
          type: 'vector',
          samples: this.vectorOf(inner).map((s) => ({ labels: withoutName(s.labels), value: -s.value })),
        };
      }
      case 'call':
        return this.call(expr.func, expr.args, t);
      case 'aggregate':
        return { type: 'vector', samples: this.aggregate(expr, this.vectorOf(this.evaluate(expr.expr, t))) };
      case 'binary':
        return this.binary(expr, t);
    }
  }

  private vectorOf(value: Value): Vector {
    if (value.type !== 'vector') throw new PromqlError(`expected an instant vector, got a ${value.type}`);
    return value.samples;
  }

  private scalarOf(value: Value): number {
    if (value.type !== 'scalar') throw new PromqlError(`expected a scalar, got a ${value.type}`);
    return value.value;
  }

  private call(func: string, args: readonly Expr[], t: number): Value {
    const rate = RATE_FUNCTIONS[func];
    const overTime = OVER_TIME[func];
    if (rate || overTime) {
      const arg = args.length === 1 ? this.evaluate(args[0]!, t) : undefined;
      if (arg?.type !== 'matrix') throw new PromqlError(`${func}() takes one range vector`);
      const samples: Sample[] = [];
      for (const series of arg.series) {
        const value = rate
          ? extrapolatedRate(series, arg.rangeMs, arg.endMs, rate.isCounter, rate.isRate)
          : overTime!(series.values);
        const labels = func === 'last_over_time' ? series.labels : withoutName(series.labels);
        if (value !== undefined) samples.push({ labels, value });
      }
      return { type: 'vector', samples: assertUniqueLabelSets(samples, `${func}()`) };
    }
    switch (func) {
      case 'vector':
        return {
          type: 'vector',
          samples: [{ labels: {}, value: this.scalarOf(this.evaluate(args[0]!, t)) }],
        };
      case 'time':
        return { type: 'scalar', value: t / 1000 };
      case 'round': {
        // Prometheus rounds half up, to the nearest multiple of the optional second argument.
        const inverse = args[1] ? 1 / this.scalarOf(this.evaluate(args[1], t)) : 1;
        const samples = this.vectorOf(this.evaluate(args[0]!, t)).map((s) => ({
          labels: withoutName(s.labels),
          value: Math.floor(s.value * inverse + 0.5) / inverse,
        }));
        return { type: 'vector', samples };
      }
      case 'absent': {
        const [arg] = args;
        if (!arg || this.vectorOf(this.evaluate(arg, t)).length > 0) return { type: 'vector', samples: [] };
        // Like Prometheus, the result carries the labels the selector pins with "=".
        const labels: Record<string, string> = {};
        if (arg.kind === 'vector')
          for (const m of arg.matchers) if (m.op === '=' && m.name !== '__name__') labels[m.name] = m.value;
        return { type: 'vector', samples: [{ labels, value: 1 }] };
      }
      default:
        throw new PromqlError(`unsupported PromQL function ${func}()`);
    }
  }

  private aggregate(expr: Extract<Expr, { kind: 'aggregate' }>, input: Vector): Vector {
    const groups = new Map<string, { labels: Labels; values: number[] }>();
    for (const s of input) {
      const labels = expr.without
        ? omit(s.labels, ['__name__', ...(expr.grouping ?? [])])
        : pick(s.labels, expr.grouping ?? []);
      const key = labelsKey(labels);
      const group = groups.get(key);
      if (group) group.values.push(s.value);
      else groups.set(key, { labels, values: [s.value] });
    }
    return [...groups.values()].map(({ labels, values }) => {
      switch (expr.op) {
        case 'sum':
          return { labels, value: values.reduce((a, b) => a + b, 0) };
        case 'avg':
          return { labels, value: values.reduce((a, b) => a + b, 0) / values.length };
        case 'count':
          return { labels, value: values.length };
        case 'max':
          return { labels, value: values.reduce((m, v) => (m < v || Number.isNaN(m) ? v : m)) };
        case 'min':
          return { labels, value: values.reduce((m, v) => (m > v || Number.isNaN(m) ? v : m)) };
      }
    });
  }

  private binary(expr: Extract<Expr, { kind: 'binary' }>, t: number): Value {
    const lhs = this.evaluate(expr.lhs, t);
    const rhs = this.evaluate(expr.rhs, t);
    const { op, returnBool } = expr;
    if (SET_OPS.has(op))
      return {
        type: 'vector',
        samples: this.setOperation(op, this.vectorOf(lhs), this.vectorOf(rhs), expr.matching),
      };
    if (lhs.type === 'scalar' && rhs.type === 'scalar') {
      if (ARITHMETIC.has(op)) return { type: 'scalar', value: arithmetic(op, lhs.value, rhs.value) };
      if (!returnBool) throw new PromqlError('comparisons between scalars must use bool');
      return { type: 'scalar', value: compare(op, lhs.value, rhs.value) ? 1 : 0 };
    }
    if (lhs.type === 'scalar' || rhs.type === 'scalar') {
      const scalarOnLeft = lhs.type === 'scalar';
      const scalar = this.scalarOf(scalarOnLeft ? lhs : rhs);
      const vector = this.vectorOf(scalarOnLeft ? rhs : lhs);
      const samples: Sample[] = [];
      for (const s of vector) {
        const [l, r] = scalarOnLeft ? [scalar, s.value] : [s.value, scalar];
        if (ARITHMETIC.has(op)) {
          samples.push({ labels: withoutName(s.labels), value: arithmetic(op, l, r) });
        } else if (returnBool) {
          samples.push({ labels: withoutName(s.labels), value: compare(op, l, r) ? 1 : 0 });
        } else if (compare(op, l, r)) {
          samples.push(s);
        }
      }
      return { type: 'vector', samples };
    }
    return { type: 'vector', samples: this.vectorMatch(expr, this.vectorOf(lhs), this.vectorOf(rhs)) };
  }

  private setOperation(op: BinaryOp, lhs: Vector, rhs: Vector, matching: VectorMatching): Vector {
    const rightSigs = new Set(rhs.map((s) => signature(s.labels, matching)));
    switch (op) {
      case 'and':
        return lhs.filter((s) => rightSigs.has(signature(s.labels, matching)));
      case 'unless':
        return lhs.filter((s) => !rightSigs.has(signature(s.labels, matching)));
      default: {
        const leftSigs = new Set(lhs.map((s) => signature(s.labels, matching)));
        return [...lhs, ...rhs.filter((s) => !leftSigs.has(signature(s.labels, matching)))];
      }
    }
  }

  // Prometheus' VectorBinop: one-to-one unless group_left/group_right make one side "many".
  private vectorMatch(expr: Extract<Expr, { kind: 'binary' }>, lhs: Vector, rhs: Vector): Vector {
    const { op, returnBool, matching } = expr;
    const groupRight = matching.group === 'group_right';
    const [many, one] = groupRight ? [rhs, lhs] : [lhs, rhs];
    const oneBySig = new Map<string, Sample>();
    for (const s of one) {
      const sig = signature(s.labels, matching);
      if (oneBySig.has(sig)) {
        throw new PromqlError(
          matching.group === 'one-to-one'
            ? `found duplicate series for the match group on the ${groupRight ? 'left' : 'right'} hand-side of the operation`
            : 'many-to-many matching not allowed: matching labels must be unique on one side',
        );
      }
      oneBySig.set(sig, s);
    }
    const matched = new Map<string, Set<string>>();
    const out: Sample[] = [];
    for (const s of many) {
      const sig = signature(s.labels, matching);
      const other = oneBySig.get(sig);
      if (!other) continue;
      const [l, r] = groupRight ? [other.value, s.value] : [s.value, other.value];
      let value: number;
      if (ARITHMETIC.has(op)) value = arithmetic(op, l, r);
      else if (returnBool) value = compare(op, l, r) ? 1 : 0;
      else if (compare(op, l, r)) value = l;
      else continue;
      let labels: Record<string, string> =
        ARITHMETIC.has(op) || returnBool ? { ...withoutName(s.labels) } : { ...s.labels };
      if (matching.group === 'one-to-one') {
        labels = matching.on ? pick(labels, matching.labels) : omit(labels, matching.labels);
      }
      for (const name of matching.include) {
        const v = other.labels[name];
        if (v) labels[name] = v;
        else delete labels[name];
      }
      const inserted = matched.get(sig) ?? new Set<string>();
      const key = matching.group === 'one-to-one' ? '' : labelsKey(labels);
      if (inserted.has(key)) {
        throw new PromqlError(
          matching.group === 'one-to-one'
            ? 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)'
            : 'multiple matches for labels: grouping labels must ensure unique matches',
        );
      }
      inserted.add(key);
      matched.set(sig, inserted);
      out.push({ labels, value });
    }
    return out;
  }
}
