import type { Queryable } from '../../platform/db.ts';
import { ACTION_COLUMNS } from '../actions/actions.repository.ts';
import type { ActionError, ActionRecord, ActionStatus } from '../actions/action-types.ts';
import { auditInsertSql, auditParams, type PreparedAuditEvent } from '../audit/audit.repository.ts';
import { EXECUTE_ACTION_TOPIC } from '../outbox/outbox.repository.ts';

// The worker's statements. Each step of a job is one prepared statement that changes the
// action and records its audit events together (a data-modifying CTE), so a job that
// succeeds costs BEGIN, claim, the tool's own statement(s), settle, COMMIT.

// Moves a queued (or, after a crash, running) action to running and counts the attempt,
// records `action.started`, and bounds the rest of the transaction's statements by the
// tool's timeout. Returns null when the action is not runnable any more: the job is a
// redelivery of work already done, or the action was failed or replayed meanwhile. The
// row lock it takes makes a second delivery of the same action wait here and then skip.
export async function claimForExecution(
  tx: Queryable,
  claim: { tenantId: string; actionId: string; statementTimeoutMs: number; started: PreparedAuditEvent },
): Promise<ActionRecord | null> {
  const { rows } = await tx.query<ActionRecord>({
    name: 'execution-claim',
    text: `WITH claimed AS (
             UPDATE actions
                SET status = 'running', attempts = attempts + 1, version = version + 1, updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')
             RETURNING ${ACTION_COLUMNS}
           ), started AS (${auditInsertSql(4, 'EXISTS (SELECT 1 FROM claimed)')})
           SELECT claimed.*, set_config('statement_timeout', $3, true) AS statement_timeout FROM claimed`,
    values: [
      claim.tenantId,
      claim.actionId,
      String(claim.statementTimeoutMs),
      ...auditParams([claim.started]),
    ],
  });
  const row = rows[0];
  if (!row) return null;
  delete (row as { statement_timeout?: string }).statement_timeout;
  return row;
}

// Ends a step: moves the action from one of `from` to `to`, optionally setting its result
// and error and counting an attempt the claim did not count, records the events, and, when
// `deadLetterJobId` is given, parks the job in the dead-letter store, all in one statement.
// Returns null when the action was not in `from`.
export async function settleAction(
  db: Queryable,
  settle: {
    tenantId: string;
    actionId: string;
    from: readonly ActionStatus[];
    to: ActionStatus;
    result?: Record<string, unknown> | null;
    error?: ActionError | null;
    countAttempt?: boolean;
    events: readonly PreparedAuditEvent[];
    deadLetterJobId?: string;
  },
): Promise<ActionRecord | null> {
  const { rows } = await db.query<ActionRecord>({
    name: 'execution-settle',
    text: `WITH done AS (
             UPDATE actions
                SET status = $4,
                    result = CASE WHEN $5::boolean THEN $6::jsonb ELSE result END,
                    error = CASE WHEN $7::boolean THEN $8::jsonb ELSE error END,
                    attempts = attempts + CASE WHEN $9::boolean THEN 1 ELSE 0 END,
                    version = version + 1,
                    updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND status = ANY($3::text[])
             RETURNING ${ACTION_COLUMNS}
           ), recorded AS (${auditInsertSql(11, 'EXISTS (SELECT 1 FROM done)')}),
           parked AS (
             INSERT INTO dead_letters (job_id, tenant_id, action_id, tool, attempts, error)
             SELECT $10, "tenantId", id, tool, attempts, coalesce(error, '{}'::jsonb) FROM done
              WHERE $10::text IS NOT NULL
             ON CONFLICT (job_id) DO NOTHING
           )
           SELECT * FROM done`,
    values: [
      settle.tenantId,
      settle.actionId,
      settle.from,
      settle.to,
      settle.result !== undefined,
      settle.result === undefined ? null : JSON.stringify(settle.result),
      settle.error !== undefined,
      settle.error === undefined ? null : JSON.stringify(settle.error),
      settle.countAttempt ?? false,
      settle.deadLetterJobId ?? null,
      ...auditParams(settle.events),
    ],
  });
  return rows[0] ?? null;
}

