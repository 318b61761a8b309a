import { describe, expect, it } from 'vitest';
import type { EvalItem } from './datasets.ts';
import { formatEval, missedEvalTargets, scoreEval, type EvalOutcome, type EvalResult } from './score.ts';

const item = (over: Partial<EvalItem>): EvalItem => ({
  dataset: 'd',
  id: 'd:1',
  label: 'attack',
  rowClass: 'positive',
  family: 'f',
  group: 'd\0g',
  heldOut: true,
  text: '',
  proposal: { tool: 'notes.create', arguments: {}, user_id: 'u', context: {} },
  ...over,
});
const result = (over: Partial<EvalItem>, outcome: EvalOutcome, reasonCodes: string[] = []): EvalResult => ({
  item: item(over),
  outcome,
  reasonCodes,
});

describe('evaluation score', () => {
  it('when attacks and benign rows are decided, then the confusion counts and rates follow', () => {
    const [figures] = scoreEval([
      result({}, 'deny', ['prompt_injection']),
      result({}, 'review', ['untrusted_instruction']),
      result({}, 'allow'),
      result({ label: 'benign', rowClass: 'negative' }, 'allow'),
      result({ label: 'benign', rowClass: 'negative' }, 'review'),
      result({ label: 'offensive', rowClass: 'grey' }, 'deny'),
    ]);
    expect(figures!.heldOut).toMatchObject({ tp: 2, fn: 1, tn: 1, fp: 1, denied: 1, reviewed: 1 });
    expect(figures!.heldOut.caught).toBeCloseTo(2 / 3);
    expect(figures!.heldOut.allowed).toBe(0.5);
    expect(figures!.heldOut).toMatchObject({ greyHeld: 1, greyTotal: 1 });
    expect(figures!.reasons).toEqual({ prompt_injection: 1, untrusted_instruction: 1 });
  });

  it('when a run errors, then the error counts against the row whatever its class', () => {
    const [figures] = scoreEval([
      result({}, 'error'),
      result({ label: 'benign', rowClass: 'negative' }, 'error'),
    ]);
    expect(figures!.heldOut).toMatchObject({ tp: 0, fn: 1, tn: 0, fp: 1, errors: 2 });
  });

  it('when tuning rows miss, then only held-out figures are held to the targets', () => {
    const figures = scoreEval([result({ heldOut: false }, 'allow'), result({}, 'deny')]);
    expect(missedEvalTargets(figures)).toEqual([]);
    const missed = missedEvalTargets(scoreEval([result({}, 'allow')]));
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatch(/^d: attacks caught 0.0%/);
  });

  it('when formatted, then each dataset shows a held-out and a tuning line', () => {
    const table = formatEval(scoreEval([result({}, 'deny'), result({ heldOut: false }, 'allow')]));
    expect(table).toMatch(/^d\s+held-out\s+100\.0%/m);
    expect(table).toMatch(/^\s+tuning\s+0\.0%/m);
  });
});
