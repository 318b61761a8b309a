import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const repoPath = (...parts: string[]) => path.join(REPO_ROOT, ...parts);

// In CI (.ci/run sets CI=true, as GitHub Actions does) a missing validator is a failure:
// .ci/run installs every one of them. On a laptop without it the test is skipped with a
// warning, so `npm test` still runs where, say, promtool is not installed.
const STRICT = process.env.CI === 'true';

export function toolVersion(command: string, args: string[] = ['--version']): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0];
}

export function itWithTool(
  tool: string,
  available: boolean,
  name: string,
  fn: () => void | Promise<void>,
  timeoutMs = 120_000,
): void {
  if (available) {
    it(name, fn, timeoutMs);
  } else if (STRICT) {
    it(name, () => {
      throw new Error(`${tool} is not installed; .ci/run installs it (see its ensure_* steps)`);
    });
  } else {
    console.warn(`${tool} is not installed; skipping: ${name}`);
    it.skip(name, fn);
  }
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
) {
  const result: SpawnSyncReturns<string> = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return {
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    output: `${result.stdout}\n${result.stderr}`,
  };
}

export function readYaml<T = unknown>(file: string): T {
  return parseYaml(readFileSync(repoPath(file), 'utf8'), { merge: true }) as T;
}

export function readYamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join('\n'));
    return doc.toJSON() as unknown;
  });
}

// Every variable src/platform/config.ts reads, from its source: the one module that reads
// process.env names each variable as a string literal next to `env`.
export function configVariables(): Set<string> {
  const source = readFileSync(repoPath('src/platform/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/\benv(?:, '|\.)([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  return names;
}
