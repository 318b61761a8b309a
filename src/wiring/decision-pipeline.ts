import type { Config } from '../platform/config.ts';
import type { Queryable } from '../platform/db.ts';
import { MODERATION_FALLBACK_LOCAL, type FlagProvider } from '../platform/flags/flag-provider.ts';
import { createDecisionPipeline } from '../modules/decisions/decision-pipeline.ts';
import { createInjectionStage } from '../modules/decisions/stages/injection-stage.ts';
import { createKillSwitchStage } from '../modules/decisions/stages/kill-switch-stage.ts';
import { createModerationStage } from '../modules/decisions/stages/moderation-stage.ts';
import { createProvenanceStage } from '../modules/decisions/stages/provenance-stage.ts';
import { createRolloutGateStage } from '../modules/decisions/stages/rollout-gate-stage.ts';
import { toolTraitsOf } from '../modules/decisions/stages/safety-stage-support.ts';
import { createSecretStage } from '../modules/decisions/stages/secret-stage.ts';
import { createSsrfStage } from '../modules/decisions/stages/ssrf-stage.ts';
import { createToolDefaultStage } from '../modules/decisions/stages/tool-default-stage.ts';
import { createUserReportsStage } from '../modules/decisions/stages/user-reports-stage.ts';
import { createModerationBackend, type ModerationBackend } from '../modules/moderation/moderation-backend.ts';
import { createModerationClassifier } from '../modules/moderation/moderation-classifier.ts';
import { createModerationClient } from '../modules/moderation/moderation-client.ts';
import { loadInjectionModel } from '../modules/safety/injection-model.ts';
import {
  observeModerationCalls,
  observeStages,
  traceModeration,
  type Observability,
} from './observability.ts';
import type { ToolCatalogue } from './tools.ts';

// The nine stages, in the order their reasons are listed. They run concurrently and the
// strictest outcome wins (src/modules/decisions/decision-pipeline.ts).
export function buildDecisionPipeline(deps: {
  config: Config;
  obs: Observability;
  db: Queryable;
  flags: Pick<FlagProvider, 'isEnabled'>;
  catalogue: ToolCatalogue;
  moderationBackend: ModerationBackend;
}) {
  const { config, obs, flags } = deps;
  const { tools, fetchPolicy } = deps.catalogue;
  const toolTraits = toolTraitsOf((tool) => tools.get(tool));
  const moderation = createModerationClient({
    baseUrl: config.moderationUrl,
    backend: config.moderationTransport === 'in-process' ? deps.moderationBackend : undefined,
    fallback: {
      active: () => flags.isEnabled(MODERATION_FALLBACK_LOCAL),
      backend: localFallback(),
    },
    timeoutMs: config.moderationTimeoutMs,
    backstopMs: config.moderationBackstopMs,
    breaker: config.moderationBreaker,
    logger: obs.logger,
    ...observeModerationCalls(obs.metrics),
  });
  const pipeline = createDecisionPipeline({
    stages: [
      createToolDefaultStage({ tools }),
      createKillSwitchStage({ flags }),
      createRolloutGateStage({ flags }),
      createUserReportsStage({ db: deps.db }),
      createSsrfStage({ fetchPolicy }),
      // The trained injection model is read and checked here, at start (ADR 0031).
      createInjectionStage({ tools: toolTraits, injectionModel: loadInjectionModel() }),
      createProvenanceStage({ tools: toolTraits }),
      createSecretStage({ tools: toolTraits }),
      createModerationStage({ client: traceModeration(obs.tracer, moderation) }),
    ],
    logger: obs.logger,
    tracer: obs.tracer,
    observeStage: observeStages(obs.metrics),
  });
  return { pipeline, moderation };
}

// The local lexicon classifier in the gateway's own process, with no injected faults: the
// moderation service's classifier when OPENAI_API_KEY is unset, so verdicts do not change.
// Built on first use; most processes never need it.
function localFallback(): ModerationBackend {
  let backend: ModerationBackend | undefined;
  return {
    moderate: (text, budgetMs) =>
      (backend ??= createModerationBackend({ classifier: createModerationClassifier() })).moderate(
        text,
        budgetMs,
      ),
  };
}