export interface OpenAction {
  tenantId: string;
  actionId: string;
  status: ActionStatus;
  updatedAt: Date;
  // The action's latest outbox row: its job is outbox-<id>. Null when it has none left.
  outboxId: number | null;
  published: boolean;
}

// Actions queued or running and untouched for `olderThanMs`, in (updated_at, id) order
// after a cursor, so successive passes walk the whole set however large a live backlog
// sits at its head.
export async function listOpenActions(
  db: Queryable,
  scan: { olderThanMs: number; after?: { updatedAt: Date; actionId: string }; limit: number },
): Promise<OpenAction[]> {
  const { rows } = await db.query<OpenAction>({
    name: 'reconcile-open-actions',
    text: `SELECT a.tenant_id AS "tenantId", a.id AS "actionId", a.status, a.updated_at AS "updatedAt",
                  o.id AS "outboxId", coalesce(o.published_at IS NOT NULL, false) AS published
             FROM actions a
             LEFT JOIN LATERAL (
               SELECT id, published_at FROM outbox WHERE action_id = a.id ORDER BY id DESC LIMIT 1
             ) o ON true
            WHERE a.status IN ('queued', 'running')
              AND a.updated_at < now() - make_interval(secs => $1 / 1000.0)
              AND ($2::timestamptz IS NULL OR (a.updated_at, a.id) > ($2, $3::uuid))
            ORDER BY a.updated_at, a.id
            LIMIT $4`,
    values: [scan.olderThanMs, scan.after?.updatedAt ?? null, scan.after?.actionId ?? null, scan.limit],
  });
  return rows;
}

// Locks stranded actions that are still queued or running, so a concurrent replay or a
// second reconciler waits; the caller then re-publishes under that lock.
export async function lockOpenActions(
  tx: Queryable,
  targets: ReadonlyArray<{ tenantId: string; actionId: string }>,
): Promise<Array<{ tenantId: string; actionId: string }>> {
  const { rows } = await tx.query<{ tenantId: string; actionId: string }>({
    name: 'reconcile-lock',
    text: `SELECT tenant_id AS "tenantId", id AS "actionId" FROM actions
            WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))
              AND status IN ('queued', 'running')
            ORDER BY id
              FOR UPDATE`,
    values: [targets.map((t) => t.tenantId), targets.map((t) => t.actionId)],
  });
  return rows;
}

// Re-publishes locked stranded actions through the outbox: a new outbox row (so a new job
// id, which Redis has never seen) for each action whose latest outbox row is still the one
// whose job was found missing, and `action.republished` for each. Read after the locks, so
// a replay that published meanwhile wins and this one does nothing. Returns the actions
// re-published.
export async function republishActions(
  tx: Queryable,
  targets: ReadonlyArray<{ tenantId: string; actionId: string; outboxId: number | null }>,
  events: readonly PreparedAuditEvent[],
): Promise<string[]> {
  const { rows } = await tx.query<{ actionId: string }>({
    name: 'reconcile-republish',
    text: `WITH target AS (
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS t(tenant_id, action_id, outbox_id)
           ), eligible AS (
             SELECT t.tenant_id, t.action_id FROM target t
              WHERE (SELECT max(id) FROM outbox WHERE action_id = t.action_id) IS NOT DISTINCT FROM t.outbox_id
           ), touched AS (
             UPDATE actions a SET updated_at = now()
               FROM eligible e WHERE a.tenant_id = e.tenant_id AND a.id = e.action_id
           ), outboxed AS (
             INSERT INTO outbox (tenant_id, action_id, topic, payload)
             SELECT tenant_id, action_id, '${EXECUTE_ACTION_TOPIC}', '{}'::jsonb FROM eligible ORDER BY action_id
           ), recorded AS (${auditInsertSql(4, 'e.action_id IN (SELECT action_id FROM eligible)')})
           SELECT action_id AS "actionId" FROM eligible`,
    values: [
      targets.map((t) => t.tenantId),
      targets.map((t) => t.actionId),
      targets.map((t) => t.outboxId),
      ...auditParams(events),
    ],
  });
  return rows.map((r) => r.actionId);
}
