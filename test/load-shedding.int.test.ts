import { describe, expect, it } from 'vitest';
import { waitFor } from './helpers/test-env.ts';
import { noteBody } from './helpers/api-client.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

// Load shedding on a really saturated event loop: a synchronous busy loop stands in for a
// CPU-bound burst, and the next requests must be refused fast with 503 overloaded while
// liveness keeps answering.
describe('load shedding', () => {
  const { stack, api, ids } = useTestStack(
    { env: { MAX_EVENT_LOOP_DELAY_MS: '50' } },
    {
      agent: ['shed', 'agent'],
    },
  );
  const { agent } = ids;

  const propose = () => api.propose(agent.key, noteBody());

  const blockEventLoop = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // Busy on purpose: this is the saturation under test.
    }
  };

  it('when the event loop has been blocked beyond the limit, then proposals get 503 overloaded with Retry-After and /livez still answers', async () => {
    // The baseline: a calm loop accepts. Start-up, or a loaded machine, can stall the loop past
    // 50 ms on its own, so wait for a proposal to be accepted rather than assume the first is.
    let last = '';
    await waitFor(
      async () => {
        const response = await propose();
        last = `${response.statusCode} ${response.body}`;
        return response.statusCode === 201;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: () => `a proposal to be accepted before the block (last: ${last})`,
      },
    );
    // The sampler averages the loop's delay over one-second windows: block for longer than
    // a window, so the window that ends right after is dominated by the block.
    const shed = await waitFor(
      async () => {
        blockEventLoop(1_200);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const response = await propose();
        return response.statusCode === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 0, what: 'load shedding to start' },
    );
    expect(shed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(shed.json().code).toBe('overloaded');
    expect(Number(shed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await stack.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);

    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^airlock_load_shed_total\{reason="event_loop"\} [1-9]/m);
  });

  it('when the loop is idle again, then proposals are accepted again', async () => {
    const accepted = await waitFor(async () => ((await propose()).statusCode === 201 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'shedding to stop',
    });
    expect(accepted).toBe(true);
  });
});
