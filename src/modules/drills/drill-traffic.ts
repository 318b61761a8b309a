import { setTimeout as delay } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../platform/logger.ts';
import type { TrafficStats } from './drills.repository.ts';

// The drill's background traffic: a steady trickle of proposals and reads from the drill's
// own tenant, so the SLIs (availability, latency, freshness) have something to measure and
// move when the fault bites. It is open-loop (a fixed rate, not "as fast as answers come"),
// so a slow service gets the same offered load, as from real clients; requests in flight
// are bounded, and a tick that finds the bound reached is skipped and counted.

export const MAX_IN_FLIGHT = 32;
export const REQUEST_TIMEOUT_MS = 10_000;
// Spread over many users so the per-user rate limit never answers for the fault.
const USERS = 100;

export interface DrillTraffic {
  stats(): TrafficStats;
  /** Resolves once the loop has ended (on the signal) and the requests in flight are answered. */
  readonly done: Promise<void>;
}

export function startDrillTraffic(deps: {
  targetUrl: string;
  agentKey: string;
  perSecond: number;
  signal: AbortSignal;
  logger: Logger;
}): DrillTraffic {
  const stats: TrafficStats = { sent: 0, ok: 0, client_errors: 0, server_errors: 0, timeouts: 0, skipped: 0 };
  const inFlight = new Set<Promise<void>>();
  let lastActionId: string | undefined;
  const headers = { authorization: `Bearer ${deps.agentKey}` };

  async function request(path: string, init: RequestInit): Promise<unknown> {
    stats.sent++;
    try {
      const response = await fetch(`${deps.targetUrl}${path}`, {
        ...init,
        signal: AbortSignal.any([deps.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
      const body = (await response.json().catch(() => null)) as unknown;
      if (response.status >= 500) stats.server_errors++;
      else if (response.status >= 400) stats.client_errors++;
      else stats.ok++;
      return response.ok ? body : null;
    } catch (err) {
      if (deps.signal.aborted) return null;
      // A refused connection or a timeout: the client saw no answer, as a 5xx would count.
      stats.timeouts++;
      deps.logger.debug({ err, path }, 'drill traffic request failed');
      return null;
    }
  }

  function propose(n: number): Promise<void> {
    return request('/v1/actions', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        tool: 'notes.create',
        arguments: { title: `drill note ${n}`, body: 'Background traffic of an on-call drill.' },
        user_id: `drill-user-${n % USERS}`,
      }),
    }).then((body) => {
      const id = (body as { id?: unknown } | null)?.id;
      if (typeof id === 'string') lastActionId = id;
    });
  }

  const read = (id: string): Promise<void> => request(`/v1/actions/${id}`, { headers }).then(() => undefined);

  async function loop(): Promise<void> {
    const intervalMs = 1_000 / deps.perSecond;
    let next = performance.now();
    for (let n = 0; !deps.signal.aborted; n++) {
      if (inFlight.size >= MAX_IN_FLIGHT) stats.skipped++;
      else {
        // Four proposals for every read: both are on the availability SLI's routes.
        const call = n % 5 === 4 && lastActionId ? read(lastActionId) : propose(n);
        const tracked = call.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      next += intervalMs;
      await sleep(Math.max(0, next - performance.now()), deps.signal);
    }
    await Promise.allSettled([...inFlight]);
  }

  return { stats: () => ({ ...stats }), done: loop() };
}

// Resolves after ms, or at once when the signal aborts.
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);
