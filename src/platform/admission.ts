import { ServiceUnavailableError } from './errors.ts';

// Admission control for work that is expensive to start and must finish in time (a
// proposal: an idempotency claim, a decision, a transaction). Two gates, both checked
// before anything is written:
//
// - in-flight work: at most `maxInFlight` run at once; the next ones wait in a bounded
//   FIFO queue for at most `maxQueueWaitMs`, and whatever cannot start by then is refused.
//   Latency under overload is then queue wait plus service time at a concurrency the
//   database serves well, instead of everything slowing down together (measured: the p99
//   of a proposal tracked requests waiting for a pool connection, not event-loop delay).
// - the execution backlog: when allowed work waits longer than `maxBacklogAgeMs` to start
//   executing, new proposals are refused until it is back under half of that, so the API
//   cannot admit more than the workers can run and the start-delay objective holds.
//
// A refusal is a 503 `overloaded` with Retry-After; see docs/adr/0018-admission-control.md.

export type ShedReason = 'queue_full' | 'queue_timeout' | 'backlog';

export interface AdmissionOptions {
  maxInFlight: number;
  maxQueue: number;
  maxQueueWaitMs: number;
  // Seconds a client is told to wait, per reason.
  retryAfterSeconds?: { concurrency: number; backlog: number };
  onShed?: (reason: ShedReason) => void;
}

export interface AdmissionStats {
  inFlight: number;
  queued: number;
  backlogged: boolean;
}

export interface Admission {
  // Resolves with a release function once the work may start; throws 503 overloaded when it
  // may not. Call release exactly once (a second call is ignored).
  acquire(): Promise<() => void>;
  // The execution backlog's age, as last sampled; undefined when unknown (no sample yet, or
  // the sample failed: a backlog we cannot see is not a reason to refuse work).
  reportBacklogAge(ageMs: number | undefined): void;
  stats(): AdmissionStats;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export function createAdmission(options: AdmissionOptions & { maxBacklogAgeMs: number }): Admission {
  const retry = options.retryAfterSeconds ?? { concurrency: 1, backlog: 2 };
  const waiters: Waiter[] = [];
  let inFlight = 0;
  let backlogged = false;

  const overloaded = (reason: ShedReason): ServiceUnavailableError => {
    options.onShed?.(reason);
    return new ServiceUnavailableError(
      'overloaded',
      reason === 'backlog'
        ? 'Execution is behind; new proposals are refused until it catches up. Retry shortly.'
        : 'The service is at capacity and is shedding load; retry shortly.',
      reason === 'backlog' ? retry.backlog : retry.concurrency,
    );
  };

  const releaser = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      if (next) {
        // The slot passes straight to the oldest waiter: inFlight stays the same.
        clearTimeout(next.timer);
        next.resolve(releaser());
      } else {
        inFlight -= 1;
      }
    };
  };

  return {
    async acquire() {
      if (backlogged) throw overloaded('backlog');
      if (inFlight < options.maxInFlight) {
        inFlight += 1;
        return releaser();
      }
      if (waiters.length >= options.maxQueue || options.maxQueueWaitMs === 0) {
        throw overloaded('queue_full');
      }
      return new Promise<() => void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            const index = waiters.indexOf(waiter);
            if (index >= 0) waiters.splice(index, 1);
            reject(overloaded('queue_timeout'));
          }, options.maxQueueWaitMs),
        };
        waiters.push(waiter);
      });
    },
    reportBacklogAge(ageMs) {
      if (ageMs === undefined) {
        backlogged = false;
      } else if (ageMs > options.maxBacklogAgeMs) {
        backlogged = true;
      } else if (ageMs < options.maxBacklogAgeMs / 2) {
        // Hysteresis: admit again only once the backlog has clearly shrunk, not the moment
        // it dips under the limit, or admission would flap every sample.
        backlogged = false;
      }
    },
    stats: () => ({ inFlight, queued: waiters.length, backlogged }),
  };
}
