// What the local evaluation last concluded (migrations/0008_alerts.sql), written by the
// evaluating process and read by any other (`drill status`).
import type { Queryable } from '../../platform/db.ts';
import type { SliReading } from './sli-readings.ts';

export interface EvaluatedAlert {
  fingerprint: string;
  name: string;
  state: 'pending' | 'firing' | 'inactive';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  activeAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
}

export interface TargetHealth {
  job: string;
  instance: string;
  up: boolean;
  error: string | null;
  scrapedAt: string | null;
}

export interface Evaluation {
  evaluatedAt: string;
  intervalMs: number;
  targets: TargetHealth[];
  failures: { group: string; rule: string; error: string }[];
  // The SLIs over the last 5 minutes beside their budgets, as of this evaluation.
  slis: SliReading[];
}

/** Replaces the stored alerts with the evaluation's (one transaction: the caller's). */
export async function saveEvaluation(
  tx: Queryable,
  evaluation: Evaluation,
  alerts: readonly EvaluatedAlert[],
): Promise<void> {
  await tx.query(
    `INSERT INTO alert_evaluation (id, evaluated_at, interval_ms, targets, failures, slis)
     VALUES (true, $1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE
       SET evaluated_at = EXCLUDED.evaluated_at, interval_ms = EXCLUDED.interval_ms,
           targets = EXCLUDED.targets, failures = EXCLUDED.failures, slis = EXCLUDED.slis`,
    [
      evaluation.evaluatedAt,
      evaluation.intervalMs,
      JSON.stringify(evaluation.targets),
      JSON.stringify(evaluation.failures),
      JSON.stringify(evaluation.slis),
    ],
  );
  await tx.query('DELETE FROM evaluated_alerts');
  if (alerts.length === 0) return;
  await tx.query(
    `INSERT INTO evaluated_alerts
       (fingerprint, name, state, labels, annotations, value, active_at, fired_at, resolved_at)
     SELECT a.fingerprint, a.name, a.state, a.labels, a.annotations, a.value, a.active_at, a.fired_at,
            a.resolved_at
       FROM jsonb_to_recordset($1::jsonb) AS a(
              fingerprint text, name text, state text, labels jsonb, annotations jsonb,
              value double precision, active_at timestamptz, fired_at timestamptz, resolved_at timestamptz)`,
    [
      JSON.stringify(
        alerts.map((a) => ({
          fingerprint: a.fingerprint,
          name: a.name,
          state: a.state,
          labels: a.labels,
          annotations: a.annotations,
          // JSON has no NaN or infinities; the value is informational.
          value: Number.isFinite(a.value) ? a.value : null,
          active_at: a.activeAt,
          fired_at: a.firedAt,
          resolved_at: a.resolvedAt,
        })),
      ),
    ],
  );
}

export async function readEvaluation(
  db: Queryable,
): Promise<{ evaluation: Evaluation; alerts: EvaluatedAlert[] } | undefined> {
  const { rows } = await db.query<{
    evaluated_at: Date;
    interval_ms: number;
    targets: TargetHealth[];
    failures: Evaluation['failures'];
    slis: SliReading[];
  }>('SELECT evaluated_at, interval_ms, targets, failures, slis FROM alert_evaluation');
  const row = rows[0];
  if (!row) return undefined;
  const alerts = await db.query<{
    fingerprint: string;
    name: string;
    state: EvaluatedAlert['state'];
    labels: Record<string, string>;
    annotations: Record<string, string>;
    value: number | null;
    active_at: Date;
    fired_at: Date | null;
    resolved_at: Date | null;
  }>(
    `SELECT fingerprint, name, state, labels, annotations, value, active_at, fired_at, resolved_at
       FROM evaluated_alerts
      ORDER BY active_at, name, fingerprint`,
  );
  return {
    evaluation: {
      evaluatedAt: row.evaluated_at.toISOString(),
      intervalMs: row.interval_ms,
      targets: row.targets,
      failures: row.failures,
      slis: row.slis,
    },
    alerts: alerts.rows.map((a) => ({
      fingerprint: a.fingerprint,
      name: a.name,
      state: a.state,
      labels: a.labels,
      annotations: a.annotations,
      value: a.value ?? NaN,
      activeAt: a.active_at.toISOString(),
      firedAt: a.fired_at?.toISOString() ?? null,
      resolvedAt: a.resolved_at?.toISOString() ?? null,
    })),
  };
}
