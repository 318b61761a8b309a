import type { Container } from '../container.ts';
import { createAlertSource } from '../modules/alerts/alert-source.ts';
import { runbookUrl } from '../modules/alerts/runbook-url.ts';
import { SCENARIOS } from '../modules/drills/scenarios/index.ts';
import { createDrillsService, type RunnerControl } from '../modules/drills/drills.service.ts';

// The drill tool on top of a container: the CLI's commands and the drill runner use it. The
// alert source is Prometheus when PROMETHEUS_URL is set, otherwise the local evaluation the
// runner runs (docs/adr/0022-local-alert-evaluation.md).
export function buildDrills(container: Container, options: { runner?: RunnerControl } = {}) {
  const { config } = container;
  const alertSource = createAlertSource({ config, pool: container.pool, logger: container.logger });
  const drills = createDrillsService({
    pool: container.pool,
    redis: container.redis,
    config,
    flags: container.flags,
    flagsService: container.flagsService,
    auth: container.auth,
    alerts: alertSource,
    scenarios: SCENARIOS,
    runner: options.runner,
    runbookUrl: (runbook) => runbookUrl(runbook, config.alerts.runbookBaseUrl) ?? runbook,
    logger: container.logger,
  });
  return { drills, alertSource };
}
