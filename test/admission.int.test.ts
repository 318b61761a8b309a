import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, startTestStack, waitFor, type TestStack } from './helpers/test-env.ts';
import { createIdentity } from './helpers/api-client.ts';

// Admission control on POST /v1/actions (src/platform/admission.ts): what cannot be served
// in time is refused before it is decided, with 503 overloaded and Retry-After, nothing
// written, and the Idempotency-Key free for the retry.

const NOTE = { tool: 'notes.create', arguments: { title: 'Weekly note', body: 'water the plants' } };

const sample = (text: string, name: string, labels: string): number =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

async function rowsForKey(databaseUrl: string, key: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const keys = await client.query('SELECT action_id FROM idempotency_keys WHERE key = $1', [key]);
    const actions = await client.query(
      `SELECT a.id FROM actions a JOIN idempotency_keys k ON k.action_id = a.id WHERE k.key = $1`,
      [key],
    );
    return { keys: keys.rowCount, actions: actions.rowCount };
  } finally {
    await client.end();
  }
}

describe('admission control: in-flight proposals', () => {
  let stack: TestStack;
  let agent: string;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { ADMISSION_MAX_IN_FLIGHT: '1', ADMISSION_MAX_QUEUE: '0', ADMISSION_MAX_QUEUE_WAIT_MS: '0' },
    });
    agent = (await createIdentity(stack, 'acme', 'agent')).key;
  });
  afterAll(async () => stack?.close());

  const propose = (key: string, userId = 'user-1') =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: authHeaders(agent, key),
      payload: { ...NOTE, user_id: userId },
    });

  it('when a proposal arrives while the in-flight limit is taken, then it gets 503 overloaded with Retry-After, nothing is written, and its key works on retry', async () => {
    // Hold the first proposal inside its claim: a lock on the tenant row blocks the foreign
    // key check of every insert for this tenant.
    const locker = new pg.Client({ connectionString: stack.databaseUrl });
    await locker.connect();
    const first = randomUUID();
    const second = randomUUID();
    let held: Awaited<ReturnType<typeof propose>> | undefined;
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM tenants WHERE slug = 'acme' FOR UPDATE`);
      const pending = propose(first).then((response) => (held = response));
      await waitFor(async () => stack.container.admission.stats().inFlight === 1, {
        what: 'the first proposal to be admitted',
      });

      const refused = await propose(second, 'user-2');
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json()).toMatchObject({ code: 'overloaded', status: 503 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(await rowsForKey(stack.databaseUrl, second)).toEqual({ keys: 0, actions: 0 });
      expect(held, 'the first proposal is still waiting on the lock').toBeUndefined();

      await locker.query('COMMIT');
      expect((await pending).statusCode).toBe(201);
    } finally {
      await locker.end();
    }

    const retried = await propose(second, 'user-2');
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.json().status).toBe('queued');
    expect(await rowsForKey(stack.databaseUrl, second)).toEqual({ keys: 1, actions: 1 });
    expect(stack.container.admission.stats()).toMatchObject({ inFlight: 0, queued: 0 });

    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(metrics, 'airlock_load_shed_total', 'reason="queue_full"')).toBeGreaterThanOrEqual(1);
  });

  it('when a proposal fails after admission, then its slot is given back', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: authHeaders(agent, randomUUID()),
      payload: { tool: 'notes.create', arguments: { title: '' }, user_id: 'user-3' },
    });
    expect(response.statusCode).toBe(422);
    expect((await propose(randomUUID(), 'user-3')).statusCode).toBe(201);
    expect(stack.container.admission.stats().inFlight).toBe(0);
  });
});

describe('admission control: execution backlog', () => {
  let stack: TestStack;
  let agent: string;

  beforeAll(async () => {
    // No worker and no relay: allowed actions wait in the outbox, as when execution falls
    // behind.
    stack = await startTestStack({
      env: { ADMISSION_MAX_BACKLOG_AGE_MS: '300', ADMISSION_BACKLOG_SAMPLE_MS: '50' },
    });
    agent = (await createIdentity(stack, 'acme', 'agent')).key;
  });
  afterAll(async () => stack?.close());

  const propose = (key: string) =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: authHeaders(agent, key),
      payload: { ...NOTE, user_id: `user-${key}` },
    });

  it('when allowed work waits longer than the backlog limit, then proposals are refused with 503 overloaded and nothing is written; once execution catches up, they are admitted again', async () => {
    expect((await propose(randomUUID())).statusCode).toBe(201);

    let key = '';
    const refused = await waitFor(
      async () => {
        key = randomUUID();
        const response = await propose(key);
        return response.statusCode === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: 'the backlog to close admission' },
    );
    expect(refused.json()).toMatchObject({ code: 'overloaded' });
    expect(refused.json().detail).toMatch(/execution is behind/i);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await rowsForKey(stack.databaseUrl, key)).toEqual({ keys: 0, actions: 0 });

    const relay = stack.container.createRelay();
    const worker = stack.container.createExecutionWorker();
    relay.start();
    worker.start();
    try {
      const accepted = await waitFor(
        async () => {
          const response = await propose(key);
          return response.statusCode === 201 ? response : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'admission to reopen once the backlog drained' },
      );
      expect(accepted.json().status).toBe('queued');
    } finally {
      await relay.stop();
      await worker.close(5_000);
    }
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(metrics, 'airlock_load_shed_total', 'reason="backlog"')).toBeGreaterThanOrEqual(1);
  });
});
