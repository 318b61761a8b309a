import type { Keyset } from '../../platform/pagination.ts';
import type { PoolClient, Queryable } from '../../platform/db.ts';
import { ACTION_COLUMNS } from '../actions/actions.repository.ts';
import type { ActionError, ActionRecord } from '../actions/action-types.ts';
import { auditInsertSql, auditParams, type PreparedAuditEvent } from '../audit/audit.repository.ts';
import { EXECUTE_ACTION_TOPIC } from '../outbox/outbox.repository.ts';

export type DeadLetterState = 'open' | 'replayed' | 'discarded';

export interface DeadLetterRow {
  jobId: string;
  tenantId: string;
  actionId: string;
  tool: string;
  attempts: number;
  error: ActionError;
  state: DeadLetterState;
  failedAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  // failed_at in whole microseconds, for a keyset cursor that neither skips nor repeats.
  failedAtMicros: string;
}

export interface DeadLetterFilter {
  tenantId?: string;
  tool?: string;
  code?: string;
  state?: DeadLetterState;
  // Only letters parked at or before this time (a bulk replay's snapshot).
  failedUpTo?: Date;
}

const COLUMNS = `job_id AS "jobId", tenant_id AS "tenantId", action_id AS "actionId", tool, attempts, error,
  state, failed_at AS "failedAt", resolved_at AS "resolvedAt", resolved_by AS "resolvedBy",
  (extract(epoch FROM failed_at) * 1000000)::bigint::text AS "failedAtMicros"`;

// $1 tenant, $2 tool, $3 error code, $4 state, $5 failed up to.
const FILTER = `($1::uuid IS NULL OR tenant_id = $1)
  AND ($2::text IS NULL OR tool = $2)
  AND ($3::text IS NULL OR error->>'code' = $3)
  AND state = $4
  AND ($5::timestamptz IS NULL OR failed_at <= $5)`;

const filterValues = (filter: DeadLetterFilter) => [
  filter.tenantId ?? null,
  filter.tool ?? null,
  filter.code ?? null,
  filter.state ?? 'open',
  filter.failedUpTo ?? null,
];

// Newest first, keyset-paged on (failed_at, job_id).
export async function listDeadLetters(
  db: Queryable,
  filter: DeadLetterFilter,
  page: { limit: number; after?: Keyset },
): Promise<DeadLetterRow[]> {
  const { rows } = await db.query<DeadLetterRow>({
    name: 'dlq-list',
    text: `SELECT ${COLUMNS} FROM dead_letters
            WHERE ${FILTER}
              AND ($6::bigint IS NULL
                   OR (failed_at, job_id) < (timestamptz 'epoch' + $6::bigint * interval '1 microsecond', $7::text))
            ORDER BY failed_at DESC, job_id DESC
            LIMIT $8`,
    values: [...filterValues(filter), page.after?.micros ?? null, page.after?.id ?? null, page.limit],
  });
  return rows;
}

export async function countDeadLetters(db: Queryable, filter: DeadLetterFilter): Promise<number> {
  const { rows } = await db.query<{ n: number }>({
    name: 'dlq-count',
    text: `SELECT count(*)::int AS n FROM dead_letters WHERE ${FILTER}`,
    values: filterValues(filter),
  });
  return rows[0]?.n ?? 0;
}

// Open dead letters by tool, for the metrics.
export async function openDeadLetterCount(db: Queryable): Promise<number> {
  return countDeadLetters(db, { state: 'open' });
}

export interface LockedDeadLetter extends DeadLetterRow {
  actionStatus: string;
}

