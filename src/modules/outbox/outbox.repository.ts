import type { PoolClient, Queryable } from '../../platform/db.ts';

export const OUTBOX_CHANNEL = 'airlock_outbox';
export const EXECUTE_ACTION_TOPIC = 'action.execute';

export interface OutboxMessage {
  id: number;
  tenantId: string;
  actionId: string;
  topic: string;
  payload: Record<string, unknown>;
  traceContext: Record<string, string> | null;
  createdAt: Date;
}

// Written in the caller's transaction. The caller wakes the relay after its commit (see
// outbox-notifier.ts); a lost wake-up costs one poll interval, never a message.
export async function enqueueOutboxMessage(
  tx: PoolClient,
  message: {
    tenantId: string;
    actionId: string;
    topic: string;
    payload: Record<string, unknown>;
    traceContext?: Record<string, string> | null;
  },
): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO outbox (tenant_id, action_id, topic, payload, trace_context) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [
      message.tenantId,
      message.actionId,
      message.topic,
      JSON.stringify(message.payload),
      message.traceContext ? JSON.stringify(message.traceContext) : null,
    ],
  );
  return rows[0]!.id;
}

// Claims a batch of unpublished rows and marks them published, in one statement of the
// caller's transaction. The rows stay locked until that transaction ends: the relay commits
// only after BullMQ has accepted the jobs, and a failure rolls the mark back. SKIP LOCKED
// lets several relays share the table without publishing the same row at the same time.
// RETURNING has no order, so the rows are sorted here.
export async function claimUnpublished(tx: PoolClient, limit: number): Promise<OutboxMessage[]> {
  const { rows } = await tx.query<OutboxMessage>({
    name: 'outbox-claim-unpublished',
    text: `UPDATE outbox SET published_at = now()
            WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL
                          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, tenant_id AS "tenantId", action_id AS "actionId", topic, payload,
                  trace_context AS "traceContext", created_at AS "createdAt"`,
    values: [limit],
  });
  return rows.sort((a, b) => a.id - b.id);
}

export async function outboxBacklog(db: Queryable): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const { rows } = await db.query<{ pending: number; oldest: number | null }>(
    `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
       FROM outbox WHERE published_at IS NULL`,
  );
  return { pending: rows[0]?.pending ?? 0, oldestAgeSeconds: rows[0]?.oldest ?? 0 };
}

// The one message the service sends today: execute this action.
export function enqueueExecution(
  tx: PoolClient,
  target: { tenantId: string; actionId: string; traceContext: Record<string, string> | null },
): Promise<number> {
  return enqueueOutboxMessage(tx, { ...target, topic: EXECUTE_ACTION_TOPIC, payload: {} });
}
