// `npm run train:injection`: trains the injection model (src/modules/safety/injection-model.ts)
// on the tuning part of the public datasets and writes data/injection/model.bin and
// data/injection/model.json. Why and how: docs/adr/0031-trained-injection-head.md.
//
//   npm run train:injection -- [--datasets-dir DIR] [--seed N] [--out DIR] [--min-allowed 0.95]
//                              [--max-added 0.01]
//
// What it reads, of the TUNING part only (rows split exactly as `npm run eval` splits them,
// eval/datasets.ts itemsOf; a held-out row is never read into training, calibration or a
// threshold), by the place the text arrives:
//   user prompt   attacks: JailbreakBench prompts, in-the-wild jailbreaks, CyberSecEval's
//                 direct rows in English; benign: NotInject, XSTest's safe prompts, BIPIA's
//                 user questions, and the benign rows of the moderation sets (ordinary chat,
//                 counter-speech, tweets) so that everyday text is not an attack, and the
//                 generated everyday tool requests (eval/everyday-requests.ts);
//   document      attacks: BIPIA's poisoned contexts, CyberSecEval's indirect rows in
//                 English; benign: BIPIA's clean contexts, and the same ordinary text
//                 (NotInject, the moderation sets' benign rows) as if pasted into a document.
// Left out on purpose: rows not in English (CyberSecEval's machine translations and its
// rows asked in another language). No dataset has benign text in those languages, so a
// model would learn "not English" as the attack, and a gateway must not hold users for
// writing in their own language. Harmful requests without a jailbreak are moderation's.
//
// How: five folds of the tuning part by the split's group key give out-of-fold scores;
// Platt scaling is fitted on them. One threshold per place: the lowest at which, in every
// benign dataset of that place with 30 or more tuning rows, the model alone allows at least
// --min-allowed of them and flags at most --max-added of them that the rules
// (injection-detector.ts, with that place's options) let through: ADR 0030's benign-cost
// rule. The shipped weights are trained on the whole tuning part. Deterministic for a seed.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_VERSION } from '../src/modules/moderation/moderation-features.ts';
import { sha256Hex } from '../src/modules/moderation/moderation-model.ts';
import { detectInjection } from '../src/modules/safety/injection-detector.ts';
import {
  INJECTION_MODEL_FORMAT,
  INJECTION_MODEL_ROLES,
  createInjectionModel,
  type InjectionModelHead,
  type InjectionModelManifest,
  type InjectionModelRole,
} from '../src/modules/safety/injection-model.ts';
import { DEFAULT_DATASETS_DIR, datasetFile, itemsOf, loadDataset, unitHash } from './datasets.ts';
import { EVERYDAY_REQUESTS, everydayRequestItems } from './everyday-requests.ts';
import {
  DEFAULT_TRAINING,
  calibrated,
  countFlags,
  fitPlatt,
  outOfFoldLogits,
  quantise,
  share,
  thresholdFor,
  trainWeights,
  type TrainedWeights,
  type TrainingExample,
} from './moderation-training.ts';
import { percent } from './score.ts';

// The moderation model's settings (eval/moderation-training.ts); --epochs and --l2 were
// compared on the out-of-fold tuning figures only.
const INJECTION_TRAINING = { ...DEFAULT_TRAINING };
const FOLDS = 5;
const FOLD_SALT = 'airlock-injection-fold-v1';
const EVEN_OUT = 500;
const MIN_BENIGN_FOR_THRESHOLD = 30;

// Benign rows of the moderation sets: ordinary text users write, never an attack.
const EVERYDAY_TEXT_SOURCES = [
  'xstest',
  'openai-moderation',
  'hatecheck',
  'davidson-hate-offensive',
  'toxigen-demonstrations',
] as const;
const SOURCES = [
  'bipia',
  'cyberseceval-prompt-injection',
  'jailbreakbench-artifacts',
  'inthewild-jailbreaks',
  'notinject',
  ...EVERYDAY_TEXT_SOURCES,
] as const;

interface Example extends TrainingExample {
  dataset: string;
  role: InjectionModelRole;
  fold: number;
}

// Words that make up a large share of any English text and are not words of the other
// languages CyberSecEval uses ("a", "me", "in", "do", "on" are). A row where fewer than one
// word in six is one of them is not English (or not prose) and is left out of training.
const ENGLISH_FUNCTION_WORDS = new Set(
  'the an to of and or for with is are was be it this that you your my we what how can not if at by from have please'.split(
    ' ',
  ),
);
export function readsAsEnglish(text: string): boolean {
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  if (words.length === 0) return false;
  const common = words.filter((w) => ENGLISH_FUNCTION_WORDS.has(w)).length;
  return common / words.length >= 1 / 6;
}

