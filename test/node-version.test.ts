import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../scripts/require-node-24.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
// Debian's Node, older than 24 on the development machine; the test runs where it exists.
const OLD_NODE = '/usr/bin/node';

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: ROOT, timeout: 60_000, env: { PATH: '/usr/bin:/bin' } },
      (err, stdout, stderr) =>
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr }),
    );
  });
}

describe('the Node version check', () => {
  it('when the version is 24, then it passes; any other major gets one line saying Node 24 is required', () => {
    expect(nodeVersionProblem('24.0.0')).toBeNull();
    expect(nodeVersionProblem('v24.22.3')).toBeNull();
    for (const version of ['20.20.2', 'v22.18.0', '25.0.0', '18.19.1']) {
      const problem = nodeVersionProblem(version);
      expect(problem).toMatch(/^Node 24 is required; this is Node \d+\.\d+\.\d+ /);
      expect(problem).not.toContain('\n');
    }
  });

  it('when this process runs, then its own Node passes the check', () => {
    expect(nodeVersionProblem(process.versions.node)).toBeNull();
  });

  it.skipIf(!existsSync(OLD_NODE))(
    'when npm start, the CLI and vitest run on an older Node, then each exits 1 with the one line',
    async () => {
      const version = (await run(OLD_NODE, ['--version'])).stdout.trim();
      if (version.startsWith('v24.')) return;
      const preload = ['--import', './scripts/require-node-24.mjs'];
      for (const args of [
        [...preload, 'src/main.ts'],
        [...preload, 'src/cli/cli.ts', 'flags', 'list'],
        ['node_modules/vitest/vitest.mjs', 'run', 'test/node-version.test.ts'],
      ]) {
        const result = await run(OLD_NODE, args);
        expect(result.code, args.join(' ')).toBe(1);
        expect(result.stderr.trim(), args.join(' ')).toBe(
          `Node 24 is required; this is Node ${version.slice(1)} (.nvmrc pins 24: nvm use, or see the README).`,
        );
      }
    },
  );

  it('when the package scripts are read, then start, migrate and cli preload the check', async () => {
    const { scripts } = (await import('../package.json', { with: { type: 'json' } })).default as {
      scripts: Record<string, string>;
    };
    for (const name of ['start', 'migrate', 'cli']) {
      expect(scripts[name]).toMatch(/^node --import \.\/scripts\/require-node-24\.mjs /);
    }
  });
});
