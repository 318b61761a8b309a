import { beforeAll, describe, expect, it } from 'vitest';
import {
  baseMetricName,
  dashboardQueries,
  exportedMetricsReferenced,
  ruleQueries,
} from './promql-metric-names.ts';
import { deleteBody, noteBody } from '../helpers/api-client.ts';
import { useTestStack } from '../helpers/use-test-stack.ts';

// Keeps dashboards and alerts honest against the real service: drive real traffic through
// a running stack, scrape /metrics, and fail on any query that names a metric the service
// does not export.
describe('dashboards and alert rules against a live /metrics', () => {
  let exposition: string;
  const { api, ids } = useTestStack(
    { worker: true },
    {
      agent: ['metrics', 'agent'],
      reviewer: ['metrics', 'reviewer'],
    },
  );
  const { agent, reviewer } = ids;

  beforeAll(async () => {
    const allowed = await api.created(agent.key, noteBody());
    expect(allowed.decision.outcome, JSON.stringify(allowed.decision.reasons)).toBe('allow');
    const pending = await api.created(agent.key, deleteBody('/a'));
    await api.propose(agent.key, { ...noteBody(), arguments: { title: '' } });
    await api.get(agent.key, `/v1/actions/${allowed.id}`);
    await api.get(reviewer.key, '/v1/reviews');
    await api.review(reviewer.key, pending.id, { decision: 'reject' });
    await api.waitForStatus(allowed.id, ['succeeded']);
    exposition = (await api.get(null, '/metrics')).body;
  });

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
