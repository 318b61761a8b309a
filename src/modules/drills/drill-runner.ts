import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import { recordTransitions } from './drill-alerts.ts';
import type { AlertSource } from './drill-types.ts';
import { startDrillTraffic, type DrillTraffic } from './drill-traffic.ts';
import { appendEvent, beatRunner, findDrill } from './drills.repository.ts';
import type { DrillsService } from './drills.service.ts';

export interface DrillRunnerDeps {
  pool: Pool;
  drills: Pick<
    DrillsService,
    'contextOf' | 'scenarioOf' | 'stop' | 'recordWrongActions' | 'observeMitigation' | 'mintTrafficKey'
  >;
  // The local source evaluates the rules here, in the runner, for as long as it runs.
  alertSource: Pick<AlertSource, 'alerts'> & { start(options: { signal: AbortSignal }): Promise<void> };
  targetUrl: string;
  trafficPerSecond: number;
  pollIntervalMs: number;
  pid: number;
  logger: Logger;
}

export type RunnerExit = 'stopped' | 'expired' | 'failed' | 'gone';

// The life of one drill's fault, in a process of its own (`drill start` spawns it): the
// background traffic, the fault, the alert evaluation and the record of every alert
// transition, until the drill is stopped from outside (SIGTERM, or its row no longer
// active) or reaches its deadline, when the runner restores a clean state itself.
export async function runDrill(
  deps: DrillRunnerDeps,
  drillId: string,
  outerSignal: AbortSignal,
): Promise<RunnerExit> {
  const log = deps.logger.child({ drill_id: drillId });
  const found = await findDrill(deps.pool, drillId);
  if (!found || found.endedAt) {
    log.warn('the drill is not active; nothing to run');
    return 'gone';
  }
  let minted: Awaited<ReturnType<DrillRunnerDeps['drills']['mintTrafficKey']>>;
  try {
    minted = await deps.drills.mintTrafficKey(found);
  } catch (err) {
    // `drill start` is waiting for this line, and stops the drill on it.
    await appendEvent(deps.pool, drillId, {
      kind: 'runner.failed',
      message: `The drill runner could not set up the drill tenant: ${(err as Error).message}`,
    });
    throw err;
  }
  const { drill, agentKey } = minted;
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, outerSignal]);
  const scenario = deps.drills.scenarioOf(drill.scenario);
  const ctx = deps.drills.contextOf(drill, signal);
  await beatRunner(deps.pool, drillId, { pid: deps.pid });
  await ctx.record('runner.started', `Drill runner started (pid ${deps.pid}).`, { pid: deps.pid });

  const evaluation = deps.alertSource.start({ signal }).catch((err: unknown) => {
    log.error({ err }, 'alert evaluation stopped');
  });
  let traffic: DrillTraffic | undefined;
  let exit: RunnerExit = 'stopped';
  try {
    traffic = startDrillTraffic({
      targetUrl: deps.targetUrl,
      agentKey,
      perSecond: deps.trafficPerSecond,
      signal,
      logger: log,
    });
    try {
      await scenario.inject(ctx);
    } catch (err) {
      await ctx.record('runner.failed', `The fault could not be injected: ${(err as Error).message}`);
      throw err;
    }
    await ctx.record(
      'fault.injected',
      `Fault in place: ${scenario.name}. Symptom to expect: ${scenario.symptom}`,
    );

    while (!signal.aborted) {
      if (Date.now() >= drill.deadlineAt.getTime()) {
        exit = 'expired';
        break;
      }
      const state = await beatRunner(deps.pool, drillId, { pid: deps.pid, traffic: traffic.stats() });
      if (state !== 'running' && state !== 'passed') break;
      await recordTransitions(ctx, await deps.alertSource.alerts().catch(() => null));
      // The mitigation first: a rollback after it is no wrong action.
      await deps.drills
        .observeMitigation(ctx, scenario, 'the drill runner')
        .catch((err: unknown) => log.warn({ err }, 'could not look for the mitigation'));
      await deps.drills
        .recordWrongActions(ctx, scenario)
        .catch((err: unknown) => log.warn({ err }, 'could not assess wrong actions'));
      await sleep(deps.pollIntervalMs, signal);
    }
  } catch (err) {
    log.error({ err }, 'the drill runner failed');
    exit = 'failed';
  } finally {
    // The fault's own resources (connections, loops) end on the signal, before any cleanup.
    controller.abort();
    await traffic?.done;
    await evaluation;
    if (traffic)
      await beatRunner(deps.pool, drillId, { pid: deps.pid, traffic: traffic.stats() }).catch(() => null);
  }
  if (exit === 'expired' || exit === 'failed') {
    await deps.drills.stop({
      expired: exit === 'expired',
      fromRunner: true,
      reason: 'the drill runner failed',
    });
  }
  return exit;
}

// Resolves after ms, or at once when the signal aborts.
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);
