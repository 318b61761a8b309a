// The trained injection model: logistic heads over the same hashed word and character
// n-grams as the moderation model (../moderation/moderation-features.ts), scoring how much
// a text reads like a jailbreak or a prompt injection, one head per place the text arrives
// (the user's prompt, a document). Trained by eval/train-injection.ts on
// the tuning part of the public datasets only, shipped as data: data/injection/model.json
// (the manifest: shape, per head a bias, calibration and threshold, how it was trained and
// what it measured) and data/injection/model.bin (one signed byte per
// bucket and head). Why, and its limits: docs/adr/0031-trained-injection-head.md.
//
// The manifest and the weights are read once, at start, and checked (schema, feature
// version, length, SHA-256); a model that fails a check stops the process.
//
// Scoring: the text is cut into the same segments the moderation model scores (blocks
// between blank lines, long blocks near 1,000 characters), and the most suspicious segment
// is the verdict, so one injected paragraph is not diluted by a long, ordinary e-mail.
// Text in an encoded run (base64, hex, URL, HTML references, \u escapes) is decoded and
// scored too: the model reads what the assistant would read.

import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Type, type Static } from 'typebox';
import { FEATURE_VERSION, createFeatureExtractor } from '../moderation/moderation-features.ts';
import { segments, sha256Hex } from '../moderation/moderation-model.ts';
import { findEncodedPayloads } from './encoded-payloads.ts';

export const INJECTION_MODEL_FORMAT = 'airlock-injection-linear-v1';

// Where a text arrives decides the threshold: the user's own prompt and a document the
// assistant read have different benign text, and each threshold is chosen on its own.
export const INJECTION_MODEL_ROLES = ['user_prompt', 'source_document'] as const;
export type InjectionModelRole = (typeof INJECTION_MODEL_ROLES)[number];

// Decoded runs scored per text, and characters read per text: the model's cost stays
// linear and bounded whatever the input.
const MAX_DECODED_RUNS = 4;
const MAX_SCORED_CHARS = 64 * 1024;

const Finite = Type.Number({ minimum: -1e6, maximum: 1e6 });
const Probability = Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 });

// One head per place: what an attack looks like differs between the user's own prompt
// (where instructions to the assistant are the point) and a document (where they are not),
// so each place has its own weights, calibration and threshold.
const Head = Type.Object(
  {
    // Weight of bucket i = scale * int8 at byte (head index) * 2^bits + i.
    scale: Type.Number({ exclusiveMinimum: 0, maximum: 1e3 }),
    bias: Finite,
    // p = 1 / (1 + exp(-(a * logit + b))).
    calibration: Type.Object({ a: Finite, b: Finite }, { additionalProperties: false }),
    threshold: Probability,
  },
  { additionalProperties: false },
);

