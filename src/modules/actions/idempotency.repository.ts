import type { Queryable } from '../../platform/db.ts';

export type ClaimResult =
  { kind: 'claimed' } | { kind: 'replay'; actionId: string } | { kind: 'mismatch' } | { kind: 'in_flight' };

// Claims a key for this request. The insert commits on its own, before the work starts, so
// a concurrent request with the same key sees it at once and answers 409 instead of
// queueing behind a lock. A claim whose holder died is taken over once its lease expires.
export async function claimIdempotencyKey(
  db: Queryable,
  claim: { tenantId: string; key: string; requestHash: string; leaseMs: number },
): Promise<ClaimResult> {
  const claimed = await db.query(
    `INSERT INTO idempotency_keys (tenant_id, key, request_hash, locked_until)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4 / 1000.0))
     ON CONFLICT (tenant_id, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, locked_until = EXCLUDED.locked_until, created_at = now()
      WHERE idempotency_keys.action_id IS NULL AND idempotency_keys.locked_until < now()
     RETURNING 1`,
    [claim.tenantId, claim.key, claim.requestHash, claim.leaseMs],
  );
  if (claimed.rowCount) return { kind: 'claimed' };

  const { rows } = await db.query<{ request_hash: string; action_id: string | null }>(
    'SELECT request_hash, action_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2',
    [claim.tenantId, claim.key],
  );
  const existing = rows[0];
  // Released between our insert and this read: the caller may simply try again.
  if (!existing) return { kind: 'in_flight' };
  if (existing.request_hash !== claim.requestHash) return { kind: 'mismatch' };
  if (existing.action_id) return { kind: 'replay', actionId: existing.action_id };
  return { kind: 'in_flight' };
}

export async function completeIdempotencyKey(
  db: Queryable,
  key: { tenantId: string; key: string; actionId: string },
): Promise<void> {
  await db.query(
    'UPDATE idempotency_keys SET action_id = $3, locked_until = NULL WHERE tenant_id = $1 AND key = $2',
    [key.tenantId, key.key, key.actionId],
  );
}

// Frees a claim whose request failed before it produced an action, so the client may retry.
export async function releaseIdempotencyKey(
  db: Queryable,
  key: { tenantId: string; key: string },
): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND action_id IS NULL', [
    key.tenantId,
    key.key,
  ]);
}
