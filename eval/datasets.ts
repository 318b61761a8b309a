// The public evaluation datasets (../shared/datasets by default) and how each row becomes
// an Airlock proposal. Nothing here copies a dataset: rows are read at run time from the
// `normalized.jsonl` file of each dataset's folder, whose shape that folder's README
// describes.
//
// The mapping follows where the text arrives in a real proposal (the row's `role`):
//   source_document  context.source_documents[0].content, with the dataset's user
//                    question (or a neutral one) as context.user_prompt
//   user_prompt      context.user_prompt, with a plain note as the action
//   argument,        arguments.body of a note or of an e-mail to a colleague
//   unspecified
// The tool alternates between notes.create and email.send to an allowed domain (chosen
// by a hash of the row id, so a run is repeatable), so that both a tool without side
// effects and an outbound one are measured, and so that every benign row could be allowed
// by the tool defaults alone: a benign row that is not allowed was held by a safety check.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProposalContext } from '../src/modules/decisions/decision-types.ts';

export type RowLabel = 'attack' | 'harmful' | 'secret' | 'benign' | 'partial' | 'offensive' | 'sensitive';
export type RowRole = 'user_prompt' | 'source_document' | 'argument' | 'unspecified';

export interface DatasetRow {
  id: string;
  source: string;
  text: string;
  label: RowLabel;
  category: string;
  role: RowRole;
  meta: Record<string, unknown>;
}

export interface EvalProposal {
  tool: string;
  arguments: Record<string, unknown>;
  user_id: string;
  context: ProposalContext;
}

// positive: should be held (attack, harmful, secret); negative: should be allowed;
// grey: the dataset's own in-between labels, reported apart and kept out of the rates.
export type RowClass = 'positive' | 'negative' | 'grey';

export interface EvalItem {
  dataset: string;
  id: string;
  label: RowLabel;
  rowClass: RowClass;
  // The dataset's fine-grained class (attack technique, harm area, functionality).
  family: string;
  // The split's unit (dataset and group key): rows of one group share a side, and the
  // moderation model's training folds keep them together too.
  group: string;
  heldOut: boolean;
  // The row's text, for listing misses of the tuning part.
  text: string;
  proposal: EvalProposal;
}

export const ALLOWED_EMAIL_DOMAIN = 'acme.test';
export const DEFAULT_DATASETS_DIR = '../shared/datasets';

// Held-out share of every dataset. Rows are assigned by a hash of a group key (below), so
// the split never changes between runs and never depends on row order.
export const HELD_OUT_SHARE = 0.3;
const SPLIT_SALT = 'airlock-eval-split-v1';

export function rowClass(label: RowLabel): RowClass {
  if (label === 'attack' || label === 'harmful' || label === 'secret') return 'positive';
  if (label === 'benign') return 'negative';
  return 'grey';
}

// A number in [0, 1) from a string, stable across runs and machines.
export function unitHash(value: string, salt = SPLIT_SALT): number {
  return createHash('sha256').update(`${salt}\0${value}`).digest().readUInt32BE(0) / 2 ** 32;
}

export function isHeldOut(groupKey: string): boolean {
  return unitHash(groupKey) < HELD_OUT_SHARE;
}

interface DatasetSpec {
  name: string;
  // Rows that share a group key fall on the same side of the split: variants of one
  // template or one attack must not sit on both sides, or the held-out figure would
  // reward memorising the other side.
  groupKey(row: DatasetRow): string;
  // Where a row without a more specific rule sends its text.
  documentSource?: string;
  // Keep only some rows of a label (a deterministic slice), with the reason.
  keep?(row: DatasetRow): boolean;
}

const HATECHECK_TARGETS =
  /\b(?:women|woman|trans people|trans person|gay people|gay person|gays|black people|black person|blacks|disabled people|disabled person|muslims|muslim|immigrants|immigrant)\b/g;

const meta = (row: DatasetRow, key: string): unknown => row.meta[key];