const InjectionModelManifest = Type.Object(
  {
    about: Type.Array(Type.String({ minLength: 1 })),
    format: Type.Literal(INJECTION_MODEL_FORMAT),
    feature_version: Type.Integer({ minimum: 1 }),
    bits: Type.Integer({ minimum: 10, maximum: 24 }),
    weights_file: Type.String({ pattern: '^[a-z0-9._-]+$' }),
    weights_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    // In INJECTION_MODEL_ROLES order, which is also the order of the weights.
    heads: Type.Object({ user_prompt: Head, source_document: Head }, { additionalProperties: false }),
    training: Type.Record(Type.String(), Type.Unknown()),
    metrics: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type InjectionModelManifest = Static<typeof InjectionModelManifest>;
export type InjectionModelHead = Static<typeof Head>;

export const INJECTION_MODEL_FILE = new URL('../../../data/injection/model.json', import.meta.url);

// A start-up failure (a corrupt or stale model file stops the process), never an answer to
// a request; like ModerationModelError, it is not a problem document.
export class InjectionModelError extends Error {
  override name = 'InjectionModelError';
}

export interface InjectionVerdict {
  // The head's raw logit for the most suspicious segment; -Infinity for no features.
  logit: number;
  // Calibrated probability that the most suspicious segment is an attack, 0..1.
  probability: number;
  // Whether it reaches the threshold for where the text arrived.
  flagged: boolean;
  // The offsets of that segment in the text (the whole encoded run for decoded text).
  start: number;
  end: number;
}

export interface InjectionModel {
  readonly manifest: Readonly<InjectionModelManifest>;
  assess(text: string, role: InjectionModelRole): InjectionVerdict;
}

// Builds a model from a checked manifest and its weights; exported for tests and for the
// training script, which scores with exactly the code that ships.
export function createInjectionModel(manifest: InjectionModelManifest, weights: Int8Array): InjectionModel {
  const buckets = 2 ** manifest.bits;
  if (weights.length !== buckets * INJECTION_MODEL_ROLES.length) {
    throw new InjectionModelError(
      `injection model: ${weights.length} weights, expected ${buckets * INJECTION_MODEL_ROLES.length}`,
    );
  }
  const extract = createFeatureExtractor(manifest.bits);
  const heads = new Map(
    INJECTION_MODEL_ROLES.map((role, h) => [
      role,
      { ...manifest.heads[role], weights: weights.subarray(h * buckets, (h + 1) * buckets) },
    ]),
  );

  return {
    manifest,
    assess(text, role) {
      const head = heads.get(role)!;
      const logitOf = (segment: string): number => {
        let sum = 0;
        const n = extract(segment, (bucket, sign) => {
          sum += sign * (head.weights[bucket] as number);
        });
        return n === 0 ? -Infinity : head.bias + (head.scale * sum) / Math.sqrt(n);
      };
      const scanned = text.length > MAX_SCORED_CHARS ? text.slice(0, MAX_SCORED_CHARS) : text;
      let worst = -Infinity;
      let start = 0;
      let end = 0;
      let offset = 0;
      for (const segment of segments(scanned)) {
        const at = scanned.indexOf(segment, offset);
        offset = at + segment.length;
        const logit = logitOf(segment);
        if (logit > worst) {
          worst = logit;
          start = at;
          end = offset;
        }
      }
      const budget = { decodes: MAX_DECODED_RUNS, chars: MAX_SCORED_CHARS };
      for (const payload of findEncodedPayloads(scanned, budget)) {
        const logit = logitOf(payload.decoded);
        if (logit > worst) {
          worst = logit;
          start = payload.start;
          end = payload.end;
        }
      }
      const { a, b } = head.calibration;
      const probability = worst === -Infinity ? 0 : 1 / (1 + Math.exp(-(a * worst + b)));
      return { logit: worst, probability, flagged: probability >= head.threshold, start, end };
    },
  };
}

// Reads and checks the manifest and its weights file (beside it).
export function loadInjectionModel(manifestFile: URL = INJECTION_MODEL_FILE): InjectionModel {
  const where = manifestFile.pathname;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (err) {
    throw new InjectionModelError(`injection model ${where}: ${(err as Error).message}`);
  }
  const ajv = new Ajv({ allErrors: false, strict: false });
  const check = ajv.compile<InjectionModelManifest>(InjectionModelManifest);
  if (!check(raw)) throw new InjectionModelError(`injection model ${where}: ${ajv.errorsText(check.errors)}`);
  if (raw.feature_version !== FEATURE_VERSION) {
    throw new InjectionModelError(
      `injection model ${where}: trained on feature version ${raw.feature_version}, this code computes version ${FEATURE_VERSION}; retrain it (npm run train:injection)`,
    );
  }
  const weightsFile = new URL(raw.weights_file, manifestFile);
  let bytes: Buffer;
  try {
    bytes = readFileSync(weightsFile);
  } catch (err) {
    throw new InjectionModelError(`injection model ${weightsFile.pathname}: ${(err as Error).message}`);
  }
  if (sha256Hex(bytes) !== raw.weights_sha256) {
    throw new InjectionModelError(
      `injection model ${weightsFile.pathname}: SHA-256 differs from the manifest's weights_sha256 (corrupt or replaced)`,
    );
  }
  return createInjectionModel(
    Object.freeze(raw),
    new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  );
}
