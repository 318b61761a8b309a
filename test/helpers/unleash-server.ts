import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { quoteIdentifier, withDatabase } from '../../src/platform/db.ts';
import { freePort } from './free-port.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STALE_AFTER_SECONDS = 2 * 3600;

// A real Unleash server (the unleash-server package) in a child process, on its own database,
// listening on 127.0.0.1 only. Tokens are created at start-up through
// authentication.initApiTokens, so no login or UI step is needed.
export interface UnleashTestServer {
  // The API base the SDK and the Admin API hang off: http://127.0.0.1:<port>/api
  url: string;
  port: number;
  adminToken: string;
  clientToken: string;
  environment: string;
  database: string;
  output(): string;
  // Kills the process (SIGKILL by default: an abrupt outage). The database is kept.
  stop(signal?: NodeJS.Signals): Promise<void>;
  // Starts it again on the same port and database.
  start(): Promise<void>;
  // Stops it and drops its database.
  destroy(): Promise<void>;
}

// Read before changing: unleash-server's create-config.js treats `telemetry: false` as
// "unset" (`options.telemetry || SEND_TELEMETRY`), so the environment variables below are
// what actually turn telemetry and the version check off. The child gets no other
// environment, so it cannot pick up DATABASE_URL, UNLEASH_URL or LOG_LEVEL from ours.
const BOOT_SCRIPT = `
const options = JSON.parse(process.env.AIRLOCK_UNLEASH_TEST_OPTIONS);
const { start } = await import('unleash-server');
await start(options);
process.stdout.write('AIRLOCK_UNLEASH_READY\\n');
`;

export async function startUnleashServer(options: {
  // Any database URL of the Postgres server to use; only its host, port and user are kept.
  serverDatabaseUrl: string;
  environment?: string;
  startTimeoutMs?: number;
}): Promise<UnleashTestServer> {
  const environment = options.environment ?? 'development';
  const suffix = `${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const database = `unleash_test_${suffix}`;
  const adminToken = `*:*.${randomBytes(24).toString('hex')}`;
  const clientToken = `*:${environment}.${randomBytes(24).toString('hex')}`;
  const port = await freePort();
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;

  await withAdmin(options.serverDatabaseUrl, async (admin) => {
    await dropStaleDatabases(admin);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
  });

  const db = new URL(withDatabase(options.serverDatabaseUrl, database));
  const unleashOptions = {
    db: {
      host: db.hostname,
      port: Number(db.port || 5432),
      user: decodeURIComponent(db.username || 'postgres'),
      password: decodeURIComponent(db.password),
      database,
      ssl: false,
      pool: { min: 0, max: 4 },
    },
    server: { host: '127.0.0.1', port, gracefulShutdownEnable: true, gracefulShutdownTimeout: 500 },
    versionCheck: { enable: false, url: '' },
    telemetry: false,
    logLevel: 'warn',
    authentication: {
      type: 'open-source',
      enableApiToken: true,
      createAdminUser: false,
      initApiTokens: [
        { environment: '*', projects: ['*'], secret: adminToken, type: 'admin', tokenName: 'airlock-admin' },
        {
          environment,
          projects: ['*'],
          secret: clientToken,
          type: 'backend',
          tokenName: 'airlock-client',
        },
      ],
    },
  };

  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    output = '';
    const proc = spawn(process.execPath, ['--input-type=module', '-e', BOOT_SCRIPT], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        TZ: 'UTC',
        NODE_ENV: 'production',
        SEND_TELEMETRY: 'false',
        CHECK_VERSION: 'false',
        AIRLOCK_UNLEASH_TEST_OPTIONS: JSON.stringify(unleashOptions),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`unleash-server exited during start-up:\n${output.slice(-3000)}`);
      }
      if (output.includes('AIRLOCK_UNLEASH_READY') && (await healthy(port))) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`unleash-server not ready within ${startTimeoutMs} ms:\n${output.slice(-3000)}`);
      }
      await sleep(100);
    }
  }

  async function stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  try {
    await start();
  } catch (err) {
    await stop();
    await withAdmin(options.serverDatabaseUrl, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`),
    ).catch(() => undefined);
    throw err;
  }

  return {
    url: `http://127.0.0.1:${port}/api`,
    port,
    adminToken,
    clientToken,
    environment,
    database,
    output: () => output,
    stop,
    start,
    async destroy() {
      await stop();
      await withAdmin(options.serverDatabaseUrl, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`),
      ).catch(() => undefined);
    },
  };
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export async function withAdmin<T>(
  serverDatabaseUrl: string,
  work: (admin: pg.Client) => Promise<T>,
): Promise<T> {
  const admin = new pg.Client({ connectionString: withDatabase(serverDatabaseUrl, 'postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

// Databases left behind by runs that crashed; their names carry their creation time.
async function dropStaleDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname ~ '^unleash_test_[0-9]+_'`,
  );
  const cutoff = Math.floor(Date.now() / 1000) - STALE_AFTER_SECONDS;
  for (const { datname } of rows) {
    if (Number(datname.split('_')[2]) > cutoff) continue;
    await admin
      .query(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)} WITH (FORCE)`)
      .catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