// Every dataset placed in ../shared/datasets that measures something Airlock decides.
export const DATASET_SPECS: readonly DatasetSpec[] = [
  {
    name: 'bipia',
    // One attack instruction is inserted into every context; the instruction is the unit.
    groupKey: (row) =>
      row.label === 'attack'
        ? `attack:${String(meta(row, 'attack_text'))}`
        : `context:${String(meta(row, 'task'))}:${String(meta(row, 'context_index'))}`,
    documentSource: 'email',
  },
  { name: 'cyberseceval-prompt-injection', groupKey: (row) => row.id, documentSource: 'web' },
  {
    name: 'jailbreakbench-artifacts',
    // Every method's prompt for one behaviour, and the behaviour's goal, stay together.
    groupKey: (row) => `behavior:${String(meta(row, 'behavior_index'))}`,
  },
  { name: 'inthewild-jailbreaks', groupKey: (row) => row.id },
  { name: 'notinject', groupKey: (row) => row.id },
  { name: 'xstest', groupKey: (row) => row.id },
  { name: 'simplesafetytests', groupKey: (row) => row.id },
  { name: 'openai-moderation', groupKey: (row) => row.id },
  {
    name: 'hatecheck',
    // HateCheck fills one template with seven target groups; the template is the unit.
    groupKey: (row) => row.text.toLowerCase().replace(HATECHECK_TARGETS, '<target>'),
  },
  {
    name: 'davidson-hate-offensive',
    groupKey: (row) => row.id,
    // All hate and "neither" rows, and every fifth "offensive" row (the README's own
    // suggestion): the 19,190 offensive tweets are a grey label reported apart, and a
    // fifth of them measures that well at a fifth of the run time.
    keep: (row) => row.label !== 'offensive' || Number(row.id.split(':').pop()) % 5 === 0,
  },
  { name: 'toxigen-demonstrations', groupKey: (row) => row.id },
  { name: 'harmbench-standard', groupKey: (row) => row.id },
  { name: 'do-not-answer', groupKey: (row) => row.id },
];

export function datasetNames(): string[] {
  return DATASET_SPECS.map((spec) => spec.name);
}

export function datasetFile(dir: string, name: string): string {
  return path.join(dir, name, 'normalized.jsonl');
}

// Whether the directory holds at least one of the datasets.
export function datasetsPresent(dir: string): boolean {
  return DATASET_SPECS.some((spec) => existsSync(datasetFile(dir, spec.name)));
}

const LABELS: ReadonlySet<string> = new Set([
  'attack',
  'harmful',
  'secret',
  'benign',
  'partial',
  'offensive',
  'sensitive',
]);
const ROLES: ReadonlySet<string> = new Set(['user_prompt', 'source_document', 'argument', 'unspecified']);

// One line of normalized.jsonl, checked: a row of an unknown shape is an error, not a
// silently skipped case.
export function parseRow(line: string, where: string): DatasetRow {
  const value = JSON.parse(line) as Partial<DatasetRow>;
  const problems: string[] = [];
  if (typeof value.id !== 'string') problems.push('id');
  if (typeof value.text !== 'string') problems.push('text');
  if (typeof value.label !== 'string' || !LABELS.has(value.label)) problems.push('label');
  if (typeof value.role !== 'string' || !ROLES.has(value.role)) problems.push('role');
  if (typeof value.category !== 'string') problems.push('category');
  if (problems.length > 0) throw new Error(`${where}: bad or missing ${problems.join(', ')}`);
  return { meta: {}, ...value } as DatasetRow;
}

export function loadDataset(dir: string, name: string): DatasetRow[] | null {
  const file = datasetFile(dir, name);
  if (!existsSync(file)) return null;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => parseRow(line, `${file}:${index + 1}`));
}

