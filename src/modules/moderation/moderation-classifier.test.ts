import { beforeAll, describe, expect, it } from 'vitest';
import { createModerationClassifier } from './moderation-classifier.ts';
import { CHALLENGE_EXAMPLES, HELD_OUT_EXAMPLES } from './moderation-held-out-examples.ts';
import { DEVELOPMENT_EXAMPLES } from './moderation-labelled-examples.ts';
import type { LabelledExample } from './moderation-labelled-examples.ts';
import { MODERATION_CATEGORIES } from './moderation-types.ts';
import type { ModerationCategory } from './moderation-types.ts';

// The lexicon alone: these tests pin its behaviour. The trained model's part is in
// moderation-model.test.ts.
const classifier = createModerationClassifier({ model: null });
const flaggedCategories = (text: string): ModerationCategory[] => {
  const result = classifier.classify(text);
  return MODERATION_CATEGORIES.filter((category) => result.categories[category]);
};

interface Evaluation {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  precision: number;
  recall: number;
  // Harmful examples flagged, but not for every expected category.
  wrongCategory: string[];
  mistakes: string[];
}

// Binary precision and recall on "should this text be flagged at all", plus a check that
// a caught example was caught for the expected reasons.
const evaluate = (examples: readonly LabelledExample[]): Evaluation => {
  const evaluation: Evaluation = {
    truePositives: 0,
    falsePositives: 0,
    falseNegatives: 0,
    trueNegatives: 0,
    precision: 0,
    recall: 0,
    wrongCategory: [],
    mistakes: [],
  };
  for (const example of examples) {
    const result = classifier.classify(example.text);
    const harmful = example.expect.length > 0;
    if (harmful && result.flagged) evaluation.truePositives += 1;
    else if (harmful) evaluation.falseNegatives += 1;
    else if (result.flagged) evaluation.falsePositives += 1;
    else evaluation.trueNegatives += 1;
    if (harmful !== result.flagged) evaluation.mistakes.push(example.text);
    if (result.flagged && example.expect.some((category) => !result.categories[category])) {
      evaluation.wrongCategory.push(example.text);
    }
  }
  const { truePositives: tp, falsePositives: fp, falseNegatives: fn } = evaluation;
  evaluation.precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  evaluation.recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return evaluation;
};

describe('the result', () => {
  it('when any text is classified, then every category has a boolean and a score in 0..1, and flagged is their disjunction', () => {
    for (const text of ['', 'hello there', 'I will kill you', 'how to build a pipe bomb']) {
      const result = classifier.classify(text);
      expect(Object.keys(result.categories).sort()).toEqual([...MODERATION_CATEGORIES].sort());
      expect(Object.keys(result.category_scores).sort()).toEqual([...MODERATION_CATEGORIES].sort());
      for (const category of MODERATION_CATEGORIES) {
        expect(result.category_scores[category]).toBeGreaterThanOrEqual(0);
        expect(result.category_scores[category]).toBeLessThanOrEqual(1);
      }
      expect(result.flagged).toBe(MODERATION_CATEGORIES.some((category) => result.categories[category]));
    }
  });

  it('when the text is empty, then nothing is flagged and every score is 0', () => {
    const result = classifier.classify('');
    expect(result.flagged).toBe(false);
    expect(Object.values(result.category_scores).every((score) => score === 0)).toBe(true);
  });

  it('when a sub-category is flagged, then its parent is flagged with at least the same score', () => {
    const result = classifier.classify('I am going to kill myself tonight');
    expect(result.categories['self-harm/intent']).toBe(true);
    expect(result.categories['self-harm']).toBe(true);
    expect(result.category_scores['self-harm']).toBeGreaterThanOrEqual(
      result.category_scores['self-harm/intent'],
    );
  });

  it('when a threshold is raised above a score, then that category is no longer flagged', () => {
    const strict = createModerationClassifier({
      thresholds: { harassment: 0.99, 'harassment/threatening': 0.99 },
    });
    expect(classifier.classify('you are an idiot').categories.harassment).toBe(true);
    expect(strict.classify('you are an idiot').categories.harassment).toBe(false);
  });

  it('when the same text is classified twice, then the results are identical', () => {
    const text = "I'm going to stab you, you worthless idiot";
    expect(classifier.classify(text)).toEqual(classifier.classify(text));
  });

  it('when maxInputChars is not a positive integer, then creating the classifier throws', () => {
    expect(() => createModerationClassifier({ maxInputChars: 0 })).toThrow(/maxInputChars/);
    expect(() => createModerationClassifier({ maxInputChars: 1.5 })).toThrow(/maxInputChars/);
  });
});

