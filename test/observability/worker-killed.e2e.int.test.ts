import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservedService, type ObservedService } from '../helpers/service-roles.ts';
import { waitFor } from '../helpers/test-env.ts';

// One fault end to end, as on call meets it: the api and worker roles as real processes,
// scraped by a real Prometheus that evaluates the shipped rule files unchanged (only the
// scrape and evaluation intervals are this test's, 1 s), and a real Alertmanager delivering
// to a webhook. The worker (and the outbox relay inside it) is SIGKILLed while an action is
// allowed: AirlockExecutionStalled must page while the pipeline is stalled, read by the API
// from Postgres; the runbook's mitigation (start the worker) must drain it and resolve the
// page. Slow by design (the rule's `for: 2m`): run in its own CI step.

const MINUTE = 60_000;
let service: ObservedService;

beforeAll(async () => {
  service = await startObservedService();
}, 3 * MINUTE);
afterAll(() => service?.stop(), MINUTE);

async function proposeAllowed(): Promise<{ id: string; status: string }> {
  const response = await service.propose();
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; status: string };
}

describe('a killed worker, end to end with Prometheus and Alertmanager', () => {
  it(
    'when the worker is killed with an action allowed, then AirlockExecutionStalled pages while stalled, and starting the worker resolves it',
    async () => {
      // Healthy first: an allowed action runs, and nothing pages.
      const before = await proposeAllowed();
      await waitFor(async () => (await service.actionStatus(before.id)) === 'succeeded', {
        what: 'the first action to run',
      });
      expect(await service.active('AirlockExecutionStalled')).toBe(false);

      // The fault: the worker role, relay included, dies at once.
      await service.killWorker();
      const killedAt = Date.now();
      const stalled = await proposeAllowed();
      expect(stalled.status).toBe('queued');

      const fired = await waitFor(() => service.firing('AirlockExecutionStalled'), {
        timeoutMs: 5 * MINUTE,
        intervalMs: 1_000,
        what: 'AirlockExecutionStalled firing in Prometheus',
      });
      const firedAfterMs = Date.now() - killedAt;
      expect(fired.labels.severity).toBe('page');
      // Absolute, from the one external label, and the API serves the page it names.
      const runbook = `${service.apiUrl}/runbooks/AirlockExecutionStalled.md`;
      expect(fired.annotations.runbook_url).toBe(runbook);
      expect((await fetch(runbook)).status).toBe(200);
      // Still stalled while it pages: nothing has started the action.
      expect(await service.actionStatus(stalled.id)).toBe('queued');

      const targetDown = await waitFor(() => service.firing('AirlockTargetDown'), {
        timeoutMs: MINUTE,
        intervalMs: 1_000,
        what: 'AirlockTargetDown firing for the worker',
      });
      expect(targetDown.labels.job).toBe('airlock-worker');
      const targetDownAfterMs = Date.now() - killedAt;

      const page = await waitFor(async () => service.delivered('AirlockExecutionStalled', 'firing'), {
        timeoutMs: MINUTE,
        intervalMs: 500,
        what: 'Alertmanager delivering the page',
      });
      expect(page.alerts[0]!.annotations.runbook_url).toBe(runbook);
      const deliveredAfterMs = Date.now() - killedAt;

      // The runbook's mitigation: start the worker. The backlog drains, the page resolves.
      const restartedAt = Date.now();
      await service.startWorker();
      await waitFor(async () => (await service.actionStatus(stalled.id)) === 'succeeded', {
        timeoutMs: MINUTE,
        what: 'the stalled action to run once the worker is back',
      });
      await waitFor(async () => !(await service.active('AirlockExecutionStalled')), {
        timeoutMs: 2 * MINUTE,
        intervalMs: 1_000,
        what: 'AirlockExecutionStalled to resolve in Prometheus',
      });
      const resolvedAfterMs = Date.now() - restartedAt;
      await waitFor(async () => service.delivered('AirlockExecutionStalled', 'resolved'), {
        timeoutMs: 2 * MINUTE,
        intervalMs: 500,
        what: 'Alertmanager delivering the resolution',
      });

      // The figures the closing note reports, in the test output.
      console.info(
        `[e2e worker-killed] AirlockExecutionStalled firing ${(firedAfterMs / 1000).toFixed(1)} s after the kill ` +
          `(delivered ${(deliveredAfterMs / 1000).toFixed(1)} s); AirlockTargetDown firing by ` +
          `${(targetDownAfterMs / 1000).toFixed(1)} s; resolved ${(resolvedAfterMs / 1000).toFixed(1)} s after the worker restarted`,
      );
      // 30 s over the threshold plus the 2-minute `for`, plus scrape and evaluation.
      expect(firedAfterMs).toBeGreaterThanOrEqual(150_000);
      expect(firedAfterMs).toBeLessThan(200_000);
    },
    10 * MINUTE,
  );
});
