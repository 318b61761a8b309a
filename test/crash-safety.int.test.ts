import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { testEnv, waitFor } from './helpers/test-env.ts';
import { noteBody } from './helpers/api-client.ts';
import { startChildService, type ChildService } from './helpers/child-service.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

// Real faults against real processes: the API runs in this process without a worker or
// relay; workers run as child processes that we SIGKILL at the worst moment.
describe('crash safety', () => {
  let env: Record<string, string>;
  const children: ChildService[] = [];
  const proxies: TcpProxy[] = [];
  const { stack, api, ids } = useTestStack(
    {},
    {
      agent: ['acme', 'agent'],
    },
  );
  const { agent } = ids;

  beforeAll(async () => {
    env = testEnv(stack.databaseUrl, {
      REDIS_PREFIX: stack.config.redisPrefix,
      LOG_LEVEL: 'info',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      OUTBOX_POLL_INTERVAL_MS: '100',
    });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await child.exited;
    }
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  const propose = async (title: string) => (await api.created(agent.key, noteBody(title))).id;
  const { actionRow } = api;
  const notes = async (id: string) =>
    (
      await stack.container.pool.query('SELECT count(*)::int AS n FROM sandbox_notes WHERE action_id = $1', [
        id,
      ])
    ).rows[0].n as number;
  const worker = (extra: Record<string, string> = {}) => {
    const child = startChildService('worker', { ...env, ...extra });
    children.push(child);
    return child;
  };

  it('when the relay is killed after the commit but before BullMQ accepted the job, then a restarted relay delivers it once', async () => {
    const redis = new URL(inject('redisUrl'));
    const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    proxies.push(proxy);
    const proxiedRedis = `redis://127.0.0.1:${proxy.port}${redis.pathname}`;
    const first = worker({ REDIS_URL: proxiedRedis });
    // Ready means its Redis connections answered through the proxy: only then is a hang a
    // hang mid-publish rather than a connection that never came up.
    const listening = await first.waitForLog(/Server listening at http:\/\/127\.0\.0\.1:\d+/);
    const health = /http:\/\/127\.0\.0\.1:\d+/.exec(listening)![0];
    await waitFor(async () => (await fetch(`${health}/readyz`).catch(() => null))?.status === 200, {
      what: 'the worker to be ready',
    });

    // Redis hangs: the relay will lock the row, call BullMQ, and wait there.
    proxy.pause();

    const id = await propose('survives a relay crash');
    const probe = new pg.Client({ connectionString: stack.databaseUrl });
    await probe.connect();
    try {
      await waitFor(
        async () => {
          await probe.query('BEGIN');
          try {
            await probe.query('SELECT 1 FROM outbox WHERE action_id = $1 FOR UPDATE NOWAIT', [id]);
            return false;
          } catch (err) {
            return (err as { code?: string }).code === '55P03'; // lock_not_available: the relay holds it
          } finally {
            await probe.query('ROLLBACK');
          }
        },
        { timeoutMs: 20_000, what: 'the relay to hold the outbox row mid-publish' },
      );
    } finally {
      await probe.end();
    }

    first.kill('SIGKILL');
    await first.exited;
    const pending = await stack.container.pool.query('SELECT published_at FROM outbox WHERE action_id = $1', [
      id,
    ]);
    expect(pending.rows[0].published_at).toBeNull();
    expect((await actionRow(id))!.status).toBe('queued');

    worker();
    await waitFor(async () => (await actionRow(id))!.status === 'succeeded', {
      what: 'the action to succeed after restart',
    });
    expect(await notes(id)).toBe(1);
  });

  it('when a worker is SIGKILLed in the middle of a job, then its transaction rolls back, the job is retried, the note exists once and the crash is not counted as an attempt', async () => {
    const first = worker();
    await first.waitForLog(/worker and outbox relay started/);

    // Hold a lock that makes the note insert wait: the job is running and cannot finish.
    const blocker = new pg.Client({ connectionString: stack.databaseUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE sandbox_notes IN EXCLUSIVE MODE');
    let id: string;
    try {
      id = await propose('survives a worker crash');
      // The claim, the note and the outcome are one transaction: the job has started when its
      // note insert waits for the lock, and until it commits the action still reads queued.
      await waitFor(
        async () =>
          (
            await stack.container.pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                  AND query LIKE 'INSERT INTO sandbox_notes%'`,
            )
          ).rows[0]!.n === 1,
        { what: 'the job to start', timeoutMs: 20_000 },
      );
      expect((await actionRow(id))!.status).toBe('queued');
      first.kill('SIGKILL');
      await first.exited;
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }

    worker();
    await waitFor(async () => (await actionRow(id))!.status === 'succeeded', {
      timeoutMs: 20_000,
      what: 'the stalled job to be retried',
    });
    expect(await notes(id)).toBe(1);
    expect((await actionRow(id))!.attempts).toBe(1);
  });

  it('when SIGTERM arrives, then readiness turns 503, the process drains and exits 0', async () => {
    const service = startChildService('all', { ...env, SHUTDOWN_DELAY_MS: '1500' });
    children.push(service);
    // The API's listener, not the moderation service's (which logs with component moderation).
    const line = await service.waitForLog(
      /^(?!.*"component":"moderation").*Server listening at http:\/\/127\.0\.0\.1:\d+/m,
    );
    const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
    // Readiness asks Postgres and Redis with a 1 s budget; on a loaded machine the first
    // answer may still be 503, so wait for it to turn ready.
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'readiness' });
    service.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 503, {
      what: 'readiness to report draining',
    });
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain('shutdown complete');
  });
});
