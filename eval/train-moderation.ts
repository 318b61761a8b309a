// `npm run train:moderation`: trains the moderation model on the tuning part of the public
// datasets and writes data/moderation/model.bin and data/moderation/model.json.
//
//   npm run train:moderation -- [--datasets-dir DIR] [--seed N] [--out DIR] [--min-allowed 0.95]
//                               [--max-added 0.01] [--oof-json FILE]
//
// What it reads: the harmful and benign rows of the moderation datasets, and benign text
// of the injection datasets (notinject prompts, BIPIA's clean contexts and user questions),
// of the TUNING part only: rows are split exactly as `npm run eval` splits them
// (eval/datasets.ts, itemsOf), and a held-out row is never read into training, calibration
// or the threshold.
//
// How: five folds of the tuning part (by a hash of the split's group key, so variants of
// one template share a fold) give out-of-fold scores for every tuning row. The calibration
// (Platt) is fitted on them, and the threshold is the lowest at which, in every dataset
// with 30 or more benign tuning rows, the model alone allows at least --min-allowed of
// them and flags at most --max-added of them that the lexicon lets through (the model may
// cost one benign row in a hundred beyond the lexicon's cost, whatever the dataset).
// The shipped weights are then trained on the whole tuning part. The figures printed, and
// kept in the manifest, are those out-of-fold figures; the held-out figures come from
// `npm run eval -- --part held-out`.
//
// What it writes holds no text: hashed-feature weights, biases, the calibration, the
// threshold, dataset versions (upstream commit and SHA-256 of each normalized.jsonl) and
// the figures. Deterministic for a seed and the same datasets: the weights' SHA-256 is the
// same on every run.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createModerationClassifier } from '../src/modules/moderation/moderation-classifier.ts';
import { MODEL_CATEGORIES, sha256Hex } from '../src/modules/moderation/moderation-model.ts';
import { DEFAULT_DATASETS_DIR, datasetFile, itemsOf, loadDataset, unitHash } from './datasets.ts';
import {
  DEFAULT_TRAINING,
  calibrated,
  countFlags,
  fitPlatt,
  manifestFor,
  outOfFoldLogits,
  quantise,
  share,
  thresholdFor,
  trainWeights,
  uncalibratedModel,
  type TrainingExample,
} from './moderation-training.ts';
import { percent } from './score.ts';

// Datasets whose harmful and benign rows teach the model what to flag and what to leave.
const MODERATION_SOURCES = [
  'xstest',
  'simplesafetytests',
  'harmbench-standard',
  'do-not-answer',
  'hatecheck',
  'davidson-hate-offensive',
  'toxigen-demonstrations',
  'openai-moderation',
  'jailbreakbench-artifacts',
] as const;
// Datasets that only contribute ordinary text the gateway moderates (benign prompts,
// e-mails, tables), so the model learns that everyday business text is not harm.
const BENIGN_TEXT_SOURCES = ['notinject', 'bipia'] as const;

const FOLDS = 5;
const FOLD_SALT = 'airlock-moderation-fold-v1';
// Rows of one (dataset, class) count min(1, sqrt(EVEN_OUT / rows)) each, so that 3,000
// Davidson tweets do not drown 70 SimpleSafetyTests prompts.
const EVEN_OUT = 500;
// Datasets with fewer benign tuning rows than this do not set the threshold (too noisy).
const MIN_BENIGN_FOR_THRESHOLD = 30;

interface Example extends TrainingExample {
  dataset: string;
  group: string;
  fold: number;
}

