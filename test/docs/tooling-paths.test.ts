import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import vitestConfig from '../../vitest.config.ts';
import eslintConfig from '../../eslint.config.js';

// The tool configurations name folders; a folder that is renamed or never existed makes a
// check silently cover nothing. Each name below must exist, and the k6 suites must be
// type-checked against @types/k6 by `npm run typecheck`.

const ROOT = path.resolve(import.meta.dirname, '../..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

// The part of a glob before its first wildcard, as a path that must exist.
function globRoot(glob: string): string {
  const parts = glob.split('/');
  const fixed = parts.slice(
    0,
    parts.findIndex((part) => /[*?{[]/.test(part)),
  );
  return fixed.join('/');
}

describe('tool configuration paths', () => {
  it('tsconfig.json includes only paths that exist', () => {
    const missing = (readJson('tsconfig.json').include as string[])
      .filter((entry) => !/[*?]/.test(entry))
      .filter((entry) => !existsSync(path.join(ROOT, entry)));
    expect(missing).toEqual([]);
  });

  it('vitest projects include only folders that exist', () => {
    const globs = (vitestConfig.test?.projects ?? []).flatMap((project) =>
      typeof project === 'object' && 'test' in project ? (project.test?.include ?? []) : [],
    );
    expect(globs.length).toBeGreaterThan(0);
    const missing = globs.map(globRoot).filter((root) => root && !existsSync(path.join(ROOT, root)));
    expect(missing).toEqual([]);
  });

  it('eslint overrides name only folders and files that exist', () => {
    const globs = eslintConfig.flatMap((block: { files?: unknown[] }) =>
      (block.files ?? []).filter((f): f is string => typeof f === 'string'),
    );
    const missing = globs
      .map((glob) => (/[*?{[]/.test(glob) ? globRoot(glob) : glob))
      .filter((root) => root && !existsSync(path.join(ROOT, root)));
    expect(missing).toEqual([]);
  });

  it('npm run typecheck checks every k6 suite against @types/k6', () => {
    expect(readJson('package.json').scripts.typecheck).toMatch(/tsc (--noEmit )?-p load-tests\b/);
    const k6 = readJson('load-tests/tsconfig.json');
    expect(k6.compilerOptions.types).toContain('k6');
    expect(k6.compilerOptions.checkJs).toBe(true);
    expect(k6.include).toEqual(['*.js']);
    const suites = readdirSync(path.join(ROOT, 'load-tests')).filter((f) => f.endsWith('.js'));
    expect(suites).toEqual(
      expect.arrayContaining(['smoke.js', 'load.js', 'stress.js', 'spike.js', 'soak.js']),
    );
    expect(existsSync(path.join(ROOT, 'node_modules/@types/k6/index.d.ts'))).toBe(true);
  });
});
