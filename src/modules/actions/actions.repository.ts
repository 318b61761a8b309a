import type { Queryable } from '../../platform/db.ts';
import type { ActionError, ActionRecord, ActionStatus } from './action-types.ts';
import type { Keyset } from '../../platform/pagination.ts';

export const ACTION_COLUMNS = `id, tenant_id AS "tenantId", tool, arguments, user_id AS "userId", context, status, decision,
  result, error, attempts, version, queued_at AS "queuedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

const INSERT_ACTION = `INSERT INTO actions (id, tenant_id, tool, arguments, user_id, context, status, decision,
                          attempts, version, queued_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 1, $9, $10, $10)`;

// $1..$10 of INSERT_ACTION.
const actionValues = (action: ActionRecord): unknown[] => [
  action.id,
  action.tenantId,
  action.tool,
  JSON.stringify(action.arguments),
  action.userId,
  JSON.stringify(action.context),
  action.status,
  JSON.stringify(action.decision),
  action.queuedAt,
  action.createdAt,
];

export async function insertAction(db: Queryable, action: ActionRecord): Promise<void> {
  await db.query(INSERT_ACTION, actionValues(action));
}

// The proposal's whole write but its audit event, in one statement (one round trip instead
// of three): the action, its outbox row when it was allowed, and the completion of its
// idempotency claim. Returns false when the claim is no longer ours (its lease expired and
// another request took the key over): the caller must roll back. Foreign keys are checked at
// the end of the statement, when the action row exists.
export async function recordProposal(
  tx: Queryable,
  proposal: {
    action: ActionRecord;
    idempotency: { key: string; token: string };
    outbox: { topic: string; traceContext: Record<string, string> | null } | null;
  },
): Promise<boolean> {
  const { action } = proposal;
  const { rows } = await tx.query<{ completed: boolean }>({
    name: 'record_proposal',
    text: `WITH action AS (${INSERT_ACTION} RETURNING id), outbox AS (
         INSERT INTO outbox (tenant_id, action_id, topic, payload, trace_context)
         SELECT $2, id, $13, '{}'::jsonb, $14 FROM action WHERE $13::text IS NOT NULL
         RETURNING id
       ), completed AS (
         UPDATE idempotency_keys SET action_id = $1, locked_until = NULL
          WHERE tenant_id = $2 AND key = $11 AND claim_token = $12 AND action_id IS NULL
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM completed) AS completed, (SELECT count(*) FROM outbox) AS queued`,
    values: [
      ...actionValues(action),
      proposal.idempotency.key,
      proposal.idempotency.token,
      proposal.outbox?.topic ?? null,
      proposal.outbox?.traceContext ? JSON.stringify(proposal.outbox.traceContext) : null,
    ],
  });
  return rows[0]?.completed === true;
}

export async function findAction(db: Queryable, tenantId: string, id: string): Promise<ActionRecord | null> {
  const { rows } = await db.query<ActionRecord>({
    name: 'find_action',
    text: `SELECT ${ACTION_COLUMNS} FROM actions WHERE tenant_id = $1 AND id = $2`,
    values: [tenantId, id],
  });
  return rows[0] ?? null;
}

export interface ActionFilter {
  status?: ActionStatus;
  userId?: string;
  tool?: string;
}

export type PagedActionRecord = ActionRecord & { cursorMicros: string };

const CURSOR_COLUMN = `(extract(epoch FROM created_at) * 1000000)::bigint::text AS "cursorMicros"`;
const FROM_MICROS = `timestamptz 'epoch' + $MICROS::bigint * interval '1 microsecond'`;

// Keyset pagination, newest first: stable under concurrent inserts, and every page costs
// one index range scan however deep the reader goes.
export async function listActions(
  db: Queryable,
  tenantId: string,
  filter: ActionFilter,
  page: { after?: Keyset; limit: number },
): Promise<PagedActionRecord[]> {
  const { rows } = await db.query<PagedActionRecord>(
    `SELECT ${ACTION_COLUMNS}, ${CURSOR_COLUMN} FROM actions
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR user_id = $3)
        AND ($4::text IS NULL OR tool = $4)
        AND ($5::bigint IS NULL OR (created_at, id) < (${FROM_MICROS.replace('$MICROS', '$5')}, $6::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT $7`,
    [
      tenantId,
      filter.status ?? null,
      filter.userId ?? null,
      filter.tool ?? null,
      page.after?.micros ?? null,
      page.after?.id ?? null,
      page.limit,
    ],
  );
  return rows;
}

export async function listPendingReviews(
  db: Queryable,
  tenantId: string,
  page: { after?: Keyset; limit: number },
): Promise<PagedActionRecord[]> {
  const { rows } = await db.query<PagedActionRecord>(
    `SELECT ${ACTION_COLUMNS}, ${CURSOR_COLUMN} FROM actions
      WHERE tenant_id = $1 AND status = 'pending_review'
        AND ($2::bigint IS NULL OR (created_at, id) > (${FROM_MICROS.replace('$MICROS', '$2')}, $3::uuid))
      ORDER BY created_at, id
      LIMIT $4`,
    [tenantId, page.after?.micros ?? null, page.after?.id ?? null, page.limit],
  );
  return rows;
}

// Moves an action from one of `from` to `to`. Returns null when the action was not in an
// allowed state: the caller lost a race or is replaying work, and must not act twice.
export async function transitionAction(
  db: Queryable,
  tenantId: string,
  id: string,
  from: readonly ActionStatus[],
  to: ActionStatus,
  changes: {
    result?: Record<string, unknown> | null;
    error?: ActionError | null;
    incrementAttempts?: boolean;
    queued?: boolean;
  } = {},
): Promise<ActionRecord | null> {
  const { rows } = await db.query<ActionRecord>(
    `UPDATE actions
        SET status = $4,
            result = CASE WHEN $5::boolean THEN $6::jsonb ELSE result END,
            error = CASE WHEN $7::boolean THEN $8::jsonb ELSE error END,
            attempts = attempts + CASE WHEN $9::boolean THEN 1 ELSE 0 END,
            queued_at = CASE WHEN $10::boolean THEN now() ELSE queued_at END,
            version = version + 1,
            updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND status = ANY($3::text[])
      RETURNING ${ACTION_COLUMNS}`,
    [
      tenantId,
      id,
      from,
      to,
      changes.result !== undefined,
      changes.result === undefined ? null : JSON.stringify(changes.result),
      changes.error !== undefined,
      changes.error === undefined ? null : JSON.stringify(changes.error),
      changes.incrementAttempts ?? false,
      changes.queued ?? false,
    ],
  );
  return rows[0] ?? null;
}
