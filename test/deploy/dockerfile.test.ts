import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, repoPath } from './deploy-tools.ts';

const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
const dockerignore = readFileSync(repoPath('.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => line.trim() && !line.trim().startsWith('#'));
const stages = instructions.filter((line) => /^FROM /i.test(line));
const runtime = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));

// Every rule dockerfile-utils has (the linter of the VS Code Docker extension), as errors.
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

// Mimics the build context: what .dockerignore lets through ("*" then "!" exceptions, then
// exclusions again), enough for the patterns this file uses.
function inContext(file: string): boolean {
  let included = true;
  for (const pattern of dockerignore) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (matches(glob, file)) included = negated;
  }
  return included;
}

function matches(glob: string, file: string): boolean {
  if (glob === '*') return true;
  if (glob.endsWith('/')) return file.startsWith(glob);
  const regex = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '\0')
      .replace(/\*/g, '[^/]*')
      .replace(/\0/g, '(?:.*/)?')}$`,
  );
  return regex.test(file);
}

function walk(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((name) => {
    const rel = path.posix.join(dir, name);
    return statSync(path.join(REPO_ROOT, rel)).isDirectory() ? walk(rel) : [rel];
  });
}

// The modules the image runs, followed from its entry points through relative imports.
function reachableModules(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(repoPath(file), 'utf8');
    const specs = [
      ...source.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s+'([^']+)'/gms),
      ...source.matchAll(/^import\s+'([^']+)'/gm),
      ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)));
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  }
  return { files, packages };
}

describe('Dockerfile', () => {
  it('when dockerfile-utils lints it with every rule as an error, then it reports nothing', () => {
    expect(validate(dockerfile, STRICT)).toEqual([]);
  });

  it('when the linter is given a broken Dockerfile, then it does report problems', () => {
    const broken = "FROM node\nWORKDIR app\nCMD ['node']\nHEALTHCHECK --interval=abc CMD true\n";
    expect(validate(broken, STRICT).length).toBeGreaterThanOrEqual(3);
  });

  it('when a stage starts, then its base is pinned by version and by digest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const arg = /^ARG NODE_IMAGE=(.+)$/m.exec(dockerfile)?.[1];
    expect(arg).toMatch(/^node:24\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}$/);
    for (const stage of stages) expect(stage).toMatch(/^FROM \$\{NODE_IMAGE\} AS [a-z]+$/);
  });

  it('when the runtime stage is read, then it runs as a non-root uid with a HEALTHCHECK on /livez and an exec-form entrypoint', () => {
    expect(runtime.find((l) => l.startsWith('USER '))).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(
      /CMD \["node", "src\/cli\/healthcheck\.ts"\]/,
    );
    expect(readFileSync(repoPath('src/cli/healthcheck.ts'), 'utf8')).toContain('/livez');
    expect(runtime.find((l) => l.startsWith('ENTRYPOINT '))).toBe('ENTRYPOINT ["node", "src/main.ts"]');
    expect(runtime.filter((l) => /^RUN .*npm (ci|install)/.test(l))).toEqual([]);
  });

  it('when dependencies are installed, then only production ones, from the lockfile', () => {
    const install = instructions.filter((l) => /npm (ci|install)/.test(l));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/npm ci --omit=dev/);
  });

  it('when the build context is assembled, then no test file and nothing outside the runtime goes in', () => {
    const sent = [
      ...walk('src'),
      ...walk('test'),
      ...walk('scripts'),
      ...walk('migrations'),
      ...walk('docs'),
      ...walk('data'),
      'package.json',
      '.env.example',
    ].filter(inContext);
    expect(sent.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(
      sent.filter((f) => f.startsWith('test/') || f.startsWith('docs/') || f === '.env.example'),
    ).toEqual([]);
    expect(sent).toEqual(expect.arrayContaining(['package.json', 'src/main.ts', 'scripts/unleash-seed.ts']));
    // Data the code reads at run time (the moderation lexicon) must go in with it.
    const data = walk('data');
    expect(data.length).toBeGreaterThan(0);
    expect(data.filter((f) => !inContext(f))).toEqual([]);
  });

  it('when the runtime stage copies from the context, then it copies exactly what .dockerignore lets in', () => {
    const copied = runtime
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from'))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    const allowed = dockerignore.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/$/, ''));
    expect([...new Set(copied)].sort()).toEqual(allowed.sort());
  });

  it('when the image runs its entry points, then every module they import is in the context and every package is a production dependency', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const { files, packages } = reachableModules([
      'src/main.ts',
      'src/cli/cli.ts',
      'src/cli/migrate.ts',
      'src/cli/healthcheck.ts',
      'scripts/unleash-seed.ts',
    ]);
    expect(files.size).toBeGreaterThan(50);
    expect([...files].filter((f) => !inContext(f))).toEqual([]);
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});
