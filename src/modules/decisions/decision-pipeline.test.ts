import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { DEFAULT_POLICY } from '../policy/policy.repository.ts';
import { createDecisionPipeline } from './decision-pipeline.ts';
import type { DecisionInput, DecisionStage, StageResult } from './decision-types.ts';

const INPUT: DecisionInput = {
  tenantId: 'tenant-1',
  tool: 'notes.create',
  arguments: { title: 'Groceries', body: 'milk' },
  userId: 'user-1',
  context: { user_prompt: 'Note that I need milk' },
  policy: DEFAULT_POLICY,
};

const stage = (name: string, evaluate: DecisionStage['evaluate']): DecisionStage => ({ name, evaluate });
const returning = (name: string, result: StageResult): DecisionStage => stage(name, () => result);

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line)) };
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('createDecisionPipeline', () => {
  it('when a stage throws, then the decision fails closed to review with stage_error and the error is logged', async () => {
    const { lines, logger } = capturedLogger();
    const pipeline = createDecisionPipeline({
      logger,
      stages: [
        returning('tool_default', { outcome: 'allow', reasons: [] }),
        stage('broken', () => {
          throw new TypeError('cannot read properties of undefined');
        }),
      ],
    });

    const decision = await pipeline.decide(INPUT);

    expect(decision.outcome, JSON.stringify(decision.reasons)).toBe('review');
    expect(decision.reasons).toEqual([
      { code: 'stage_error', message: 'The broken check failed; a human must decide.' },
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        stage: 'broken',
        msg: 'decision stage failed; failing closed',
      }),
    );
  });

  it('when an async stage rejects, then the decision fails closed to review as well', async () => {
    const { logger } = capturedLogger();
    const pipeline = createDecisionPipeline({
      logger,
      stages: [stage('moderation', () => Promise.reject(new Error('socket hang up')))],
    });

    const decision = await pipeline.decide(INPUT);

    expect(decision.outcome, JSON.stringify(decision.reasons)).toBe('review');
    expect(decision.reasons.map((r) => r.code)).toEqual(['stage_error']);
  });

  it('when a stage throws but another denies, then the deny wins: failing closed never lowers a decision', async () => {
    const { logger } = capturedLogger();
    const pipeline = createDecisionPipeline({
      logger,
      stages: [
        stage('broken', () => {
          throw new Error('boom');
        }),
        returning('kill_switch', {
          outcome: 'deny',
          risk: 100,
          reasons: [{ code: 'kill_switch', message: 'The kill switch kill-switch.all is on.' }],
        }),
      ],
    });

    const decision = await pipeline.decide(INPUT);

    expect(decision.outcome, JSON.stringify(decision.reasons)).toBe('deny');
    expect(decision.reasons.map((r) => r.code)).toEqual(['stage_error', 'kill_switch']);
    expect(decision.risk_score).toBe(100);
  });

  it('when stages disagree, then the strictest outcome is kept, reasons keep stage order and risk is summed', async () => {
    const { logger } = capturedLogger();
    const pipeline = createDecisionPipeline({
      logger,
      stages: [
        returning('a', { outcome: 'allow', reasons: [] }),
        returning('b', { outcome: 'review', risk: 20, reasons: [{ code: 'high_amount', message: 'b' }] }),
        // No risk named: the default for a review (30) is used.
        returning('c', { outcome: 'review', reasons: [{ code: 'user_reports', message: 'c' }] }),
      ],
    });

    const decision = await pipeline.decide(INPUT);

    expect(decision).toEqual({
      outcome: 'review',
      risk_score: 50,
      reasons: [
        { code: 'high_amount', message: 'b' },
        { code: 'user_reports', message: 'c' },
      ],
    });
  });

  it('when every stage allows, then the decision is allow with risk 0', async () => {
    const { logger } = capturedLogger();
    const pipeline = createDecisionPipeline({
      logger,
      stages: [
        returning('a', { outcome: 'allow', reasons: [] }),
        returning('b', { outcome: 'allow', reasons: [] }),
      ],
    });

    expect(await pipeline.decide(INPUT)).toEqual({ outcome: 'allow', risk_score: 0, reasons: [] });
  });

  it('when a stage runs, then its duration is observed under its name, even when it throws', async () => {
    const { logger } = capturedLogger();
    const observed: string[] = [];
    const pipeline = createDecisionPipeline({
      logger,
      observeStage: (name, seconds) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        observed.push(name);
      },
      stages: [
        returning('ok', { outcome: 'allow', reasons: [] }),
        stage('broken', () => {
          throw new Error('boom');
        }),
      ],
    });

    await pipeline.decide(INPUT);

    expect(observed.sort()).toEqual(['broken', 'ok']);
    expect(pipeline.stageNames()).toEqual(['ok', 'broken']);
  });
});
