import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from './config.ts';
import { AppError } from './errors.ts';

// The services Airlock talks to, each named the way an operator configures it.
export type Dependency = 'postgres' | 'redis' | 'unleash';

const NAMES: Record<Dependency, { label: string; variable: string }> = {
  postgres: { label: 'Postgres', variable: 'DATABASE_URL' },
  redis: { label: 'Redis', variable: 'REDIS_URL' },
  unleash: { label: 'Unleash', variable: 'UNLEASH_URL' },
};

// One line an operator can act on: which dependency, where, and the variable that says where
// (`Redis at redis://127.0.0.1:6390 (REDIS_URL) is unreachable (connect ECONNREFUSED ...)`).
export class DependencyUnreachableError extends AppError {
  readonly dependency: Dependency;

  constructor(dependency: Dependency, url: string, options: { cause?: unknown } = {}) {
    const { label, variable } = NAMES[dependency];
    const reason = reasonOf(options.cause);
    super(
      'dependency_unavailable',
      503,
      `${label} at ${withoutPassword(url)} (${variable}) is unreachable${reason ? ` (${reason})` : ''}`,
      {
        cause: options.cause,
      },
    );
    this.dependency = dependency;
  }
}

// fetch says only "fetch failed" and pg an empty AggregateError for a refused connection to
// several addresses; the useful words are in the cause or the code.
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return '';
  if (error.cause instanceof Error) return reasonOf(error.cause);
  return error.message || ((error as { code?: string }).code ?? '');
}

// A URL fit for a log line or a terminal: the password, if any, is masked.
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparseable URL)';
  }
}

// Reaches each dependency once, in parallel, each bounded by timeoutMs, and throws a
// DependencyUnreachableError for the first one (in the order given) that did not answer.
// Unleash is skipped when it is not configured. A server that answers with an error
// (a wrong password, a missing database) is reachable: that error is not this check's to report.
export async function checkDependencies(
  config: Pick<Config, 'databaseUrl' | 'redisUrl' | 'unleashUrl'>,
  dependencies: readonly Dependency[],
  timeoutMs: number,
): Promise<void> {
  const urls: Record<Dependency, string | undefined> = {
    postgres: config.databaseUrl,
    redis: config.redisUrl,
    unleash: config.unleashUrl,
  };
  const probes = { postgres: reachPostgres, redis: reachRedis, unleash: reachHttp };
  // Every probe starts now and is settled at once, so a late one's failure is never unhandled.
  const checks = dependencies.flatMap((dependency) => {
    const url = urls[dependency];
    if (!url) return [];
    const outcome = probes[dependency](url, timeoutMs).then(
      () => ({ reached: true as const }),
      (error: unknown) => ({ reached: false as const, error }),
    );
    return [{ dependency, url, outcome }];
  });
  for (const { dependency, url, outcome } of checks) {
    const result = await outcome;
    if (!result.reached) throw new DependencyUnreachableError(dependency, url, { cause: result.error });
  }
}

async function reachPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    // SQLSTATE class 28 (authentication) and 3D000 (no such database) come from a live server.
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('28') || code === '3D000') return;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function reachRedis(url: string, timeoutMs: number): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // With no retries, connect() fails with "Connection is closed."; the reason came as an event.
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    // NOAUTH / WRONGPASS come from a live server.
    if (/^(NOAUTH|WRONGPASS)/.test((err as Error).message)) return;
    throw cause ?? err;
  } finally {
    redis.disconnect();
  }
}

// Any HTTP answer means the server is there.
async function reachHttp(url: string, timeoutMs: number): Promise<void> {
  const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
  await response.body?.cancel();
}
