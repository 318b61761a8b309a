// The drill runner's stand-in for Prometheus when none runs: it scrapes the service's
// /metrics on the scrape interval (adding job, instance and up as Prometheus does, and
// staleness markers for series that vanish), evaluates the shipped rule files on the
// evaluation interval, and writes the outcome to Postgres, where every process reads it.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTransaction, type Pool } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import {
  resolveOpenNotifications,
  upsertNotifications,
  type AlertNotification,
} from './alert-inbox.repository.ts';
import { saveEvaluation, type EvaluatedAlert, type TargetHealth } from './evaluated-alerts.repository.ts';
import { SLI_BAD_RATIO_QUERY, SLO_ERROR_BUDGET_QUERY, sliReadings, type SliReading } from './sli-readings.ts';
import { parseExposition } from './promql/exposition.ts';
import { parsePromql, PromqlError } from './promql/promql-ast.ts';
import { PromqlEvaluator, type Sample } from './promql/promql-evaluator.ts';
import { SeriesLimitError, SeriesStore, labelsKey, type Labels } from './promql/series-store.ts';
import { RuleEngine, type AlertState, type EvaluationResult } from './rules/rule-engine.ts';
import { selectedMetricNames, type RuleGroup } from './rules/rule-files.ts';

export interface ScrapeTarget {
  job: string;
  url: string;
}

export interface LocalEvaluationOptions {
  rules: readonly RuleGroup[];
  targets: readonly ScrapeTarget[];
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
  evaluationIntervalMs: number;
  retentionMs: number;
  // global.external_labels as the annotation templates see them (runbook_base).
  externalLabels?: Labels;
  pool: Pool;
  logger: Logger;
  // Bounds memory whatever a target exposes.
  maxSeries?: number;
  now?: () => number;
}

// Prometheus' instance label: host:port, with the scheme's default port written out.
function instanceOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}

// Alertmanager fingerprints are 16 hex digits; the local ones are a hash of the label set.
export function fingerprintOf(labels: Labels): string {
  return createHash('sha256').update(labelsKey(labels)).digest('hex').slice(0, 16);
}

class TargetScraper {
  private readonly target: ScrapeTarget;
  private readonly instance: string;
  private previous = new Map<string, Labels>();
  health: TargetHealth;

  constructor(target: ScrapeTarget) {
    this.target = target;
    this.instance = instanceOf(target.url);
    this.health = { job: target.job, instance: this.instance, up: false, error: null, scrapedAt: null };
  }

  private targetLabels(labels: Labels): Labels {
    // honor_labels: false. A scraped job or instance label is kept as exported_<name>.
    const out: Record<string, string> = { ...labels };
    for (const name of ['job', 'instance'] as const) {
      if (out[name] !== undefined) out[`exported_${name}`] = out[name];
    }
    out.job = this.target.job;
    out.instance = this.instance;
    return out;
  }

