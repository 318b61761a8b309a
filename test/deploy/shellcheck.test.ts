import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { itWithTool, repoPath, run, toolVersion } from './deploy-tools.ts';

const shellcheck =
  toolVersion('shellcheck', ['--version']) &&
  run('shellcheck', ['--version']).stdout.match(/version: (\S+)/)?.[1];

// Every shell script in the repo: the tracked *.sh files and the extension-less scripts
// whose first line is a shell shebang (.ci/run).
function shellScripts(): string[] {
  const tracked = run('git', ['ls-files', '--cached', '--others', '--exclude-standard'])
    .stdout.split('\n')
    .filter(Boolean);
  return tracked.filter((file) => {
    if (file.endsWith('.sh')) return true;
    if (file.includes('.') && !file.startsWith('.ci/')) return false;
    try {
      return /^#!.*\b(ba|da)?sh\b/.test(readFileSync(repoPath(file), 'utf8').split('\n', 1)[0]!);
    } catch {
      return false;
    }
  });
}

describe('shell scripts', () => {
  const scripts = shellScripts();

  itWithTool(
    'shellcheck',
    Boolean(shellcheck),
    `when shellcheck ${shellcheck || ''} reads every shell script, then it finds nothing`,
    () => {
      expect(scripts).toEqual(
        expect.arrayContaining(['.ci/run', 'scripts/check-rules.sh', 'deploy/compose/seed.sh']),
      );
      const result = run('shellcheck', ['--severity=style', '--external-sources', ...scripts]);
      expect(result.status, result.output).toBe(0);
    },
  );

  itWithTool(
    'shellcheck',
    Boolean(shellcheck),
    'when shellcheck is given a script with an unquoted expansion, then it complains',
    () => {
      const result = run('shellcheck', ['-'], { input: '#!/bin/sh\nrm -rf $1/*\n' });
      expect(result.output).toMatch(/SC2086/);
      expect(result.status).not.toBe(0);
    },
  );
});
