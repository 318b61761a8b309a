import { pino } from 'pino';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { AppError } from '../platform/errors.ts';
import { createLogger } from '../platform/logger.ts';
import { ensureDatabase, migrate } from '../platform/migrator.ts';
import { checkDependencies } from '../platform/dependencies.ts';
import { buildContainer, type Container } from '../container.ts';
import { CliUsageError } from './cli-args.ts';
import { ALL_DEPENDENCIES } from './command.ts';
import { parseCommandLine, USAGE, type CommandLine } from './commands.ts';

// An operator waiting on a dead dependency learns it in seconds, not from a hang.
const DEPENDENCY_TIMEOUT_MS = 3_000;

// Every command prints exactly one JSON document on stdout with --json (errors included),
// and human text otherwise. Logs go to stderr so they never mix with the output.
async function main(argv: string[]): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
  } catch (err) {
    return fail(err, argv.includes('--json'));
  }
  const { args, command } = line;
  const json = args.switches.has('json');
  if (args.switches.has('help') || !command) {
    process.stdout.write(json ? `${JSON.stringify({ usage: USAGE })}\n` : `${USAGE}\n`);
    return args.switches.has('help') ? 0 : 2;
  }
  let container: Container | undefined;
  try {
    const config = loadConfig(undefined, { role: 'api' });
    await checkDependencies(config, command.needs ?? ALL_DEPENDENCIES, DEPENDENCY_TIMEOUT_MS);
    await ensureDatabase(config.databaseUrl);
    await migrate(config.databaseUrl);
    const logger = createLogger({ level: 'warn', destination: pino.destination(2) });
    container = buildContainer(config, { logger, background: false });
    await container.flags.refresh();
    const { output, human, exitCode } = await command.run(container, args);
    // What the command recorded in the audit log leaves the CLI linked into its chain.
    await container.createAuditChainer().runOnce({ wait: true });
    process.stdout.write(json ? `${JSON.stringify(output)}\n` : `${human}\n`);
    return exitCode;
  } catch (err) {
    return fail(err, json);
  } finally {
    await container?.close().catch(() => undefined);
  }
}

function fail(err: unknown, json: boolean): number {
  const usage = err instanceof CliUsageError;
  const code =
    err instanceof AppError
      ? err.code
      : usage
        ? 'usage'
        : err instanceof ConfigError
          ? 'invalid_configuration'
          : 'error';
  const message = (err as Error).message;
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`error: ${message}${usage ? `\n${USAGE}` : ''}\n`);
  return usage ? 2 : 1;
}

process.exitCode = await main(process.argv.slice(2));
