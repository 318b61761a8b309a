// The Prometheus alert source against a local stand-in for Prometheus' HTTP API: what it
// maps, and that an unreachable, slow or broken Prometheus is a dependency outage.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusAlertSource } from './alert-source.ts';
import { runbookUrl } from './runbook-url.ts';

let server: Server;
let baseUrl: string;
let answer: (res: ServerResponse, url: URL) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://prometheus');
    if (!['/prom/api/v1/alerts', '/prom/api/v1/query'].includes(url.pathname))
      return void res.writeHead(404).end();
    answer(res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prom`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const json = (body: unknown) => (res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('createPrometheusAlertSource', () => {
  const source = () =>
    createPrometheusAlertSource({ prometheusUrl: baseUrl, timeoutMs: 300, runbookBase: 'http://rb:1' });

  it('when Prometheus answers, then pending and firing alerts are mapped as a pager shows them', async () => {
    answer = json({
      status: 'success',
      data: {
        alerts: [
          {
            labels: { alertname: 'AirlockOutboxLagHigh', severity: 'page' },
            annotations: {
              summary: 'Outbox relay is 2m 40s behind',
              runbook_url: 'http://x/runbooks/AirlockOutboxLagHigh.md',
            },
            state: 'firing',
            activeAt: '2026-12-07T10:00:00Z',
            value: '1.6e+02',
          },
          {
            labels: { alertname: 'AirlockTargetDown', severity: 'page', job: 'airlock-worker' },
            annotations: { runbook_url: 'runbooks/AirlockTargetDown.md' },
            state: 'pending',
            activeAt: '2026-12-07T10:01:00Z',
          },
          {
            labels: { alertname: 'Old' },
            annotations: {},
            state: 'inactive',
            activeAt: '2026-12-07T09:00:00Z',
          },
        ],
      },
    });
    expect(source().kind).toBe('prometheus');
    expect(await source().alerts()).toEqual([
      {
        name: 'AirlockOutboxLagHigh',
        state: 'firing',
        severity: 'page',
        since: '2026-12-07T10:00:00Z',
        summary: 'Outbox relay is 2m 40s behind',
        runbook_url: 'http://x/runbooks/AirlockOutboxLagHigh.md',
        labels: { alertname: 'AirlockOutboxLagHigh', severity: 'page' },
      },
      {
        name: 'AirlockTargetDown',
        state: 'pending',
        severity: 'page',
        since: '2026-12-07T10:01:00Z',
        summary: null,
        runbook_url: 'http://rb:1/runbooks/AirlockTargetDown.md',
        labels: { alertname: 'AirlockTargetDown', severity: 'page', job: 'airlock-worker' },
      },
    ]);
  });

  it('when Prometheus fails, hangs or answers an error, then alerts() is a dependency outage', async () => {
    answer = (res) => res.writeHead(503).end('down');
    await expect(source().alerts()).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
    answer = json({ status: 'error', error: 'bad' });
    await expect(source().alerts()).rejects.toMatchObject({ code: 'dependency_unavailable' });
    answer = () => undefined; // never answers: the 300 ms timeout ends the wait
    const started = Date.now();
    await expect(source().alerts()).rejects.toMatchObject({ code: 'dependency_unavailable' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('when the SLIs are asked for, then the 5-minute bad ratios are joined with the recorded budgets', async () => {
    const vector = (result: unknown[]) => json({ status: 'success', data: { resultType: 'vector', result } });
    const asked: string[] = [];
    answer = (res, url) => {
      const query = url.searchParams.get('query') ?? '';
      asked.push(query);
      if (query === 'airlock:slo_errors:ratio_rate5m')
        return vector([
          { metric: { __name__: query, slo: 'availability' }, value: [1, '0.25'] },
          { metric: { __name__: query, slo: 'freshness' }, value: [1, 'NaN'] },
        ])(res);
      if (query === 'airlock:slo_error_budget:ratio')
        return vector([
          { metric: { __name__: query, slo: 'availability' }, value: [1, '0.001'] },
          { metric: { __name__: query, slo: 'freshness' }, value: [1, '0.01'] },
        ])(res);
      res.writeHead(400).end();
    };
    expect(await source().slis()).toEqual([
      { slo: 'availability', labels: {}, badRatio: 0.25, budget: 0.001 },
      { slo: 'freshness', labels: {}, badRatio: null, budget: 0.01 },
    ]);
    expect(asked.sort()).toEqual(['airlock:slo_error_budget:ratio', 'airlock:slo_errors:ratio_rate5m']);

    answer = json({ status: 'success', data: { resultType: 'matrix', result: [] } });
    await expect(source().slis()).rejects.toMatchObject({ code: 'dependency_unavailable' });
    answer = (res) => res.writeHead(503).end('down');
    await expect(source().slis()).rejects.toMatchObject({ code: 'dependency_unavailable' });
  });

  it('when a runbook_url is relative, then it is resolved against the base; an absolute one is kept', () => {
    expect(runbookUrl('runbooks/A.md', 'http://h:8080')).toBe('http://h:8080/runbooks/A.md');
    expect(runbookUrl('https://wiki/A', 'http://h:8080')).toBe('https://wiki/A');
    expect(runbookUrl(undefined, 'http://h:8080')).toBeNull();
  });
});
