// Where a pager's view of the alerts comes from (the AlertSource seam of
// src/modules/drills/drill-types.ts): Prometheus' own alert API when PROMETHEUS_URL is set,
// otherwise the local evaluation of the same rule files, run by the drill runner and read
// from Postgres by every other process.
import type { Config } from '../../platform/config.ts';
import type { Pool } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AlertSource, FiringAlert } from '../drills/drill-types.ts';
import { readEvaluation } from './evaluated-alerts.repository.ts';
import { SLI_BAD_RATIO_QUERY, SLO_ERROR_BUDGET_QUERY, sliReadings } from './sli-readings.ts';
import { runbookUrl } from './runbook-url.ts';
import { LocalAlertEvaluation } from './local-alert-evaluation.ts';
import { loadRuleFiles, scaleRuleDurations, SHIPPED_RULES_DIR } from './rules/rule-files.ts';

export interface DrillAlertSource extends AlertSource {
  /**
   * Local: scrapes and evaluates in this process until the signal aborts (the drill runner
   * calls it once). Prometheus: nothing to run; resolves at once.
   */
  start(options: { signal: AbortSignal }): Promise<void>;
}

export interface AlertSourceDeps {
  config: Config;
  pool: Pool;
  logger: Logger;
  rulesDir?: string;
  now?: () => number;
}

function unavailable(message: string, cause?: unknown): AppError {
  return new AppError('dependency_unavailable', 503, message, { cause });
}

function toFiringAlert(
  alert: {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    state: 'pending' | 'firing';
    activeAt: string;
  },
  runbookBase: string | undefined,
): FiringAlert {
  return {
    name: alert.labels.alertname ?? '',
    state: alert.state,
    severity: alert.labels.severity ?? null,
    since: alert.activeAt,
    summary: alert.annotations.summary ?? null,
    runbook_url: runbookUrl(alert.annotations.runbook_url, runbookBase),
    labels: alert.labels,
  };
}

interface PrometheusAlertsResponse {
  status: string;
  data?: {
    alerts?: {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      state?: string;
      activeAt?: string;
    }[];
  };
}

interface PrometheusQueryResponse {
  status: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] };
}

export function createPrometheusAlertSource(deps: {
  prometheusUrl: string;
  timeoutMs: number;
  runbookBase?: string;
}): DrillAlertSource {
  const base = deps.prometheusUrl.endsWith('/') ? deps.prometheusUrl : `${deps.prometheusUrl}/`;
  const origin = new URL(base).origin;

  async function get<T extends { status: string }>(pathAndQuery: string): Promise<T> {
    let body: T;
    try {
      const res = await fetch(new URL(pathAndQuery, base), {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as T;
    } catch (err) {
      throw unavailable(`Prometheus at ${origin} did not answer: ${(err as Error).message}`, err);
    }
    if (body.status !== 'success')
      throw unavailable(`Prometheus at ${origin} answered status ${body.status}`);
    return body;
  }

  // An instant query's vector; NaN stays NaN (Prometheus writes it as "NaN").
  async function query(promql: string): Promise<{ labels: Record<string, string>; value: number }[]> {
    const body = await get<PrometheusQueryResponse>(`api/v1/query?query=${encodeURIComponent(promql)}`);
    if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result))
      throw unavailable(`Prometheus at ${origin} answered "${promql}" without an instant vector`);
    return body.data.result.map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) }));
  }

  return {
    kind: 'prometheus',
    start: async () => undefined,
    async alerts() {
      const body = await get<PrometheusAlertsResponse>('api/v1/alerts');
      if (!Array.isArray(body.data?.alerts))
        throw unavailable(`Prometheus at ${origin} answered without alerts`);
      return body.data.alerts
        .filter((a) => a.state === 'pending' || a.state === 'firing')
        .map((a) =>
          toFiringAlert(
            {
              labels: a.labels ?? {},
              annotations: a.annotations ?? {},
              state: a.state as 'pending' | 'firing',
              activeAt: a.activeAt ?? new Date(0).toISOString(),
            },
            deps.runbookBase,
          ),
        );
    },
    async slis() {
      const [badRatios, budgets] = await Promise.all([
        query(SLI_BAD_RATIO_QUERY),
        query(SLO_ERROR_BUDGET_QUERY),
      ]);
      return sliReadings(badRatios, budgets);
    },
  };
}

export function createLocalAlertSource(deps: AlertSourceDeps): DrillAlertSource {
  const { config, pool, logger } = deps;
  const runbookBase = config.alerts.runbookBaseUrl;
  return {
    kind: 'local',
    async start({ signal }) {
      const rules = scaleRuleDurations(
        await loadRuleFiles(deps.rulesDir ?? SHIPPED_RULES_DIR),
        config.alerts.ruleTimeScale,
      );
      const evaluation = new LocalAlertEvaluation({
        rules,
        targets: config.alerts.scrapeTargets,
        scrapeIntervalMs: config.alerts.scrapeIntervalMs,
        scrapeTimeoutMs: config.alerts.scrapeTimeoutMs,
        evaluationIntervalMs: config.alerts.evaluationIntervalMs,
        retentionMs: config.alerts.retentionMs,
        externalLabels: { runbook_base: config.alerts.runbookBaseUrl },
        pool,
        logger,
        now: deps.now,
      });
      await evaluation.run({ signal });
    },
    async alerts() {
      const stored = await freshEvaluation();
      return stored.alerts
        .filter((a) => a.state !== 'inactive')
        .map((a) => toFiringAlert({ ...a, state: a.state as 'pending' | 'firing' }, runbookBase));
    },
    async slis() {
      return (await freshEvaluation()).evaluation.slis;
    },
  };

  async function freshEvaluation() {
    const stored = await readEvaluation(pool);
    if (!stored) throw unavailable('No local alert evaluation has run yet: it runs inside `drill start`.');
    const ageMs = (deps.now ?? Date.now)() - Date.parse(stored.evaluation.evaluatedAt);
    // Three missed evaluations: the evaluating process is gone or stuck.
    if (ageMs > 3 * stored.evaluation.intervalMs + 5_000) {
      throw unavailable(
        `The local alert evaluation last ran ${Math.round(ageMs / 1000)} s ago: no drill runner is evaluating the rules.`,
      );
    }
    return stored;
  }
}

/** Prometheus when PROMETHEUS_URL is set, otherwise the local evaluation of the shipped rules. */
export function createAlertSource(deps: AlertSourceDeps): DrillAlertSource {
  const { prometheusUrl, prometheusTimeoutMs, runbookBaseUrl } = deps.config.alerts;
  return prometheusUrl
    ? createPrometheusAlertSource({
        prometheusUrl,
        timeoutMs: prometheusTimeoutMs,
        runbookBase: runbookBaseUrl,
      })
    : createLocalAlertSource(deps);
}
