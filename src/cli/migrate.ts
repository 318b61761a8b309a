import { ConfigError, loadConfig } from '../platform/config.ts';
import { ensureDatabase, migrate } from '../platform/migrator.ts';

// `npm run migrate`: creates the database if needed, applies pending migrations, and exits
// non-zero on any failure (a migration that fails must fail the deploy).
try {
  const config = loadConfig();
  const created = await ensureDatabase(config.databaseUrl);
  const { applied } = await migrate(config.databaseUrl);
  process.stdout.write(
    `${JSON.stringify({ created_database: created, applied, message: applied.length ? 'migrations applied' : 'up to date' })}\n`,
  );
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`}\n`,
  );
  process.exit(1);
}
