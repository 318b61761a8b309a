import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, createKey, startTestStack, waitFor, type TestStack } from '../helpers/test-env.ts';
import {
  baseMetricName,
  dashboardQueries,
  exportedMetricsReferenced,
  ruleQueries,
} from './promql-metric-names.ts';

// Keeps dashboards and alerts honest against the real service: drive real traffic through
// a running stack, scrape /metrics, and fail on any query that names a metric the service
// does not export.
describe('dashboards and alert rules against a live /metrics', () => {
  let stack: TestStack;
  let exposition: string;

  beforeAll(async () => {
    stack = await startTestStack({ worker: true });
    const agent = await createKey(stack, 'metrics', 'agent');
    const reviewer = await createKey(stack, 'metrics', 'reviewer');
    const post = (payload: object) =>
      stack.app.inject({
        method: 'POST',
        url: '/v1/actions',
        headers: authHeaders(agent, randomUUID()),
        payload,
      });
    const allowed = (
      await post({ tool: 'notes.create', arguments: { title: 't', body: 'b' }, user_id: 'u' })
    ).json();
    const pending = (await post({ tool: 'files.delete', arguments: { path: '/a' }, user_id: 'u' })).json();
    await post({ tool: 'notes.create', arguments: { title: '' }, user_id: 'u' });
    await stack.app.inject({ method: 'GET', url: `/v1/actions/${allowed.id}`, headers: authHeaders(agent) });
    await stack.app.inject({ method: 'GET', url: `/v1/reviews`, headers: authHeaders(reviewer) });
    await stack.app.inject({
      method: 'POST',
      url: `/v1/reviews/${pending.id}`,
      headers: authHeaders(reviewer),
      payload: { decision: 'reject' },
    });
    await waitFor(
      async () =>
        (
          await stack.app.inject({
            method: 'GET',
            url: `/v1/actions/${allowed.id}`,
            headers: authHeaders(agent),
          })
        ).json().status === 'succeeded',
      { what: 'the allowed action to execute' },
    );
    exposition = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
  });
  afterAll(async () => stack?.close());

  const exported = () =>
    new Set(
      exposition
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .map((line) => line.split(' ')[2]!),
    );

  it('when traffic has flowed, then the RED, decision, job and start-delay series carry samples', () => {
    for (const series of [
      'http_server_request_duration_seconds_bucket{',
      'airlock_decisions_total{',
      'airlock_job_duration_seconds_bucket{',
      'airlock_action_start_delay_seconds_bucket{',
      'airlock_queue_jobs{',
      'airlock_outbox_pending ',
      'airlock_db_pool_clients{',
      'airlock_reviews_pending ',
    ]) {
      expect(exposition, series).toContain(series);
    }
  });

  it('when every dashboard and rule query is parsed, then each metric it names is exported by the service', () => {
    const names = exported();
    const referenced = exportedMetricsReferenced([...dashboardQueries(), ...ruleQueries()]);
    expect(referenced.size).toBeGreaterThan(10);
    const missing = [...referenced.entries()]
      .filter(([name]) => !names.has(baseMetricName(name)) && !names.has(name))
      .map(([name, uses]) => `${name} (used in ${uses.slice(0, 2).join('; ')})`);
    expect(missing).toEqual([]);
  });

  it('when a route label is exported, then it is the route pattern, never a concrete id', () => {
    const routes = [...exposition.matchAll(/route="([^"]*)"/g)].map((m) => m[1]!);
    expect(routes).toContain('/v1/actions/:id');
    expect(routes.some((r) => /[0-9a-f]{8}-[0-9a-f]{4}/.test(r))).toBe(false);
  });
});
