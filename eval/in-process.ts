// For tuning only: the content stages (injection, provenance, secrets, moderation with the
// local classifier) run in this process on each item, without HTTP, Postgres, Redis or
// the moderation service. Every eval item's tool default is allow (datasets.ts maps rows
// so), so the strictest of these stages is what the gateway would decide; the figures of
// record still come from the gateway (`npm run eval` without --in-process).

import { createDecisionPipeline } from '../src/modules/decisions/decision-pipeline.ts';
import type { DecisionInput } from '../src/modules/decisions/decision-types.ts';
import { createInjectionStage } from '../src/modules/decisions/stages/injection-stage.ts';
import { createModerationStage } from '../src/modules/decisions/stages/moderation-stage.ts';
import { createProvenanceStage } from '../src/modules/decisions/stages/provenance-stage.ts';
import { createSecretStage } from '../src/modules/decisions/stages/secret-stage.ts';
import { createModerationClassifier } from '../src/modules/moderation/moderation-classifier.ts';
import { createLogger } from '../src/platform/logger.ts';
import type { EvalItem } from './datasets.ts';
import type { EvalResult } from './score.ts';

export async function runInProcess(
  items: readonly EvalItem[],
  policy: DecisionInput['policy'],
): Promise<EvalResult[]> {
  const classifier = createModerationClassifier();
  const pipeline = createDecisionPipeline({
    stages: [
      createInjectionStage(),
      createProvenanceStage(),
      createSecretStage(),
      createModerationStage({ client: { moderate: async (text) => classifier.classify(text) } }),
    ],
    logger: createLogger({ level: 'error', destination: process.stderr }),
  });
  const results: EvalResult[] = [];
  for (const item of items) {
    const decision = await pipeline.decide({
      tenantId: 'eval',
      tool: item.proposal.tool,
      arguments: item.proposal.arguments,
      userId: item.proposal.user_id,
      context: item.proposal.context,
      policy,
    });
    results.push({ item, outcome: decision.outcome, reasonCodes: decision.reasons.map((r) => r.code) });
  }
  return results;
}
