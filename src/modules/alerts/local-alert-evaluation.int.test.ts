// The local evaluation against a real running service: the shipped rule files, the
// service's real /metrics over HTTP, and a hung target that must page
// AirlockTargetDown after its `for:` of 2 minutes and resolve when the target answers again.
// A small HTTP gate in front of the service plays the hung target: while it hangs, scrapes
// get no answer and time out.
// The clock is the evaluation's own, stepped by the scrape interval, so two minutes of
// alerting take no two minutes of test; the scrapes themselves are real.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';
import { listNotifications } from './alert-inbox.repository.ts';
import { createLocalAlertSource } from './alert-source.ts';
import { readEvaluation } from './evaluated-alerts.repository.ts';
import { LocalAlertEvaluation } from './local-alert-evaluation.ts';
import { loadRuleFiles } from './rules/rule-files.ts';

const STEP_MS = 15_000;

describe('local alert evaluation of the shipped rules over a real /metrics', () => {
  const { stack, api, ids } = useTestStack({}, { agent: ['acme', 'agent'] });
  let gate: Server;
  let gatePort = 0;
  let hung = false;
  const held: ServerResponse<IncomingMessage>[] = [];
  let clock = Date.now() - 20 * STEP_MS;
  let evaluation: LocalAlertEvaluation;

  beforeAll(async () => {
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = stack.app.server.address() as AddressInfo;
    gate = createServer((req, res) => {
      if (hung) {
        held.push(res);
        return;
      }
      void fetch(`http://127.0.0.1:${port}${req.url ?? '/'}`).then(async (upstream) => {
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'text/plain',
        });
        res.end(await upstream.text());
      });
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    gatePort = (gate.address() as AddressInfo).port;
    evaluation = new LocalAlertEvaluation({
      rules: await loadRuleFiles(),
      targets: [{ job: 'airlock-api', url: `http://127.0.0.1:${gatePort}/metrics` }],
      scrapeIntervalMs: STEP_MS,
      scrapeTimeoutMs: 1_000,
      evaluationIntervalMs: STEP_MS,
      retentionMs: 3_600_000,
      externalLabels: { runbook_base: stack.config.alerts.runbookBaseUrl },
      pool: stack.container.pool,
      logger: stack.container.logger,
      now: () => clock,
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    gate?.closeAllConnections();
    await new Promise((resolve) => gate?.close(resolve));
  });

  const step = async () => {
    clock += STEP_MS;
    const targets = await evaluation.scrape();
    const result = await evaluation.evaluate();
    return { targets, result };
  };
  const source = () =>
    createLocalAlertSource({
      config: stack.config,
      pool: stack.container.pool,
      logger: stack.container.logger,
      now: () => clock,
    });

  it('when the service answers, then its real request metrics feed the recorded SLIs', async () => {
    for (let i = 0; i < 3; i++) {
      await api.get(ids.agent.key, '/v1/actions/00000000-0000-4000-8000-000000000000');
      const { targets, result } = await step();
      expect(targets).toEqual([expect.objectContaining({ job: 'airlock-api', up: true, error: null })]);
      expect(result.failures).toEqual([]);
    }
    const requests = evaluation.query('airlock:slo_requests:rate5m{slo="availability"}');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.value).toBeGreaterThan(0);
    expect(evaluation.query('up{job="airlock-api"}')).toEqual([
      { labels: { __name__: 'up', job: 'airlock-api', instance: `127.0.0.1:${gatePort}` }, value: 1 },
    ]);
    expect((await source().alerts()).filter((a) => a.name === 'AirlockTargetDown')).toEqual([]);
    // What `drill check` reads from another process: each SLI beside its recorded budget.
    const slis = await source().slis();
    expect(slis.find((r) => r.slo === 'availability')).toEqual({
      slo: 'availability',
      labels: {},
      badRatio: 0,
      budget: 0.001,
    });
    expect(new Set(slis.map((r) => r.slo))).toEqual(new Set(['availability', 'latency', 'freshness']));
  });

  it('when the target hangs, then AirlockTargetDown is pending at once, fires after 2 minutes, and is in the inbox', async () => {
    hung = true;
    const first = await step();
    expect(first.targets[0]).toMatchObject({ up: false });
    const down = () =>
      source()
        .alerts()
        .then((alerts) => alerts.filter((a) => a.name === 'AirlockTargetDown'));
    expect(await down()).toEqual([expect.objectContaining({ state: 'pending', severity: 'page' })]);
    // for: 2m at a 15 s evaluation interval: firing at the ninth evaluation, not before.
    for (let i = 0; i < 7; i++) await step();
    expect((await down())[0]?.state).toBe('pending');
    await step();
    const [firing] = await down();
    expect(firing).toMatchObject({
      state: 'firing',
      labels: { alertname: 'AirlockTargetDown', job: 'airlock-api', severity: 'page' },
      summary: `airlock-api target 127.0.0.1:${gatePort} is down`,
    });
    expect(firing!.runbook_url).toBe(`${stack.config.alerts.runbookBaseUrl}/runbooks/AirlockTargetDown.md`);
    const inbox = await listNotifications(stack.container.pool, { status: 'firing', limit: 10 });
    expect(inbox.map((n) => [n.name, n.source])).toContainEqual(['AirlockTargetDown', 'local']);
  });

  it('when the target answers again, then the alert resolves, in the evaluation and in the inbox', async () => {
    hung = false;
    await step();
    expect((await source().alerts()).filter((a) => a.name === 'AirlockTargetDown')).toEqual([]);
    const stored = await readEvaluation(stack.container.pool);
    expect(stored?.alerts.find((a) => a.name === 'AirlockTargetDown')?.state).toBe('inactive');
    const resolved = await listNotifications(stack.container.pool, { status: 'resolved', limit: 10 });
    expect(resolved.map((n) => n.name)).toContain('AirlockTargetDown');
  });

  it('when the evaluation stops while an alert fires, then its inbox row is resolved, as Alertmanager would once refreshes stop', async () => {
    hung = true;
    for (let i = 0; i < 9; i++) await step();
    const firing = await listNotifications(stack.container.pool, { status: 'firing', limit: 10 });
    expect(firing.map((n) => n.name)).toContain('AirlockTargetDown');
    const stopped = new AbortController();
    stopped.abort();
    await evaluation.run({ signal: stopped.signal });
    expect(await listNotifications(stack.container.pool, { status: 'firing', limit: 10 })).toEqual([]);
    hung = false;
  });

  it('when no evaluation has run for three intervals, then reading the alerts fails as a dependency outage', async () => {
    clock += 4 * STEP_MS + 10_000;
    await expect(source().alerts()).rejects.toMatchObject({ code: 'dependency_unavailable', status: 503 });
  });
});
