import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildService, type ChildService } from './helpers/child-service.ts';
import {
  authHeaders,
  freePort,
  startTestStack,
  testEnv,
  waitFor,
  type TestStack,
} from './helpers/test-env.ts';
import { createIdentity } from './helpers/api-client.ts';

// A decision must not depend on load: `moderation_unavailable` means the moderation service
// is down or slow by itself, never that the gateway's own event loop was busy
// (docs/adr/0017-moderation-budget-where-the-work-happens.md). Each case saturates the
// gateway's loop (a burst of proposals, with the loop blocked outright several times while
// they are in flight) and checks that every benign proposal is allowed and every threat is
// still denied by moderation.

const BENIGN = 'Remember to water the plants and book the team lunch on Friday.';
const THREAT = "I'm going to kill you and your whole family";
const BURST = 40;

const blockEventLoop = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: this is the saturation under test.
  }
};

interface Outcome {
  status: number;
  decision?: { outcome: string; reasons: Array<{ code: string; message: string }> };
  text: string;
}

async function saturatedBurst(stack: TestStack, agent: string, blocks: { count: number; ms: number }) {
  const proposals = Array.from({ length: BURST }, (_, i) =>
    stack.app
      .inject({
        method: 'POST',
        url: '/v1/actions',
        headers: authHeaders(agent, randomUUID()),
        payload: {
          tool: 'notes.create',
          arguments: { title: 'Weekly note', body: i % 10 === 9 ? THREAT : BENIGN },
          user_id: `user-${i}`,
        },
      })
      .then((response): Outcome & { threat: boolean } => ({
        status: response.statusCode,
        decision: response.statusCode === 201 ? response.json().decision : undefined,
        text: response.body,
        threat: i % 10 === 9,
      })),
  );
  for (let i = 0; i < blocks.count; i++) {
    // One turn of the loop between blocks, so requests make progress and calls are in flight.
    await new Promise((resolve) => setImmediate(resolve));
    blockEventLoop(blocks.ms);
  }
  return Promise.all(proposals);
}

const reasonCodes = (outcome: Outcome) => outcome.decision?.reasons.map((r) => r.code) ?? [];

function expectLoadInvariant(outcomes: Array<Outcome & { threat: boolean }>) {
  for (const outcome of outcomes) {
    expect(outcome.status, outcome.text).toBe(201);
    if (outcome.threat) {
      expect(outcome.decision?.outcome, outcome.text).toBe('deny');
      expect(reasonCodes(outcome), outcome.text).toEqual(['moderation_flagged']);
    } else {
      expect(outcome.decision, outcome.text).toMatchObject({ outcome: 'allow', reasons: [] });
    }
  }
}

describe('decision invariance, role all (in-process moderation)', () => {
  let stack: TestStack;
  let agent: string;

  beforeAll(async () => {
    stack = await startTestStack({ moderation: false, env: { MODERATION_TRANSPORT: 'in-process' } });
    agent = (await createIdentity(stack, 'acme', 'agent')).key;
  });
  afterAll(async () => stack?.close());

  it('when the gateway loop is saturated, then no proposal goes to review with moderation_unavailable and threats are still denied', async () => {
    const outcomes = await saturatedBurst(stack, agent, { count: 6, ms: 300 });
    expectLoadInvariant(outcomes);
  });

  it('when moderation itself is slow (the drill), then proposals go to review with moderation_unavailable', async () => {
    await stack.container.flagsService.set('chaos.moderation-slow', true, 'test');
    try {
      const response = await waitFor(
        async () => {
          const proposed = await stack.app.inject({
            method: 'POST',
            url: '/v1/actions',
            headers: authHeaders(agent, randomUUID()),
            payload: { tool: 'notes.create', arguments: { title: 'n', body: BENIGN }, user_id: 'u' },
          });
          return proposed.json().decision?.outcome === 'review' ? proposed : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, what: 'the slow-moderation fault to take effect' },
      );
      expect(response.json().decision.reasons).toEqual([
        expect.objectContaining({
          code: 'moderation_unavailable',
          message: expect.stringMatching(/within 100 ms/),
        }),
      ]);
    } finally {
      await stack.container.flagsService.set('chaos.moderation-slow', false, 'test');
    }
  });
});

describe('decision invariance, split roles (moderation as its own process over HTTP)', () => {
  let stack: TestStack;
  let agent: string;
  let moderation: ChildService;
  let moderationPort: number;

  beforeAll(async () => {
    moderationPort = await freePort();
    stack = await startTestStack({
      moderation: false,
      env: {
        MODERATION_TRANSPORT: 'http',
        MODERATION_PORT: String(moderationPort),
        MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
      },
    });
    moderation = startChildService(
      'moderation',
      testEnv(stack.databaseUrl, { MODERATION_PORT: String(moderationPort) }),
    );
    await waitFor(
      async () =>
        fetch(`http://127.0.0.1:${moderationPort}/livez`).then(
          (response) => response.ok,
          () => false,
        ),
      { timeoutMs: 100_000, intervalMs: 100, what: 'the moderation process to listen' },
    );
    agent = (await createIdentity(stack, 'acme', 'agent')).key;
    // A process start on a loaded 2-core machine can take most of a minute.
  }, 150_000);
  afterAll(async () => {
    moderation?.kill('SIGTERM');
    await moderation?.exited;
    await stack?.close();
  }, 60_000);

  it('when the gateway loop is saturated, then no proposal goes to review with moderation_unavailable and threats are still denied', async () => {
    // Four blocks of 200 ms: each alone is twice the 100 ms budget, which a timer on the
    // caller's loop would have counted against the service.
    const outcomes = await saturatedBurst(stack, agent, { count: 4, ms: 200 });
    expectLoadInvariant(outcomes);
  });
});
