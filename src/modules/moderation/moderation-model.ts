// The trained moderation model: a linear classifier over hashed word and character n-grams
// (moderation-features.ts), one "is this harmful" head and a softmax over six categories,
// trained by eval/train-moderation.ts on the tuning part of the public datasets and shipped
// as data: data/moderation/model.json (the manifest: shape, biases, calibration, threshold,
// how it was trained and what it measured) and data/moderation/model.bin (the weights, one
// signed byte per bucket and head). Why a model of this kind, and its limits:
// docs/adr/0030-trained-hashed-linear-moderation-model.md.
//
// The manifest and the weights are read once, at start, and checked: schema, feature
// version, the weights file's length and SHA-256. A model that fails any check stops the
// process with a message naming the file, as a corrupt lexicon does.
//
// Scoring: the text is cut into segments (blank-line separated blocks, long blocks at
// sentence ends near MAX_SEGMENT_CHARS), each segment is scored, and the most harmful
// segment is the verdict, so one harmful paragraph is not diluted by a long benign email.
// The harmful head's logit goes through the Platt calibration fitted on out-of-fold
// scores of the tuning part; the category head is consulted only for a segment at or over
// the threshold.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Type, type Static } from 'typebox';
import { FEATURE_VERSION, createFeatureExtractor } from './moderation-features.ts';

// The categories the model can name: the parents of the thirteen moderation categories.
export const MODEL_CATEGORIES = ['hate', 'harassment', 'self-harm', 'sexual', 'violence', 'illicit'] as const;
export type ModelCategory = (typeof MODEL_CATEGORIES)[number];

// Head 0 is "harmful"; heads 1.. are the categories, in MODEL_CATEGORIES order.
export const MODEL_HEADS = ['harmful', ...MODEL_CATEGORIES] as const;

export const MODEL_FORMAT = 'airlock-moderation-linear-v1';

// Longer blocks are scored in pieces cut at a sentence end (or a space) before this.
export const MAX_SEGMENT_CHARS = 1_000;

const Finite = Type.Number({ minimum: -1e6, maximum: 1e6 });

const ModelManifest = Type.Object(
  {
    about: Type.Array(Type.String({ minLength: 1 })),
    format: Type.Literal(MODEL_FORMAT),
    feature_version: Type.Integer({ minimum: 1 }),
    bits: Type.Integer({ minimum: 10, maximum: 24 }),
    heads: Type.Array(Type.String(), { minItems: MODEL_HEADS.length, maxItems: MODEL_HEADS.length }),
    weights_file: Type.String({ pattern: '^[a-z0-9._-]+$' }),
    weights_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    // Weight of bucket i in head h = scales[h] * int8 at byte h * 2^bits + i.
    scales: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 1e3 }), {
      minItems: MODEL_HEADS.length,
      maxItems: MODEL_HEADS.length,
    }),
    biases: Type.Array(Finite, { minItems: MODEL_HEADS.length, maxItems: MODEL_HEADS.length }),
    // p = 1 / (1 + exp(-(a * logit + b))).
    calibration: Type.Object({ a: Finite, b: Finite }, { additionalProperties: false }),
    threshold: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    // How it was trained and what it measured: read by people, not by the loader.
    training: Type.Record(Type.String(), Type.Unknown()),
    metrics: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type ModelManifest = Static<typeof ModelManifest>;

export const MODEL_MANIFEST_FILE = new URL('../../../data/moderation/model.json', import.meta.url);

export class ModerationModelError extends Error {}

export interface ModelVerdict {
  // The harmful head's raw logit for the most harmful segment; -Infinity for no features.
  logit: number;
  // Calibrated probability that the most harmful segment is harmful, 0..1.
  probability: number;
  // The category of that segment when probability >= threshold, otherwise null.
  category: ModelCategory | null;
}

export interface ModerationModel {
  readonly threshold: number;
  readonly manifest: Readonly<ModelManifest>;
  assess(text: string): ModelVerdict;
}

