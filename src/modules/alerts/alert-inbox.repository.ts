// The alert inbox's SQL (migrations/0008_alerts.sql). Operator-wide rows: no tenant filter.
import type { Queryable } from '../../platform/db.ts';

export interface AlertNotification {
  fingerprint: string;
  startsAt: string; // ISO 8601
  name: string;
  status: 'firing' | 'resolved';
  severity: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  endsAt: string | null;
  generatorUrl: string | null;
  source: string;
}

export interface AlertNotificationRow extends AlertNotification {
  id: string;
  startsAtMicros: string;
  updatedAt: string;
}

// Resolved notifications are kept this long; firing ones until they resolve.
const RESOLVED_RETENTION = '7 days';

/** Records notifications: a new occurrence is inserted, a known one (same fingerprint and start) takes the latest status. */
export async function upsertNotifications(
  db: Queryable,
  notifications: readonly AlertNotification[],
): Promise<void> {
  if (notifications.length === 0) return;
  await db.query(
    `INSERT INTO alert_notifications
       (fingerprint, starts_at, name, status, severity, labels, annotations, ends_at, generator_url, source)
     SELECT n.fingerprint, n.starts_at, n.name, n.status, n.severity, n.labels, n.annotations, n.ends_at,
            n.generator_url, n.source
       FROM jsonb_to_recordset($1::jsonb) AS n(
              fingerprint text, starts_at timestamptz, name text, status text, severity text,
              labels jsonb, annotations jsonb, ends_at timestamptz, generator_url text, source text)
     ON CONFLICT (fingerprint, starts_at) DO UPDATE
       SET status = EXCLUDED.status,
           severity = EXCLUDED.severity,
           labels = EXCLUDED.labels,
           annotations = EXCLUDED.annotations,
           ends_at = EXCLUDED.ends_at,
           generator_url = EXCLUDED.generator_url,
           source = EXCLUDED.source,
           updated_at = now()`,
    [
      JSON.stringify(
        notifications.map((n) => ({
          fingerprint: n.fingerprint,
          starts_at: n.startsAt,
          name: n.name,
          status: n.status,
          severity: n.severity,
          labels: n.labels,
          annotations: n.annotations,
          ends_at: n.endsAt,
          generator_url: n.generatorUrl,
          source: n.source,
        })),
      ),
    ],
  );
}

/**
 * Resolves what a source left firing, as Alertmanager resolves an alert whose sender stopped
 * refreshing it: used when a local evaluation starts or stops, since no one else will.
 */
export async function resolveOpenNotifications(db: Queryable, source: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE alert_notifications
        SET status = 'resolved', ends_at = now(), updated_at = now()
      WHERE source = $1 AND status = 'firing'`,
    [source],
  );
  return rowCount ?? 0;
}

export async function pruneResolvedNotifications(db: Queryable): Promise<void> {
  await db.query(
    `DELETE FROM alert_notifications
      WHERE status = 'resolved' AND updated_at < now() - $1::interval`,
    [RESOLVED_RETENTION],
  );
}

/** Newest first by start time; keyset pagination on (starts_at, id). */
export async function listNotifications(
  db: Queryable,
  filter: { status?: 'firing' | 'resolved'; before?: { micros: string; id: string }; limit: number },
): Promise<AlertNotificationRow[]> {
  const { rows } = await db.query<{
    id: string;
    fingerprint: string;
    starts_at: Date;
    starts_at_micros: string;
    name: string;
    status: 'firing' | 'resolved';
    severity: string | null;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ends_at: Date | null;
    generator_url: string | null;
    source: string;
    updated_at: Date;
  }>(
    `SELECT id, fingerprint, starts_at, name, status, severity, labels, annotations, ends_at,
            generator_url, source, updated_at,
            (extract(epoch FROM starts_at) * 1000000)::bigint::text AS starts_at_micros
       FROM alert_notifications
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::bigint IS NULL
             OR (starts_at, id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))
      ORDER BY starts_at DESC, id DESC
      LIMIT $4`,
    [filter.status ?? null, filter.before?.micros ?? null, filter.before?.id ?? null, filter.limit],
  );
  return rows.map((r) => ({
    id: r.id,
    fingerprint: r.fingerprint,
    startsAt: r.starts_at.toISOString(),
    startsAtMicros: r.starts_at_micros,
    name: r.name,
    status: r.status,
    severity: r.severity,
    labels: r.labels,
    annotations: r.annotations,
    endsAt: r.ends_at?.toISOString() ?? null,
    generatorUrl: r.generator_url,
    source: r.source,
    updatedAt: r.updated_at.toISOString(),
  }));
}