// Locks dead letters and their actions for a state change, oldest first: one by job id, or
// a batch of open ones matching a filter. SKIP LOCKED lets two bulk replays share the work
// instead of queueing.
export async function lockDeadLetters(
  tx: PoolClient,
  target: { jobId: string; tenantId?: string } | { filter: DeadLetterFilter; limit: number },
): Promise<LockedDeadLetter[]> {
  const byId = 'jobId' in target;
  const { rows } = await tx.query<LockedDeadLetter>({
    name: byId ? 'dlq-lock-one' : 'dlq-lock-batch',
    text: `SELECT d.*, a.status AS "actionStatus"
             FROM (SELECT ${COLUMNS} FROM dead_letters
                    WHERE ${byId ? `job_id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)` : FILTER}
                    ORDER BY failed_at, job_id
                    LIMIT ${byId ? '1' : '$6'}
                      FOR UPDATE${byId ? '' : ' SKIP LOCKED'}) d
             JOIN actions a ON a.tenant_id = d."tenantId" AND a.id = d."actionId"
              FOR UPDATE OF a`,
    values: byId ? [target.jobId, target.tenantId ?? null] : [...filterValues(target.filter), target.limit],
  });
  return rows;
}

// Sends failed actions back through the outbox, with their `action.replayed` events, and
// closes their dead letters, in one statement. `requeue` lists the letters whose action is
// failed; every letter in `close` ends replayed.
export async function replayDeadLetters(
  tx: PoolClient,
  replay: {
    close: readonly string[];
    requeue: ReadonlyArray<{ tenantId: string; actionId: string }>;
    actor: string;
    traceContext: Record<string, string> | null;
    events: readonly PreparedAuditEvent[];
  },
): Promise<ActionRecord[]> {
  const { rows } = await tx.query<ActionRecord>({
    name: 'dlq-replay',
    text: `WITH closed AS (
             UPDATE dead_letters SET state = 'replayed', resolved_at = now(), resolved_by = $2
              WHERE job_id = ANY($1::text[]) AND state = 'open'
           ), requeued AS (
             UPDATE actions a
                SET status = 'queued', error = NULL, queued_at = now(), version = version + 1, updated_at = now()
               FROM unnest($3::uuid[], $4::uuid[]) AS r(replay_tenant_id, replay_action_id)
              WHERE a.tenant_id = r.replay_tenant_id AND a.id = r.replay_action_id AND a.status = 'failed'
             RETURNING ${ACTION_COLUMNS}
           ), outboxed AS (
             INSERT INTO outbox (tenant_id, action_id, topic, payload, trace_context)
             SELECT "tenantId", id, '${EXECUTE_ACTION_TOPIC}', '{}'::jsonb, $5::jsonb FROM requeued ORDER BY id
           ), recorded AS (${auditInsertSql(6)})
           SELECT * FROM requeued`,
    values: [
      replay.close,
      replay.actor,
      replay.requeue.map((r) => r.tenantId),
      replay.requeue.map((r) => r.actionId),
      replay.traceContext ? JSON.stringify(replay.traceContext) : null,
      ...auditParams(replay.events),
    ],
  });
  return rows;
}

// Quarantines one dead letter: it ends discarded and its failed action takes the error
// code `discarded`, with the event that says who did it and why.
export async function discardDeadLetter(
  tx: PoolClient,
  discard: {
    jobId: string;
    tenantId: string;
    actionId: string;
    actor: string;
    error: ActionError;
    event: PreparedAuditEvent;
  },
): Promise<ActionRecord | null> {
  const { rows } = await tx.query<ActionRecord>({
    name: 'dlq-discard',
    text: `WITH closed AS (
             UPDATE dead_letters SET state = 'discarded', resolved_at = now(), resolved_by = $2
              WHERE job_id = $1 AND state = 'open'
           ), marked AS (
             UPDATE actions
                SET error = $5::jsonb, version = version + 1, updated_at = now()
              WHERE tenant_id = $3 AND id = $4 AND status = 'failed'
             RETURNING ${ACTION_COLUMNS}
           ), recorded AS (${auditInsertSql(6)})
           SELECT * FROM marked`,
    values: [
      discard.jobId,
      discard.actor,
      discard.tenantId,
      discard.actionId,
      JSON.stringify(discard.error),
      ...auditParams([discard.event]),
    ],
  });
  return rows[0] ?? null;
}
