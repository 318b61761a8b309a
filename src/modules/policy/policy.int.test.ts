import { describe, expect, it } from 'vitest';
import {
  createIdentity,
  DEFAULT_POLICY_BODY,
  reasonCodes,
  refundBody,
} from '../../../test/helpers/api-client.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

const CONTRACT_DEFAULTS = {
  email_allowed_domains: [],
  fetch_allowed_hosts: [],
  refund_review_above_cents: 5000,
  rate_limit_per_user_per_minute: 60,
  report_threshold: 3,
  report_window_minutes: 1440,
};

interface AuditItem {
  seq: number;
  type: string;
  actor: string;
  data: { before: Record<string, unknown>; after: Record<string, unknown> };
}

describe('GET and PUT /v1/policy', () => {
  const { stack, api, ids } = useTestStack({}, STANDARD_IDENTITIES);
  const { admin, agent, reviewer, otherAdmin } = ids;

  const policyEvents = async (key: string) =>
    ((await api.get(key, '/v1/audit?limit=100')).json().items as AuditItem[]).filter(
      (e) => e.type === 'policy.updated',
    );

  it('when a tenant has never set a policy, then GET answers the contract defaults', async () => {
    const fresh = await createIdentity(stack, 'fresh', 'admin');
    const response = await api.get(fresh.key, '/v1/policy');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(CONTRACT_DEFAULTS);
  });

  it('when an admin puts a policy, then it is stored normalised and GET returns it', async () => {
    const body = {
      email_allowed_domains: ['Acme.TEST', 'partner.example'],
      fetch_allowed_hosts: ['api.example.com', '*.cdn.example'],
      refund_review_above_cents: 10_000,
      rate_limit_per_user_per_minute: 30,
      report_threshold: 5,
      report_window_minutes: 60,
    };
    const put = await api.put(admin.key, '/v1/policy', body);
    expect(put.statusCode).toBe(200);
    const expected = { ...body, email_allowed_domains: ['acme.test', 'partner.example'] };
    expect(put.json()).toEqual(expected);
    expect((await api.get(admin.key, '/v1/policy')).json()).toEqual(expected);
  });

  it('when a PUT omits the report fields, then they return to their defaults (PUT replaces)', async () => {
    await api.put(admin.key, '/v1/policy', { ...DEFAULT_POLICY_BODY, report_threshold: 9 });
    const put = await api.put(admin.key, '/v1/policy', DEFAULT_POLICY_BODY);
    expect(put.json()).toMatchObject({ report_threshold: 3, report_window_minutes: 1440 });
  });

  it('when a PUT has an unknown field, a negative amount, a zero rate limit or misses a field, then 400 and nothing changes', async () => {
    const valid = { ...DEFAULT_POLICY_BODY, refund_review_above_cents: 4242 };
    await api.put(admin.key, '/v1/policy', valid);
    const { email_allowed_domains: _dropped, ...missingDomains } = valid;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, surprise: true }, 'surprise'],
      [{ ...valid, refund_review_above_cents: -1 }, 'refund_review_above_cents'],
      [{ ...valid, refund_review_above_cents: 1.5 }, 'refund_review_above_cents'],
      [{ ...valid, rate_limit_per_user_per_minute: 0 }, 'rate_limit_per_user_per_minute'],
      [{ ...valid, report_threshold: 0 }, 'report_threshold'],
      [{ ...valid, email_allowed_domains: ['not a domain!'] }, 'email_allowed_domains'],
      [{ ...valid, email_allowed_domains: ['a.test', 'a.test'] }, 'email_allowed_domains'],
      [missingDomains, 'email_allowed_domains'],
    ];
    for (const [body, field] of cases) {
      const response = await api.put(admin.key, '/v1/policy', body);
      expect(response.statusCode, field).toBe(400);
      expect(response.json().code, field).toBe('invalid_request');
      expect(response.json().detail, field).toContain(field);
    }
    expect((await api.get(admin.key, '/v1/policy')).json().refund_review_above_cents).toBe(4242);
  });

  it('when an agent or a reviewer reads or writes the policy, then 403 forbidden; without a key, 401', async () => {
    for (const key of [agent.key, reviewer.key]) {
      const read = await api.get(key, '/v1/policy');
      expect(read.statusCode).toBe(403);
      expect(read.json().code).toBe('forbidden');
      const write = await api.put(key, '/v1/policy', {
        ...DEFAULT_POLICY_BODY,
        refund_review_above_cents: 1,
      });
      expect(write.statusCode).toBe(403);
      expect(write.json().code).toBe('forbidden');
    }
    expect((await api.get(null, '/v1/policy')).statusCode).toBe(401);
    expect((await api.get(admin.key, '/v1/policy')).json().refund_review_above_cents).not.toBe(1);
  });

  it('when an admin changes the policy, then policy.updated is audited with the admin key, before and after', async () => {
    const auditor = await createIdentity(stack, 'audited', 'admin');
    const first = { ...DEFAULT_POLICY_BODY, refund_review_above_cents: 100 };
    const second = {
      ...DEFAULT_POLICY_BODY,
      email_allowed_domains: ['b.test'],
      refund_review_above_cents: 200,
    };
    await api.put(auditor.key, '/v1/policy', first);
    await api.put(auditor.key, '/v1/policy', second);
    const events = await policyEvents(auditor.key);
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.actor === `key:${auditor.keyId}`)).toBe(true);
    expect(events[0]!.data.before).toEqual(CONTRACT_DEFAULTS);
    expect(events[0]!.data.after).toEqual({ ...CONTRACT_DEFAULTS, refund_review_above_cents: 100 });
    expect(events[1]!.data.before).toEqual(events[0]!.data.after);
    expect(events[1]!.data.after).toEqual({
      ...CONTRACT_DEFAULTS,
      email_allowed_domains: ['b.test'],
      refund_review_above_cents: 200,
    });
    expect(await stack.container.audit.verify(auditor.tenantId)).toMatchObject({ valid: true });
  });

  it('when a rejected PUT is sent, then no policy.updated event is written', async () => {
    const auditor = await createIdentity(stack, 'audited-bad', 'admin');
    await api.put(auditor.key, '/v1/policy', { ...DEFAULT_POLICY_BODY, refund_review_above_cents: -5 });
    expect(await policyEvents(auditor.key)).toHaveLength(0);
  });

  it("when one tenant changes its policy, then another tenant's policy and decisions are unchanged", async () => {
    await api.put(admin.key, '/v1/policy', { ...DEFAULT_POLICY_BODY, refund_review_above_cents: 10 });
    expect((await api.get(otherAdmin.key, '/v1/policy')).json()).toEqual(CONTRACT_DEFAULTS);
    const otherAgent = await createIdentity(stack, 'globex', 'agent');
    const mine = await api.created(agent.key, refundBody(500));
    const theirs = await api.created(otherAgent.key, refundBody(500));
    expect(reasonCodes(mine)).toEqual(['high_amount']);
    expect(theirs.decision.outcome, JSON.stringify(theirs.decision.reasons)).toBe('allow');
    expect(await policyEvents(otherAdmin.key)).toHaveLength(0);
  });
});
