import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { createTtlCache } from '../../platform/ttl-cache.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { TenantPolicy } from '../decisions/decision-types.ts';
import { DEFAULT_POLICY, findPolicy, upsertPolicy } from './policy.repository.ts';

// Read on every proposal and every execution; a change reaches other processes within the
// TTL, and this process at once.
const POLICY_TTL_MS = 2_000;

export function createPolicyService(deps: { pool: Pool }) {
  const cache = createTtlCache<string, TenantPolicy>({
    ttlMs: POLICY_TTL_MS,
    maxEntries: 10_000,
    load: async (tenantId) => ({ ...DEFAULT_POLICY, ...(await findPolicy(deps.pool, tenantId)) }),
  });

  async function get(tenantId: string): Promise<TenantPolicy> {
    return cache.get(tenantId);
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
    cache.delete(tenantId);
    return normalised;
  }

  return { get, put };
}

export type PolicyService = ReturnType<typeof createPolicyService>;

const unique = (values: string[]) => [...new Set(values)];
