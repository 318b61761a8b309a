import { pino } from 'pino';
import { buildContainer } from '../container.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { runDrill } from '../modules/drills/drill-runner.ts';
import { buildDrills } from '../wiring/drills.ts';

// The drill runner: one process per drill, spawned detached by `cli drill start <scenario>`
// with the drill's id (src/cli/drill-process.ts). It logs to the file the CLI gave it as
// stdout, ends on SIGTERM (`drill stop`) or at the drill's deadline.
async function main(drillId: string | undefined): Promise<number> {
  if (!drillId) {
    process.stderr.write('usage: node src/cli/drill-runner.ts <drill-id>\n');
    return 2;
  }
  const config = loadConfig(undefined, { role: 'api' });
  const logger = createLogger({
    level: config.logLevel,
    base: { service: 'airlock', role: 'drill-runner', drill_id: drillId },
    destination: pino.destination(1),
  });
  const container = buildContainer(config, { logger, background: false });
  const chainer = container.createAuditChainer();
  const controller = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => controller.abort());
  try {
    await container.flags.refresh();
    chainer.start();
    const { drills, alertSource } = buildDrills(container);
    const exit = await runDrill(
      {
        pool: container.pool,
        drills,
        alertSource,
        targetUrl: config.drill.targetUrl,
        trafficPerSecond: config.drill.trafficPerSecond,
        pollIntervalMs: config.drill.pollIntervalMs,
        pid: process.pid,
        logger,
      },
      drillId,
      controller.signal,
    );
    logger.info({ exit }, 'drill runner ended');
    return exit === 'failed' ? 1 : 0;
  } catch (err) {
    logger.error({ err }, 'drill runner crashed');
    return 1;
  } finally {
    await chainer.stop().catch(() => undefined);
    await container.close().catch(() => undefined);
  }
}

process.exitCode = await main(process.argv[2]);
