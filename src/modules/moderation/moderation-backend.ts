import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { AppError } from '../../platform/errors.ts';
import { MODERATION_CATEGORIES } from './moderation-types.ts';
import type { ModerationClassifier, ModerationResult } from './moderation-types.ts';

// The moderation service's work, whichever way the gateway reaches it: behind HTTP (the
// moderation role, buildModerationApp) or called in the gateway's own process (role all).
// Both paths therefore share the drills' fault injection, the budget and the metrics.
//
// The budget is measured here, where the work happens, and not by a timer in the caller:
// a caller whose event loop is busy would otherwise read its own slowness as the
// service's, and fail closed on a healthy service (docs/adr/0017-moderation-budget-where-the-work-happens.md).

// Drills slow the service down; they must not be able to hang a request forever.
export const MAX_INJECTED_LATENCY_MS = 30_000;

// Fault injection for drills, read on every request so a drill can start and stop without
// a restart. The default injects nothing.
export interface ModerationFaults {
  latencyMs(): number;
  // 0..1: the share of requests answered 503.
  failRate(): number;
}

export const NO_FAULTS: ModerationFaults = { latencyMs: () => 0, failRate: () => 0 };

// The service failed the request on purpose (a drill).
export class ModerationFaultError extends AppError {
  constructor() {
    super('moderation_fault_injected', 503, 'The moderation service failed this request (injected fault).');
  }
}

// The service could not answer within the caller's budget. The HTTP client reads it as a
// timeout, exactly like its own backstop timer firing.
export class ModerationDeadlineError extends AppError {
  constructor(budgetMs: number) {
    super(
      'moderation_deadline_exceeded',
      503,
      `The moderation service could not answer within ${budgetMs} ms.`,
    );
  }
}

export interface ModerationBackend {
  // budgetMs: how long the caller will wait; undefined waits as long as the work takes.
  moderate(text: string, budgetMs?: number): Promise<ModerationResult>;
}

const CLASSIFY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const moderationMetrics = (registry: Registry) => {
  const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
  return {
    duration:
      existing<Histogram>('airlock_moderation_classify_duration_seconds') ??
      new Histogram({
        name: 'airlock_moderation_classify_duration_seconds',
        help: 'Time the moderation service spent classifying one input, injected latency excluded.',
        buckets: CLASSIFY_BUCKETS,
        registers: [registry],
      }),
    // result: flagged | clean | error | fault (a drill's injected failure) | deadline.
    results:
      existing<Counter<'result'>>('airlock_moderation_results_total') ??
      new Counter<'result'>({
        name: 'airlock_moderation_results_total',
        help: 'Moderation requests answered, by result.',
        labelNames: ['result'],
        registers: [registry],
      }),
    // category: one of the thirteen moderation categories.
    flags:
      existing<Counter<'category'>>('airlock_moderation_flags_total') ??
      new Counter<'category'>({
        name: 'airlock_moderation_flags_total',
        help: 'Flagged categories in moderation results, by category.',
        labelNames: ['category'],
        registers: [registry],
      }),
  };
};

export function createModerationBackend(deps: {
  classifier: ModerationClassifier;
  faults?: ModerationFaults;
  // The draw against failRate; tests pin it.
  random?: () => number;
  registry?: Registry;
}): ModerationBackend {
  const faults = deps.faults ?? NO_FAULTS;
  const random = deps.random ?? Math.random;
  const metrics = deps.registry ? moderationMetrics(deps.registry) : undefined;

  // Resolves false when the budget ran out first.
  const within = async (work: Promise<unknown>, budgetMs: number | undefined): Promise<boolean> => {
    if (budgetMs === undefined) {
      await work;
      return true;
    }
    const guard = new AbortController();
    try {
      return await Promise.race([
        work.then(() => true),
        sleep(budgetMs, false, { signal: guard.signal }).catch(() => false),
      ]);
    } finally {
      guard.abort();
    }
  };

  return {
    async moderate(text, budgetMs) {
      const started = performance.now();
      const remaining = () =>
        budgetMs === undefined ? undefined : Math.max(0, budgetMs - (performance.now() - started));
      const latency = Math.min(MAX_INJECTED_LATENCY_MS, Math.max(0, faults.latencyMs() || 0));
      if (latency > 0) {
        const injected = new AbortController();
        const done = await within(sleep(latency, undefined, { signal: injected.signal }), remaining());
        injected.abort();
        if (!done) {
          metrics?.results.inc({ result: 'deadline' });
          throw new ModerationDeadlineError(budgetMs!);
        }
      }
      if (random() < Math.min(1, Math.max(0, faults.failRate() || 0))) {
        metrics?.results.inc({ result: 'fault' });
        throw new ModerationFaultError();
      }
      const classifyStarted = performance.now();
      let result: ModerationResult;
      try {
        const value = deps.classifier.classify(text);
        // A synchronous classifier (the local lexicon one) has its verdict in this tick,
        // whatever the budget; an asynchronous one (a remote model) is held to what is left.
        if (value instanceof Promise) {
          let answer: ModerationResult | undefined;
          const done = await within(
            value.then((verdict) => {
              answer = verdict;
            }),
            remaining(),
          );
          if (!done || !answer) {
            value.catch(() => undefined);
            throw new ModerationDeadlineError(budgetMs!);
          }
          result = answer;
        } else {
          result = value;
        }
      } catch (err) {
        metrics?.results.inc({ result: err instanceof ModerationDeadlineError ? 'deadline' : 'error' });
        throw err;
      }
      metrics?.duration.observe((performance.now() - classifyStarted) / 1000);
      metrics?.results.inc({ result: result.flagged ? 'flagged' : 'clean' });
      for (const category of MODERATION_CATEGORIES) {
        if (result.categories[category]) metrics?.flags.inc({ category });
      }
      return result;
    },
  };
}
