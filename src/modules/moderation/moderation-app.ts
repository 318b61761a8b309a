import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { TSchema } from 'typebox';
import type { Logger } from '../../platform/logger.ts';
import { createHttpServer, type RequestObserver } from '../../platform/http/http-server.ts';
import {
  createModerationBackend,
  MAX_INJECTED_LATENCY_MS,
  type ModerationBackend,
  type ModerationFaults,
} from './moderation-backend.ts';
import { BUDGET_HEADER, MODERATION_CATEGORIES, MODERATION_MAX_INPUT_CHARS } from './moderation-types.ts';
import type { ModerationCategory, ModerationClassifier, ModerationResult } from './moderation-types.ts';

export { NO_FAULTS, type ModerationFaults } from './moderation-backend.ts';

// The moderation service: a small HTTP front for a classifier (the local lexicon one, or
// the OpenAI adapter), run as its own role so the gateway depends on it the way it would on
// any remote model. That dependency, and what the gateway does when it fails, is what the
// on-call drills practise; the work itself, with its fault hooks and budget, is the
// backend's (moderation-backend.ts), shared with the in-process transport.

const BODY_LIMIT_BYTES = 1024 * 1024;
const REQUEST_TIMEOUT_MS = MAX_INJECTED_LATENCY_MS + 5_000;

export interface ModerationAppDeps {
  logger: Logger;
  // Either the backend, or the classifier (and faults, random, registry) to build one from.
  classifier?: ModerationClassifier;
  backend?: ModerationBackend;
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

// Builds the moderation role's HTTP app. It never logs request bodies: the text under
// moderation is user content and may carry personal data.
export const buildModerationApp = (deps: ModerationAppDeps) => {
  if (!deps.backend && !deps.classifier)
    throw new Error('buildModerationApp needs a backend or a classifier');
  const backend =
    deps.backend ??
    createModerationBackend({
      classifier: deps.classifier!,
      faults: deps.faults,
      random: deps.random,
      registry: deps.registry,
    });

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
      const raw = request.headers[BUDGET_HEADER];
      const budget = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : undefined;
      return backend.moderate(request.body.input, budget);
    },
  );

  return app;
};
