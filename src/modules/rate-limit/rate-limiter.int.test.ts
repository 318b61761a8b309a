import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, noteBody } from '../../../test/helpers/api-client.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

describe('per-user rate limit on POST /v1/actions', () => {
  const { stack, api, ids } = useTestStack({}, STANDARD_IDENTITIES);
  const { agent, admin, otherAgent } = ids;

  beforeAll(async () => {
    await api.setPolicy(admin.key, { rate_limit_per_user_per_minute: 5 });
  });

  const actionsOf = (tenantId: string, userId: string) =>
    api.count('SELECT count(*)::int AS n FROM actions WHERE tenant_id = $1 AND user_id = $2', [
      tenantId,
      userId,
    ]);
  const claimed = (tenantId: string, key: string) =>
    api.count('SELECT count(*)::int AS n FROM idempotency_keys WHERE tenant_id = $1 AND key = $2', [
      tenantId,
      key,
    ]);

  // Each test uses its own user_id: buckets are per (tenant, user_id).
  const burst = async (userId: string, n: number) => {
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const key = randomUUID();
      const response = await api.propose(agent.key, noteBody(`burst ${i}`, userId), key);
      expect(response.statusCode, `proposal ${i + 1}`).toBe(201);
      keys.push(key);
    }
    return keys;
  };

  it('when a user sends a sixth proposal in a burst, then 429 rate_limited with Retry-After of at least 1 s, and no action row', async () => {
    const user = `burst-${randomUUID()}`;
    await burst(user, 5);
    const key = randomUUID();
    const response = await api.propose(agent.key, noteBody('one too many', user), key);
    expect(response.statusCode).toBe(429);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().code).toBe('rate_limited');
    const retryAfter = Number(response.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await actionsOf(agent.tenantId, user)).toBe(5);
  });

  it('when one user is limited, then another user_id of the same tenant and the same user_id of another tenant are not', async () => {
    const user = `limited-${randomUUID()}`;
    await burst(user, 5);
    expect((await api.propose(agent.key, noteBody('limited', user))).statusCode).toBe(429);
    expect((await api.propose(agent.key, noteBody('free', `${user}-other`))).statusCode).toBe(201);
    expect((await api.propose(otherAgent.key, noteBody('free', user))).statusCode).toBe(201);
  });

  it('when an earlier request is replayed by a limited user, then it still answers 200 with the same action', async () => {
    const user = `replay-${randomUUID()}`;
    const keys = await burst(user, 5);
    expect((await api.propose(agent.key, noteBody('limited', user))).statusCode).toBe(429);
    const replay = await api.propose(agent.key, noteBody('burst 0', user), keys[0]!);
    expect(replay.statusCode).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('when replays are sent, then they do not use up the budget', async () => {
    const user = `budget-${randomUUID()}`;
    const [first] = await burst(user, 1);
    for (let i = 0; i < 6; i++) {
      const replay = await api.propose(agent.key, noteBody('burst 0', user), first!);
      expect(replay.statusCode, `replay ${i + 1}`).toBe(200);
    }
    // Four more new proposals fit: the replays counted for nothing.
    for (let i = 1; i < 5; i++) {
      expect((await api.propose(agent.key, noteBody(`new ${i}`, user))).statusCode, `new ${i}`).toBe(201);
    }
    expect((await api.propose(agent.key, noteBody('sixth', user))).statusCode).toBe(429);
  });

  it('when a request was refused with 429, then its Idempotency-Key was released and another request may use it', async () => {
    const user = `release-${randomUUID()}`;
    await burst(user, 5);
    const key = randomUUID();
    const refused = await api.propose(agent.key, noteBody('refused', user), key);
    expect(refused.statusCode).toBe(429);
    expect(await claimed(agent.tenantId, key)).toBe(0);
    // A key still held would answer 409 (in flight) or 422 (another body).
    const reused = await api.propose(agent.key, noteBody('different body', `${user}-b`), key);
    expect(reused.statusCode).toBe(201);
  });

  it('when the bucket has room again after Retry-After, then the refused request retried with its own key succeeds', async () => {
    // 60 a minute refills a slot every second, so the retry waits about 1 s rather than 12.
    const fast = await createIdentity(stack, 'fast', 'agent');
    const user = `retry-${randomUUID()}`;
    const key = randomUUID();
    const body = noteBody('retry me', user);
    let refused: Awaited<ReturnType<typeof api.propose>> | undefined;
    let accepted = 0;
    for (let i = 0; i < 120 && !refused; i++) {
      const response = await api.propose(fast.key, noteBody(`fill ${i}`, user));
      if (response.statusCode === 429) {
        refused = await api.propose(fast.key, body, key);
        // The slot may have refilled between the two calls; keep filling until it refuses.
        if (refused.statusCode !== 429) {
          accepted += 1;
          refused = undefined;
        }
      } else {
        expect(response.statusCode).toBe(201);
        accepted += 1;
      }
    }
    expect(refused?.statusCode).toBe(429);
    expect(accepted).toBeGreaterThanOrEqual(60);
    expect(await claimed(fast.tenantId, key)).toBe(0);
    const waitSeconds = Number(refused!.headers['retry-after']);
    expect(waitSeconds).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000 + 100));
    const retried = await api.propose(fast.key, body, key);
    expect(retried.statusCode).toBe(201);
    expect(retried.json().arguments.title).toBe('retry me');
  });
});
