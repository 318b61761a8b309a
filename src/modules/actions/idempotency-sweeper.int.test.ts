import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestStack } from '../../../test/helpers/use-test-stack.ts';
import { noteBody } from '../../../test/helpers/api-client.ts';
import { createIdempotencySweeper } from './idempotency-sweeper.ts';

const HOUR = 3_600_000;

// Keys are remembered for a retention (24 h by default) and then swept in batches; a claim
// still in flight is never swept, and after the sweep the same key is a new request.
describe('idempotency key retention', () => {
  const { stack, api, ids } = useTestStack(
    { env: { MODERATION_TIMEOUT_MS: '2000' } },
    { agent: ['acme', 'agent'] },
  );

  const keyRow = async (key: string) =>
    (
      await stack.container.pool.query(
        'SELECT key, action_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2',
        [ids.agent.tenantId, key],
      )
    ).rows[0];
  // A key as the API leaves it, then aged by rewriting its timestamps.
  const age = (key: string, hours: number, lockedForMs: number | null = null) =>
    stack.container.pool.query(
      `UPDATE idempotency_keys
          SET created_at = now() - make_interval(hours => $3),
              locked_until = CASE WHEN $4::int IS NULL THEN locked_until ELSE now() + make_interval(secs => $4 / 1000.0) END
        WHERE tenant_id = $1 AND key = $2`,
      [ids.agent.tenantId, key, hours, lockedForMs],
    );

  it('when keys pass the retention, then they are swept in batches, in-flight claims and younger keys stay, and a swept key starts a new action', async () => {
    const keys = Array.from({ length: 5 }, () => randomUUID());
    const actions: string[] = [];
    for (const [i, key] of keys.entries()) {
      actions.push((await api.created(ids.agent.key, noteBody(`retention ${i}`, `user-${i}`), key)).id);
    }
    // Three completed keys past the retention, one just inside it.
    for (const key of keys.slice(0, 3)) await age(key, 25);
    await age(keys[3]!, 23);
    // A claim past the retention whose request still holds its lease: never swept.
    const inFlight = randomUUID();
    await stack.container.pool.query(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, claim_token, locked_until, created_at)
       VALUES ($1, $2, 'hash', gen_random_uuid(), now() + interval '1 minute', now() - interval '30 hours')`,
      [ids.agent.tenantId, inFlight],
    );
    // An abandoned claim whose lease ran out long ago: swept.
    const abandoned = randomUUID();
    await stack.container.pool.query(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, claim_token, locked_until, created_at)
       VALUES ($1, $2, 'hash', gen_random_uuid(), now() - interval '29 hours', now() - interval '30 hours')`,
      [ids.agent.tenantId, abandoned],
    );

    const sweeper = createIdempotencySweeper({
      pool: stack.container.pool,
      logger: stack.container.logger,
      retentionMs: 24 * HOUR,
      intervalMs: 60_000,
      batchSize: 2,
    });
    expect(await sweeper.runOnce()).toBe(4);
    for (const key of [...keys.slice(0, 3), abandoned]) expect(await keyRow(key)).toBeUndefined();
    for (const key of [keys[3]!, keys[4]!, inFlight]) expect(await keyRow(key)).toBeDefined();
    expect(await sweeper.runOnce()).toBe(0);

    // Within the retention the same key replays; after the sweep it is a new request.
    const replay = await api.propose(ids.agent.key, noteBody('retention 3', 'user-3'), keys[3]!);
    expect(replay.statusCode).toBe(200);
    expect(replay.json().id).toBe(actions[3]);
    const fresh = await api.propose(ids.agent.key, noteBody('retention 0', 'user-0'), keys[0]!);
    expect(fresh.statusCode).toBe(201);
    expect(fresh.json().id).not.toBe(actions[0]);
  });
});
