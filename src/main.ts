import { ConfigError, loadConfig, type Config } from './platform/config.ts';
import { ensureDatabase, migrate } from './platform/migrator.ts';
import { createLogger } from './platform/logger.ts';
import { buildContainer } from './container.ts';

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

  const logger = createLogger({ level: config.logLevel, base: { service: 'airlock', role: config.role } });
  // Migrate before anything connects: listeners and pools need the database to exist.
  if (config.role === 'all' || config.role === 'api') {
    const created = await ensureDatabase(config.databaseUrl);
    const { applied } = await migrate(config.databaseUrl);
    logger.info({ created_database: created, applied }, 'database ready');
  }
  const container = buildContainer(config, { logger });
  const stops: Array<() => Promise<void>> = [];

  if (config.role === 'all' || config.role === 'worker') {
    const relay = container.createRelay();
    const worker = container.createExecutionWorker();
    relay.start();
    worker.start();
    stops.push(async () => {
      await relay.stop();
      await worker.close(config.http.shutdownTimeoutMs - 2_000);
    });
    logger.info('worker and outbox relay started');
  }

  if (config.role === 'all' || config.role === 'api' || config.role === 'worker') {
    // The worker role serves only health and metrics; the API role serves everything.
    const app = await container.createApi();
    await app.listen({ host: config.host, port: config.role === 'worker' ? config.workerPort : config.port });
    stops.unshift(async () => {
      container.setDraining(true);
      await new Promise((resolve) => setTimeout(resolve, config.http.shutdownDelayMs));
      await app.close();
    });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    deadline.unref();
    try {
      for (const stop of stops) await stop();
      await container.close();
      logger.info('shutdown complete');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`airlock failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
