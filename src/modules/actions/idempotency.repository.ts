import type { Queryable } from '../../platform/db.ts';

export type ClaimResult =
  | { kind: 'claimed'; token: string }
  | { kind: 'replay'; actionId: string }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

// Claims a key for this request. The insert commits on its own, before the work starts, so
// a concurrent request with the same key sees it at once and answers 409 instead of
// queueing behind a lock. A claim whose holder died is taken over once its lease expires.
export async function claimIdempotencyKey(
  db: Queryable,
  claim: { tenantId: string; key: string; requestHash: string; leaseMs: number },
): Promise<ClaimResult> {
  const claimed = await db.query<{ claim_token: string }>({
    name: 'claim_idempotency_key',
    text: `INSERT INTO idempotency_keys (tenant_id, key, request_hash, claim_token, locked_until)
     VALUES ($1, $2, $3, gen_random_uuid(), now() + make_interval(secs => $4 / 1000.0))
     ON CONFLICT (tenant_id, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, claim_token = EXCLUDED.claim_token,
            locked_until = EXCLUDED.locked_until, created_at = now()
      WHERE idempotency_keys.action_id IS NULL AND idempotency_keys.locked_until < now()
     RETURNING claim_token`,
    values: [claim.tenantId, claim.key, claim.requestHash, claim.leaseMs],
  });
  if (claimed.rows[0]) return { kind: 'claimed', token: claimed.rows[0].claim_token };

  const { rows } = await db.query<{ request_hash: string; action_id: string | null }>({
    name: 'read_idempotency_key',
    text: 'SELECT request_hash, action_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2',
    values: [claim.tenantId, claim.key],
  });
  const existing = rows[0];
  // Released between our insert and this read: the caller may simply try again.
  if (!existing) return { kind: 'in_flight' };
  if (existing.request_hash !== claim.requestHash) return { kind: 'mismatch' };
  if (existing.action_id) return { kind: 'replay', actionId: existing.action_id };
  return { kind: 'in_flight' };
}

// Returns false when the claim is no longer ours (the lease expired and another request
// took the key over): the caller must roll back rather than create a second action.
export async function completeIdempotencyKey(
  db: Queryable,
  key: { tenantId: string; key: string; token: string; actionId: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE idempotency_keys SET action_id = $4, locked_until = NULL
      WHERE tenant_id = $1 AND key = $2 AND claim_token = $3 AND action_id IS NULL`,
    [key.tenantId, key.key, key.token, key.actionId],
  );
  return rowCount === 1;
}

// Frees a claim whose request failed before it produced an action, so the client may retry.
export async function releaseIdempotencyKey(
  db: Queryable,
  key: { tenantId: string; key: string; token: string },
): Promise<void> {
  await db.query(
    'DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND claim_token = $3 AND action_id IS NULL',
    [key.tenantId, key.key, key.token],
  );
}

// Deletes up to `limit` keys older than the retention, oldest first, and returns how many.
// A claim still in flight (its lease not yet over) is never deleted, whatever its age. Each
// call is one short statement; rows another session holds are skipped, not waited for.
export async function sweepExpiredIdempotencyKeys(
  db: Queryable,
  sweep: { retentionMs: number; limit: number },
): Promise<number> {
  const { rowCount } = await db.query({
    name: 'idempotency-sweep',
    text: `DELETE FROM idempotency_keys
            WHERE (tenant_id, key) IN (
              SELECT tenant_id, key FROM idempotency_keys
               WHERE created_at < now() - make_interval(secs => $1 / 1000.0)
                 AND (action_id IS NOT NULL OR locked_until IS NULL OR locked_until < now())
               ORDER BY created_at
               LIMIT $2
                 FOR UPDATE SKIP LOCKED)`,
    values: [sweep.retentionMs, sweep.limit],
  });
  return rowCount ?? 0;
}
