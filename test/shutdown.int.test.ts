import { afterEach, describe, expect, it } from 'vitest';
import { startChildService, type ChildService } from './helpers/child-service.ts';
import { startPrivateRedis, type PrivateRedis } from './helpers/private-redis.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { createTestDatabase, testEnv, waitFor } from './helpers/test-env.ts';

// The API's listener; the moderation service logs its own with component moderation.
const LISTENING = /^(?!.*"component":"moderation").*Server listening at (http:\/\/127\.0\.0\.1:\d+)/m;
// SIGTERM drains and exits 0 even when a dependency has gone: nothing in the drain may wait
// on it. The bound is far below SHUTDOWN_TIMEOUT_MS (25 s), whose expiry exits 1.
const EXIT_WITHIN_MS = 10_000;

describe('shutdown with a dependency gone', { timeout: 120_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const start = (role: string, env: Record<string, string>): ChildService => {
    const child = startChildService(role, env);
    cleanups.push(async () => {
      if (child.process.exitCode === null && child.process.signalCode === null) child.kill('SIGKILL');
      await child.exited;
    });
    return child;
  };
  const ready = async (child: ChildService) => {
    const base = LISTENING.exec(await child.waitForLog(LISTENING, 60_000))![1]!;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
      what: 'the service to report ready',
      timeoutMs: 30_000,
    });
    return base;
  };
  const sigterm = async (child: ChildService) => {
    const sent = performance.now();
    child.kill('SIGTERM');
    const code = await child.exited;
    return { code, ms: performance.now() - sent };
  };

  it('when Redis has been killed, then SIGTERM drains and exits 0 within seconds', async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(redis.stop);
    const child = start('all', testEnv(db.url, { REDIS_URL: redis.url, LOG_LEVEL: 'info' }));
    await ready(child);

    await redis.kill();
    const { code, ms } = await sigterm(child);
    expect(code, child.output().slice(-3000)).toBe(0);
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
    expect(child.output()).toContain('shutdown complete');
  });

  it('when Postgres has become unreachable, then SIGTERM drains and exits 0 within seconds', async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    // The service reaches Postgres through a proxy of the test's own, so the test can cut it
    // without touching the shared server.
    const target = new URL(db.url);
    const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    const child = start('all', testEnv(proxied.toString(), { LOG_LEVEL: 'info' }));
    await ready(child);

    await proxy.close();
    const { code, ms } = await sigterm(child);
    expect(code, child.output().slice(-3000)).toBe(0);
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
    expect(child.output()).toContain('shutdown complete');
  });
});
