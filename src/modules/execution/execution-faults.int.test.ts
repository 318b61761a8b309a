import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainer, type Container } from '../../container.ts';
import {
  createLogCapture,
  startTestStack,
  testConfig,
  waitFor,
  type TestStack,
} from '../../../test/helpers/test-env.ts';
import { startFlakyProxy, type FlakyProxy } from '../../../test/helpers/flaky-proxy.ts';
import {
  createApiClient,
  createIdentity,
  noteBody,
  type Identity,
} from '../../../test/helpers/api-client.ts';
import { createServiceLogger } from '../../wiring/observability.ts';
import { jobIdForOutbox } from './execution.jobs.ts';

const JOBS = 30;
const OUTAGE_MS = 3_000;

// "An infrastructure failure must not count as a tool attempt." The worker reaches Postgres
// through a proxy that is cut (open connections reset, new ones refused) while its jobs are
// released; with 3 attempts and a 20-200 ms backoff, counting those failures would
// dead-letter every job within a second.
describe('worker while Postgres is unreachable', () => {
  let proxy: FlakyProxy;
  let stack: TestStack;
  let workerContainer: Container;
  let api: ReturnType<typeof createApiClient>;
  let agent: Identity;
  const logs = createLogCapture();

  beforeAll(async () => {
    stack = await startTestStack({ env: { WORKER_MAX_ATTEMPTS: '3', MODERATION_TIMEOUT_MS: '2000' } });
    api = createApiClient(stack);
    agent = await createIdentity(stack, 'acme', 'agent');
    const database = new URL(stack.databaseUrl);
    proxy = await startFlakyProxy({ host: database.hostname, port: Number(database.port || 5432) });
    const proxied = new URL(stack.databaseUrl);
    proxied.host = `127.0.0.1:${proxy.port}`;
    // The same queue as the stack's, a pool of its own behind the proxy.
    const config = testConfig(proxied.toString(), {
      REDIS_PREFIX: stack.config.redisPrefix,
      WORKER_MAX_ATTEMPTS: '3',
      DB_CONNECT_TIMEOUT_MS: '500',
      LOG_LEVEL: 'info',
    });
    workerContainer = buildContainer(config, {
      logger: createServiceLogger(config, { destination: logs.destination }),
      background: false,
    });
  });
  afterAll(async () => {
    await proxy?.accept();
    await workerContainer?.close();
    await stack?.close();
    await proxy?.close();
  });

  it('when Postgres refuses the worker for 3 s while jobs are released, then no attempt is used, nothing is dead-lettered, and every action succeeds once with attempts 1', async () => {
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const action = await api.created(agent.key, noteBody(`outage ${i}`, `user-${i}`));
      if (action.status === 'queued') ids.push(action.id);
    }
    expect(ids.length).toBeGreaterThan(JOBS / 2);
    const relay = stack.container.createRelay();
    while ((await relay.relayOnce()) > 0);

    await proxy.refuse();
    const worker = workerContainer.createExecutionWorker();
    worker.start();
    const cutAt = Date.now();
    await waitFor(
      async () =>
        logs
          .records()
          .some(
            (r) =>
              r.msg ===
              'execution dependency unavailable; job returned to the queue without using an attempt',
          ),
      { what: 'the worker to meet the outage' },
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    // Nothing was recorded against the actions while Postgres was away.
    expect(await stack.container.queue.getFailedCount()).toBe(0);
    await proxy.accept();

    await waitFor(
      async () => {
        const { rows } = await stack.container.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM actions WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
          [ids],
        );
        return rows[0]!.n === ids.length;
      },
      { what: 'every action to succeed after the outage', timeoutMs: 60_000 },
    );
    await worker.close(5_000);

    const { rows } = await stack.container.pool.query<{ attempts: number; notes: number }>(
      `SELECT a.attempts, (SELECT count(*)::int FROM sandbox_notes n WHERE n.action_id = a.id) AS notes
         FROM actions a WHERE a.id = ANY($1::uuid[])`,
      [ids],
    );
    expect(rows.every((r) => r.attempts === 1 && r.notes === 1)).toBe(true);
    expect(await stack.container.queue.getFailedCount()).toBe(0);
    const dead = await stack.container.pool.query('SELECT job_id FROM dead_letters');
    expect(dead.rows).toEqual([]);
    const outboxIds = await stack.container.pool.query<{ id: number }>(
      'SELECT id FROM outbox WHERE action_id = ANY($1::uuid[])',
      [ids],
    );
    for (const { id } of outboxIds.rows) {
      // The completed run is BullMQ's only counted attempt.
      expect((await stack.container.queue.getJob(jobIdForOutbox(id)))?.attemptsMade).toBe(1);
    }
    // The outage is logged when it starts and when it ends, not once per job.
    const outageLines = logs
      .records()
      .filter(
        (r) =>
          r.level === 'warn' &&
          r.msg === 'execution dependency unavailable; job returned to the queue without using an attempt',
      );
    expect(outageLines).toHaveLength(1);
    expect(logs.records().some((r) => r.msg === 'execution dependencies are back')).toBe(true);
  });
});
