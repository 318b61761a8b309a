import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import { quoteIdentifier, withDatabase } from '../../src/platform/db.ts';
import { buildContainer, type Container, type ContainerOptions } from '../../src/container.ts';
import { createServiceLogger } from '../../src/wiring/observability.ts';
import type { Telemetry } from '../../src/platform/telemetry.ts';
import type { DestinationStream } from 'pino';
import { freePort } from './free-port.ts';

// Kept importable from here too; its one definition is in free-port.ts.
export { freePort };

export const uniqueSuffix = () => `${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;

// A database of our own, cloned from the migrated template: tests insert the rows they
// need and never see another file's.
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = inject('databaseUrl');
  const name = `airlock_t_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(
      `CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(inject('templateDatabase'))}`,
    );
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await client.connect();
      await client
        .query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`)
        .catch(() => undefined);
      await client.end();
    },
  };
}

// Environment for a process or container under test: its own database, its own Redis key
// prefix (BullMQ queues included), quiet logs and fast worker timings.
export function testEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test_${uniqueSuffix()}`,
    LOG_LEVEL: 'silent',
    PORT: '0',
    MODERATION_PORT: '0',
    WORKER_PORT: '0',
    WORKER_BACKOFF_BASE_MS: '20',
    WORKER_BACKOFF_MAX_MS: '200',
    OUTBOX_POLL_INTERVAL_MS: '50',
    FLAGS_REFRESH_INTERVAL_MS: '200',
    // The production 100 ms budget fails the cache and the rate limiter open when a loaded
    // CI machine is slow; tests that want a fast failure cut the connection instead.
    CACHE_COMMAND_TIMEOUT_MS: '1000',
    // Admission control queues rather than sheds, and ignores the execution backlog (most
    // stacks run no worker): only the tests about shedding turn it on.
    ADMISSION_MAX_QUEUE_WAIT_MS: '30000',
    ADMISSION_MAX_QUEUE: '10000',
    ADMISSION_MAX_BACKLOG_AGE_MS: '600000',
    // A loaded CI machine can take seconds over one request, and stall a process's loop for
    // a second while another test starts: the tests about the deadline and the event-loop
    // guard set their own values.
    REQUEST_DEADLINE_MS: '9000',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...extra,
  };
}

export function testConfig(databaseUrl: string, extra: Record<string, string> = {}): Config {
  return loadConfig(testEnv(databaseUrl, extra), { role: 'all' });
}

export interface TestStack {
  container: Container;
  app: Awaited<ReturnType<Container['createApi']>>;
  config: Config;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestStackOptions {
  env?: Record<string, string>;
  worker?: boolean;
  // The moderation service runs on a port of its own, as in production; a test about its
  // outage can leave it out.
  moderation?: boolean;
  resolveHost?: ContainerOptions['resolveHost'];
  // Tracing on, e.g. with an in-memory exporter; off when not given. The service logger
  // then carries trace and span ids, as in main.
  telemetry?: Telemetry;
  // Where the service logger writes (stdout when not given); LOG_LEVEL in env sets its level.
  logDestination?: DestinationStream;
  // The background audit chainer runs unless a test wants events left unlinked.
  auditChainer?: boolean;
}

// The real app on a real database and Redis, called through inject(). The worker and
// relay start only when asked, so tests can stop the world between commit and execution.
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const db = await createTestDatabase();
  const moderationPort = await freePort();
  const config = testConfig(db.url, {
    MODERATION_PORT: String(moderationPort),
    MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
    ...options.env,
  });
  const telemetry = options.telemetry;
  const logger = createServiceLogger(config, {
    destination: options.logDestination,
    mixin: telemetry?.enabled ? telemetry.logMixin : undefined,
  });
  const container = buildContainer(config, { logger, resolveHost: options.resolveHost, telemetry });
  const moderation = options.moderation === false ? undefined : container.createModerationApi();
  await moderation?.listen({ host: '127.0.0.1', port: moderationPort });
  const app = await container.createApi();
  await app.ready();
  // As in every process that writes audit events.
  const chainer = container.createAuditChainer();
  if (options.auditChainer !== false) chainer.start();
  const relay = options.worker ? container.createRelay() : undefined;
  const worker = options.worker ? container.createExecutionWorker() : undefined;
  relay?.start();
  worker?.start();
  return {
    container,
    app,
    config,
    databaseUrl: db.url,
    async close() {
      await app.close();
      await moderation?.close();
      await relay?.stop();
      await worker?.close(5_000);
      await chainer.stop();
      await container.close();
      await db.drop();
    },
  };
}

// `what` may be a function, read at the timeout, so the failure can say what was last seen.
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  {
    timeoutMs = 10_000,
    intervalMs = 50,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function authHeaders(key: string, idempotencyKey?: string): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
  };
}

// An in-memory destination for the service logger: every JSON line it would have written.
export function createLogCapture() {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  return {
    destination,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