describe('labelled examples', () => {
  it.each(DEVELOPMENT_EXAMPLES.map((example) => [example.text, example.expect] as const))(
    'when "%s" is classified, then it flags %j',
    (text, expected) => {
      const flagged = flaggedCategories(text);
      if (expected.length === 0) expect(flagged).toEqual([]);
      else expect(flagged).toEqual(expect.arrayContaining([...expected]));
    },
  );

  it('when the development set is classified, then precision and recall are at least 0.95 and caught examples carry their categories', () => {
    const evaluation = evaluate(DEVELOPMENT_EXAMPLES);
    expect(DEVELOPMENT_EXAMPLES.length).toBeGreaterThanOrEqual(40);
    expect(evaluation.mistakes).toEqual([]);
    expect(evaluation.precision).toBeGreaterThanOrEqual(0.95);
    expect(evaluation.recall).toBeGreaterThanOrEqual(0.95);
    expect(evaluation.wrongCategory).toEqual([]);
  });

  it('when the held-out set (never used for tuning) is classified, then precision and recall are at least 0.9', () => {
    const evaluation = evaluate(HELD_OUT_EXAMPLES);
    expect(HELD_OUT_EXAMPLES.length).toBeGreaterThanOrEqual(40);
    expect(evaluation.precision).toBeGreaterThanOrEqual(0.9);
    expect(evaluation.recall).toBeGreaterThanOrEqual(0.9);
    expect(evaluation.wrongCategory).toEqual([]);
  });

  // A characterisation of the known limits, with the figures docs/moderation.md quotes. If
  // the classifier improves or regresses on these, update the document with the test.
  it('when the challenge set of paraphrase, slang and academic wording is classified, then the documented figures hold', () => {
    const evaluation = evaluate(CHALLENGE_EXAMPLES);
    expect({
      caught: evaluation.truePositives,
      missed: evaluation.falseNegatives,
      benignFlagged: evaluation.falsePositives,
      benignPassed: evaluation.trueNegatives,
    }).toEqual({ caught: 0, missed: 10, benignFlagged: 2, benignPassed: 4 });
  });
});

describe('normalisation against evasion', () => {
  it.each([
    ['leetspeak', 'i w1ll k1ll y0u'],
    ['stretched letters', 'I will kiiiilllll youuuu'],
    ['letters spaced out', 'I will k i l l you'],
    ['letters separated by dots', 'I will k.i.l.l you'],
    ['a zero-width space inside the word', 'I will ki\u200bll you'],
    ['a Cyrillic letter', 'I will k\u0456ll you'],
    ['fullwidth letters', '\uff29 \uff57\uff49\uff4c\uff4c \uff4b\uff49\uff4c\uff4c \uff59\uff4f\uff55'],
    ['diacritics', 'I will k\u00efll y\u00f6u'],
    ['no apostrophe', 'ill kill you'],
  ])('when a threat is written with %s, then it is still flagged as threatening', (_how, text) => {
    expect(classifier.classify(text).categories['harassment/threatening']).toBe(true);
  });

  it('when the text contains names of Object.prototype members, then it is classified normally', () => {
    const result = classifier.classify("constructor __proto__ toString's hasOwnProperty valueOf prototype");
    expect(result.flagged).toBe(false);
  });
});

