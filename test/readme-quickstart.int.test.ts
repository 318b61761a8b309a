import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildService, type ChildService } from './helpers/child-service.ts';
import { createTestDatabase, freePort, testEnv, waitFor } from './helpers/test-env.ts';

// The README's quickstart is the test's source: the shell blocks of "First action in five
// minutes" run as written (only `localhost:8080` becomes the child's address) against a real
// `node src/main.ts all`, and every `# -> …` line after a command is checked against what the
// command printed. `<id>` is the id of the action proposed last, as a reader would paste it.
// A read (a GET) is repeated until its `# ->` line holds, since the worker runs on its own;
// a write must match at once.

const ROOT = path.resolve(import.meta.dirname, '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

interface Step {
  command: string;
  expected: string[];
}

// Commands (backslash continuations joined) and the `# ->` lines that follow each.
function quickstartSteps(readme: string): Step[] {
  const section = readme.slice(
    readme.indexOf('## First action in five minutes'),
    readme.indexOf('\n## ', readme.indexOf('## First action in five minutes') + 1),
  );
  const steps: Step[] = [];
  for (const [, block] of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block!.replace(/\s*\\\n\s*/g, ' ').split('\n');
    for (const line of lines.map((l) => l.trim()).filter(Boolean)) {
      if (line.startsWith('# ->')) steps.at(-1)?.expected.push(line.slice(4).trim());
      else if (!line.startsWith('#')) steps.push({ command: line, expected: [] });
    }
  }
  return steps;
}

// `"key":value` pairs of an expectation line whose value is spelled out (not "…").
function pairsOf(expectation: string): Array<[string, unknown]> {
  return [...expectation.matchAll(/"(\w+)":("[^"…]*"|-?\d+(?:\.\d+)?|true|false|null)(?=[,}\]])/g)].map(
    ([, key, value]) => [key!, JSON.parse(value!)],
  );
}

function holds(value: unknown, key: string, expected: unknown): boolean {
  if (Array.isArray(value)) return value.some((item) => holds(item, key, expected));
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  if (key in record && JSON.stringify(record[key]) === JSON.stringify(expected)) return true;
  return Object.values(record).some((child) => holds(child, key, expected));
}

function missingPairs(output: string, expected: string[]): string[] {
  if (expected.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return [`output is not JSON: ${output.slice(0, 300)}`];
  }
  return expected
    .flatMap(pairsOf)
    .filter(([key, value]) => !holds(parsed, key, value))
    .map(([key, value]) => `"${key}":${JSON.stringify(value)}`);
}

function bash(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-o', 'pipefail', '-c', script],
      { cwd: ROOT, env, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr }),
    );
  });
}

describe('the README quickstart, run as written', () => {
  let service: ChildService;
  let drop: () => Promise<void>;
  let env: Record<string, string>;
  let base: string;
  let databaseUrl: string;

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    databaseUrl = db.url;
    const port = await freePort();
    base = `127.0.0.1:${port}`;
    env = testEnv(db.url, { PORT: String(port), MODERATION_PORT: String(await freePort()) });
    service = startChildService('all', env);
    await waitFor(
      async () => {
        const response = await fetch(`http://${base}/readyz`).catch(() => null);
        return response?.status === 200;
      },
      { timeoutMs: 45_000, what: `the service to be ready; output:\n${service.output().slice(-1000)}` },
    );
  });

  afterAll(async () => {
    service?.kill('SIGTERM');
    await service?.exited;
    await drop?.();
  });

  it('when the quickstart is read, then it has the commands of both flows with expectations', () => {
    const steps = quickstartSteps(README);
    const summary = (command: string) =>
      /^([A-Z]+)=\$\(npm run --silent cli -- (keys create)/.exec(command)?.slice(1).join(' ') ??
      `${/-X (\w+)/.exec(command)?.[1] ?? 'GET'} ${/localhost:8080(\S+)/.exec(command)?.[1]}`;
    expect(steps.map((s) => summary(s.command))).toEqual([
      'KEY keys create',
      'POST /v1/actions',
      'GET /v1/actions/<id>',
      'REVIEWER keys create',
      'POST /v1/actions',
      'GET /v1/reviews',
      'POST /v1/reviews/<id>',
      'GET /v1/actions/<id>',
    ]);
    expect(steps.at(-1)!.expected.join()).toContain('"status":"succeeded"');
  });

  it('when every command runs in order, then each prints what the README says, and both flows end succeeded', async () => {
    const variables: Record<string, string> = {};
    let lastActionId = '';
    const shellEnv = () => ({
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      ...variables,
    });
    for (const step of quickstartSteps(README)) {
      const command = step.command.replaceAll('localhost:8080', base).replaceAll('<id>', lastActionId);
      const assignment = /^([A-Z_]+)=\$\((.*)\)$/.exec(command);
      const run = () => bash(assignment ? assignment[2]! : command, shellEnv());
      const isRead = !/-X (POST|PUT|DELETE)/.test(command);
      let result = await run();
      let missing = missingPairs(result.stdout, step.expected);
      if (isRead && step.expected.length > 0 && missing.length > 0) {
        await waitFor(
          async () => {
            result = await run();
            missing = missingPairs(result.stdout, step.expected);
            return missing.length === 0;
          },
          { timeoutMs: 30_000, intervalMs: 200, what: `${step.command} to print ${step.expected.join(' ')}` },
        ).catch(() => undefined);
      }
      const where = `${step.command}\nprinted: ${result.stdout.slice(0, 500)}\n${result.stderr.slice(0, 500)}`;
      expect(result.code, where).toBe(0);
      expect(missing, where).toEqual([]);
      if (assignment) {
        expect(result.stdout.trim(), where).toMatch(/^alk_/);
        variables[assignment[1]!] = result.stdout.trim();
      } else if (command.includes('-X POST') && command.includes('/v1/actions')) {
        lastActionId = (JSON.parse(result.stdout) as { id: string }).id;
      }
    }
  }, 120_000);

  it('when the README lists the sandbox seed files, then they are exactly what a new tenant gets', async () => {
    const section = README.slice(README.indexOf('### The sandbox'));
    const documented = [...section.slice(0, section.indexOf('\n## ')).matchAll(/^\| `(\/[^`]+)`/gm)].map(
      (m) => m[1],
    );
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ path: string }>(
        `SELECT f.path FROM sandbox_files f JOIN tenants t ON t.id = f.tenant_id
          WHERE t.slug = 'acme' ORDER BY f.path`,
      );
      expect(rows.map((r) => r.path).sort()).toEqual([...documented].sort());
    } finally {
      await client.end();
    }
  });
});
