import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createLogCapture, waitFor } from '../../../test/helpers/test-env.ts';
import { startFlakyProxy, type FlakyProxy } from '../../../test/helpers/flaky-proxy.ts';
import { noteBody } from '../../../test/helpers/api-client.ts';
import { jobIdForOutbox } from '../execution/execution.jobs.ts';
import { relayBackoffMs, type OutboxRelay } from './outbox-relay.ts';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';

const POLL_MS = 50;
const BACKOFF_MAX_MS = 800;

describe('relayBackoffMs', () => {
  it('when failures pile up, then the delay doubles from the poll interval, stays within [ceiling/2, ceiling] and stops at the cap', () => {
    const policy = { pollIntervalMs: 100, backoffMaxMs: 2_000 };
    expect(relayBackoffMs(1, { ...policy, random: () => 0 })).toBe(100);
    expect(relayBackoffMs(1, { ...policy, random: () => 1 })).toBe(200);
    expect(relayBackoffMs(3, { ...policy, random: () => 0 })).toBe(400);
    expect(relayBackoffMs(30, { ...policy, random: () => 0 })).toBe(1_000);
    expect(relayBackoffMs(30, { ...policy, random: () => 1 })).toBe(2_000);
  });
});

// The relay during a Redis outage, through a proxy that refuses connections like a dead
// server: every committed proposal still sends NOTIFY, and none of them may cut the
// relay's backoff short.
describe('outbox relay while Redis is down', () => {
  let proxy: FlakyProxy;
  let relay: OutboxRelay | undefined;
  const logs = createLogCapture();
  const { stack, api, ids } = useTestStack(
    async () => {
      const redis = new URL(inject('redisUrl'));
      proxy = await startFlakyProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
      return {
        env: {
          REDIS_URL: proxy.url(redis.pathname),
          OUTBOX_POLL_INTERVAL_MS: String(POLL_MS),
          OUTBOX_BACKOFF_MAX_MS: String(BACKOFF_MAX_MS),
          LOG_LEVEL: 'info',
          MODERATION_TIMEOUT_MS: '2000',
        },
        logDestination: logs.destination,
      };
    },
    { agent: ['acme', 'agent'] },
  );
  const { agent } = ids;

  beforeAll(() => {
    relay = stack.container.createRelay();
  });
  afterAll(async () => {
    await proxy?.accept();
    await relay?.stop();
    await stack.close();
    await proxy?.close();
  });

  it('when proposals keep committing during the outage, then the relay retries at its backoff rather than at every NOTIFY, logs the outage once, and publishes everything once Redis is back', async () => {
    await proxy.refuse();
    const addBulk = vi.spyOn(stack.container.queue, 'addBulk');
    relay!.start();
    // Each proposal commits an outbox row and sends NOTIFY.
    const ids: string[] = [];
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      const action = await api.created(agent.key, noteBody(`outage ${i}`, `user-${i}`));
      if (action.status === 'queued') ids.push(action.id);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await waitFor(async () => addBulk.mock.calls.length >= 2, { what: 'the relay to retry' });
    const elapsed = Date.now() - started;
    const attempts = addBulk.mock.calls.length;
    // Smallest possible delays after failure k: 50, 100, 200, then 400 ms (half the capped ceiling).
    const budget = [50, 100, 200].reduce((sum, d) => sum + d, 0);
    const ceilingAttempts = 4 + Math.ceil(Math.max(0, elapsed - budget) / (BACKOFF_MAX_MS / 2));
    expect(attempts, `${attempts} publish attempts in ${elapsed} ms`).toBeLessThanOrEqual(ceilingAttempts);
    expect(ids.length).toBeGreaterThan(30);
    expect(attempts).toBeLessThan(ids.length);

    const outageLines = logs
      .records()
      .filter((r) => r.msg === 'outbox relay cannot publish; backing off' && r.level === 'warn');
    expect(outageLines).toHaveLength(1);

    await proxy.accept();
    await waitFor(
      async () => {
        const { rows } = await stack.container.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
        );
        return rows[0]!.n === 0;
      },
      { what: 'the backlog to be published', timeoutMs: 30_000 },
    );
    const { rows } = await stack.container.pool.query<{ id: number; action_id: string }>(
      'SELECT id, action_id FROM outbox WHERE action_id = ANY($1::uuid[])',
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    for (const row of rows) {
      const job = await stack.container.queue.getJob(jobIdForOutbox(row.id));
      expect(job?.data.action_id).toBe(row.action_id);
    }
    expect(logs.records().some((r) => r.msg === 'outbox relay publishes again')).toBe(true);
  });
});
