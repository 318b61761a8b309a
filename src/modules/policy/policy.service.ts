import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { TenantPolicy } from '../decisions/decision-types.ts';
import { DEFAULT_POLICY, findPolicy, upsertPolicy } from './policy.repository.ts';

export function createPolicyService(deps: { pool: Pool }) {
  async function get(tenantId: string): Promise<TenantPolicy> {
    const stored = await findPolicy(deps.pool, tenantId);
    return { ...DEFAULT_POLICY, ...stored };
  }

  async function put(
    tenantId: string,
    policy: Omit<TenantPolicy, 'report_threshold' | 'report_window_minutes'> & Partial<TenantPolicy>,
    actor: string,
  ): Promise<TenantPolicy> {
    const normalised: TenantPolicy = {
      email_allowed_domains: unique(policy.email_allowed_domains.map((d) => d.toLowerCase())),
      fetch_allowed_hosts: unique(policy.fetch_allowed_hosts.map((h) => h.toLowerCase())),
      refund_review_above_cents: policy.refund_review_above_cents,
      rate_limit_per_user_per_minute: policy.rate_limit_per_user_per_minute,
      report_threshold: policy.report_threshold ?? DEFAULT_POLICY.report_threshold,
      report_window_minutes: policy.report_window_minutes ?? DEFAULT_POLICY.report_window_minutes,
    };
    await withTransaction(deps.pool, async (tx) => {
      const before = await findPolicy(tx, tenantId);
      await upsertPolicy(tx, tenantId, normalised);
      await appendAuditEvent(tx, {
        tenantId,
        actionId: null,
        type: 'policy.updated',
        actor,
        data: { before: { ...DEFAULT_POLICY, ...before }, after: normalised },
      });
    });
    return normalised;
  }

  return { get, put };
}

export type PolicyService = ReturnType<typeof createPolicyService>;

const unique = (values: string[]) => [...new Set(values)];
