import { ConfigError, loadConfig, type Config } from './platform/config.ts';
import { ensureDatabase, migrate } from './platform/migrator.ts';
import { checkDependencies } from './platform/dependencies.ts';
import type { Logger } from './platform/logger.ts';
import { buildContainer } from './container.ts';
import { createServiceLogger } from './wiring/observability.ts';
import { createTelemetry } from './platform/telemetry.ts';
import { redactText } from './modules/safety/redaction.ts';
import closeWithGrace from 'close-with-grace';

// How long start-up waits for Postgres before saying which one it could not reach.
const STARTUP_PROBE_TIMEOUT_MS = 5_000;

// One entry point for every role: `node src/main.ts [api|worker|moderation|all]`, or
// AIRLOCK_ROLE. The role decides which consumers start; the container is the same.
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(undefined, { role: process.argv[2] });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Telemetry first, so every log line can carry the active trace and span ids.
  const telemetry = createTelemetry({
    enabled: config.telemetry.enabled,
    otlpEndpoint: config.telemetry.otlpEndpoint,
    serviceName: config.telemetry.serviceName,
    serviceVersion: config.version,
    role: config.role,
    sampler: config.telemetry.sampler,
    sampleRatio: config.telemetry.sampleRatio,
    resourceAttributes: config.telemetry.resourceAttributes,
    propagators: config.telemetry.propagators,
    redact: (value) => redactText(value),
  });
  const logger = createServiceLogger(config, { mixin: telemetry.enabled ? telemetry.logMixin : undefined });
  const lifecycle = createLifecycle(logger, config.http.shutdownTimeoutMs);
  lifecycle.onStop(() => telemetry.shutdown());
  const runs = (...roles: Config['role'][]) => roles.includes(config.role) && !lifecycle.stopping();

  // Migrate before anything connects: listeners and pools need the database to exist. Only
  // Postgres is needed to start; without Redis the service starts and /readyz says so.
  if (runs('all', 'api')) {
    // "Postgres at postgres://…:5499/airlock (DATABASE_URL) is unreachable (connect
    // ECONNREFUSED …)" rather than the driver's bare message.
    await checkDependencies(config, ['postgres'], STARTUP_PROBE_TIMEOUT_MS);
    const created = await ensureDatabase(config.databaseUrl);
    const { applied } = await migrate(config.databaseUrl);
    logger.info({ created_database: created, applied }, 'database ready');
  }
  // A signal during start-up: close-with-grace is already running the stops registered so far.
  if (lifecycle.stopping()) return;

  const container = buildContainer(config, { logger, telemetry });
  lifecycle.onStop(() => container.close());

  if (runs('all', 'moderation')) {
    const moderation = container.createModerationApi();
    lifecycle.onStop(() => moderation.close());
    await moderation.listen({ host: config.host, port: config.moderationPort });
  }

  if (runs('all', 'api', 'worker')) {
    const chainer = container.createAuditChainer();
    chainer.start();
    lifecycle.onStop(() => chainer.stop());
  }

  if (runs('all', 'worker')) {
    const relay = container.createRelay();
    const worker = container.createExecutionWorker();
    const reconciler = container.createReconciler();
    const sweeper = container.createIdempotencySweeper();
    relay.start();
    worker.start();
    reconciler.start();
    sweeper.start();
    lifecycle.onStop(async () => {
      await sweeper.stop();
      await reconciler.stop();
      await relay.stop();
      await worker.close(config.http.shutdownTimeoutMs - 2_000);
    });
    logger.info('worker and outbox relay started');
  }

  if (runs('all', 'api', 'worker')) {
    // The worker role serves only health and metrics; the API role serves everything.
    const app = await container.createApi({ exposeApi: config.role !== 'worker' });
    lifecycle.onStop(async () => {
      container.setDraining(true);
      await new Promise((resolve) => setTimeout(resolve, config.http.shutdownDelayMs));
      await app.close();
    });
    await app.listen({ host: config.host, port: config.role === 'worker' ? config.workerPort : config.port });
  }
}

// Stops run in reverse order of start (listener first, connections last). close-with-grace
// owns the signals (a second one exits at once), the deadline (SHUTDOWN_TIMEOUT_MS, then
// exit 1) and the exit code; an uncaught error drains too, and exits 1. Its handlers are
// installed before anything starts, so a SIGTERM during start-up still drains what has
// started and exits 0. Every stop runs even if an earlier one failed, and none may wait on a
// dependency that has gone (see the worker's close).
function createLifecycle(logger: Logger, timeoutMs: number) {
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;

  const finish = async (): Promise<void> => {
    let failed = 0;
    for (const stop of stops.toReversed()) {
      await stop().catch((err: unknown) => {
        failed += 1;
        logger.error({ err }, 'a shutdown step failed');
      });
    }
    if (failed) throw new Error(`shutdown finished with ${failed} failed step(s)`);
    logger.info('shutdown complete');
  };

  closeWithGrace(
    {
      delay: timeoutMs,
      logger: { error: (err: unknown) => logger.error({ err }, 'shutdown failed') },
      onTimeout: () => logger.error('shutdown deadline passed; exiting'),
      onSecondSignal: (signal) => logger.error({ signal }, 'second signal; exiting now'),
    },
    async ({ signal, err }) => {
      stopping = true;
      if (err) logger.error({ err }, 'uncaught error; shutting down');
      else logger.info({ signal }, 'shutting down');
      await finish();
    },
  );

  return {
    stopping: () => stopping,
    onStop: (stop: () => Promise<void>) => void stops.push(stop),
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`airlock failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
