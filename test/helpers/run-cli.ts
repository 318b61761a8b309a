import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

// Runs the operator CLI as `npm run --silent cli -- <args>` does: a real process whose only
// configuration is the environment given here.
export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['src/cli/cli.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`cli ${args.join(' ')} did not exit normally: ${err.message}\n${stderr}`));
          return;
        }
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
      },
    );
  });
}

// With --json the CLI prints exactly one JSON document on stdout.
export function singleJsonDocument(run: CliRun): unknown {
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) {
    throw new Error(
      `expected one line of JSON on stdout, got ${lines.length}:\n${run.stdout}\n${run.stderr}`,
    );
  }
  return JSON.parse(lines[0]!) as unknown;
}