// Builds a model from a checked manifest and its weights. Exported for tests and for the
// training script, which scores with exactly the code that ships.
export function createModerationModel(manifest: ModelManifest, weights: Int8Array): ModerationModel {
  const buckets = 2 ** manifest.bits;
  if (weights.length !== buckets * MODEL_HEADS.length) {
    throw new ModerationModelError(
      `moderation model: ${weights.length} weights, expected ${buckets * MODEL_HEADS.length}`,
    );
  }
  const heads = MODEL_HEADS.map((_, h) => weights.subarray(h * buckets, (h + 1) * buckets));
  const harmful = heads[0]!;
  const { scales, biases, calibration, threshold, bits } = manifest;
  const extract = createFeatureExtractor(bits);

  const harmLogit = (segment: string): number => {
    let sum = 0;
    const n = extract(segment, (bucket, sign) => {
      sum += sign * (harmful[bucket] as number);
    });
    return n === 0 ? -Infinity : (biases[0] as number) + ((scales[0] as number) * sum) / Math.sqrt(n);
  };

  const categoryOf = (segment: string): ModelCategory => {
    const sums = new Float64Array(MODEL_CATEGORIES.length);
    const n = extract(segment, (bucket, sign) => {
      for (let c = 0; c < sums.length; c += 1) {
        sums[c] = (sums[c] as number) + sign * (heads[c + 1]![bucket] as number);
      }
    });
    let best = 0;
    let bestLogit = -Infinity;
    for (let c = 0; c < sums.length; c += 1) {
      const logit =
        (biases[c + 1] as number) + ((scales[c + 1] as number) * (sums[c] as number)) / Math.sqrt(n);
      if (logit > bestLogit) {
        bestLogit = logit;
        best = c;
      }
    }
    return MODEL_CATEGORIES[best]!;
  };

  return {
    threshold,
    manifest,
    assess(text) {
      let worst = -Infinity;
      let worstSegment = '';
      for (const segment of segments(text)) {
        const logit = harmLogit(segment);
        if (logit > worst) {
          worst = logit;
          worstSegment = segment;
        }
      }
      if (worst === -Infinity) return { logit: worst, probability: 0, category: null };
      const probability = 1 / (1 + Math.exp(-(calibration.a * worst + calibration.b)));
      return {
        logit: worst,
        probability,
        category: probability >= threshold ? categoryOf(worstSegment) : null,
      };
    },
  };
}

// The pieces of text the model scores one by one: blocks between blank lines, and long
// blocks cut at the last sentence end (or else the last space) before MAX_SEGMENT_CHARS.
export function* segments(text: string): Generator<string> {
  for (const block of text.split(/\n[ \t\r]*\n/)) {
    let rest = block;
    while (rest.length > MAX_SEGMENT_CHARS) {
      const window = rest.slice(0, MAX_SEGMENT_CHARS);
      let cut = Math.max(window.lastIndexOf('. '), window.lastIndexOf('? '), window.lastIndexOf('! '));
      if (cut < MAX_SEGMENT_CHARS / 2) cut = window.lastIndexOf(' ');
      if (cut < MAX_SEGMENT_CHARS / 2) cut = MAX_SEGMENT_CHARS - 1;
      yield rest.slice(0, cut + 1);
      rest = rest.slice(cut + 1);
    }
    if (rest.trim() !== '') yield rest;
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Reads and checks the manifest and its weights file (beside it).
export function loadModerationModel(manifestFile: URL = MODEL_MANIFEST_FILE): ModerationModel {
  const where = manifestFile.pathname;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    throw new ModerationModelError(`moderation model ${where}: ${(err as Error).message}`);
  }
  const ajv = new Ajv({ allErrors: false, strict: false });
  const check = ajv.compile<ModelManifest>(ModelManifest);
  if (!check(raw))
    throw new ModerationModelError(`moderation model ${where}: ${ajv.errorsText(check.errors)}`);
  if (raw.feature_version !== FEATURE_VERSION) {
    throw new ModerationModelError(
      `moderation model ${where}: trained on feature version ${raw.feature_version}, this code computes version ${FEATURE_VERSION}; retrain it (npm run train:moderation)`,
    );
  }
  if (raw.heads.join(',') !== MODEL_HEADS.join(',')) {
    throw new ModerationModelError(
      `moderation model ${where}: heads ${raw.heads.join(',')} are not ${MODEL_HEADS.join(',')}`,
    );
  }
  const weightsFile = new URL(raw.weights_file, manifestFile);
  let bytes: Buffer;
  try {
    bytes = readFileSync(weightsFile);
  } catch (err) {
    throw new ModerationModelError(`moderation model ${weightsFile.pathname}: ${(err as Error).message}`);
  }
  if (sha256Hex(bytes) !== raw.weights_sha256) {
    throw new ModerationModelError(
      `moderation model ${weightsFile.pathname}: SHA-256 differs from the manifest's weights_sha256 (corrupt or replaced)`,
    );
  }
  const weights = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return createModerationModel(Object.freeze(raw), weights);
}
