import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createModerationClassifier } from './moderation-classifier.ts';
import { FEATURE_VERSION } from './moderation-features.ts';
import {
  MAX_SEGMENT_CHARS,
  MODEL_HEADS,
  MODEL_MANIFEST_FILE,
  ModerationModelError,
  createModerationModel,
  loadModerationModel,
  segments,
  type ModelManifest,
} from './moderation-model.ts';

// The shipped model (data/moderation/model.json and model.bin) is read and checked at
// start; these tests corrupt copies of it in a scratch directory.

const shippedManifest = (): ModelManifest =>
  JSON.parse(readFileSync(MODEL_MANIFEST_FILE, 'utf8')) as ModelManifest;

describe('loading the moderation model', () => {
  let dir: string;
  let manifestUrl: URL;
  const writeManifest = (change: (manifest: Record<string, unknown>) => void): void => {
    const manifest = shippedManifest() as unknown as Record<string, unknown>;
    change(manifest);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'airlock-model-'));
    copyFileSync(new URL('model.bin', MODEL_MANIFEST_FILE), path.join(dir, 'model.bin'));
    copyFileSync(MODEL_MANIFEST_FILE, path.join(dir, 'model.json'));
    manifestUrl = pathToFileURL(path.join(dir, 'model.json'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when the shipped model is loaded, then it is checked and scores text', () => {
    const model = loadModerationModel();
    expect(model.manifest.feature_version).toBe(FEATURE_VERSION);
    expect(model.threshold).toBeGreaterThan(0);
    expect(model.threshold).toBeLessThan(1);
    const verdict = model.assess('Please send the signed order form to the vendor by Friday.');
    expect(verdict.probability).toBeGreaterThanOrEqual(0);
    expect(verdict.probability).toBeLessThan(model.threshold);
    expect(verdict.category).toBeNull();
  });

  it('when one byte of the weights changes, then loading fails naming the file and the checksum', () => {
    const bytes = readFileSync(path.join(dir, 'model.bin'));
    bytes[12_345] = (bytes[12_345]! + 1) % 256;
    writeFileSync(path.join(dir, 'model.bin'), bytes);
    expect(() => loadModerationModel(manifestUrl)).toThrow(ModerationModelError);
    expect(() => loadModerationModel(manifestUrl)).toThrow(/model\.bin: SHA-256 differs/);
  });

  it('when the weights file is missing, then loading fails naming it', () => {
    rmSync(path.join(dir, 'model.bin'));
    expect(() => loadModerationModel(manifestUrl)).toThrow(/model\.bin/);
  });

  it('when the manifest is not JSON, then loading fails naming it', () => {
    writeFileSync(path.join(dir, 'model.json'), '{"format": ');
    expect(() => loadModerationModel(manifestUrl)).toThrow(/model\.json/);
  });

  it.each([
    ['an unknown field', (m: Record<string, unknown>) => (m.extra = 1)],
    ['a threshold of 1', (m: Record<string, unknown>) => (m.threshold = 1)],
    ['a missing calibration', (m: Record<string, unknown>) => delete m.calibration],
    ['a scale of 0', (m: Record<string, unknown>) => ((m.scales as number[])[0] = 0)],
    ['a head too few', (m: Record<string, unknown>) => (m.biases as number[]).pop()],
    ['another format', (m: Record<string, unknown>) => (m.format = 'onnx')],
  ])('when the manifest has %s, then loading fails', (_what, change) => {
    writeManifest(change);
    expect(() => loadModerationModel(manifestUrl)).toThrow(ModerationModelError);
  });

  it('when the manifest was trained on another feature version, then loading fails and says to retrain', () => {
    writeManifest((m) => (m.feature_version = FEATURE_VERSION + 1));
    expect(() => loadModerationModel(manifestUrl)).toThrow(/retrain/);
  });

  it('when the heads are in another order, then loading fails', () => {
    writeManifest((m) => (m.heads = [...MODEL_HEADS].reverse()));
    expect(() => loadModerationModel(manifestUrl)).toThrow(/heads/);
  });

  it('when the weights have the wrong length for the manifest, then the model is refused', () => {
    expect(() => createModerationModel(shippedManifest(), new Int8Array(10))).toThrow(ModerationModelError);
  });
});

