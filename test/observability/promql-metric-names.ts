// Finds the metric names that dashboards and Prometheus rules query, so tests can check
// each one against what the service actually exports (createMetrics() here, a live
// /metrics scrape in the integration suite). Parsing uses the PromQL grammar Prometheus'
// own UI uses; a query that does not parse is reported rather than silently skipped.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const DASHBOARDS_DIR = join(REPO_ROOT, 'dashboards');
export const RULES_DIR = join(REPO_ROOT, 'observability', 'prometheus', 'rules');
export const RULE_TESTS_DIR = join(REPO_ROOT, 'observability', 'prometheus', 'tests');
export const RUNBOOKS_DIR = join(REPO_ROOT, 'runbooks');

// Series Prometheus itself produces: scrape health and alert state.
export const BUILTIN_SERIES: ReadonlySet<string> = new Set([
  'up',
  'ALERTS',
  'ALERTS_FOR_STATE',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
]);

// Series of the compose stack's exporters (postgres-exporter, redis-exporter), shown on the
// dependencies dashboard. Listed by hand: they come from the exporters' default
// collectors, not from this service, so no scrape here can list them.
export const EXPORTER_SERIES: ReadonlySet<string> = new Set([
  'pg_stat_activity_count',
  'pg_settings_max_connections',
  'pg_stat_database_xact_commit',
  'pg_stat_database_xact_rollback',
  'redis_memory_used_bytes',
  'redis_memory_max_bytes',
  'redis_commands_processed_total',
  'redis_connected_clients',
]);

export class PromqlParseError extends Error {
  readonly expr: string;
  readonly position: number;
  constructor(expr: string, position: number) {
    super(
      `PromQL syntax error at offset ${position}: ${expr.slice(Math.max(0, position - 30), position + 30)}`,
    );
    this.name = 'PromqlParseError';
    this.expr = expr;
    this.position = position;
  }
}

// Grafana expands its variables before the query reaches Prometheus; give them a
// plausible value so the text parses. Variables inside label matcher strings stay as they
// are: they are string contents, not syntax.
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$\{?__(?:rate_interval|interval|range)_ms\}?/g, '300000')
    .replace(/\$\{?__(?:rate_interval|interval|range)_s\}?/g, '300')
    .replace(/\$\{?__(?:rate_interval|interval|range)\}?/g, '5m')
    .replace(/\[\s*\$\{?\w+\}?\s*(?=[\]:])/g, '[5m')
    .replace(/:\s*\$\{?\w+\}?\s*\]/g, ':1m]');
}

function unquote(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  if (quote === "'") return body.replace(/\\(.)/g, '$1');
  return JSON.parse(literal) as string;
}

// Metric names selected by one PromQL expression, in order of appearance, deduplicated.
// Throws PromqlParseError when the expression does not parse.
export function extractMetricNames(expr: string): string[] {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  let errorAt: number | undefined;
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errorAt ??= ref.from;
        return false;
      }
      if (ref.name !== 'VectorSelector') return undefined;
      const node = ref.node;
      const identifier = node.getChild('Identifier');
      if (identifier) {
        names.add(expr.slice(identifier.from, identifier.to));
        return false;
      }
      const matchers = node.getChild('LabelMatchers');
      // {"metric.name", ...}: a quoted name on its own is the metric name (UTF-8 names).
      const quotedName = matchers?.getChild('QuotedLabelName');
      if (quotedName) {
        const literal = quotedName.getChild('StringLiteral');
        if (literal) names.add(unquote(expr.slice(literal.from, literal.to)));
      }
      for (const matcher of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        const op = matcher.getChild('MatchOp')?.firstChild;
        const value = matcher.getChild('StringLiteral');
        if (label && value && op?.name === 'EqlSingle' && expr.slice(label.from, label.to) === '__name__') {
          names.add(unquote(expr.slice(value.from, value.to)));
        }
      }
      return false;
    },
  });
  if (errorAt !== undefined) throw new PromqlParseError(expr, errorAt);
  return [...names];
}

// Drops the suffixes a histogram or summary adds to its series.
export function baseMetricName(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

export interface QuerySource {
  file: string;
  where: string;
  expr: string;
}

interface DashboardPanel {
  id?: number;
  title?: string;
  type?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: DashboardPanel[];
}

interface DashboardVariable {
  name?: string;
  type?: string;
  query?: string | { query?: string };
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: DashboardPanel[];
  templating?: { list?: DashboardVariable[] };
}

export function dashboardFiles(dir = DASHBOARDS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

export function readDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

export function allPanels(panels: readonly DashboardPanel[] = []): DashboardPanel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels)]);
}

// label_values(expr, label) and query_result(expr) carry a PromQL expression;
// label_values(label) and metrics(regex) do not.
function variableExpr(query: string): string | undefined {
  const labelValues = /^\s*label_values\(\s*(.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(query);
  if (labelValues?.[1]) return labelValues[1];
  const queryResult = /^\s*query_result\(\s*(.+)\)\s*$/s.exec(query);
  if (queryResult?.[1]) return queryResult[1];
  return undefined;
}

export function dashboardQueries(dir = DASHBOARDS_DIR): QuerySource[] {
  const out: QuerySource[] = [];
  for (const file of dashboardFiles(dir)) {
    const dashboard = readDashboard(file);
    for (const panel of allPanels(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        if (target.expr) {
          out.push({
            file,
            where: `panel ${panel.id} "${panel.title}" ${target.refId}`,
            expr: substituteGrafanaVariables(target.expr),
          });
        }
      }
    }
    for (const variable of dashboard.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      const expr = query ? variableExpr(query) : undefined;
      if (expr)
        out.push({ file, where: `variable $${variable.name}`, expr: substituteGrafanaVariables(expr) });
    }
  }
  return out;
}

export interface RuleDefinition {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  file: string;
  groups: { name: string; rules: RuleDefinition[] }[];
}

export function ruleFiles(dir = RULES_DIR): RuleFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const parsed = parseYaml(readFileSync(file, 'utf8')) as { groups?: RuleFile['groups'] } | null;
      return { file, groups: parsed?.groups ?? [] };
    });
}

export function allRules(dir = RULES_DIR): (RuleDefinition & { file: string; group: string })[] {
  return ruleFiles(dir).flatMap(({ file, groups }) =>
    groups.flatMap((group) => group.rules.map((rule) => ({ ...rule, file, group: group.name }))),
  );
}

export function recordingRuleNames(dir = RULES_DIR): Set<string> {
  return new Set(allRules(dir).flatMap((r) => (r.record ? [r.record] : [])));
}

export function ruleQueries(dir = RULES_DIR): QuerySource[] {
  return allRules(dir).map((rule) => ({
    file: rule.file,
    where: rule.alert ? `alert ${rule.alert}` : `record ${rule.record}`,
    expr: rule.expr,
  }));
}

// Every metric the given queries select, minus the ones Prometheus or our own recording
// rules produce: what remains must be exported by the service. Maps name to the places
// that use it, for readable failures.
export function exportedMetricsReferenced(
  sources: readonly QuerySource[],
  produced: ReadonlySet<string> = new Set([...BUILTIN_SERIES, ...EXPORTER_SERIES, ...recordingRuleNames()]),
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const source of sources) {
    for (const name of extractMetricNames(source.expr)) {
      if (produced.has(name)) continue;
      const uses = out.get(name) ?? [];
      uses.push(`${source.file}: ${source.where}`);
      out.set(name, uses);
    }
  }
  return out;
}
