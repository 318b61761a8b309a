import type { Tracer } from '@opentelemetry/api';
import type { Logger } from '../../platform/logger.ts';
import { withSpan } from '../../platform/traced.ts';
import {
  DEFAULT_RISK,
  OUTCOME_RANK,
  type Decision,
  type DecisionInput,
  type DecisionStage,
  type Outcome,
  type Reason,
  type StageResult,
} from './decision-types.ts';

export interface StageObserver {
  (stage: string, seconds: number): void;
}

export interface DecisionPipeline {
  decide(input: DecisionInput): Promise<Decision>;
  stageNames(): string[];
}

// Runs every stage and keeps the strictest outcome. Stages are independent, so they run
// concurrently; one that throws fails closed (review), because a broken safety check must
// not wave an action through.
export function createDecisionPipeline(deps: {
  stages: readonly DecisionStage[];
  logger: Logger;
  observeStage?: StageObserver;
  tracer?: Tracer;
}): DecisionPipeline {
  async function run(stage: DecisionStage, input: DecisionInput): Promise<StageResult> {
    const started = performance.now();
    try {
      // Inside the try: a span records the error before the fail-closed path swallows it.
      return deps.tracer
        ? await withSpan(deps.tracer, `decide ${stage.name}`, {}, () => stage.evaluate(input))
        : await stage.evaluate(input);
    } catch (err) {
      deps.logger.error({ err, stage: stage.name }, 'decision stage failed; failing closed');
      return {
        outcome: 'review',
        reasons: [{ code: 'stage_error', message: `The ${stage.name} check failed; a human must decide.` }],
      };
    } finally {
      deps.observeStage?.(stage.name, (performance.now() - started) / 1000);
    }
  }

  return {
    stageNames: () => deps.stages.map((s) => s.name),
    async decide(input) {
      const results = await Promise.all(deps.stages.map((stage) => run(stage, input)));
      let outcome: Outcome = 'allow';
      let risk = 0;
      const reasons: Reason[] = [];
      for (const result of results) {
        if (OUTCOME_RANK[result.outcome] > OUTCOME_RANK[outcome]) outcome = result.outcome;
        risk += result.risk ?? (result.reasons.length ? DEFAULT_RISK[result.outcome] : 0);
        reasons.push(...result.reasons);
      }
      return { outcome, risk_score: Math.min(100, Math.round(risk)), reasons };
    },
  };
}
