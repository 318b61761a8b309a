import type { Container } from '../container.ts';
import { AppError } from '../platform/errors.ts';
import type { AlertSource } from '../modules/drills/drill-types.ts';
import { SCENARIOS } from '../modules/drills/scenarios/index.ts';
import { createDrillsService, type RunnerControl } from '../modules/drills/drills.service.ts';

export type RunnableAlertSource = AlertSource & { start(options: { signal: AbortSignal }): Promise<void> };

// Until an alert source is wired in, status and check say plainly that nothing evaluates
// the alerts, rather than reporting "nothing is firing".
function unavailableAlertSource(): RunnableAlertSource {
  return {
    kind: 'local',
    alerts: () =>
      Promise.reject(
        new AppError('dependency_unavailable', 503, 'No alert evaluation is wired into this build.'),
      ),
    start: () => Promise.resolve(),
  };
}

// The drill tool on top of a container: the CLI's commands and the drill runner use it.
export function buildDrills(container: Container, options: { runner?: RunnerControl } = {}) {
  const { config } = container;
  const alertSource = unavailableAlertSource();
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
    maxDurationMs: config.drill.maxDurationMs,
    pollIntervalMs: config.drill.pollIntervalMs,
    trafficPerSecond: config.drill.trafficPerSecond,
    postmortemDir: config.drill.postmortemDir,
    runbookUrl: (runbook) => runbook,
    logger: container.logger,
  });
  return { drills, alertSource };
}
