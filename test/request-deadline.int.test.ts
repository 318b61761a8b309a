import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, startTestStack, type TestStack } from './helpers/test-env.ts';
import { createIdentity } from './helpers/api-client.ts';

// One deadline per request (src/platform/request-deadline.ts): a request stuck behind a lock
// is answered 503 dependency_unavailable with Retry-After when its deadline passes, the
// statement it waited on is cancelled, and nothing it started commits afterwards.

const NOTE = { tool: 'notes.create', arguments: { title: 'Weekly note', body: 'water the plants' } };

async function withLockedOutbox<T>(databaseUrl: string, work: () => Promise<T>): Promise<T> {
  const locker = new pg.Client({ connectionString: databaseUrl });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    // Blocks every insert into the outbox (a proposal's transaction), not the claim before it.
    await locker.query('LOCK TABLE outbox IN EXCLUSIVE MODE');
    return await work();
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
  }
}

async function countFor(databaseUrl: string, key: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ keys: number; actions: number }>(
      `SELECT (SELECT count(*)::int FROM idempotency_keys WHERE key = $1) AS keys,
              (SELECT count(*)::int FROM actions WHERE user_id = $2) AS actions`,
      [key, `user-${key}`],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

describe('request deadline', () => {
  let stack: TestStack;
  let agent: string;

  beforeAll(async () => {
    stack = await startTestStack({ env: { REQUEST_DEADLINE_MS: '600' } });
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

  it('when a proposal waits on a lock past its deadline, then it is answered 503 dependency_unavailable with Retry-After, nothing commits later, and the key works on retry', async () => {
    const key = randomUUID();
    const started = performance.now();
    const response = await withLockedOutbox(stack.databaseUrl, async () => {
      const answered = await propose(key);
      // Still holding the lock: had the statement not been cancelled, it would be waiting.
      return answered;
    });
    const elapsed = performance.now() - started;

    expect(response.statusCode, response.body).toBe(503);
    expect(response.json()).toMatchObject({ code: 'dependency_unavailable' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Answered at the deadline, far below the 10 s socket timeout and the 5 s statement
    // timeout that would otherwise have ended the wait.
    expect(elapsed).toBeLessThan(4_000);

    // The lock is gone: a proposal that had kept running would commit now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await countFor(stack.databaseUrl, key)).toEqual({ keys: 0, actions: 0 });

    const retried = await propose(key);
    expect(retried.statusCode, retried.body).toBe(201);
    expect(await countFor(stack.databaseUrl, key)).toEqual({ keys: 1, actions: 1 });
  });
});

describe('statement timeout', () => {
  let stack: TestStack;
  let agent: string;

  beforeAll(async () => {
    stack = await startTestStack({ env: { DB_STATEMENT_TIMEOUT_MS: '300', REQUEST_DEADLINE_MS: '5000' } });
    agent = (await createIdentity(stack, 'acme', 'agent')).key;
  });
  afterAll(async () => stack?.close());

  it('when a statement times out under a table lock (57014), then the answer is 503 dependency_unavailable with Retry-After, not 500', async () => {
    const key = randomUUID();
    const response = await withLockedOutbox(stack.databaseUrl, () =>
      stack.app.inject({
        method: 'POST',
        url: '/v1/actions',
        headers: authHeaders(agent, key),
        payload: { ...NOTE, user_id: `user-${key}` },
      }),
    );
    expect(response.statusCode, response.body).toBe(503);
    expect(response.json()).toMatchObject({ code: 'dependency_unavailable' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await countFor(stack.databaseUrl, key)).toEqual({ keys: 0, actions: 0 });
  });
});
