import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/modules/moderation/moderation-model.ts';
import {
  fitPlatt,
  quantise,
  seededRandom,
  thresholdFor,
  trainWeights,
  uncalibratedModel,
  type TrainingExample,
  type TrainingOptions,
} from './moderation-training.ts';

// A synthetic fixture, made up here (no dataset text): "harmful" sentences use one set of
// made-up words, benign ones another, and both share filler words.
const HARM = ['zorblax', 'quindle', 'vexmor', 'grothik'];
const CALM = ['pelmira', 'sonvael', 'teluna', 'ashwin'];
const FILLER = ['the', 'report', 'about', 'today', 'meeting', 'we', 'will'];

function fixture(count: number, seed: number): TrainingExample[] {
  const random = seededRandom(seed);
  const pick = (words: readonly string[]) => words[Math.floor(random() * words.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const harmful = i % 2 === 0;
    const words = Array.from({ length: 6 }, (_, j) =>
      j % 3 === 0 ? pick(harmful ? HARM : CALM) : pick(FILLER),
    );
    return { text: words.join(' '), harmful, category: harmful ? i % 6 : -1, weight: 1 };
  });
}

const OPTIONS: TrainingOptions = { bits: 12, epochs: 4, seed: 7, learningRate: 0.5, l2: 1e-5 };

describe('training the moderation model', () => {
  it('when trained twice with the same seed, then the weights are byte-for-byte identical', () => {
    const examples = fixture(200, 1);
    const first = quantise(trainWeights(examples, OPTIONS));
    const second = quantise(trainWeights(examples, OPTIONS));
    expect(sha256Hex(new Uint8Array(second.bytes.buffer))).toBe(
      sha256Hex(new Uint8Array(first.bytes.buffer)),
    );
    expect(second.scales).toEqual(first.scales);
  });

  it('when the seed changes, then the weights change', () => {
    const examples = fixture(200, 1);
    const a = quantise(trainWeights(examples, OPTIONS));
    const b = quantise(trainWeights(examples, { ...OPTIONS, seed: 8 }));
    expect(sha256Hex(new Uint8Array(b.bytes.buffer))).not.toBe(sha256Hex(new Uint8Array(a.bytes.buffer)));
  });

  it('when trained on the fixture, then the shipped scoring code separates unseen examples of it', () => {
    const model = uncalibratedModel(trainWeights(fixture(200, 1), OPTIONS));
    const unseen = fixture(40, 99);
    const harmful = unseen.filter((e) => e.harmful).map((e) => model.assess(e.text).logit);
    const benign = unseen.filter((e) => !e.harmful).map((e) => model.assess(e.text).logit);
    expect(Math.min(...harmful)).toBeGreaterThan(Math.max(...benign));
  });

  it('when Platt scaling is fitted, then probabilities rise with the logit and match the base rate', () => {
    const logits = [-3, -2, -1, -0.5, 0.5, 1, 2, 3, 0, 0];
    const labels = [false, false, false, true, false, true, true, true, true, false];
    const { a, b } = fitPlatt(logits, labels);
    expect(a).toBeGreaterThan(0);
    const mean = logits.reduce((sum, z) => sum + 1 / (1 + Math.exp(-(a * z + b))), 0) / logits.length;
    expect(mean).toBeCloseTo(0.5, 3);
  });

  it('when a threshold is chosen, then no limit is exceeded and it is the lowest that does so', () => {
    const a = Array.from({ length: 100 }, (_, i) => i / 100);
    const b = Array.from({ length: 40 }, (_, i) => i / 80);
    const limits = [
      { scores: a, mayFlag: 5 },
      { scores: b, mayFlag: 0 },
    ];
    const threshold = thresholdFor(limits);
    for (const { scores, mayFlag } of limits) {
      expect(scores.filter((p) => p >= threshold).length).toBeLessThanOrEqual(mayFlag);
    }
    // a may have 5 of its 100 flagged (0.95 to 0.99), so the threshold sits just above its
    // sixth highest score, 0.94; b, flagging none, asks only for more than 0.4875.
    expect(threshold).toBeCloseTo(0.94, 4);
    expect(thresholdFor([{ scores: b, mayFlag: 0 }])).toBeCloseTo(0.4875, 4);
    expect(thresholdFor([{ scores: [0.3], mayFlag: 1 }])).toBe(0);
  });
});
