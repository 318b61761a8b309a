// A timeout that counts only the time this process was able to wait. A timer on a stalled or
// saturated event loop fires late, after every callback queued before it, including the
// answer it was guarding: a plain timeout then blames the remote side for our own stall. This
// clock advances by at most one tick's worth (`maxStepMs`) per tick, however late the tick
// runs, so a stall of a second counts as a tick, while a healthy loop waiting on a service
// that never answers still reaches the timeout on time.
//
// One ticker serves every pending timeout, and runs only while one is pending.

export interface ResponsiveClock {
  // An AbortSignal that aborts (with a TimeoutError) once `ms` of responsive time passed.
  timeout(ms: number): { signal: AbortSignal; clear(): void };
}

export function createResponsiveClock(
  options: { tickMs?: number; maxStepMs?: number } = {},
): ResponsiveClock {
  const tickMs = options.tickMs ?? 25;
  const maxStepMs = options.maxStepMs ?? tickMs * 2;
  const pending = new Set<{ dueAt: number; controller: AbortController }>();
  let responsiveNow = 0;
  let lastTick = 0;
  let ticker: NodeJS.Timeout | undefined;

  const tick = (): void => {
    const now = performance.now();
    responsiveNow += Math.min(now - lastTick, maxStepMs);
    lastTick = now;
    for (const entry of pending) {
      if (responsiveNow >= entry.dueAt) {
        pending.delete(entry);
        entry.controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
      }
    }
    if (pending.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };

  return {
    timeout(ms) {
      if (!ticker) {
        lastTick = performance.now();
        ticker = setInterval(tick, tickMs);
        ticker.unref();
      }
      const entry = { dueAt: responsiveNow + ms, controller: new AbortController() };
      pending.add(entry);
      return {
        signal: entry.controller.signal,
        clear: () => {
          pending.delete(entry);
        },
      };
    },
  };
}
