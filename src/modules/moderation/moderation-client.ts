import CircuitBreaker from 'opossum';
import { Agent, fetch as undiciFetch } from 'undici';
import { AppError } from '../../platform/errors.ts';
import { createResponsiveClock } from '../../platform/responsive-clock.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModerationBackend } from './moderation-backend.ts';
import { BUDGET_HEADER, parseModerationResult } from './moderation-types.ts';
import type { ModerationResult } from './moderation-types.ts';

// The gateway's client for the moderation service. It runs on the API request path, so it
// has one budget per call and no retries: a retry would spend the latency budget of
// POST /v1/actions (p99 100 ms) on a dependency that is already struggling. Failures go
// through a circuit breaker, which stops calling a service that keeps failing and probes it
// again after a pause. The caller (the moderation stage) turns every failure into a
// fail-closed decision; see docs/adr/0007-moderation-fail-closed.md.
//
// Two transports, one behaviour (docs/adr/0017-moderation-budget-where-the-work-happens.md):
// - HTTP, to the moderation service (split roles). The budget travels in a header and the
//   service enforces it on its own clock; the client's timer is only a backstop for a
//   service that does not answer at all, set well above the budget, and counting only the
//   time this process's event loop was responsive, so its own stalls cannot pass for a
//   slow service.
// - in process (role all): the backend is called directly, with the same budget, faults,
//   breaker and metrics, and no socket or timer between the call and its verdict.

export class ModerationUnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('moderation_unavailable', 503, message, options);
  }
}

export type ModerationBreakerState = 'closed' | 'open' | 'half_open';
// The outcomes of airlock_dependency_request_duration_seconds (src/platform/metrics.ts).
export type ModerationCallOutcome = 'success' | 'error' | 'timeout' | 'rejected';

export interface ModerationBreakerOptions {
  // Failure percentage within the rolling window at which the breaker opens.
  errorThresholdPercentage: number;
  // How long the breaker stays open before letting one probe through.
  resetTimeoutMs: number;
  // Calls needed in the window before the failure percentage counts.
  volumeThreshold: number;
  rollingCountTimeoutMs: number;
}

export interface ModerationClientOptions {
  baseUrl: string;
  // Set for the in-process transport: baseUrl is then not used.
  backend?: ModerationBackend;
  // The operator's fallback while the moderation service is down: while active() says so,
  // calls go to this in-process backend instead, through the same breaker, budget and
  // metrics (docs/adr/0029-moderation-local-fallback.md).
  fallback?: { active(): boolean; backend: ModerationBackend };
  // The budget per call, enforced where the work happens.
  timeoutMs: number;
  // The HTTP transport's own timer, for a service that never answers; default
  // max(1 s, 2 x timeoutMs).
  backstopMs?: number;
  breaker: ModerationBreakerOptions;
  logger: Logger;
  onStateChange?: (state: ModerationBreakerState) => void;
  observeCall?: (outcome: ModerationCallOutcome, seconds: number) => void;
}

export interface ModerationClient {
  moderate(text: string): Promise<ModerationResult>;
  state(): ModerationBreakerState;
  close(): Promise<void>;
}

// A reply that says our request was wrong (400, 413, 422) is not evidence that the service
// is unhealthy, so it does not count towards opening the breaker.
class ModerationRequestRejected extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`The moderation service rejected the request with ${status}.`);
    this.name = 'ModerationRequestRejected';
    this.status = status;
  }
}

// The service ran out of the budget we gave it: a timeout, like our own backstop firing.
class ModerationBudgetExceeded extends Error {
  constructor() {
    super('The moderation service did not answer within its budget.');
    this.name = 'ModerationBudgetExceeded';
  }
}

const isTimeout = (err: unknown): boolean =>
  err instanceof ModerationBudgetExceeded ||
  (err instanceof Error &&
    (err.name === 'TimeoutError' ||
      (err.name === 'AbortError' && /timeout/i.test(err.message)) ||
      (err as { code?: unknown }).code === 'moderation_deadline_exceeded'));

const breakerCode = (err: unknown): unknown =>
  err instanceof Error ? (err as { code?: unknown }).code : undefined;

