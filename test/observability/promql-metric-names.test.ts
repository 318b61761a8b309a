import { describe, expect, it } from 'vitest';
import {
  PromqlParseError,
  baseMetricName,
  exportedMetricsReferenced,
  extractMetricNames,
  substituteGrafanaVariables,
} from './promql-metric-names.ts';

describe('extractMetricNames', () => {
  it('when an expression nests selectors in functions and binary operators, then every metric is found once', () => {
    const expr = `
      sum by (le, route) (rate(http_server_request_duration_seconds_bucket{route="/v1/actions"}[5m]))
      / on() group_left airlock_db_pool_max
      or absent(airlock_outbox_pending) + airlock_outbox_pending offset 5m
      and max_over_time(airlock_circuit_breaker_state[2m:30s])`;
    expect(extractMetricNames(expr)).toEqual([
      'http_server_request_duration_seconds_bucket',
      'airlock_db_pool_max',
      'airlock_outbox_pending',
      'airlock_circuit_breaker_state',
    ]);
  });

  it('when a selector names its metric with __name__ or a quoted UTF-8 name, then that name is found', () => {
    expect(extractMetricNames('{__name__="airlock_reviews_pending", job="api"}')).toEqual([
      'airlock_reviews_pending',
    ]);
    expect(extractMetricNames('{"airlock.reviews.pending"}')).toEqual(['airlock.reviews.pending']);
    expect(extractMetricNames('{__name__=~"airlock_.+"}')).toEqual([]);
  });

  it('when the expression has only label names, strings and numbers, then no metric is reported', () => {
    expect(extractMetricNames('vector(0) * 14.4')).toEqual([]);
    expect(extractMetricNames('label_replace(vector(1), "route", "x", "", "")')).toEqual([]);
  });

  it('when the expression does not parse, then it throws with the offset', () => {
    expect(() => extractMetricNames('sum(rate(airlock_decisions_total[5m])')).toThrow(PromqlParseError);
    expect(() => extractMetricNames('rate(x[$__rate_interval])')).toThrow(PromqlParseError);
  });
});

describe('substituteGrafanaVariables', () => {
  it('when Grafana interval variables appear in ranges, then they become durations that parse', () => {
    const expr = substituteGrafanaVariables(
      'increase(a[$__range]) + rate(b[$__rate_interval]) + rate(c[${__interval}]) + max_over_time(d[$window:$step])',
    );
    expect(expr).toBe('increase(a[5m]) + rate(b[5m]) + rate(c[5m]) + max_over_time(d[5m:1m])');
    expect(extractMetricNames(expr)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('when variables appear inside label matcher strings, then they are left alone', () => {
    const expr = 'up{job=~"$job", instance=~"${instance}"}';
    expect(substituteGrafanaVariables(expr)).toBe(expr);
  });
});

describe('exportedMetricsReferenced', () => {
  it('when queries use builtins and recording rules, then only exported metrics are returned', () => {
    const found = exportedMetricsReferenced(
      [
        { file: 'a.json', where: 'panel 1', expr: 'up == 0 and airlock:slo_errors:ratio_rate5m > 0' },
        { file: 'a.json', where: 'panel 2', expr: 'sum(rate(airlock_decisions_total[5m]))' },
      ],
      new Set(['up', 'airlock:slo_errors:ratio_rate5m']),
    );
    expect([...found.keys()]).toEqual(['airlock_decisions_total']);
    expect(found.get('airlock_decisions_total')).toEqual(['a.json: panel 2']);
  });

  it('when a histogram series is named, then baseMetricName strips the suffix', () => {
    expect(baseMetricName('airlock_job_duration_seconds_bucket')).toBe('airlock_job_duration_seconds');
    expect(baseMetricName('airlock_decisions_total')).toBe('airlock_decisions_total');
  });
});
