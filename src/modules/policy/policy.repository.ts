import type { Queryable } from '../../platform/db.ts';
import type { TenantPolicy } from '../decisions/decision-types.ts';

export const DEFAULT_POLICY: Readonly<TenantPolicy> = Object.freeze({
  email_allowed_domains: [],
  fetch_allowed_hosts: [],
  refund_review_above_cents: 5000,
  rate_limit_per_user_per_minute: 60,
  report_threshold: 3,
  report_window_minutes: 1440,
});

export async function findPolicy(db: Queryable, tenantId: string): Promise<TenantPolicy | null> {
  const { rows } = await db.query<{ policy: TenantPolicy }>({
    name: 'find_policy',
    text: 'SELECT policy FROM tenant_policies WHERE tenant_id = $1',
    values: [tenantId],
  });
  return rows[0]?.policy ?? null;
}

export async function upsertPolicy(db: Queryable, tenantId: string, policy: TenantPolicy): Promise<void> {
  await db.query(
    `INSERT INTO tenant_policies (tenant_id, policy) VALUES ($1, $2)
     ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy, updated_at = now()`,
    [tenantId, JSON.stringify(policy)],
  );
}
