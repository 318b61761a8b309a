import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The repository stands on its own: someone who clones it has nothing beside it. Every
// relative link in a tracked Markdown file must resolve to a file or folder inside the
// repository, and no document may send the reader to the specification files the project was
// built from (their content is in docs/api.md).

const ROOT = path.resolve(import.meta.dirname, '../..');

const markdownFiles = execFileSync(
  'git',
  ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '*.md'],
  {
    cwd: ROOT,
    encoding: 'utf8',
  },
)
  .split('\0')
  .filter((file) => file && existsSync(path.join(ROOT, file)));

// Code blocks and inline code show commands and paths; they are not links.
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

export function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown);
  const targets: string[] = [];
  // [text](target "title") and ![alt](target), allowing one level of brackets in the text.
  for (const m of text.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    targets.push(m[1]!);
  }
  // Reference definitions: [label]: target
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)) targets.push(m[1]!);
  // HTML links and images.
  for (const m of text.matchAll(/<(?:a|img)\b[^>]*?\b(?:href|src)="([^"]+)"/g)) targets.push(m[1]!);
  return targets;
}

function problemsOf(file: string): string[] {
  const problems: string[] = [];
  const markdown = readFileSync(path.join(ROOT, file), 'utf8');
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    const pathPart = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
    const resolved = path.resolve(path.dirname(path.join(ROOT, file)), pathPart);
    if (resolved !== ROOT && !resolved.startsWith(ROOT + path.sep)) {
      problems.push(`${file}: ${target} points outside the repository`);
    } else if (!existsSync(resolved)) {
      problems.push(`${file}: ${target} does not exist`);
    }
  }
  if (/shared\/spec\//.test(markdown)) {
    problems.push(
      `${file}: names the project's spec files, which are not in the repository (use docs/api.md)`,
    );
  }
  return problems;
}

describe('Markdown links', () => {
  it('finds the Markdown files and their links', () => {
    expect(markdownFiles).toContain('README.md');
    expect(markdownFiles).toContain('docs/api.md');
    expect(
      linkTargets('[a](docs/x.md) ![b](img.png "t") `[c](no.md)`\n[d]: ../e.md\n<a href="f.md">f</a>'),
    ).toEqual(['docs/x.md', 'img.png', '../e.md', 'f.md']);
  });

  it('stay inside the repository and resolve', () => {
    expect(markdownFiles.flatMap(problemsOf)).toEqual([]);
  });
});

describe('ADR index', () => {
  it('docs/adr/README.md links every record', () => {
    const index = readFileSync(path.join(ROOT, 'docs/adr/README.md'), 'utf8');
    const linked = new Set(linkTargets(index));
    const records = readdirSync(path.join(ROOT, 'docs/adr')).filter((file) => /^\d{4}-.*\.md$/.test(file));
    expect(records.length).toBeGreaterThan(10);
    expect(records.filter((file) => !linked.has(file))).toEqual([]);
  });
});

describe('documents that once described missing files', () => {
  it.each(['docs/architecture.md', 'docs/interview-guide.md'])(
    '%s does not say BENCHMARKS.md is missing',
    (file) => {
      expect(existsSync(path.join(ROOT, 'BENCHMARKS.md'))).toBe(true);
      const text = readFileSync(path.join(ROOT, file), 'utf8').replace(/\s+/g, ' ');
      expect(text).not.toMatch(/\b(no|not|without)\b[^.]{0,40}`?BENCHMARKS\.md`?/i);
    },
  );
});

describe('README map', () => {
  // A reader who comes to study, interview or practise on-call finds each of these from the
  // README in one click.
  const destinations = [
    'docs/api.md',
    'docs/architecture.md',
    'docs/adr/README.md',
    'docs/interview-guide.md',
    'docs/threat-model.md',
    'runbooks/README.md',
    'dashboards/',
    'observability/prometheus/rules/',
    'BENCHMARKS.md',
    'redteam/corpus/',
    'eval/run-eval.ts',
    'docs/deploy.md',
    'docs/scaling.md',
    'load-tests/',
    '#the-console',
    '#configuration',
  ];
  it.each(destinations)('links %s', (destination) => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(linkTargets(readme)).toContain(destination);
    if (destination.startsWith('#')) {
      const headings = [...readme.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^\w\s-]/g, '')
          .replace(/\s/g, '-'),
      );
      expect(headings).toContain(destination.slice(1));
    }
  });
});

describe('file paths named in the docs', () => {
  // A path written as code (`src/modules/audit/audit.repository.ts`) is a promise that the
  // file is there; a rename must update the docs that point at it.
  const PATH =
    /`((?:src|test|migrations|bench|eval|redteam|scripts|load-tests|docs|runbooks|observability|dashboards|deploy)\/[\w./-]+\.[a-z]{2,5})`/g;
  it('exist', () => {
    const missing = markdownFiles.flatMap((file) =>
      [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(PATH)]
        .map((m) => m[1]!)
        .filter((named) => !/NNNN|<|\*/.test(named) && !existsSync(path.join(ROOT, named)))
        .map((named) => `${file}: ${named}`),
    );
    expect(missing).toEqual([]);
  });
});
