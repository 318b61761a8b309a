import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

// The steps of the runbooks, as the runnable-step harness (runbook-steps.int.test.ts) reads
// them. A fenced block in sh, sql or promql says whether it can run against a stack:
//
//   ```sh runnable             executed by the test, after the substitutions below
//   ```sql runnable            executed in Postgres as written
//   ```promql runnable         each query (blank-line separated) sent to a real Prometheus
//   ```sh manual: <reason>     shown to the reader, not executed; the reason is required
//
// runbooks/README.md documents the markers, the compose-to-local substitutions and the
// placeholders, for readers as well as for this harness.

export const RUNBOOKS_DIR = path.resolve(import.meta.dirname, '../../runbooks');
export const STEP_LANGUAGES = ['sh', 'sql', 'promql'] as const;
export type StepLanguage = (typeof STEP_LANGUAGES)[number];

export interface RunbookBlock {
  file: string;
  line: number; // 1-based line of the opening fence
  language: string;
  info: string; // the rest of the info string: "runnable", "manual: <reason>", ""
  body: string;
}

export interface RunnableStep extends RunbookBlock {
  language: StepLanguage;
}

export function runbookFiles(dir = RUNBOOKS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort();
}

// Fenced blocks, also indented ones inside list items (the indent is removed from the body).
export function readBlocks(file: string, dir = RUNBOOKS_DIR): RunbookBlock[] {
  const lines = readFileSync(path.join(dir, file), 'utf8').split('\n');
  const blocks: RunbookBlock[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j += 1) body.push(lines[j]!.slice(indent));
    if (j === lines.length) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    blocks.push({ file, line: i + 1, language: open[2]!, info: open[3]!.trim(), body: body.join('\n') });
    i = j;
  }
  return blocks;
}

export const isStepLanguage = (language: string): language is StepLanguage =>
  (STEP_LANGUAGES as readonly string[]).includes(language);

// What is wrong with a block's marking, or undefined when it is fine.
export function markingProblem(block: RunbookBlock): string | undefined {
  if (!block.language) return 'a code block without a language (sh, sql, promql, text, ...)';
  if (!isStepLanguage(block.language)) return undefined;
  if (block.info === 'runnable') return undefined;
  if (/^manual: \S.{5,}/.test(block.info)) return undefined;
  return `a ${block.language} block must be marked "runnable" or "manual: <reason>", got "${block.info}"`;
}

export const runnableSteps = (blocks: readonly RunbookBlock[]): RunnableStep[] =>
  blocks.filter((b): b is RunnableStep => isStepLanguage(b.language) && b.info === 'runnable');

export const promqlQueries = (body: string): string[] =>
  body
    .split(/\n\s*\n/)
    .map((q) => q.trim())
    .filter(Boolean);

// Placeholders a runnable step may use; the harness supplies a real value for each.
export const PLACEHOLDER = /<([a-z][a-z0-9 -]*)>/g;

export function substitutePlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown placeholder ${whole} (runbooks/README.md lists them)`);
    return value;
  });
}

// The compose stack's commands mapped onto the same tools run against the test's stack.
export function localCommand(
  command: string,
  where: { redisPort: number; prometheusUrl: string; apiUrl: string },
): string {
  const local = command
    .replaceAll('docker compose run --rm cli ', 'npm run --silent cli -- ')
    .replaceAll('docker compose exec redis redis-cli ', `redis-cli -p ${where.redisPort} `)
    .replaceAll('docker compose exec postgres psql -U postgres airlock', 'psql "$DATABASE_URL"')
    .replaceAll('http://localhost:9090', where.prometheusUrl)
    .replaceAll('http://localhost:8080', where.apiUrl);
  if (/docker compose/.test(local)) {
    throw new Error(`no local form for "${command}": mark the block "manual: <reason>"`);
  }
  return local;
}
