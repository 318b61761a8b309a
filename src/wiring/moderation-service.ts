import type { Config } from '../platform/config.ts';
import type { FlagProvider } from '../platform/flags/flag-provider.ts';
import { buildModerationApp } from '../modules/moderation/moderation-app.ts';
import { createModerationClassifier } from '../modules/moderation/moderation-classifier.ts';
import { createOpenAiModerationAdapter } from '../modules/moderation/openai-moderation-adapter.ts';
import { observeRequests, type Observability } from './observability.ts';

// The moderation role's app. The classifier is local unless OPENAI_API_KEY is set.
// Drills degrade it through chaos flags, read on every request.
export function createModerationApi(deps: {
  config: Config;
  obs: Observability;
  flags: Pick<FlagProvider, 'isEnabled'>;
  isDraining: () => boolean;
}) {
  const { config, obs, flags } = deps;
  const classifier = config.openAiApiKey
    ? createOpenAiModerationAdapter({
        apiKey: config.openAiApiKey,
        timeoutMs: config.moderationTimeoutMs * 5,
      })
    : createModerationClassifier();
  return buildModerationApp({
    logger: obs.logger.child({ component: 'moderation' }),
    classifier,
    registry: obs.metrics.registry,
    isDraining: deps.isDraining,
    observeRequest: observeRequests(config, obs.metrics),
    faults: {
      latencyMs: () => (flags.isEnabled('chaos.moderation-slow') ? 1_500 : 0),
      failRate: () => (flags.isEnabled('chaos.moderation-errors') ? 1 : 0),
    },
  });
}
