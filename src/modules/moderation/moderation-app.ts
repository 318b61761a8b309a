import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { TSchema } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { createHttpServer, type RequestObserver } from '../../platform/http/http-server.ts';
import { MODERATION_CATEGORIES, MODERATION_MAX_INPUT_CHARS } from './moderation-types.ts';
import type { ModerationCategory, ModerationClassifier, ModerationResult } from './moderation-types.ts';

// The moderation service: a small HTTP front for a classifier (the local lexicon one, or
// the OpenAI adapter), run as its own role so the gateway depends on it the way it would on
// any remote model. That dependency, and what the gateway does when it fails, is what the
// on-call drills practise; hence the fault hooks below.

const BODY_LIMIT_BYTES = 1024 * 1024;
// Drills slow the service down; they must not be able to hang a request forever.
const MAX_INJECTED_LATENCY_MS = 30_000;
const REQUEST_TIMEOUT_MS = MAX_INJECTED_LATENCY_MS + 5_000;

// Fault injection for drills, read on every request so a drill can start and stop without
// a restart. The default injects nothing.
export interface ModerationFaults {
  latencyMs(): number;
  // 0..1: the share of requests answered 503.
  failRate(): number;
}

export const NO_FAULTS: ModerationFaults = { latencyMs: () => 0, failRate: () => 0 };

export interface ModerationAppDeps {
  logger: Logger;
  classifier: ModerationClassifier;
  // Where the service's metrics go; /metrics serves it. Without one there is no /metrics.
  registry?: Registry;
  faults?: ModerationFaults;
  // The draw against failRate; tests pin it.
  random?: () => number;
  isDraining?: () => boolean;
  observeRequest?: RequestObserver;
}

const ModerateBody = Type.Object(
  { input: Type.String({ maxLength: MODERATION_MAX_INPUT_CHARS }) },
  { additionalProperties: false },
);

const categoryObject = <T extends TSchema>(make: () => T) =>
  Type.Object(
    Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, make()])) as Record<
      ModerationCategory,
      T
    >,
  );

export const ModerationResultSchema = Type.Object({
  flagged: Type.Boolean(),
  categories: categoryObject(() => Type.Boolean()),
  category_scores: categoryObject(() => Type.Number({ minimum: 0, maximum: 1 })),
});

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
    // result: flagged | clean | error | fault (a drill's injected failure).
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

// Builds the moderation role's HTTP app. It never logs request bodies: the text under
// moderation is user content and may carry personal data.
export const buildModerationApp = (deps: ModerationAppDeps) => {
  const faults = deps.faults ?? NO_FAULTS;
  const random = deps.random ?? Math.random;
  const metrics = deps.registry ? moderationMetrics(deps.registry) : undefined;

  const app = createHttpServer({
    logger: deps.logger,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    observeRequest: deps.observeRequest,
  });

  app.get('/livez', async () => ({ status: 'ok' as const }));
  app.get('/readyz', async (_request, reply) =>
    deps.isDraining?.()
      ? reply.code(503).send({ status: 'draining', checks: { draining: 'failing' } })
      : reply.send({ status: 'ok', checks: { classifier: 'ok' } }),
  );
  if (deps.registry) {
    const registry = deps.registry;
    app.get('/metrics', async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  }

  app.post(
    '/v1/moderate',
    { schema: { body: ModerateBody, response: { 200: ModerationResultSchema } } },
    async (request): Promise<ModerationResult> => {
      const latency = Math.min(MAX_INJECTED_LATENCY_MS, Math.max(0, faults.latencyMs() || 0));
      if (latency > 0) await sleep(latency);
      if (random() < Math.min(1, Math.max(0, faults.failRate() || 0))) {
        metrics?.results.inc({ result: 'fault' });
        throw new AppError(
          'moderation_fault_injected',
          503,
          'The moderation service failed this request (injected fault).',
        );
      }
      const started = performance.now();
      let result: ModerationResult;
      try {
        result = await deps.classifier.classify(request.body.input);
      } catch (err) {
        metrics?.results.inc({ result: 'error' });
        throw err;
      }
      metrics?.duration.observe((performance.now() - started) / 1000);
      metrics?.results.inc({ result: result.flagged ? 'flagged' : 'clean' });
      for (const category of MODERATION_CATEGORIES) {
        if (result.categories[category]) metrics?.flags.inc({ category });
      }
      return result;
    },
  );

  return app;
};
