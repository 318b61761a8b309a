// Training of the moderation model (src/modules/moderation/moderation-model.ts): logistic
// regression for the "harmful" head and a softmax regression for the category heads, over
// the hashed features the model computes at run time (moderation-features.ts), by AdaGrad
// with L2 decay. Plain TypeScript, no dependency, deterministic for a seed: examples are
// visited in an order drawn from a seeded generator and every sum runs in a fixed order.
//
// Pure functions only: what to train on is eval/train-moderation.ts's business.

import { createFeatureExtractor, featureVector } from '../src/modules/moderation/moderation-features.ts';
import {
  MODEL_FORMAT,
  MODEL_HEADS,
  createModerationModel,
  type ModelManifest,
  type ModerationModel,
} from '../src/modules/moderation/moderation-model.ts';
import { FEATURE_VERSION } from '../src/modules/moderation/moderation-features.ts';

export interface TrainingExample {
  text: string;
  harmful: boolean;
  // Index into MODEL_CATEGORIES, or -1 when the dataset does not say (or the row is benign).
  category: number;
  // How much the example counts (datasets of very different sizes are evened out).
  weight: number;
}

export interface TrainingOptions {
  bits: number;
  epochs: number;
  seed: number;
  learningRate: number;
  l2: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  bits: 18,
  epochs: 8,
  seed: 20_261_207,
  learningRate: 0.5,
  l2: 1e-5,
};

export interface TrainedWeights {
  bits: number;
  // Head h's weight for bucket i at h * 2^bits + i, heads in MODEL_HEADS order.
  weights: Float32Array;
  biases: Float64Array;
}

// mulberry32: a small seeded generator, enough for shuffling.
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const shuffled = (count: number, random: () => number): Int32Array => {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
};

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

// `heads`: the "harmful" head and heads - 1 category heads. The moderation model has all
// seven; the injection model (eval/train-injection.ts) has the first head alone.
export function trainWeights(
  examples: readonly TrainingExample[],
  options: TrainingOptions,
  heads: number = MODEL_HEADS.length,
): TrainedWeights {
  const buckets = 2 ** options.bits;
  const categories = heads - 1;
  const weights = new Float32Array(heads * buckets);
  const squared = new Float32Array(heads * buckets);
  const biases = new Float64Array(heads);
  const biasSquared = new Float64Array(heads);
  const extract = createFeatureExtractor(options.bits);
  const features = examples.map((e) => featureVector(extract, e.text));
  const random = seededRandom(options.seed);
  const { learningRate: rate, l2 } = options;
  const logits = new Float64Array(heads);

  // One AdaGrad step on head h for gradient g of the loss with respect to its logit.
  const step = (h: number, g: number, buckets_: Int32Array, signs: Int8Array, scale: number): void => {
    const offset = h * buckets;
    for (let k = 0; k < buckets_.length; k += 1) {
      const at = offset + (buckets_[k] as number);
      const grad = g * (signs[k] as number) * scale + l2 * (weights[at] as number);
      squared[at] = (squared[at] as number) + grad * grad;
      weights[at] = (weights[at] as number) - (rate * grad) / Math.sqrt((squared[at] as number) + 1e-8);
    }
    biasSquared[h] = (biasSquared[h] as number) + g * g;
    biases[h] = (biases[h] as number) - (rate * g) / Math.sqrt((biasSquared[h] as number) + 1e-8);
  };

  const logitOf = (h: number, buckets_: Int32Array, signs: Int8Array, scale: number): number => {
    const offset = h * buckets;
    let sum = 0;
    for (let k = 0; k < buckets_.length; k += 1)
      sum += (signs[k] as number) * (weights[offset + (buckets_[k] as number)] as number);
    return (biases[h] as number) + sum * scale;
  };

  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    for (const index of shuffled(examples.length, random)) {
      const example = examples[index]!;
      const { buckets: b, signs } = features[index]!;
      if (b.length === 0) continue;
      const scale = 1 / Math.sqrt(b.length);
      const p = sigmoid(logitOf(0, b, signs, scale));
      step(0, example.weight * (p - (example.harmful ? 1 : 0)), b, signs, scale);
      if (!example.harmful || example.category < 0 || categories === 0) continue;
      // Softmax over the category heads, on harmful examples whose category is known.
      let max = -Infinity;
      for (let c = 0; c < categories; c += 1) {
        logits[c] = logitOf(c + 1, b, signs, scale);
        max = Math.max(max, logits[c] as number);
      }
      let total = 0;
      for (let c = 0; c < categories; c += 1) total += Math.exp((logits[c] as number) - max);
      for (let c = 0; c < categories; c += 1) {
        const q = Math.exp((logits[c] as number) - max) / total;
        step(c + 1, example.weight * (q - (c === example.category ? 1 : 0)), b, signs, scale);
      }
    }
  }
  return { bits: options.bits, weights, biases };
}

