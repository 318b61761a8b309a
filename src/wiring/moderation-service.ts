import type { Config } from '../platform/config.ts';
import type { FlagProvider } from '../platform/flags/flag-provider.ts';
import { buildModerationApp } from '../modules/moderation/moderation-app.ts';
import {
  createModerationBackend,
  MAX_INJECTED_LATENCY_MS,
  type ModerationBackend,
} from '../modules/moderation/moderation-backend.ts';
import { createModerationClassifier } from '../modules/moderation/moderation-classifier.ts';
import { loadModerationModel } from '../modules/moderation/moderation-model.ts';
import { createOpenAiModerationAdapter } from '../modules/moderation/openai-moderation-adapter.ts';
import { observeRequests, type Observability } from './observability.ts';

// The moderation service's work: the classifier (local unless OPENAI_API_KEY is set), the
// drills' faults (chaos flags, read on every call) and its budget. Shared by the moderation
// role's HTTP app and, in role all, by the gateway's in-process transport
// (docs/adr/0017-moderation-budget-where-the-work-happens.md). Built on first use: the
// worker role never classifies. The local classifier's trained model is read and checked
// here, at start, so a corrupt model file stops the process instead of the first request.
export function buildModerationBackend(deps: {
  config: Config;
  obs: Observability;
  flags: Pick<FlagProvider, 'isEnabled'>;
  // The trained model's manifest; the shipped one unless a test points elsewhere.
  modelFile?: URL;
}): ModerationBackend {
  const { config, obs, flags } = deps;
  const model = config.openAiApiKey ? null : loadModerationModel(deps.modelFile);
  let backend: ModerationBackend | undefined;
  return {
    moderate: (text, budgetMs) =>
      (backend ??= createModerationBackend({
        classifier: config.openAiApiKey
          ? createOpenAiModerationAdapter({
              apiKey: config.openAiApiKey,
              timeoutMs: config.moderationTimeoutMs * 5,
            })
          : createModerationClassifier({ model }),
        faults: {
          // An outage: the service stops answering, so every call outlives its budget.
          latencyMs: () =>
            flags.isEnabled('chaos.moderation-outage')
              ? MAX_INJECTED_LATENCY_MS
              : flags.isEnabled('chaos.moderation-slow')
                ? 1_500
                : 0,
          failRate: () => (flags.isEnabled('chaos.moderation-errors') ? 1 : 0),
        },
        registry: obs.metrics.registry,
      })).moderate(text, budgetMs),
  };
}

// The moderation role's app, in front of the shared backend.
export function createModerationApi(deps: {
  config: Config;
  obs: Observability;
  backend: ModerationBackend;
  isDraining: () => boolean;
}) {
  const { config, obs } = deps;
  return buildModerationApp({
    logger: obs.logger.child({ component: 'moderation' }),
    backend: deps.backend,
    registry: obs.metrics.registry,
    isDraining: deps.isDraining,
    observeRequest: observeRequests(config, obs.metrics),
  });
}