export function itemsOf(name: string, rows: readonly DatasetRow[]): EvalItem[] {
  const spec = DATASET_SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown dataset ${name}`);
  return rows
    .filter((row) => spec.keep?.(row) ?? true)
    .map((row) => evalItem(name, row, spec.groupKey(row), toProposal(row, spec)));
}

// One row as the eval runs it: its held-out part follows from its group, so rows of one
// group (paraphrases, a template's fills) never straddle the split.
export function evalItem(
  dataset: string,
  row: DatasetRow,
  groupKey: string,
  proposal: EvalProposal,
): EvalItem {
  const group = `${dataset}\0${groupKey}`;
  return {
    dataset,
    id: row.id,
    label: row.label,
    rowClass: rowClass(row.label),
    family: row.category,
    group,
    heldOut: isHeldOut(group),
    text: row.text,
    proposal,
  };
}

// Schema limits of POST /v1/actions and the tools: longer text is cut to fit (none of the
// datasets placed today needs it, but a row that did must not turn into a 4xx).
const LIMITS = { userPrompt: 20_000, document: 50_000, noteBody: 10_000, emailBody: 20_000 };

export function toProposal(row: DatasetRow, spec: Pick<DatasetSpec, 'documentSource'> = {}): EvalProposal {
  const outbound = unitHash(row.id, 'airlock-eval-tool-v1') < 0.5;
  const user_id = 'u-eval';
  switch (row.role) {
    case 'source_document': {
      const question = typeof row.meta.user_prompt === 'string' ? row.meta.user_prompt : '';
      const context: ProposalContext = {
        user_prompt: (question || 'Summarise this for me.').slice(0, LIMITS.userPrompt),
        source_documents: [
          { source: spec.documentSource ?? 'document', content: row.text.slice(0, LIMITS.document) },
        ],
      };
      return outbound
        ? {
            tool: 'email.send',
            arguments: {
              to: `team@${ALLOWED_EMAIL_DOMAIN}`,
              subject: 'Summary',
              body: 'Here is the summary you asked for.',
            },
            user_id,
            context,
          }
        : {
            tool: 'notes.create',
            arguments: { title: 'Summary', body: 'Summary of the document, as asked.' },
            user_id,
            context,
          };
    }
    case 'user_prompt':
      return {
        tool: 'notes.create',
        arguments: { title: 'Note', body: 'Saved from the conversation.' },
        user_id,
        context: { user_prompt: row.text.slice(0, LIMITS.userPrompt) },
      };
    case 'argument':
    case 'unspecified':
      return outbound
        ? {
            tool: 'email.send',
            arguments: {
              to: `team@${ALLOWED_EMAIL_DOMAIN}`,
              subject: 'Message',
              body: row.text.slice(0, LIMITS.emailBody),
            },
            user_id,
            context: { user_prompt: 'Send this to the team.' },
          }
        : {
            tool: 'notes.create',
            arguments: { title: 'Note', body: row.text.slice(0, LIMITS.noteBody) },
            user_id,
            context: { user_prompt: 'Save this as a note.' },
          };
  }
}

// A deterministic sample of at most `max` items per (dataset, class, held-out side),
// chosen by hash so the same items come back every run.
export function sampleItems(items: readonly EvalItem[], max: number): EvalItem[] {
  const buckets = new Map<string, EvalItem[]>();
  for (const item of items) {
    const key = `${item.dataset}|${item.rowClass}|${item.heldOut}`;
    const bucket = buckets.get(key) ?? [];
    bucket.push(item);
    buckets.set(key, bucket);
  }
  const kept: EvalItem[] = [];
  for (const bucket of buckets.values()) {
    if (bucket.length <= max) {
      kept.push(...bucket);
      continue;
    }
    const ranked = bucket
      .map((item) => ({ item, rank: unitHash(item.id, 'airlock-eval-sample-v1') }))
      .sort((a, b) => a.rank - b.rank);
    kept.push(...ranked.slice(0, max).map((r) => r.item));
  }
  return kept;
}
