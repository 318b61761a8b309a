// Precision and recall per moderation category of the local classifier alone, on the
// public data that labels categories: the OpenAI moderation set (eight categories, with
// unknown labels left out of each category's counts) and, for hate, HateCheck and ToxiGen.
// Held-out and tuning parts apart, split as in datasets.ts.
//
//   node eval/moderation-categories.ts [--datasets-dir DIR]
//
// This measures the classifier, not the gateway: `npm run eval` measures what the gateway
// decides with every stage together.

import { parseArgs } from 'node:util';
import { createModerationClassifier } from '../src/modules/moderation/moderation-classifier.ts';
import type { ModerationCategory } from '../src/modules/moderation/moderation-types.ts';
import { DEFAULT_DATASETS_DIR, itemsOf, loadDataset } from './datasets.ts';
import { percent } from './score.ts';

// The set's eight labels (meta.labels, named like the classifier's categories; a parent
// is raised by its sub-categories in both).
const OPENAI_LABELS: readonly ModerationCategory[] = [
  'sexual',
  'hate',
  'violence',
  'harassment',
  'self-harm',
  'sexual/minors',
  'hate/threatening',
  'violence/graphic',
];

interface Counts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface CategoryFigures {
  dataset: string;
  category: string;
  part: 'held-out' | 'tuning';
  counts: Counts;
  precision: number | null;
  recall: number | null;
}

export function measureCategories(dir: string): CategoryFigures[] {
  const classifier = createModerationClassifier();
  const out: CategoryFigures[] = [];
  const tally = (
    dataset: string,
    category: string,
    entries: Array<{ heldOut: boolean; truth: boolean; said: boolean }>,
  ) => {
    for (const part of ['held-out', 'tuning'] as const) {
      const counts: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
      for (const e of entries.filter((x) => x.heldOut === (part === 'held-out'))) {
        if (e.truth && e.said) counts.tp += 1;
        else if (e.truth) counts.fn += 1;
        else if (e.said) counts.fp += 1;
        else counts.tn += 1;
      }
      out.push({
        dataset,
        category,
        part,
        counts,
        precision: counts.tp + counts.fp === 0 ? null : counts.tp / (counts.tp + counts.fp),
        recall: counts.tp + counts.fn === 0 ? null : counts.tp / (counts.tp + counts.fn),
      });
    }
  };

  const openai = loadDataset(dir, 'openai-moderation');
  if (openai) {
    const items = itemsOf('openai-moderation', openai);
    const verdicts = openai.map((row) => classifier.classify(row.text).categories);
    for (const category of OPENAI_LABELS) {
      const entries = openai.flatMap((row, i) => {
        const value = (row.meta.labels as Record<string, number | null> | undefined)?.[category];
        if (value === null || value === undefined) return [];
        return [{ heldOut: items[i]!.heldOut, truth: value === 1, said: verdicts[i]![category] }];
      });
      tally('openai-moderation', category, entries);
    }
  }
  for (const dataset of ['hatecheck', 'toxigen-demonstrations', 'davidson-hate-offensive']) {
    const rows = loadDataset(dir, dataset);
    if (!rows) continue;
    const items = itemsOf(dataset, rows);
    const entries = items
      .filter((item) => item.rowClass !== 'grey')
      .map((item) => ({
        heldOut: item.heldOut,
        truth: item.rowClass === 'positive',
        said: classifier.classify(item.text).categories.hate,
      }));
    tally(dataset, 'hate', entries);
  }
  return out;
}

export function formatCategories(figures: readonly CategoryFigures[]): string {
  const lines = [
    `${'dataset'.padEnd(24)} ${'category'.padEnd(18)} ${'part'.padEnd(8)} precision  recall   TP/FP/FN/TN`,
  ];
  for (const f of figures) {
    const { tp, fp, fn, tn } = f.counts;
    lines.push(
      `${f.dataset.padEnd(24)} ${f.category.padEnd(18)} ${f.part.padEnd(8)} ${percent(f.precision).padStart(9)} ${percent(f.recall).padStart(7)}   ${tp}/${fp}/${fn}/${tn}`,
    );
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { 'datasets-dir': { type: 'string', default: DEFAULT_DATASETS_DIR } },
  });
  const figures = measureCategories(values['datasets-dir']);
  process.stdout.write(
    figures.length === 0
      ? `moderation categories: no labelled datasets in ${values['datasets-dir']}\n`
      : `${formatCategories(figures)}\n`,
  );
}
