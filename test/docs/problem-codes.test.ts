import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Every problem `code` the service can answer with is documented in docs/api.md, so a client
// can match on it. The codes are found where errors are made: `new AppError('code', …)`, the
// AppError subclasses that take a code, and the subclasses that fix one (`super('code', 4xx|5xx`).
// Tool failures (PermanentToolError, TransientToolError) are not HTTP answers: they end an
// action `failed` with `error.code`, documented as a family in docs/api.md.

const ROOT = path.resolve(import.meta.dirname, '../..');

const sources = execFileSync(
  'git',
  ['ls-files', '-z', '--cached', '--others', '--exclude-standard', 'src/**.ts'],
  {
    cwd: ROOT,
    encoding: 'utf8',
  },
)
  .split('\0')
  .filter((file) => file && !file.endsWith('.test.ts'));

const MADE = [
  /new (?:AppError|ValidationError|UnprocessableError|ForbiddenError|ConflictError|ServiceUnavailableError)\(\s*'([a-z][a-z0-9_]*)'/g,
  /super\(\s*'([a-z][a-z0-9_]*)',\s*[45]\d\d\b/g,
];

export function problemCodesIn(source: string): string[] {
  return MADE.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]!));
}

describe('problem codes', () => {
  it('finds codes where errors are made', () => {
    expect(
      problemCodesIn(`throw new ConflictError('not_pending', 'x'); super('rate_limited', 429, m);
        new PermanentToolError('file_not_found', 'y');`),
    ).toEqual(['not_pending', 'rate_limited']);
  });

  it('docs/api.md documents every code the service answers with', () => {
    const codes = new Set(
      sources.flatMap((file) => {
        try {
          return problemCodesIn(readFileSync(path.join(ROOT, file), 'utf8'));
        } catch {
          return []; // listed but deleted in the work tree
        }
      }),
    );
    expect(codes.size).toBeGreaterThan(15);
    const doc = readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
    expect([...codes].filter((code) => !doc.includes(`\`${code}\``)).sort()).toEqual([]);
  });
});
