import { describe, expect, it } from 'vitest';
import { createResponsiveClock } from './responsive-clock.ts';

const blockEventLoop = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: a stalled loop is what the clock must not count.
  }
};

const aborted = (signal: AbortSignal) =>
  new Promise<number>((resolve) => {
    const started = performance.now();
    signal.addEventListener('abort', () => resolve(performance.now() - started), { once: true });
  });

describe('responsive clock', () => {
  it('when the loop is healthy, then the timeout fires after about its duration, as a TimeoutError', async () => {
    const clock = createResponsiveClock({ tickMs: 10 });
    const { signal } = clock.timeout(100);
    const waited = await aborted(signal);
    expect(waited).toBeGreaterThanOrEqual(90);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });

  it('when the loop stalls for longer than the timeout, then the stall does not count and the timeout has not fired', async () => {
    const clock = createResponsiveClock({ tickMs: 10, maxStepMs: 20 });
    const { signal, clear } = clock.timeout(200);
    await new Promise((resolve) => setTimeout(resolve, 15));
    blockEventLoop(500);
    // One turn for the late tick: it may add at most 20 ms for the whole stall.
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(signal.aborted).toBe(false);
    clear();
  });

  it('when a timeout is cleared, then it never fires', async () => {
    const clock = createResponsiveClock({ tickMs: 5 });
    const first = clock.timeout(20);
    first.clear();
    const second = clock.timeout(40);
    await aborted(second.signal);
    expect(first.signal.aborted).toBe(false);
  });
});
