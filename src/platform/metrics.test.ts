import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  BREAKER_STATE_VALUE,
  HTTP_DURATION_BUCKETS,
  START_DELAY_BUCKETS,
  boundedLabel,
  createMetrics,
  registerCollector,
  registerSnapshot,
  statusClassOf,
} from './metrics.ts';

function sampleValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return undefined;
}

function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^# TYPE (\S+) /.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

describe('createMetrics', () => {
  it('when given a registry, then every metric is registered there and not on the global default', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, collectDefault: false });
    metrics.decisions.inc({ tool: 'notes.create', outcome: 'allow' });

    expect(metrics.registry).toBe(registry);
    const text = await registry.metrics();
    expect(sampleValue(text, 'airlock_decisions_total{tool="notes.create",outcome="allow"}')).toBe(1);
    const { register: globalRegistry } = await import('prom-client');
    expect(globalRegistry.getSingleMetric('airlock_decisions_total')).toBeUndefined();
  });

  it('when created twice, then each instance has its own registry and no name clash', () => {
    const a = createMetrics({ collectDefault: false });
    const b = createMetrics({ collectDefault: false });
    expect(a.registry).not.toBe(b.registry);
    a.loadShed.inc();
    expect(b.registry.getSingleMetric('airlock_load_shed_total')).toBeDefined();
  });

  it('when scraped, then every contract metric name is exposed', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const names = metricNames(await metrics.registry.metrics());
    const expected = [
      'http_server_request_duration_seconds',
      'airlock_decisions_total',
      'airlock_decision_reasons_total',
      'airlock_decision_stage_duration_seconds',
      'airlock_queue_jobs',
      'airlock_queue_oldest_waiting_age_seconds',
      'airlock_outbox_pending',
      'airlock_outbox_oldest_age_seconds',
      'airlock_outbox_published_total',
      'airlock_job_duration_seconds',
      'airlock_job_attempts_total',
      'airlock_action_start_delay_seconds',
      'airlock_dead_letters',
      'airlock_dead_letter_replays_total',
      'airlock_cache_requests_total',
      'airlock_db_pool_clients',
      'airlock_db_pool_max',
      'airlock_redis_errors_total',
      'airlock_dependency_request_duration_seconds',
      'airlock_circuit_breaker_state',
      'airlock_reviews_pending',
      'airlock_review_oldest_pending_age_seconds',
      'airlock_reports_total',
      'airlock_flag_enabled',
      'airlock_rate_limited_total',
      'airlock_load_shed_total',
      'airlock_build_info',
      'airlock_metrics_collector_errors_total',
      'nodejs_eventloop_utilization_ratio',
    ];
    for (const name of expected) expect(names, name).toContain(name);
  });

  it('when default metrics are requested, then Node runtime metrics appear in the same registry', async () => {
    const metrics = createMetrics();
    const names = metricNames(await metrics.registry.metrics());
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(names).toContain('nodejs_heap_size_used_bytes');
  });

  it('when default metrics are not requested, then no process metrics are exposed', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const names = metricNames(await metrics.registry.metrics());
    expect(names).not.toContain('process_cpu_seconds_total');
  });

  it('when a request is observed, then the SLO thresholds are exact bucket boundaries', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const labels = { route: '/v1/actions/:id', method: 'GET', status_class: '2xx' };
    metrics.httpRequestDuration.observe(labels, 0.015);
    metrics.httpRequestDuration.observe(labels, 0.07);
    metrics.actionStartDelay.observe(4.9);
    metrics.actionStartDelay.observe(6);
    const text = await metrics.registry.metrics();

    const bucket = (le: string) =>
      sampleValue(
        text,
        `http_server_request_duration_seconds_bucket{le="${le}",route="/v1/actions/:id",method="GET",status_class="2xx"}`,
      );
    expect(bucket('0.02')).toBe(1);
    expect(bucket('0.1')).toBe(2);
    expect(sampleValue(text, 'airlock_action_start_delay_seconds_bucket{le="5"}')).toBe(1);
    expect(HTTP_DURATION_BUCKETS).toEqual(expect.arrayContaining([0.02, 0.1]));
    expect(START_DELAY_BUCKETS).toContain(5);
  });

  it('when build info is given, then airlock_build_info is 1 with version and role', async () => {
    const metrics = createMetrics({ collectDefault: false, buildInfo: { version: '1.2.3', role: 'worker' } });
    const text = await metrics.registry.metrics();
    expect(sampleValue(text, 'airlock_build_info{version="1.2.3",role="worker"}')).toBe(1);
  });

  it('when scraped, then the event loop utilisation is a ratio between 0 and 1', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const busyUntil = Date.now() + 20;
    while (Date.now() < busyUntil) {
      // Keep the loop busy so the ratio has something to measure.
    }
    const value = sampleValue(await metrics.registry.metrics(), 'nodejs_eventloop_utilization_ratio');
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThanOrEqual(1);
  });
});