// One signed byte per weight, with a scale per head: max |w| maps to 127.
export function quantise(trained: TrainedWeights): { bytes: Int8Array; scales: number[] } {
  const buckets = 2 ** trained.bits;
  const bytes = new Int8Array(trained.weights.length);
  const scales: number[] = [];
  const heads = trained.weights.length / buckets;
  for (let h = 0; h < heads; h += 1) {
    let max = 0;
    for (let i = h * buckets; i < (h + 1) * buckets; i += 1)
      max = Math.max(max, Math.abs(trained.weights[i] as number));
    const scale = max > 0 ? max / 127 : 1;
    for (let i = h * buckets; i < (h + 1) * buckets; i += 1) {
      bytes[i] = Math.round((trained.weights[i] as number) / scale);
    }
    scales.push(scale);
  }
  return { bytes, scales };
}

// Platt scaling: a and b of p = sigmoid(a * logit + b) that best fit the labels, by
// Newton's method on the log loss, a step halved while it would raise the loss (a full
// Newton step can overshoot when the logits are large and the classes nearly apart).
// Logits of -Infinity (no features) are left out.
export function fitPlatt(logits: readonly number[], labels: readonly boolean[]): { a: number; b: number } {
  const lossAt = (a: number, b: number): number => {
    let loss = 0;
    for (let i = 0; i < logits.length; i += 1) {
      const x = logits[i] as number;
      if (!Number.isFinite(x)) continue;
      const z = a * x + b;
      // log(1 + exp(-z)) for a positive, log(1 + exp(z)) for a negative, computed stably.
      const m = labels[i] ? -z : z;
      loss += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
    }
    return loss;
  };
  let a = 1;
  let b = 0;
  let loss = lossAt(a, b);
  for (let iteration = 0; iteration < 50; iteration += 1) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < logits.length; i += 1) {
      const x = logits[i] as number;
      if (!Number.isFinite(x)) continue;
      const p = sigmoid(a * x + b);
      const g = p - (labels[i] ? 1 : 0);
      const w = p * (1 - p);
      ga += g * x;
      gb += g;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (Math.abs(det) < 1e-12) break;
    let da = (hbb * ga - hab * gb) / det;
    let db = (haa * gb - hab * ga) / det;
    let next = lossAt(a - da, b - db);
    for (let halvings = 0; halvings < 30 && !(next <= loss); halvings += 1) {
      da /= 2;
      db /= 2;
      next = lossAt(a - da, b - db);
    }
    if (!(next <= loss)) break;
    a -= da;
    b -= db;
    loss = next;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

/** A calibrated probability; a logit of -Infinity (no features) is 0. */
export const calibrated = (logit: number, calibration: { a: number; b: number }): number =>
  Number.isFinite(logit) ? sigmoid(calibration.a * logit + calibration.b) : 0;

/**
 * Every example's logit from a model that did not see its fold (the folds follow the eval
 * split's group key, so variants of one row stay together). `trainAndScore` trains on what
 * it is given, with the seed it is given, and returns the scorer of that model.
 */
export function outOfFoldLogits<E extends { fold: number }>(
  examples: readonly E[],
  folds: number,
  seed: number,
  trainAndScore: (training: E[], seed: number) => (example: E) => number,
  progress: (line: string) => void = () => undefined,
): number[] {
  const logits = new Array<number>(examples.length).fill(-Infinity);
  for (let fold = 0; fold < folds; fold += 1) {
    const score = trainAndScore(
      examples.filter((e) => e.fold !== fold),
      seed + fold + 1,
    );
    examples.forEach((e, i) => {
      if (e.fold === fold) logits[i] = score(e);
    });
    progress(`  fold ${fold + 1}/${folds} scored\n`);
  }
  return logits;
}

/** Per group, how many positive and benign examples the model, the rules and either flag. */
export interface FlagCounts {
  positives: number;
  positivesByModel: number;
  positivesByRules: number;
  positivesByEither: number;
  benign: number;
  benignByModel: number;
  benignByRules: number;
  benignByEither: number;
}

export function countFlags<E extends { harmful: boolean }>(
  examples: readonly E[],
  groupOf: (example: E) => string,
  byModel: (example: E, index: number) => boolean,
  byRules: (example: E, index: number) => boolean,
): Map<string, FlagCounts> {
  const counts = new Map<string, FlagCounts>();
  examples.forEach((e, i) => {
    const group = groupOf(e);
    const c = counts.get(group) ?? {
      positives: 0,
      positivesByModel: 0,
      positivesByRules: 0,
      positivesByEither: 0,
      benign: 0,
      benignByModel: 0,
      benignByRules: 0,
      benignByEither: 0,
    };
    const model = byModel(e, i);
    const rules = byRules(e, i);
    if (e.harmful) {
      c.positives += 1;
      c.positivesByModel += model ? 1 : 0;
      c.positivesByRules += rules ? 1 : 0;
      c.positivesByEither += model || rules ? 1 : 0;
    } else {
      c.benign += 1;
      c.benignByModel += model ? 1 : 0;
      c.benignByRules += rules ? 1 : 0;
      c.benignByEither += model || rules ? 1 : 0;
    }
    counts.set(group, c);
  });
  return counts;
}

/** A share rounded to four places for a manifest's figures; null of nothing. */
export const share = (count: number, of: number): number | null =>
  of === 0 ? null : Math.round((count / of) * 10_000) / 10_000;

// The manifest fields the loader needs, for weights that are not yet calibrated or
// thresholded (the training script scores folds with them) or that are final.
export function manifestFor(
  quantised: { bytes: Int8Array; scales: number[] },
  trained: TrainedWeights,
  fields: Pick<ModelManifest, 'calibration' | 'threshold' | 'weights_sha256'> &
    Partial<Pick<ModelManifest, 'about' | 'training' | 'metrics'>>,
): ModelManifest {
  return {
    about: fields.about ?? ['A model being trained.'],
    format: MODEL_FORMAT,
    feature_version: FEATURE_VERSION,
    bits: trained.bits,
    heads: [...MODEL_HEADS],
    weights_file: 'model.bin',
    weights_sha256: fields.weights_sha256,
    scales: quantised.scales,
    biases: [...trained.biases],
    calibration: fields.calibration,
    threshold: fields.threshold,
    training: fields.training ?? {},
    metrics: fields.metrics ?? {},
  };
}

// The model exactly as it will ship (quantised weights, the run-time scoring code), with a
// neutral calibration: its verdicts' logits are what the calibration is fitted on.
export function uncalibratedModel(trained: TrainedWeights): ModerationModel {
  const quantised = quantise(trained);
  return createModerationModel(
    manifestFor(quantised, trained, {
      calibration: { a: 1, b: 0 },
      threshold: 0.5,
      weights_sha256: '0'.repeat(64),
    }),
    quantised.bytes,
  );
}

// A limit on false positives: of these benign scores, at most `mayFlag` may reach the
// threshold.
export interface BenignLimit {
  scores: readonly number[];
  mayFlag: number;
}

// The smallest threshold that keeps every limit.
export function thresholdFor(limits: Iterable<BenignLimit>): number {
  let threshold = 0;
  for (const { scores, mayFlag } of limits) {
    if (scores.length <= mayFlag) continue;
    const sorted = [...scores].sort((x, y) => y - x);
    // Just above the highest score that must not be flagged.
    threshold = Math.max(threshold, Math.min(0.999_999, (sorted[Math.max(0, mayFlag)] as number) + 1e-6));
  }
  return threshold;
}
