// Evaluates rule groups the way Prometheus' rule manager does, one evaluation at a time:
// recording rules write their result back into the series store (so later rules read it),
// then alerting rules move each alert through pending -> firing (after `for:`) -> resolved,
// with the state machine of Prometheus' AlertingRule.Eval.
import { PromqlEvaluator, type Sample } from '../promql/promql-evaluator.ts';
import { PromqlError } from '../promql/promql-ast.ts';
import { labelsKey, type Labels, type SeriesStore } from '../promql/series-store.ts';
import type { AlertingRule, RecordingRule, RuleGroup } from './rule-files.ts';

export interface AlertState {
  // The alert's identity: its label set (alertname included), as Prometheus fingerprints it.
  fingerprint: string;
  name: string;
  labels: Labels;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: number;
  activeAt: number; // ms
  firedAt: number | undefined;
  resolvedAt: number | undefined;
}

export interface RuleFailure {
  group: string;
  rule: string;
  error: string;
}

export interface EvaluationResult {
  at: number;
  // Every alert the rules know: pending, firing, and those resolved in the last 15 minutes.
  alerts: AlertState[];
  failures: RuleFailure[];
}

// How long Prometheus keeps sending a resolved alert (rules.resolvedRetention).
const RESOLVED_RETENTION_MS = 15 * 60_000;

export class RuleEngine {
  private readonly groups: readonly RuleGroup[];
  private readonly store: SeriesStore;
  private readonly evaluator: PromqlEvaluator;
  private readonly active = new Map<AlertingRule, Map<string, AlertState>>();
  // The series each recording rule wrote last time, so vanished ones get a staleness marker.
  private readonly recorded = new Map<RecordingRule, Map<string, Labels>>();

  // Prometheus' global.external_labels, as the annotation templates see them.
  private readonly externalLabels: Labels;

  constructor(groups: readonly RuleGroup[], store: SeriesStore, options: { externalLabels?: Labels } = {}) {
    this.groups = groups;
    this.store = store;
    this.externalLabels = options.externalLabels ?? {};
    this.evaluator = new PromqlEvaluator(store);
  }

  /**
   * One evaluation at `at` (ms). Recording rules of every group run before any alerting rule,
   * so an alert reads the recorded series of this same instant whatever the group order.
   */
  evaluate(at: number): EvaluationResult {
    const failures: RuleFailure[] = [];
    const attempt = (group: RuleGroup, rule: { name: string }, run: () => void) => {
      try {
        run();
      } catch (err) {
        if (!(err instanceof PromqlError)) throw err;
        failures.push({ group: group.name, rule: rule.name, error: err.message });
      }
    };
    for (const group of this.groups)
      for (const rule of group.rules)
        if (rule.kind === 'record') attempt(group, rule, () => this.record(rule, at));
    for (const group of this.groups)
      for (const rule of group.rules)
        if (rule.kind === 'alert') attempt(group, rule, () => this.alert(rule, at));
    const alerts = [...this.active.values()].flatMap((byFingerprint) => [...byFingerprint.values()]);
    return { at, alerts: alerts.map((a) => ({ ...a })), failures };
  }

  private instantVector(rule: { expr: RecordingRule['expr'] }, at: number): Sample[] {
    const value = this.evaluator.evaluate(rule.expr, at);
    if (value.type === 'scalar') return [{ labels: {}, value: value.value }];
    if (value.type !== 'vector')
      throw new PromqlError('a rule must evaluate to an instant vector or a scalar');
    return value.samples;
  }

  private record(rule: RecordingRule, at: number): void {
    const previous = this.recorded.get(rule) ?? new Map<string, Labels>();
    const written = new Map<string, Labels>();
    for (const sample of this.instantVector(rule, at)) {
      const labels = { ...sample.labels, ...rule.labels, __name__: rule.name };
      const key = labelsKey(labels);
      if (written.has(key))
        throw new PromqlError(
          `${rule.name}: vector contains metrics with the same labelset after applying rule labels`,
        );
      written.set(key, labels);
      this.store.append(labels, at, sample.value);
    }
    for (const [key, labels] of previous) if (!written.has(key)) this.store.append(labels, at, 'stale');
    this.recorded.set(rule, written);
  }

  private alert(rule: AlertingRule, at: number): void {
    const active = this.active.get(rule) ?? new Map<string, AlertState>();
    this.active.set(rule, active);
    const current = new Set<string>();
    for (const sample of this.instantVector(rule, at)) {
      const { __name__: _name, ...sampleLabels } = sample.labels;
      const labels: Labels = { ...sampleLabels, ...rule.labels, alertname: rule.name };
      const fingerprint = labelsKey(labels);
      if (current.has(fingerprint))
        throw new PromqlError(
          `${rule.name}: vector contains metrics with the same labelset after applying alert labels`,
        );
      current.add(fingerprint);
      const annotations = Object.fromEntries(
        Object.entries(rule.annotations).map(([k, template]) => [
          k,
          template.render(sample.labels, sample.value, this.externalLabels),
        ]),
      );
      const existing = active.get(fingerprint);
      if (existing && existing.state !== 'inactive') {
        existing.value = sample.value;
        existing.annotations = annotations;
        continue;
      }
      active.set(fingerprint, {
        fingerprint,
        name: rule.name,
        labels,
        annotations,
        state: 'pending',
        value: sample.value,
        activeAt: at,
        firedAt: undefined,
        resolvedAt: undefined,
      });
    }
    for (const [fingerprint, alert] of active) {
      if (!current.has(fingerprint)) {
        if (
          alert.state === 'pending' ||
          (alert.resolvedAt !== undefined && at - alert.resolvedAt > RESOLVED_RETENTION_MS)
        ) {
          active.delete(fingerprint);
          continue;
        }
        if (alert.state !== 'inactive') {
          alert.state = 'inactive';
          alert.resolvedAt = at;
        }
        continue;
      }
      if (alert.state === 'pending' && at - alert.activeAt >= rule.forMs) {
        alert.state = 'firing';
        alert.firedAt = at;
      }
    }
  }
}