describe('registerCollector', () => {
  it('when scraped, then a collector sets its gauges before they are read', async () => {
    const metrics = createMetrics({ collectDefault: false });
    registerCollector(metrics, 'outbox', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      metrics.outboxPending.set(7);
      metrics.outboxOldestAge.set(12.5);
    });
    const text = await metrics.registry.metrics();
    expect(sampleValue(text, 'airlock_outbox_pending')).toBe(7);
    expect(sampleValue(text, 'airlock_outbox_oldest_age_seconds')).toBe(12.5);
  });

  it('when many collected gauges are read in one scrape, then each collector runs once', async () => {
    const metrics = createMetrics({ collectDefault: false });
    let calls = 0;
    registerCollector(metrics, 'queue', async () => {
      calls += 1;
      metrics.queueJobs.set({ queue: 'actions', state: 'waiting' }, calls);
    });
    await metrics.registry.metrics();
    expect(calls).toBe(1);
    const text = await metrics.registry.metrics();
    expect(calls).toBe(2);
    expect(sampleValue(text, 'airlock_queue_jobs{queue="actions",state="waiting"}')).toBe(2);
  });

  it('when a collector throws, then the scrape succeeds and the error is counted and reported', async () => {
    const reported: string[] = [];
    const metrics = createMetrics({
      collectDefault: false,
      onCollectorError: (name) => reported.push(name),
    });
    registerCollector(metrics, 'reviews', async () => {
      throw new Error('connection refused');
    });
    registerCollector(metrics, 'outbox', async () => {
      metrics.outboxPending.set(3);
    });
    const text = await metrics.registry.metrics();
    expect(sampleValue(text, 'airlock_metrics_collector_errors_total{collector="reviews"}')).toBe(1);
    expect(sampleValue(text, 'airlock_outbox_pending')).toBe(3);
    expect(reported).toEqual(['reviews']);
  });

  it('when a collector hangs, then the scrape returns after the timeout and counts one error', async () => {
    const metrics = createMetrics({ collectDefault: false, collectorTimeoutMs: 50 });
    let release: () => void = () => {};
    let calls = 0;
    registerCollector(metrics, 'db-pool', () => {
      calls += 1;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });

    const started = performance.now();
    const text = await metrics.registry.metrics();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(sampleValue(text, 'airlock_metrics_collector_errors_total{collector="db-pool"}')).toBe(1);

    // The first call is still stuck: the next scrape must not start a second one.
    const second = await metrics.registry.metrics();
    expect(calls).toBe(1);
    expect(sampleValue(second, 'airlock_metrics_collector_errors_total{collector="db-pool"}')).toBe(2);

    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await metrics.registry.metrics();
    expect(calls).toBe(2);
  });

  it('when a scrape runs, then snapshots are taken before any collector starts', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const order: string[] = [];
    let inFlight = 0;
    registerCollector(metrics, 'reviews', async () => {
      inFlight += 1;
      order.push('collector');
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
    });
    registerSnapshot(metrics, 'db_pool', () => {
      order.push('snapshot');
      metrics.dbPoolClients.set({ pool: 'main', state: 'waiting' }, inFlight);
    });
    const text = await metrics.registry.metrics();
    expect(order).toEqual(['snapshot', 'collector']);
    expect(sampleValue(text, 'airlock_db_pool_clients{pool="main",state="waiting"}')).toBe(0);
    expect(() => registerCollector(metrics, 'db_pool', async () => {})).toThrow(/already registered/);
  });

  it('when a name is registered twice, then it throws; when unregistered, then it stops running', async () => {
    const metrics = createMetrics({ collectDefault: false });
    let calls = 0;
    const unregister = registerCollector(metrics, 'queue', async () => {
      calls += 1;
    });
    expect(() => registerCollector(metrics, 'queue', async () => {})).toThrow(/already registered/);
    unregister();
    await metrics.registry.metrics();
    expect(calls).toBe(0);
    expect(metrics.collectors.names()).toEqual([]);
  });
});

describe('label helpers', () => {
  it('when given status codes, then statusClassOf returns the class', () => {
    expect(statusClassOf(201)).toBe('2xx');
    expect(statusClassOf(304)).toBe('3xx');
    expect(statusClassOf(429)).toBe('4xx');
    expect(statusClassOf(503)).toBe('5xx');
    expect(statusClassOf(101)).toBe('1xx');
  });

  it('when a value is outside the allowed set, then boundedLabel returns the fallback', () => {
    const tools = new Set(['notes.create', 'email.send']);
    expect(boundedLabel('notes.create', tools)).toBe('notes.create');
    expect(boundedLabel('rm -rf /', tools)).toBe('other');
    expect(boundedLabel('x', tools, 'unknown')).toBe('unknown');
  });

  it('when breaker states are mapped, then open is the highest value', () => {
    expect(BREAKER_STATE_VALUE).toEqual({ closed: 0, 'half-open': 1, open: 2 });
  });
});