function collectExamples(dir: string): { examples: Example[]; versions: Record<string, unknown> } {
  const raw: Array<Omit<Example, 'weight'>> = [];
  const versions: Record<string, unknown> = {};
  const add = (dataset: string, role: InjectionModelRole, group: string, text: string, attack: boolean) => {
    if (text.trim() === '') return;
    raw.push({
      dataset,
      role,
      text,
      harmful: attack,
      category: -1,
      fold: Math.floor(unitHash(group, FOLD_SALT) * FOLDS),
    });
  };
  for (const name of SOURCES) {
    const rows = loadDataset(dir, name);
    if (rows === null) throw new Error(`train:injection: ${datasetFile(dir, name)} is missing`);
    const readme = path.join(dir, name, 'README.md');
    versions[name] = {
      upstream_commit: existsSync(readme)
        ? (/Commit[^`]*`([0-9a-f]{40})`/.exec(readFileSync(readme, 'utf8'))?.[1] ?? null)
        : null,
      normalized_sha256: sha256Hex(readFileSync(datasetFile(dir, name))),
      rows: rows.length,
    };
    const byId = new Map(rows.map((row) => [row.id, row]));
    const seenQuestions = new Set<string>();
    for (const item of itemsOf(name, rows)) {
      if (item.heldOut) continue;
      const row = byId.get(item.id)!;
      const role: InjectionModelRole = row.role === 'source_document' ? 'source_document' : 'user_prompt';
      // Ordinary text is benign wherever it arrives: as the user's words, or pasted into a
      // document (a short e-mail reads much like a chat message).
      if ((EVERYDAY_TEXT_SOURCES as readonly string[]).includes(name) || name === 'notinject') {
        if (item.label !== 'benign') continue;
        add(name, 'user_prompt', item.group, item.text, false);
        add(name, 'source_document', item.group, item.text, false);
        continue;
      }
      if (item.label === 'attack') {
        if (name === 'cyberseceval-prompt-injection' && !readsAsEnglish(item.text)) continue;
        add(name, role, item.group, item.text, true);
      } else if (item.label === 'benign') {
        add(name, role, item.group, item.text, false);
      }
      // BIPIA's user questions come with every row and are the user's own prompts.
      const question = row.meta.user_prompt;
      if (name === 'bipia' && typeof question === 'string' && !seenQuestions.has(question)) {
        seenQuestions.add(question);
        add('bipia-user-questions', 'user_prompt', item.group, question, false);
      }
    }
  }
  // Requests users of a tool gateway make every day (generated here; eval/everyday-requests.ts).
  for (const item of everydayRequestItems()) {
    if (!item.heldOut) add(EVERYDAY_REQUESTS, 'user_prompt', item.group, item.text, false);
  }
  const sizes = new Map<string, number>();
  const key = (e: Omit<Example, 'weight'>) => `${e.dataset}|${e.role}|${e.harmful}`;
  for (const e of raw) sizes.set(key(e), (sizes.get(key(e)) ?? 0) + 1);
  return {
    examples: raw.map((e) => ({ ...e, weight: Math.min(1, Math.sqrt(EVEN_OUT / sizes.get(key(e))!)) })),
    versions,
  };
}

interface HeadFields {
  calibration: { a: number; b: number };
  threshold: number;
}

// The manifest for one trained weight vector per place, in INJECTION_MODEL_ROLES order.
function manifestOf(
  trained: readonly TrainedWeights[],
  heads: readonly HeadFields[],
  fields: Pick<InjectionModelManifest, 'weights_sha256'> &
    Partial<Pick<InjectionModelManifest, 'about' | 'training' | 'metrics'>>,
): { manifest: InjectionModelManifest; bytes: Int8Array } {
  const quantised = trained.map((t) => quantise(t));
  const bytes = new Int8Array(quantised.reduce((n, q) => n + q.bytes.length, 0));
  quantised.forEach((q, h) => bytes.set(q.bytes, h * q.bytes.length));
  const head = (h: number): InjectionModelHead => ({
    scale: quantised[h]!.scales[0]!,
    bias: trained[h]!.biases[0]!,
    calibration: heads[h]!.calibration,
    threshold: heads[h]!.threshold,
  });
  return {
    bytes,
    manifest: {
      about: fields.about ?? ['A model being trained.'],
      format: INJECTION_MODEL_FORMAT,
      feature_version: FEATURE_VERSION,
      bits: trained[0]!.bits,
      weights_file: 'model.bin',
      weights_sha256: fields.weights_sha256,
      heads: { user_prompt: head(0), source_document: head(1) },
      training: fields.training ?? {},
      metrics: fields.metrics ?? {},
    },
  };
}

// Both heads exactly as they ship, with a neutral calibration: their logits are what the
// calibration is fitted on.
function uncalibrated(trained: readonly TrainedWeights[]) {
  const neutral = { calibration: { a: 1, b: 0 }, threshold: 0.5 };
  const { manifest, bytes } = manifestOf(trained, [neutral, neutral], { weights_sha256: '0'.repeat(64) });
  return createInjectionModel(manifest, bytes);
}

// What the rules alone find, with the options the injection stage uses for that place.
function rulesFlag(text: string, role: InjectionModelRole): boolean {
  return (
    role === 'user_prompt'
      ? detectInjection(text, { instructions: 'decoded', jailbreak: 'suffixes' })
      : detectInjection(text, { instructions: 'all', jailbreak: 'templates' })
  ).some((f) => f.family !== 'hidden_characters');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'datasets-dir': { type: 'string', default: DEFAULT_DATASETS_DIR },
      seed: { type: 'string', default: String(INJECTION_TRAINING.seed) },
      out: { type: 'string', default: path.join(import.meta.dirname, '..', 'data', 'injection') },
      'min-allowed': { type: 'string', default: '0.95' },
      'max-added': { type: 'string', default: '0.01' },
      epochs: { type: 'string', default: String(INJECTION_TRAINING.epochs) },
      l2: { type: 'string', default: String(INJECTION_TRAINING.l2) },
    },
  });
  const options = {
    ...INJECTION_TRAINING,
    seed: Number(values.seed),
    epochs: Number(values.epochs),
    l2: Number(values.l2),
  };
  const minAllowed = Number(values['min-allowed']);
  const maxAdded = Number(values['max-added']);
  const started = performance.now();
  const { examples, versions } = collectExamples(values['datasets-dir']);
  process.stdout.write(
    `train:injection: ${examples.length} tuning examples (${examples.filter((e) => e.harmful).length} attacks)\n`,
  );

  // Each place's head learns from that place's examples alone.
  const trainHeads = (subset: readonly Example[], seed: number): TrainedWeights[] =>
    INJECTION_MODEL_ROLES.map((role, h) =>
      trainWeights(
        subset.filter((e) => e.role === role),
        { ...options, seed: seed + h * 100 },
        1,
      ),
    );

  // Out-of-fold logits: every example scored by heads that did not see its group.
  const logits = outOfFoldLogits(
    examples,
    FOLDS,
    options.seed,
    (training, seed) => {
      const model = uncalibrated(trainHeads(training, seed));
      return (e) => model.assess(e.text, e.role).logit;
    },
    (line) => process.stdout.write(line),
  );
  // Per place: the calibration, then the threshold from that place's benign datasets.
  const probability = new Array<number>(examples.length).fill(0);
  const byRules = examples.map((e) => rulesFlag(e.text, e.role));
  const heads: HeadFields[] = [];
  for (const role of INJECTION_MODEL_ROLES) {
    const members = examples.flatMap((e, i) => (e.role === role ? [i] : []));
    const calibration = fitPlatt(
      members.map((i) => logits[i]!),
      members.map((i) => examples[i]!.harmful),
    );
    for (const i of members) {
      const z = logits[i]!;
      probability[i] = calibrated(z, calibration);
    }
    const limits: Array<{ scores: number[]; mayFlag: number }> = [];
    for (const dataset of new Set(examples.map((e) => e.dataset))) {
      const benign = examples.flatMap((e, i) =>
        e.dataset === dataset && e.role === role && !e.harmful ? [i] : [],
      );
      if (benign.length < MIN_BENIGN_FOR_THRESHOLD) continue;
      limits.push({
        scores: benign.map((i) => probability[i]!),
        mayFlag: Math.floor(benign.length * (1 - minAllowed)),
      });
      limits.push({
        scores: benign.filter((i) => !byRules[i]).map((i) => probability[i]!),
        mayFlag: Math.floor(benign.length * maxAdded),
      });
    }
    heads.push({ calibration, threshold: Math.round(thresholdFor(limits) * 1e6) / 1e6 });
  }
  const thresholds = Object.fromEntries(
    INJECTION_MODEL_ROLES.map((role, h) => [role, heads[h]!.threshold]),
  ) as Record<InjectionModelRole, number>;

  // Figures per (dataset, place): the model alone (out of fold), the rules alone, both.
  const figures: Record<string, Record<string, number | null>> = {};
  const counts = countFlags(
    examples,
    (e) => `${e.dataset}|${e.role}`,
    (e, i) => probability[i]! >= thresholds[e.role],
    (_, i) => byRules[i]!,
  );
  for (const [key, c] of counts) {
    figures[key] = {
      attacks: c.positives,
      benign: c.benign,
      model_caught: share(c.positivesByModel, c.positives),
      rules_caught: share(c.positivesByRules, c.positives),
      combined_caught: share(c.positivesByEither, c.positives),
      model_allowed: share(c.benign - c.benignByModel, c.benign),
      rules_allowed: share(c.benign - c.benignByRules, c.benign),
      combined_allowed: share(c.benign - c.benignByEither, c.benign),
    };
  }

  const trained = trainHeads(examples, options.seed);
  const weights = manifestOf(trained, heads, { weights_sha256: '0'.repeat(64) }).bytes;
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  const extra = [
    values.seed !== String(INJECTION_TRAINING.seed) ? `--seed ${values.seed}` : '',
    values['min-allowed'] !== '0.95' ? `--min-allowed ${values['min-allowed']}` : '',
    values['max-added'] !== '0.01' ? `--max-added ${values['max-added']}` : '',
    values.epochs !== String(INJECTION_TRAINING.epochs) ? `--epochs ${values.epochs}` : '',
    values.l2 !== String(INJECTION_TRAINING.l2) ? `--l2 ${values.l2}` : '',
  ].filter(Boolean);
  const { manifest } = manifestOf(trained, heads, {
    about: [
      'The trained injection model: see src/modules/safety/injection-model.ts and docs/adr/0031-trained-injection-head.md.',
      'Weights are hashed-feature buckets (moderation-features.ts, version in feature_version); no text from any dataset is stored here.',
      'Regenerate with the training command below; the same seed and datasets give the same weights_sha256.',
    ],
    weights_sha256: sha256Hex(bytes),
    training: {
      command: ['npm run train:injection', ...(extra.length > 0 ? ['--', ...extra] : [])].join(' '),
      seed: options.seed,
      options: { ...options, folds: FOLDS, even_out: EVEN_OUT, min_allowed: minAllowed, max_added: maxAdded },
      split:
        'tuning part only, as eval/datasets.ts itemsOf splits it (HELD_OUT_SHARE of each dataset by group hash is never read)',
      left_out:
        'CyberSecEval rows that do not read as English (no dataset has benign text in those languages); harmful requests without a jailbreak (moderation judges them)',
      examples: { total: examples.length, attacks: examples.filter((e) => e.harmful).length },
      datasets: versions,
    },
    metrics: {
      about:
        'Out-of-fold figures on the tuning part (5 folds by group), per dataset and place: model = this model alone at its threshold, rules = injection-detector.ts alone, combined = either. Held-out figures: npm run eval -- --part held-out (docs/threat-model.md).',
      threshold_rule: `per place, the lowest threshold at which, for every benign dataset of that place with >= ${MIN_BENIGN_FOR_THRESHOLD} tuning rows, the model alone allows >= ${minAllowed} of them and flags at most ${maxAdded} of them beyond what the rules flag`,
      out_of_fold: figures,
    },
  });
  mkdirSync(values.out, { recursive: true });
  writeFileSync(path.join(values.out, 'model.bin'), bytes);
  writeFileSync(path.join(values.out, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const lines = [
    `${'dataset | place'.padEnd(44)} attacks  model  rules   both | benign  model  rules   both`,
  ];
  for (const [key, f] of Object.entries(figures)) {
    lines.push(
      `${key.padEnd(44)} ${String(f.attacks).padStart(7)} ${percent(f.model_caught!).padStart(6)} ${percent(f.rules_caught!).padStart(6)} ${percent(f.combined_caught!).padStart(6)} | ${String(f.benign).padStart(6)} ${percent(f.model_allowed!).padStart(6)} ${percent(f.rules_allowed!).padStart(6)} ${percent(f.combined_allowed!).padStart(6)}`,
    );
  }
  process.stdout.write(
    `thresholds ${JSON.stringify(thresholds)}\n` +
      `out-of-fold figures on the tuning part (caught | allowed):\n${lines.join('\n')}\n` +
      `wrote ${values.out}/model.bin (${bytes.byteLength} bytes, sha256 ${manifest.weights_sha256.slice(0, 12)}…) and model.json in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

if (import.meta.main) await main();
