// Loads Prometheus rule files (the shipped observability/prometheus/rules/*.rules.yml) into
// compiled rules: each expression parsed and checked against what the local evaluator
// implements, each annotation template compiled. The files are the one copy of the alerting
// logic; nothing here restates an expression.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDuration, parsePromql, type Expr } from '../promql/promql-ast.ts';
import { assertSupported } from '../promql/promql-evaluator.ts';
import { compileTemplate, type AlertTemplate } from './alert-template.ts';

export const SHIPPED_RULES_DIR = path.join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'observability',
  'prometheus',
  'rules',
);

export interface RecordingRule {
  kind: 'record';
  name: string;
  expr: Expr;
  labels: Record<string, string>;
}

export interface AlertingRule {
  kind: 'alert';
  name: string;
  expr: Expr;
  source: string;
  forMs: number;
  labels: Record<string, string>;
  annotations: Record<string, AlertTemplate>;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  name: string;
  file: string;
  rules: Rule[];
}

export class RuleFileError extends Error {
  constructor(file: string, where: string, cause: unknown) {
    super(`${path.basename(file)}: ${where}: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'RuleFileError';
  }
}

interface RawRule {
  record?: string;
  alert?: string;
  expr?: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Object.values(value).some((v) => typeof v !== 'string'))
    throw new Error(`${what} must map names to strings`);
  return value as Record<string, string>;
}

function compileRule(raw: RawRule): Rule {
  if (typeof raw.expr !== 'string') throw new Error('expr is required');
  const expr = parsePromql(raw.expr);
  assertSupported(expr);
  const labels = stringMap(raw.labels, 'labels');
  if (Object.values(labels).some((v) => v.includes('{{')))
    throw new Error('templated rule labels are not supported');
  // Prometheus 2.42 (the version the cross-check runs) has no keep_firing_for; refuse it
  // rather than evaluate it differently.
  if (raw.keep_firing_for !== undefined) throw new Error('keep_firing_for is not supported');
  if (raw.record) return { kind: 'record', name: raw.record, expr, labels };
  if (!raw.alert) throw new Error('a rule needs record or alert');
  const annotations = Object.fromEntries(
    Object.entries(stringMap(raw.annotations, 'annotations')).map(([k, v]) => [k, compileTemplate(v)]),
  );
  return {
    kind: 'alert',
    name: raw.alert,
    expr,
    source: raw.expr,
    forMs: raw.for ? parseDuration(raw.for) : 0,
    labels,
    annotations,
  };
}

export function compileRuleFile(file: string, text: string): RuleGroup[] {
  const doc = parseYaml(text) as {
    groups?: { name: string; interval?: string; limit?: number; rules?: RawRule[] }[];
  } | null;
  if (!doc?.groups) throw new RuleFileError(file, 'document', new Error('no groups'));
  return doc.groups.map((group) => {
    // One evaluation interval for every group, as the shipped files assume; a group of its
    // own pace or limit would be evaluated differently from Prometheus, so it is refused.
    if (group.interval !== undefined || group.limit !== undefined)
      throw new RuleFileError(file, `group ${group.name}`, new Error('interval and limit are not supported'));
    return {
      name: group.name,
      file,
      rules: (group.rules ?? []).map((raw, i) => {
        try {
          return compileRule(raw);
        } catch (err) {
          throw new RuleFileError(file, `group ${group.name}, rule ${raw.record ?? raw.alert ?? i}`, err);
        }
      }),
    };
  });
}

/** Every *.yml rule file of a directory, in name order (the order Prometheus' glob gives them). */
export async function loadRuleFiles(dir: string = SHIPPED_RULES_DIR): Promise<RuleGroup[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml')).sort();
  const groups: RuleGroup[] = [];
  for (const file of files) {
    const full = path.join(dir, file);
    groups.push(...compileRuleFile(full, await readFile(full, 'utf8')));
  }
  return groups;
}

/**
 * The metric names the rules select, so a scrape keeps only the series the rules can see;
 * undefined when some selector does not name its metric (then every series is kept).
 */
export function selectedMetricNames(groups: readonly RuleGroup[]): Set<string> | undefined {
  const names = new Set<string>();
  let unbounded = false;
  const visit = (expr: Expr): void => {
    switch (expr.kind) {
      case 'vector': {
        const name = expr.matchers.find((m) => m.name === '__name__' && m.op === '=');
        if (name) names.add(name.value);
        else unbounded = true;
        return;
      }
      case 'matrix':
        return visit(expr.selector);
      case 'call':
        return expr.args.forEach(visit);
      case 'aggregate':
      case 'negate':
        return visit(expr.expr);
      case 'binary':
        visit(expr.lhs);
        return visit(expr.rhs);
      default:
        return;
    }
  };
  for (const group of groups) for (const rule of group.rules) visit(rule.expr);
  return unbounded ? undefined : names;
}

/** The longest range or offset any rule looks back over, which bounds how long samples are worth keeping. */
export function longestLookbackMs(groups: readonly RuleGroup[]): number {
  let longest = 0;
  const visit = (expr: Expr, offset: number): void => {
    switch (expr.kind) {
      case 'vector':
        longest = Math.max(longest, offset + expr.offsetMs);
        return;
      case 'matrix':
        longest = Math.max(longest, offset + expr.selector.offsetMs + expr.rangeMs);
        return;
      case 'call':
        return expr.args.forEach((a) => visit(a, offset));
      case 'aggregate':
      case 'negate':
        return visit(expr.expr, offset);
      case 'binary':
        visit(expr.lhs, offset);
        return visit(expr.rhs, offset);
      default:
        return;
    }
  };
  for (const group of groups) for (const rule of group.rules) visit(rule.expr, 0);
  return longest;
}

/**
 * The same rules on a compressed clock, for tests only (ALERT_RULE_TIME_SCALE): every range,
 * offset and `for:` divided by `factor`. The expressions are otherwise untouched.
 */
export function scaleRuleDurations(groups: readonly RuleGroup[], factor: number): RuleGroup[] {
  if (factor === 1) return [...groups];
  const scale = (ms: number) => (ms === 0 ? 0 : Math.max(1, Math.round(ms / factor)));
  const visit = (expr: Expr): Expr => {
    switch (expr.kind) {
      case 'vector':
        return { ...expr, offsetMs: scale(expr.offsetMs) };
      case 'matrix':
        return {
          ...expr,
          rangeMs: scale(expr.rangeMs),
          selector: { ...expr.selector, offsetMs: scale(expr.selector.offsetMs) },
        };
      case 'call':
        return { ...expr, args: expr.args.map(visit) };
      case 'aggregate':
      case 'negate':
        return { ...expr, expr: visit(expr.expr) };
      case 'binary':
        return { ...expr, lhs: visit(expr.lhs), rhs: visit(expr.rhs) };
      default:
        return expr;
    }
  };
  return groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) =>
      rule.kind === 'alert'
        ? { ...rule, expr: visit(rule.expr), forMs: rule.forMs === 0 ? 0 : scale(rule.forMs) }
        : { ...rule, expr: visit(rule.expr) },
    ),
  }));
}