describe('context', () => {
  it('when a threat is negated, then it is not flagged', () => {
    expect(classifier.classify('I will kill you').categories['harassment/threatening']).toBe(true);
    expect(classifier.classify('I will not kill you').flagged).toBe(false);
    expect(classifier.classify('I would never hurt you').flagged).toBe(false);
  });

  it('when the negation is cancelled ("will not hesitate to"), then the threat is still flagged', () => {
    expect(classifier.classify('I will not hesitate to kill you').categories['harassment/threatening']).toBe(
      true,
    );
  });

  it('when an insult is the subject of a report, then it is not flagged', () => {
    expect(classifier.classify('you are a stupid bitch').categories.harassment).toBe(true);
    expect(classifier.classify('How do I report a user who wrote you are a stupid bitch').flagged).toBe(
      false,
    );
  });

  it('when violence is described by a novel or the news, then it is not flagged', () => {
    expect(classifier.classify('He stabbed her repeatedly').categories.violence).toBe(true);
    expect(classifier.classify('The novel describes how he stabbed her repeatedly').flagged).toBe(false);
    expect(classifier.classify('The news article reports the man was shot twice').flagged).toBe(false);
  });

  it('when a threat shares its sentence with a report or fiction cue, then it is still flagged', () => {
    expect(
      classifier.classify('I will kill you and then report it').categories['harassment/threatening'],
    ).toBe(true);
    expect(
      classifier.classify('This is not a story: I will kill you').categories['harassment/threatening'],
    ).toBe(true);
  });

  it('when a threat is quoted as reported speech, then it is not flagged; quotation marks alone do not excuse it', () => {
    expect(classifier.classify('He said "I will kill you" to me yesterday').flagged).toBe(false);
    expect(classifier.classify('"I will kill you"').categories['harassment/threatening']).toBe(true);
  });

  it('when instructions for a weapon are wrapped in fiction, then they are still flagged', () => {
    const result = classifier.classify('Write a story where the hero explains how to build a pipe bomb');
    expect(result.categories['illicit/violent']).toBe(true);
  });

  it('when someone asks how to stop self-harming, then no instructions are flagged', () => {
    const result = classifier.classify('How do I stop cutting myself?');
    expect(result.categories['self-harm/instructions']).toBe(false);
  });

  it('when sexual content sits near a mention of a child, even across sentences, then it is sexual/minors', () => {
    expect(classifier.classify('She is 14. Send me nudes.').categories['sexual/minors']).toBe(true);
    expect(classifier.classify('Send me nudes.').categories['sexual/minors']).toBe(false);
    expect(classifier.classify('My son is 14 and plays chess').flagged).toBe(false);
  });

  it('when an alarming word has an everyday meaning, then it is not flagged', () => {
    for (const text of [
      'kill the process and restart the worker',
      'take a stab at the estimate',
      'shoot me an email',
      "I'll shoot you a message tomorrow",
      "I'll cut you some slack this week",
      'a bath bomb for the gift basket',
      'Did you see the idiot who parked across two spaces?',
    ]) {
      expect(flaggedCategories(text), text).toEqual([]);
    }
  });
});

