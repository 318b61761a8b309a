// The alert inbox: what paged, as Alertmanager delivered it (or as the local evaluation
// fired it), for a learner without Grafana (`cli alerts`, GET /v1/alerts, the console).
// Operator-wide, not tenant data (docs/adr/0022-local-alert-evaluation.md).
import { withTransaction, type Pool } from '../../platform/db.ts';
import { decodeKeysetCursor, encodeKeysetCursor, takePage, type Page } from '../../platform/pagination.ts';
import {
  listNotifications,
  pruneResolvedNotifications,
  upsertNotifications,
  type AlertNotification,
  type AlertNotificationRow,
} from './alert-inbox.repository.ts';
import { runbookUrl } from './runbook-url.ts';
import type { AlertQuery, AlertView, WebhookBody } from './alerts.schemas.ts';

// Alertmanager's zero time: the alert has no end yet.
const NO_END = /^0001-01-01T/;

function toView(row: AlertNotificationRow, runbookBase: string): AlertView {
  return {
    name: row.name,
    state: row.status,
    severity: row.severity,
    since: row.startsAt,
    resolved_at: row.status === 'resolved' ? row.endsAt : null,
    runbook_url: runbookUrl(row.annotations.runbook_url, runbookBase),
    summary: row.annotations.summary ?? null,
    labels: row.labels,
    source: row.source,
  };
}

export function createAlertInboxService(deps: { pool: Pool; runbookBaseUrl: string }) {
  const { pool, runbookBaseUrl } = deps;

  /** Records one Alertmanager delivery; a repeat of the same alert updates its row. */
  async function receive(body: WebhookBody): Promise<{ accepted: number }> {
    const notifications: AlertNotification[] = body.alerts.map((alert) => ({
      fingerprint: alert.fingerprint,
      startsAt: alert.startsAt,
      name: alert.labels.alertname ?? '(no alertname)',
      status: alert.status,
      severity: alert.labels.severity ?? null,
      labels: alert.labels,
      annotations: alert.annotations,
      endsAt: NO_END.test(alert.endsAt) ? null : alert.endsAt,
      generatorUrl: alert.generatorURL || null,
      source: `alertmanager:${body.receiver}`,
    }));
    await withTransaction(pool, async (tx) => {
      await upsertNotifications(tx, notifications);
      await pruneResolvedNotifications(tx);
    });
    return { accepted: notifications.length };
  }

  /** Newest first; `state` narrows to firing or resolved. */
  async function list(query: AlertQuery): Promise<Page<AlertView>> {
    const before = query.cursor ? decodeKeysetCursor(query.cursor) : undefined;
    const rows = await listNotifications(pool, { status: query.state, before, limit: query.limit + 1 });
    return takePage(
      rows,
      query.limit,
      (row) => toView(row, runbookBaseUrl),
      (row) => encodeKeysetCursor({ micros: row.startsAtMicros, id: row.id }),
    );
  }

  return { receive, list };
}

export type AlertInboxService = ReturnType<typeof createAlertInboxService>;