describe('scoring with the moderation model', () => {
  // A model whose weights are all zero: its harmful logit is its bias, whatever the text.
  const uniform = (bias: number) => {
    const manifest = { ...shippedManifest(), bits: 10, biases: [bias, 0, 0, 0, 0, 0, 0] };
    const weights = new Int8Array(MODEL_HEADS.length * 2 ** 10);
    return createModerationModel({ ...manifest, calibration: { a: 1, b: 0 }, threshold: 0.5 }, weights);
  };

  it('when text has no features, then the probability is 0 and no category is named', () => {
    expect(uniform(5).assess('... !!!')).toEqual({ logit: -Infinity, probability: 0, category: null });
  });

  it('when the calibrated probability reaches the threshold, then a category is named', () => {
    expect(uniform(2).assess('anything at all').category).not.toBeNull();
    expect(uniform(-2).assess('anything at all').category).toBeNull();
  });

  it('when a long block is cut into segments, then every piece fits and nothing is lost', () => {
    const sentence = 'This sentence is ordinary business text about invoices. ';
    const text = `${sentence.repeat(60)}\n\nSecond block.\n   \nThird block.`;
    const pieces = [...segments(text)];
    expect(pieces.every((piece) => piece.length <= MAX_SEGMENT_CHARS)).toBe(true);
    expect(pieces.slice(-2)).toEqual(['Second block.', 'Third block.']);
    expect(pieces.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
  });
});

describe('the classifier with the model', () => {
  const withModel = createModerationClassifier();
  const lexiconOnly = createModerationClassifier({ model: null });
  // A model whose weights are all zero: its logits are its biases, whatever the text.
  const constant = (harmful: number, illicit: number) => {
    const manifest = shippedManifest();
    return createModerationModel(
      {
        ...manifest,
        bits: 10,
        biases: [harmful, 0, 0, 0, 0, 0, illicit],
        calibration: { a: 1, b: 0 },
        threshold: 0.5,
      },
      new Int8Array(MODEL_HEADS.length * 2 ** 10),
    );
  };

  it('when the model reaches its threshold, then the category it names is flagged with the probability mapped onto that category', () => {
    const classifier = createModerationClassifier({ model: constant(2, 5) });
    const explained = classifier.explain('an ordinary sentence the lexicon passes');
    const p = 1 / (1 + Math.exp(-2));
    expect(explained.model).toEqual({ logit: 2, probability: p, category: 'illicit' });
    expect(explained.result.categories.illicit).toBe(true);
    expect(explained.result.flagged).toBe(true);
    // Threshold 0.5 on both sides: the mapped score is the probability itself.
    expect(explained.result.category_scores.illicit).toBeCloseTo(p, 4);
    expect(explained.evidence).toContainEqual({
      id: 'model.harmful',
      category: 'illicit',
      weight: p,
      factor: 1,
    });
  });

  it("when the model stays under its threshold, then the verdict is the lexicon's alone", () => {
    const classifier = createModerationClassifier({ model: constant(-2, 5) });
    const text = 'an ordinary sentence the lexicon passes';
    expect(classifier.classify(text)).toEqual(lexiconOnly.classify(text));
  });

  it('when the lexicon flags text, then adding the model never unflags it', () => {
    for (const text of [
      "I'm going to kill you and your whole family",
      'I hate all muslims',
      'I want to kill myself',
    ]) {
      const alone = lexiconOnly.classify(text);
      const both = withModel.classify(text);
      expect(alone.flagged, text).toBe(true);
      for (const [category, flagged] of Object.entries(alone.categories)) {
        if (flagged) expect(both.categories[category as keyof typeof both.categories], text).toBe(true);
      }
    }
  });

  it('when ordinary business text is classified, then the model flags nothing', () => {
    for (const text of [
      'Reply to Priya: we accept the per-seat price and would like 15 more seats from July.',
      'Kill the stale worker process and restart the queue consumer.',
      'Summarise the security questionnaire and send it to legal.',
    ]) {
      expect(withModel.explain(text).model!.category, text).toBeNull();
    }
  });
});
