import type { Queryable } from '../../platform/db.ts';

// Across every tenant: the review queue's size and the age of its oldest item, for the
// pending-review gauges.
export async function reviewBacklog(db: Queryable): Promise<{ pending: number; oldestAgeSeconds: number }> {
  const { rows } = await db.query<{ pending: number; oldest: number | null }>(
    `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
       FROM actions WHERE status = 'pending_review'`,
  );
  return { pending: rows[0]?.pending ?? 0, oldestAgeSeconds: rows[0]?.oldest ?? 0 };
}