  async scrape(
    store: SeriesStore,
    at: number,
    timeoutMs: number,
    keep?: (name: string) => boolean,
  ): Promise<void> {
    const up = { __name__: 'up', job: this.target.job, instance: this.instance };
    const current = new Map<string, Labels>();
    try {
      const res = await fetch(this.target.url, {
        headers: { accept: 'text/plain;version=0.0.4' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      for (const sample of parseExposition(await res.text(), keep)) {
        const labels = this.targetLabels(sample.labels);
        current.set(labelsKey(labels), labels);
        store.append(labels, at, sample.value);
      }
      store.append(up, at, 1);
      this.health = { ...this.health, up: true, error: null, scrapedAt: new Date(at).toISOString() };
    } catch (err) {
      // A failed scrape: up is 0 and every series of the target goes stale, as in Prometheus.
      current.clear();
      store.append(up, at, 0);
      const message = err instanceof SeriesLimitError ? err.message : (err as Error).message;
      this.health = { ...this.health, up: false, error: message, scrapedAt: new Date(at).toISOString() };
    }
    for (const [key, labels] of this.previous) if (!current.has(key)) store.append(labels, at, 'stale');
    this.previous = current;
  }
}

function toEvaluatedAlert(alert: AlertState): EvaluatedAlert {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    fingerprint: fingerprintOf(alert.labels),
    name: alert.name,
    state: alert.state,
    labels: { ...alert.labels },
    annotations: alert.annotations,
    value: alert.value,
    activeAt: new Date(alert.activeAt).toISOString(),
    firedAt: iso(alert.firedAt),
    resolvedAt: iso(alert.resolvedAt),
  };
}

// What the local evaluation "delivers" to the inbox, as Alertmanager would: an alert that
// fired, from its firing time, resolved once its condition stopped holding.
function toNotification(alert: EvaluatedAlert): AlertNotification | undefined {
  if (alert.firedAt === null) return undefined;
  return {
    fingerprint: alert.fingerprint,
    startsAt: alert.firedAt,
    name: alert.name,
    status: alert.state === 'firing' ? 'firing' : 'resolved',
    severity: alert.labels.severity ?? null,
    labels: alert.labels,
    annotations: alert.annotations,
    endsAt: alert.state === 'firing' ? null : alert.resolvedAt,
    generatorUrl: null,
    source: 'local',
  };
}

export class LocalAlertEvaluation {
  private readonly options: LocalEvaluationOptions;
  private readonly store: SeriesStore;
  private readonly engine: RuleEngine;
  private readonly scrapers: TargetScraper[];
  private readonly keep: ((name: string) => boolean) | undefined;
  private readonly now: () => number;

  constructor(options: LocalEvaluationOptions) {
    this.options = options;
    this.store = new SeriesStore({ maxSeries: options.maxSeries ?? 50_000 });
    this.engine = new RuleEngine(options.rules, this.store, { externalLabels: options.externalLabels });
    this.scrapers = options.targets.map((t) => new TargetScraper(t));
    const names = selectedMetricNames(options.rules);
    this.keep = names && ((name) => names.has(name));
    this.now = options.now ?? Date.now;
  }

  /** Scrapes every target once, all at the same timestamp. */
  async scrape(): Promise<TargetHealth[]> {
    const at = this.now();
    await Promise.all(
      this.scrapers.map((s) => s.scrape(this.store, at, this.options.scrapeTimeoutMs, this.keep)),
    );
    return this.scrapers.map((s) => s.health);
  }

  /** An instant query over what was scraped and recorded, e.g. an SLI for a drill's check. */
  query(promql: string): Sample[] {
    const value = new PromqlEvaluator(this.store).evaluate(parsePromql(promql), this.now());
    if (value.type === 'scalar') return [{ labels: {}, value: value.value }];
    if (value.type !== 'vector')
      throw new PromqlError('a query must evaluate to an instant vector or a scalar');
    return value.samples;
  }

  // What the rules just recorded; rule files without the SLO rules (a test's own) give none.
  private slis(): SliReading[] {
    return sliReadings(this.query(SLI_BAD_RATIO_QUERY), this.query(SLO_ERROR_BUDGET_QUERY));
  }

  /** Evaluates every rule at the current time and stores the outcome for other processes. */
  async evaluate(): Promise<EvaluationResult> {
    const at = this.now();
    this.store.prune(at - this.options.retentionMs);
    const result = this.engine.evaluate(at);
    const alerts = result.alerts.map(toEvaluatedAlert);
    const notifications = alerts.map(toNotification).filter((n) => n !== undefined);
    await withTransaction(this.options.pool, async (tx) => {
      await saveEvaluation(
        tx,
        {
          evaluatedAt: new Date(at).toISOString(),
          intervalMs: this.options.evaluationIntervalMs,
          targets: this.scrapers.map((s) => s.health),
          failures: result.failures,
          slis: this.slis(),
        },
        alerts,
      );
      await upsertNotifications(tx, notifications);
    });
    for (const failure of result.failures) this.options.logger.warn(failure, 'alert rule evaluation failed');
    return result;
  }

  /**
   * Scrapes and evaluates on their intervals until the signal aborts, then resolves once the
   * tick in progress has finished. A failing tick is logged and retried on the next one.
   * What this source left firing in the inbox (a crashed runner's alerts, or this one's when
   * it stops) is resolved at both ends: nobody else would ever resolve it.
   */
  async run({ signal }: { signal: AbortSignal }): Promise<void> {
    const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
    const every = async (intervalMs: number, what: string, tick: () => Promise<unknown>) => {
      while (!signal.aborted) {
        try {
          await tick();
        } catch (err) {
          this.options.logger.warn(
            { err: { message: (err as Error).message } },
            `local alert ${what} failed`,
          );
        }
        await pause(intervalMs);
      }
    };
    await this.resolveAbandoned('a previous evaluation');
    // The first evaluation follows the first scrape, so it already sees samples.
    await this.scrape();
    await Promise.all([
      pause(this.options.scrapeIntervalMs).then(() =>
        every(this.options.scrapeIntervalMs, 'scrape', () => this.scrape()),
      ),
      every(this.options.evaluationIntervalMs, 'evaluation', () => this.evaluate()),
    ]);
    await this.resolveAbandoned('this evaluation, which stopped');
  }

  private async resolveAbandoned(whose: string): Promise<void> {
    try {
      const resolved = await resolveOpenNotifications(this.options.pool, 'local');
      if (resolved) this.options.logger.info({ resolved }, `resolved the alerts ${whose} left firing`);
    } catch (err) {
      this.options.logger.warn(
        { err: { message: (err as Error).message } },
        'could not resolve abandoned alerts',
      );
    }
  }
}
