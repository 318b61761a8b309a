// The alert inbox: Alertmanager's webhook (its own bearer token, payload version 4, bounded),
// GET /v1/alerts for admin keys of any tenant, and `cli alerts` reading the same rows.
import { describe, expect, it } from 'vitest';
import { authHeaders } from '../../../test/helpers/test-env.ts';
import { runCli, singleJsonDocument } from '../../../test/helpers/run-cli.ts';
import { testEnv } from '../../../test/helpers/test-env.ts';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';

const TOKEN = 'alertmanager-test-token-0123456789';

function webhook(
  status: 'firing' | 'resolved',
  alerts: { name: string; fingerprint: string; startsAt: string }[],
) {
  return {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    status,
    receiver: 'inbox',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: alerts.map((a) => ({
      status,
      labels: { alertname: a.name, severity: 'page', job: 'airlock-api' },
      annotations: { summary: `${a.name} summary`, runbook_url: `runbooks/${a.name}.md` },
      startsAt: a.startsAt,
      endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-12-07T10:05:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: a.fingerprint,
    })),
  };
}

describe('alert inbox', () => {
  const { stack, ids } = useTestStack(
    { env: { ALERT_WEBHOOK_TOKEN: TOKEN, ALERT_RUNBOOK_BASE_URL: 'http://runbooks.test:8080' } },
    { admin: ['acme', 'admin'], otherAdmin: ['globex', 'admin'], agent: ['acme', 'agent'] },
  );
  const deliver = (body: unknown, token: string | null = TOKEN) =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/alerts/webhook',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: JSON.stringify(body),
    });
  const list = (key: string, query = '') =>
    stack.app.inject({ method: 'GET', url: `/v1/alerts${query}`, headers: authHeaders(key) });

  it('when the token is missing or wrong, then the delivery is refused with 401', async () => {
    const body = webhook('firing', [
      { name: 'AirlockTargetDown', fingerprint: 'aa01', startsAt: '2026-12-07T10:00:00Z' },
    ]);
    expect((await deliver(body, null)).statusCode).toBe(401);
    expect((await deliver(body, `${TOKEN}x`)).statusCode).toBe(401);
    // A tenant's admin key is not Alertmanager's credential.
    expect((await deliver(body, ids.admin.key)).statusCode).toBe(401);
  });

  it('when the payload has an unknown field, another version or is too large, then it is refused', async () => {
    const body = webhook('firing', [{ name: 'X', fingerprint: 'aa02', startsAt: '2026-12-07T10:00:00Z' }]);
    expect((await deliver({ ...body, extra: 1 })).json()).toMatchObject({ status: 400 });
    expect((await deliver({ ...body, version: '3' })).statusCode).toBe(400);
    const huge = { ...body, commonAnnotations: { a: 'x'.repeat(8192) }, groupKey: 'x'.repeat(4096) };
    const many = {
      ...huge,
      alerts: Array.from({ length: 200 }, () => ({
        ...body.alerts[0]!,
        annotations: { a: 'y'.repeat(4000) },
      })),
    };
    expect((await deliver(many)).statusCode).toBe(413);
  });

  it('when Alertmanager delivers a firing alert, then every tenant admin reads it with an absolute runbook link', async () => {
    const res = await deliver(
      webhook('firing', [
        { name: 'AirlockTargetDown', fingerprint: 'ab01', startsAt: '2026-12-07T10:00:00Z' },
        { name: 'AirlockOutboxLagHigh', fingerprint: 'ab02', startsAt: '2026-12-07T10:01:00Z' },
      ]),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 2 });
    for (const key of [ids.admin.key, ids.otherAdmin.key]) {
      const page = (await list(key, '?state=firing&limit=20')).json();
      expect(page.items).toEqual([
        {
          name: 'AirlockOutboxLagHigh',
          state: 'firing',
          severity: 'page',
          since: '2026-12-07T10:01:00.000Z',
          resolved_at: null,
          runbook_url: 'http://runbooks.test:8080/runbooks/AirlockOutboxLagHigh.md',
          summary: 'AirlockOutboxLagHigh summary',
          labels: { alertname: 'AirlockOutboxLagHigh', severity: 'page', job: 'airlock-api' },
          source: 'alertmanager:inbox',
        },
        expect.objectContaining({ name: 'AirlockTargetDown', state: 'firing' }),
      ]);
    }
    expect((await list(ids.agent.key)).statusCode).toBe(403);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(401);
  });

  it('when the alert resolves, then the same row turns resolved and pages walk the list', async () => {
    await deliver(
      webhook('resolved', [
        { name: 'AirlockTargetDown', fingerprint: 'ab01', startsAt: '2026-12-07T10:00:00Z' },
      ]),
    );
    const firing = (await list(ids.admin.key, '?state=firing')).json();
    expect(firing.items.map((a: { name: string }) => a.name)).not.toContain('AirlockTargetDown');
    const resolved = (await list(ids.admin.key, '?state=resolved')).json();
    expect(resolved.items).toEqual([
      expect.objectContaining({
        name: 'AirlockTargetDown',
        state: 'resolved',
        resolved_at: '2026-12-07T10:05:00.000Z',
      }),
    ]);
    const first = (await list(ids.admin.key, '?limit=1')).json();
    expect(first.items).toHaveLength(1);
    const second = (await list(ids.admin.key, `?limit=1&cursor=${first.next_cursor}`)).json();
    expect(second.items[0].name).not.toBe(first.items[0].name);
    expect((await list(ids.admin.key, '?state=pending')).statusCode).toBe(400);
    expect((await list(ids.admin.key, '?cursor=bogus')).statusCode).toBe(400);
  });

  it('when `cli alerts` runs, then it prints the same inbox', { timeout: 60_000 }, async () => {
    const env = testEnv(stack.databaseUrl, { ALERT_RUNBOOK_BASE_URL: 'http://runbooks.test:8080' });
    const json = await runCli(['alerts', '--state', 'firing', '--json'], env);
    expect(json.code).toBe(0);
    const doc = singleJsonDocument(json) as { items: { name: string; runbook_url: string }[] };
    expect(doc.items.map((a) => a.name)).toEqual(['AirlockOutboxLagHigh']);
    const human = await runCli(['alerts'], env);
    expect(human.stdout).toMatch(/FIRING\s+page\s+AirlockOutboxLagHigh/);
    expect(human.stdout).toContain('runbook: http://runbooks.test:8080/runbooks/AirlockOutboxLagHigh.md');
    const bad = await runCli(['alerts', '--state', 'pending'], env);
    expect(bad.code).toBe(2);
  });
});

describe('alert inbox without ALERT_WEBHOOK_TOKEN', () => {
  const { stack } = useTestStack();
  it('when no token is configured, then the webhook does not exist', async () => {
    const res = await stack.app.inject({ method: 'POST', url: '/v1/alerts/webhook', payload: {} });
    expect(res.statusCode).toBe(404);
  });
});