export const createModerationClient = (options: ModerationClientOptions): ModerationClient => {
  const endpoint = new URL('/v1/moderate', options.baseUrl).toString();
  // Its own connection pool, so close() releases exactly the sockets this client opened.
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 128 });

  const backstopMs = options.backstopMs ?? Math.max(1_000, 2 * options.timeoutMs);
  // The backstop counts only time this process could wait: a stall of our own event loop
  // must not pass for a service that does not answer (src/platform/responsive-clock.ts).
  const clock = createResponsiveClock();
  const budget = String(options.timeoutMs);

  const overHttp = async (text: string): Promise<ModerationResult> => {
    const backstop = clock.timeout(backstopMs);
    try {
      const response = await undiciFetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [BUDGET_HEADER]: budget },
        body: JSON.stringify({ input: text }),
        signal: backstop.signal,
        dispatcher: agent,
      });
      if (!response.ok) {
        if (response.status === 503 && (await deadlineExceeded(response)))
          throw new ModerationBudgetExceeded();
        await response.body?.cancel().catch(() => undefined);
        const clientError = response.status >= 400 && response.status < 500;
        if (clientError && response.status !== 408 && response.status !== 429) {
          throw new ModerationRequestRejected(response.status);
        }
        throw new Error(`The moderation service answered ${response.status}.`);
      }
      const parsed = parseModerationResult(await response.json());
      if (typeof parsed === 'string') throw new Error(`The moderation service's answer ${parsed}.`);
      return parsed;
    } finally {
      backstop.clear();
    }
  };

  const backend = options.backend;
  const primary = backend ? (text: string) => backend.moderate(text, options.timeoutMs) : overHttp;
  const fallback = options.fallback;
  const call = fallback
    ? (text: string) =>
        fallback.active() ? fallback.backend.moderate(text, options.timeoutMs) : primary(text)
    : primary;

  const breaker = new CircuitBreaker(call, {
    name: 'moderation',
    // The budget is enforced where the work happens and the fetch carries its own backstop
    // (AbortSignal.timeout), which also cancels the request; a timer here would only race
    // them, on the caller's loop.
    timeout: false,
    errorThresholdPercentage: options.breaker.errorThresholdPercentage,
    resetTimeout: options.breaker.resetTimeoutMs,
    volumeThreshold: options.breaker.volumeThreshold,
    rollingCountTimeout: options.breaker.rollingCountTimeoutMs,
    rollingCountBuckets: 10,
    errorFilter: (err: unknown) => err instanceof ModerationRequestRejected,
  });

  const state = (): ModerationBreakerState =>
    breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed';
  const changed = (next: ModerationBreakerState): void => {
    const log =
      next === 'open' ? options.logger.warn.bind(options.logger) : options.logger.info.bind(options.logger);
    log({ dependency: 'moderation', breaker_state: next }, `moderation circuit breaker ${next}`);
    options.onStateChange?.(next);
  };
  breaker.on('open', () => changed('open'));
  breaker.on('halfOpen', () => changed('half_open'));
  breaker.on('close', () => changed('closed'));

  return {
    async moderate(text) {
      const started = performance.now();
      const observe = (outcome: ModerationCallOutcome): void =>
        options.observeCall?.(outcome, (performance.now() - started) / 1000);
      try {
        const result = await breaker.fire(text);
        observe('success');
        return result;
      } catch (err) {
        const unavailable = (outcome: ModerationCallOutcome, message: string): ModerationUnavailableError => {
          observe(outcome);
          return new ModerationUnavailableError(message, { cause: err });
        };
        if (breakerCode(err) === 'ESHUTDOWN') {
          throw unavailable('rejected', 'The moderation client is closed.');
        }
        if (breakerCode(err) === 'EOPENBREAKER') {
          throw unavailable(
            'rejected',
            'The moderation circuit breaker is open; the service was not called.',
          );
        }
        if (isTimeout(err)) {
          const waited = err instanceof Error && err.name === 'TimeoutError' ? backstopMs : options.timeoutMs;
          throw unavailable('timeout', `The moderation service did not answer within ${waited} ms.`);
        }
        const message =
          err instanceof ModerationRequestRejected ? err.message : 'The moderation service call failed.';
        throw unavailable('error', message);
      }
    },
    state,
    async close() {
      breaker.shutdown();
      await agent.close();
    },
  };
};

const deadlineExceeded = async (response: { json(): Promise<unknown> }): Promise<boolean> => {
  const body = (await response.json().catch(() => null)) as { code?: unknown } | null;
  return body?.code === 'moderation_deadline_exceeded';
};
