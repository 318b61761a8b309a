import type { Queryable } from '../../platform/db.ts';

export interface TenantBacklog {
  pendingReviews: number;
  oldestReviewAgeSeconds: number;
  outboxPending: number;
  outboxOldestAgeSeconds: number;
}

// The tenant's own share of the backlogs the operations page shows.
export async function readTenantBacklog(db: Queryable, tenantId: string): Promise<TenantBacklog> {
  const { rows } = await db.query<{
    reviews: number;
    review_age: number | null;
    outbox: number;
    outbox_age: number | null;
  }>(
    `SELECT r.n AS reviews, r.age AS review_age, o.n AS outbox, o.age AS outbox_age
       FROM (SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
               FROM actions WHERE tenant_id = $1 AND status = 'pending_review') r,
            (SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
               FROM outbox WHERE tenant_id = $1 AND published_at IS NULL) o`,
    [tenantId],
  );
  const row = rows[0]!;
  return {
    pendingReviews: row.reviews,
    oldestReviewAgeSeconds: row.review_age ?? 0,
    outboxPending: row.outbox,
    outboxOldestAgeSeconds: row.outbox_age ?? 0,
  };
}

export interface TrafficCounts {
  proposals: number;
  allowed: number;
  inFlight: number;
  pendingReview: number;
}

// What a flag flip would touch, per tool: the tenant's recent proposals and the work it has
// in flight, which kill switches also stop at execution. One query for every flag on the page.
export async function readTrafficByTool(
  db: Queryable,
  tenantId: string,
  windowMinutes: number,
): Promise<Map<string, TrafficCounts>> {
  const { rows } = await db.query<{
    tool: string;
    proposals: number;
    allowed: number;
    in_flight: number;
    pending: number;
  }>(
    `SELECT tool,
            count(*) FILTER (WHERE created_at > now() - make_interval(mins => $2))::int AS proposals,
            count(*) FILTER (WHERE created_at > now() - make_interval(mins => $2)
                               AND decision->>'outcome' = 'allow')::int AS allowed,
            count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS in_flight,
            count(*) FILTER (WHERE status = 'pending_review')::int AS pending
       FROM actions
      WHERE tenant_id = $1
        AND (created_at > now() - make_interval(mins => $2) OR status IN ('queued', 'running', 'pending_review'))
      GROUP BY tool`,
    [tenantId, windowMinutes],
  );
  return new Map(
    rows.map((r) => [
      r.tool,
      { proposals: r.proposals, allowed: r.allowed, inFlight: r.in_flight, pendingReview: r.pending },
    ]),
  );
}