function collectExamples(dir: string): { examples: Example[]; versions: Record<string, unknown> } {
  const examples: Omit<Example, 'weight'>[] = [];
  const versions: Record<string, unknown> = {};
  const add = (dataset: string, group: string, text: string, harmful: boolean, category: unknown) => {
    if (text.trim() === '') return;
    const index = (MODEL_CATEGORIES as readonly unknown[]).indexOf(category);
    examples.push({
      dataset,
      group,
      text,
      harmful,
      category: harmful ? index : -1,
      fold: Math.floor(unitHash(group, FOLD_SALT) * FOLDS),
    });
  };
  for (const name of [...MODERATION_SOURCES, ...BENIGN_TEXT_SOURCES]) {
    const rows = loadDataset(dir, name);
    if (rows === null) throw new Error(`train:moderation: ${datasetFile(dir, name)} is missing`);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const readme = path.join(dir, name, 'README.md');
    versions[name] = {
      upstream_commit: existsSync(readme)
        ? (/Commit[^`]*`([0-9a-f]{40})`/.exec(readFileSync(readme, 'utf8'))?.[1] ?? null)
        : null,
      normalized_sha256: sha256Hex(readFileSync(datasetFile(dir, name))),
      rows: rows.length,
    };
    const seenPrompts = new Set<string>();
    for (const item of itemsOf(name, rows)) {
      if (item.heldOut) continue;
      const row = byId.get(item.id)!;
      if ((MODERATION_SOURCES as readonly string[]).includes(name)) {
        if (item.label === 'harmful') add(name, item.group, item.text, true, row.meta.airlock_category);
        else if (item.label === 'benign') add(name, item.group, item.text, false, null);
        continue;
      }
      if (item.label === 'benign') add(name, item.group, item.text, false, null);
      // BIPIA's user questions are moderated by the gateway with every row.
      const prompt = row.meta.user_prompt;
      if (typeof prompt === 'string' && !seenPrompts.has(prompt)) {
        seenPrompts.add(prompt);
        add(`${name}-user-prompts`, item.group, prompt, false, null);
      }
    }
  }
  const sizes = new Map<string, number>();
  const key = (e: Omit<Example, 'weight'>) => `${e.dataset}|${e.harmful}`;
  for (const e of examples) sizes.set(key(e), (sizes.get(key(e)) ?? 0) + 1);
  return {
    examples: examples.map((e) => ({ ...e, weight: Math.min(1, Math.sqrt(EVEN_OUT / sizes.get(key(e))!)) })),
    versions,
  };
}

interface DatasetFigures {
  harmful: number;
  benign: number;
  model_caught: number | null;
  lexicon_caught: number | null;
  combined_caught: number | null;
  model_allowed: number | null;
  lexicon_allowed: number | null;
  combined_allowed: number | null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'datasets-dir': { type: 'string', default: DEFAULT_DATASETS_DIR },
      seed: { type: 'string', default: String(DEFAULT_TRAINING.seed) },
      out: { type: 'string', default: path.join(import.meta.dirname, '..', 'data', 'moderation') },
      'min-allowed': { type: 'string', default: '0.95' },
      'max-added': { type: 'string', default: '0.01' },
      // Writes every tuning row's out-of-fold probability (dataset, label, probability;
      // no text) for studying the threshold.
      'oof-json': { type: 'string' },
    },
  });
  const options = { ...DEFAULT_TRAINING, seed: Number(values.seed) };
  const minAllowed = Number(values['min-allowed']);
  const maxAdded = Number(values['max-added']);
  const started = performance.now();
  const { examples, versions } = collectExamples(values['datasets-dir']);
  process.stdout.write(
    `train:moderation: ${examples.length} tuning examples (${examples.filter((e) => e.harmful).length} harmful)\n`,
  );

  const logits = outOfFoldLogits(
    examples,
    FOLDS,
    options.seed,
    (training, seed) => {
      const model = uncalibratedModel(trainWeights(training, { ...options, seed }));
      return (e) => model.assess(e.text).logit;
    },
    (line) => process.stdout.write(line),
  );
  const calibration = fitPlatt(
    logits,
    examples.map((e) => e.harmful),
  );
  const probability = logits.map((z) => calibrated(z, calibration));

  if (values['oof-json']) {
    const rows = examples.map((e, i) => [
      e.dataset,
      e.harmful ? 1 : 0,
      Math.round(probability[i]! * 1e6) / 1e6,
    ]);
    writeFileSync(values['oof-json'], `${JSON.stringify(rows)}\n`);
  }

  // The lexicon's verdict on every row: the threshold limits what the model adds to it.
  const lexicon = createModerationClassifier({ model: null });
  const byLexicon = examples.map((e) => lexicon.classify(e.text).flagged);

  // Per dataset with enough benign rows: the model alone may flag at most (1 - minAllowed)
  // of them, and at most maxAdded of them that the lexicon lets through.
  const limits: Array<{ scores: number[]; mayFlag: number }> = [];
  for (const dataset of new Set(examples.map((e) => e.dataset))) {
    const benign = examples.flatMap((e, i) => (e.dataset === dataset && !e.harmful ? [i] : []));
    if (benign.length < MIN_BENIGN_FOR_THRESHOLD) continue;
    limits.push({
      scores: benign.map((i) => probability[i]!),
      mayFlag: Math.floor(benign.length * (1 - minAllowed)),
    });
    limits.push({
      scores: benign.filter((i) => !byLexicon[i]).map((i) => probability[i]!),
      mayFlag: Math.floor(benign.length * maxAdded),
    });
  }
  const threshold = Math.round(thresholdFor(limits) * 1e6) / 1e6;

  // Figures per dataset: the model alone (out of fold), the lexicon alone, both.
  const figures: Record<string, DatasetFigures> = {};
  const counts = countFlags(
    examples,
    (e) => e.dataset,
    (_, i) => probability[i]! >= threshold,
    (_, i) => byLexicon[i]!,
  );
  for (const [dataset, c] of counts) {
    figures[dataset] = {
      harmful: c.positives,
      benign: c.benign,
      model_caught: share(c.positivesByModel, c.positives),
      lexicon_caught: share(c.positivesByRules, c.positives),
      combined_caught: share(c.positivesByEither, c.positives),
      model_allowed: share(c.benign - c.benignByModel, c.benign),
      lexicon_allowed: share(c.benign - c.benignByRules, c.benign),
      combined_allowed: share(c.benign - c.benignByEither, c.benign),
    };
  }

  const trained = trainWeights(examples, options);
  const quantised = quantise(trained);
  const bytes = new Uint8Array(
    quantised.bytes.buffer,
    quantised.bytes.byteOffset,
    quantised.bytes.byteLength,
  );
  // The datasets are named by their versions below, not by where this machine keeps them.
  const extra = [
    values.seed !== String(DEFAULT_TRAINING.seed) ? `--seed ${values.seed}` : '',
    values['min-allowed'] !== '0.95' ? `--min-allowed ${values['min-allowed']}` : '',
    values['max-added'] !== '0.01' ? `--max-added ${values['max-added']}` : '',
  ].filter(Boolean);
  const manifest = manifestFor(quantised, trained, {
    about: [
      'The trained moderation model: see src/modules/moderation/moderation-model.ts and docs/adr/0030-trained-hashed-linear-moderation-model.md.',
      'Weights are hashed-feature buckets (moderation-features.ts, version in feature_version); no text from any dataset is stored here.',
      'Regenerate with the training command below; the same seed and datasets give the same weights_sha256.',
    ],
    calibration,
    threshold,
    weights_sha256: sha256Hex(bytes),
    training: {
      command: ['npm run train:moderation', ...(extra.length > 0 ? ['--', ...extra] : [])].join(' '),
      seed: options.seed,
      options: { ...options, folds: FOLDS, even_out: EVEN_OUT, min_allowed: minAllowed, max_added: maxAdded },
      split:
        'tuning part only, as eval/datasets.ts itemsOf splits it (HELD_OUT_SHARE of each dataset by group hash is never read)',
      examples: { total: examples.length, harmful: examples.filter((e) => e.harmful).length },
      datasets: versions,
    },
    metrics: {
      about:
        'Out-of-fold figures on the tuning part (5 folds by group): each row scored by a model that did not see its group. model = this model alone at the threshold, lexicon = the lexicon classifier alone, combined = either. Held-out figures: npm run eval -- --part held-out (docs/moderation.md).',
      threshold_rule: `lowest threshold at which, for every dataset with >= ${MIN_BENIGN_FOR_THRESHOLD} benign tuning rows, the model alone allows >= ${minAllowed} of them and flags at most ${maxAdded} of them beyond what the lexicon flags`,
      out_of_fold: figures,
    },
  });
  writeFileSync(path.join(values.out, 'model.bin'), bytes);
  writeFileSync(path.join(values.out, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const lines = [`${'dataset'.padEnd(28)} harmful  model lexicon   both | benign  model lexicon   both`];
  for (const [dataset, f] of Object.entries(figures)) {
    lines.push(
      `${dataset.padEnd(28)} ${String(f.harmful).padStart(7)} ${percent(f.model_caught).padStart(6)} ${percent(f.lexicon_caught).padStart(7)} ${percent(f.combined_caught).padStart(6)} | ${String(f.benign).padStart(6)} ${percent(f.model_allowed).padStart(6)} ${percent(f.lexicon_allowed).padStart(7)} ${percent(f.combined_allowed).padStart(6)}`,
    );
  }
  process.stdout.write(
    `calibration a=${calibration.a.toFixed(4)} b=${calibration.b.toFixed(4)}, threshold ${threshold}\n` +
      `out-of-fold figures on the tuning part (caught | allowed):\n${lines.join('\n')}\n` +
      `wrote ${values.out}/model.bin (${bytes.byteLength} bytes, sha256 ${manifest.weights_sha256.slice(0, 12)}…) and model.json in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

if (import.meta.main) await main();
