import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '../src/container.ts';
import { waitFor } from './helpers/test-env.ts';
import { noteBody } from './helpers/api-client.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

// The moderation dependency failing and recovering, through the public API and /metrics:
// verdicts while it is up, fail closed (review) while it is down, the circuit breaker
// opening and then failing fast, and closing again once the service is back.

const RESET_MS = 1_000;
const TIMEOUT_MS = 1_000;
// The bucket every rejected call must fall in: a hundredth of the call timeout.
const FAST_BUCKET = '0.01';

type ModerationApp = ReturnType<Container['createModerationApi']>;

// Prometheus text, one sample per line: name{label="value",...} number.
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('moderation outage: fail closed, breaker open, recovery', () => {
  let moderation: ModerationApp | undefined;
  // When the breaker was first seen open; the tests below are one scenario, in order.
  let openedAt = 0;

  const startModeration = async () => {
    moderation = stack.container.createModerationApi();
    await moderation.listen({ host: '127.0.0.1', port: stack.config.moderationPort });
  };
  const stopModeration = async () => {
    await moderation?.close();
    moderation = undefined;
  };
  const { stack, api, ids } = useTestStack(
    {
      moderation: false,
      env: {
        // The split deployment's transport: the service is a process of its own, over HTTP.
        MODERATION_TRANSPORT: 'http',
        MODERATION_TIMEOUT_MS: String(TIMEOUT_MS),
        MODERATION_BREAKER_VOLUME: '3',
        MODERATION_BREAKER_ERROR_PERCENT: '50',
        MODERATION_BREAKER_RESET_MS: String(RESET_MS),
      },
    },
    {
      agent: ['acme', 'agent'],
    },
  );
  const { agent } = ids;

  beforeAll(async () => {
    await startModeration();
  });
  afterAll(async () => {
    await stopModeration();
    await stack.close();
  });

  const propose = (body: string) => api.created(agent.key, noteBody('Weekly note', 'user-1', body));
  const codes = (action: { decision: { reasons: Array<{ code: string }> } }) =>
    action.decision.reasons.map((r) => r.code);
  const metrics = async () => (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
  const breakerState = async () =>
    sample(await metrics(), 'airlock_circuit_breaker_state', { dependency: 'moderation' });
  const calls = async (outcome: string, suffix = '_count', extra: Record<string, string> = {}) =>
    sample(await metrics(), `airlock_dependency_request_duration_seconds${suffix}`, {
      dependency: 'moderation',
      outcome,
      ...extra,
    }) ?? 0;

  const BENIGN = 'Remember to water the plants and book the team lunch on Friday.';
  const THREAT = "I'm going to kill you and your whole family";

  it('when the service is up, then a benign note is allowed and a threat is denied with moderation_flagged', async () => {
    const benign = await propose(BENIGN);
    expect(benign.decision).toMatchObject({ outcome: 'allow', reasons: [] });
    expect(benign.status).toBe('queued');

    const threat = await propose(THREAT);
    expect(threat.status).toBe('denied');
    expect(codes(threat)).toEqual(['moderation_flagged']);
    expect(threat.decision.reasons[0]!.message).toContain('violence');

    expect(await breakerState()).toBe(0);
    expect(await calls('success')).toBeGreaterThanOrEqual(2);
  });

  it('when the service goes down, then every proposal goes to review with moderation_unavailable, the breaker opens and later calls fail fast', async () => {
    await stopModeration();
    const errorsBefore = await calls('error');

    // Until the breaker has seen enough failures in its window to open. Bounded.
    let opened = false;
    for (let i = 0; i < 10 && !opened; i++) {
      const action = await propose(BENIGN);
      expect(action.status).toBe('pending_review');
      expect(action.decision.outcome, JSON.stringify(action.decision.reasons)).toBe('review');
      expect(codes(action)).toEqual(['moderation_unavailable']);
      opened = (await breakerState()) === 2;
    }
    openedAt = Date.now();
    expect(opened, 'the breaker opened').toBe(true);
    expect((await calls('error')) - errorsBefore).toBeGreaterThanOrEqual(3);

    const rejectedBefore = await calls('rejected');
    const fastBefore = await calls('rejected', '_bucket', { le: FAST_BUCKET });
    for (let i = 0; i < 5; i++) {
      const action = await propose(BENIGN);
      expect(action.status).toBe('pending_review');
      expect(codes(action)).toEqual(['moderation_unavailable']);
      expect(action.decision.reasons[0]!.message).toContain('circuit breaker is open');
    }
    // The breaker answered without calling the service: five rejections, each within a
    // hundredth of the timeout, read from the dependency histogram rather than a wall clock.
    expect((await calls('rejected')) - rejectedBefore).toBe(5);
    expect((await calls('rejected', '_bucket', { le: FAST_BUCKET })) - fastBefore).toBe(5);
    expect(await breakerState()).toBe(2);
  });

  it('when the service is back, then after the reset timeout the breaker lets a probe through, closes, and proposals are allowed again', async () => {
    expect(openedAt, 'the breaker opened in the previous test').toBeGreaterThan(0);
    await startModeration();

    await waitFor(async () => (await breakerState()) === 1, {
      timeoutMs: RESET_MS * 5,
      intervalMs: 25,
      what: 'the breaker to turn half-open',
    });
    // Not before the reset timeout. openedAt was taken just after the breaker opened, so
    // the margin only absorbs that lag.
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(RESET_MS - 100);

    const probe = await propose(BENIGN);
    expect(probe.decision).toMatchObject({ outcome: 'allow', reasons: [] });
    expect(await breakerState()).toBe(0);

    const after = await propose(BENIGN);
    expect(after.status).toBe('queued');
    const threat = await propose(THREAT);
    expect(codes(threat)).toEqual(['moderation_flagged']);
  });
});