describe('bounded input', () => {
  it('when the input is longer than maxInputChars, then the rest is not examined and the explanation says it was truncated', () => {
    const small = createModerationClassifier({ maxInputChars: 50 });
    const text = `${'x'.repeat(60)} I will kill you`;
    const explanation = small.explain(text);
    expect(explanation.truncated).toBe(true);
    expect(explanation.result.flagged).toBe(false);
    expect(createModerationClassifier({ maxInputChars: 100 }).explain(text).result.flagged).toBe(true);
  });

  it('when the input is outside the Basic Multilingual Plane, then the limit counts code points, not UTF-16 units', () => {
    // 40 emoji are 80 UTF-16 units but 40 code points: the threat after them is within 70.
    const text = `${'\u{1F600}'.repeat(40)} I will kill you`;
    const explanation = createModerationClassifier({ maxInputChars: 70 }).explain(text);
    expect(explanation.truncated).toBe(false);
    expect(explanation.result.categories['harassment/threatening']).toBe(true);
  });

  it('when characters that expand on normalisation fill the input, then the text after them is still examined', () => {
    for (const filler of ['\ud55c'.repeat(70_000), '\ufdfa'.repeat(20_000), 'e\u0301'.repeat(45_000)]) {
      const explanation = classifier.explain(`${filler} I will kill you`);
      expect(explanation.truncated).toBe(false);
      expect(explanation.result.categories['harassment/threatening']).toBe(true);
    }
  });

  // Timed as it ships: the lexicon and the trained model.
  const shipped = createModerationClassifier();
  const MiB = 1024 * 1024;
  const fill = (unit: string): string => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
  const bestOf = (runs: number, work: () => void): number => {
    let best = Number.POSITIVE_INFINITY;
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      work();
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };

  // The budget is 100 ms on a machine at least as fast as the reference (a 2 GHz-class core
  // running the calibration loop below in 40 ms). On a slower or oversubscribed machine (a
  // shared CI runner, a laptop on battery) the budget grows by the measured slowdown, so the
  // test checks the algorithm's cost rather than the neighbours' load; it never shrinks
  // below 100 ms.
  const REFERENCE_CALIBRATION_MS = 40;
  const calibrationLoop = (): number => {
    let x = 0;
    for (let i = 0; i < 20_000_000; i += 1) x = (x * 31 + i) | 0;
    return x;
  };
  const budgetMs = (): number => 100 * Math.max(1, bestOf(3, calibrationLoop) / REFERENCE_CALIBRATION_MS);
  let budget = 100;
  beforeAll(() => {
    budget = budgetMs();
  });

  // Inputs chosen to hit the expensive paths: every token starting many patterns, long
  // runs of one character class, quote toggling, single letters to merge, expanding
  // ligatures, and stacked combining marks.
  it.each([
    ['repeated threats', fill('i will kill you ~ ')],
    ['repeated negated threats', fill('i will not kill you, ')],
    ['instruction openers', fill('how to how to how do i ')],
    ['one 1 MiB token', 'a'.repeat(MiB)],
    ['punctuation runs', '!'.repeat(MiB - 1) + 'x'],
    ['alternating quotes', fill('"a ')],
    ['spaced single letters', fill('k i l l ')],
    ['ligatures that expand eighteenfold', '\ufdfa'.repeat(MiB / 2)],
    ['stacked combining marks', fill('a\u0301\u0302\u0303')],
    ['sexual words next to ages', fill('send nudes 12 year old ')],
  ])('when 1 MiB of %s is classified, then it finishes in under 100 ms', (_name, text) => {
    shipped.classify('warm up');
    const elapsed = bestOf(3, () => shipped.classify(text));
    // Over budget: measure the machine again, in case load rose since the first measurement.
    expect(elapsed).toBeLessThan(elapsed < budget ? budget : budgetMs());
  });

  it('when the limit is lifted, then the cost grows linearly with the input', () => {
    const unbounded = createModerationClassifier({ maxInputChars: MiB });
    const whole = fill('i will not kill you, ').slice(0, MiB / 2);
    const quarter = whole.slice(0, MiB / 8);
    const cpuMs = (work: () => void): number => {
      const before = process.cpuUsage();
      work();
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000;
    };
    // Interleaved and best-of, on CPU time, so a burst of load on the machine hits both sizes.
    let small = Number.POSITIVE_INFINITY;
    let large = Number.POSITIVE_INFINITY;
    unbounded.classify(quarter);
    for (let round = 0; round < 3; round += 1) {
      small = Math.min(
        small,
        cpuMs(() => unbounded.classify(quarter)),
      );
      large = Math.min(
        large,
        cpuMs(() => unbounded.classify(whole)),
      );
    }
    // Linear is about 4x; a quadratic scan would be about 16x.
    expect(large / small).toBeLessThan(8);
  }, 30_000);
});
