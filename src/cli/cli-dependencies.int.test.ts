import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, freePort, testEnv } from '../../test/helpers/test-env.ts';
import { runCli, singleJsonDocument } from '../../test/helpers/run-cli.ts';

interface ErrorDocument {
  error: { code: string; message: string };
}

// Each dependency is pointed at a closed port on 127.0.0.1 in turn; the CLI must say which one
// and by which variable, in one line and within seconds, instead of hanging or warning in a loop.
// The bound allows for a cold Node start on a loaded machine; the probe itself waits 3 s at most.
const FAIL_WITHIN_MS = 15_000;

describe('CLI with a dependency down', { timeout: 60_000 }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let closedPort: number;
  beforeAll(async () => {
    db = await createTestDatabase();
    closedPort = await freePort();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const cases = [
    {
      dependency: 'Redis',
      env: () => ({ REDIS_URL: `redis://127.0.0.1:${closedPort}` }),
      line: () => `Redis at redis://127.0.0.1:${closedPort} (REDIS_URL) is unreachable`,
    },
    {
      dependency: 'Postgres',
      env: () => ({ DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${closedPort}/airlock` }),
      // The password never reaches the terminal.
      line: () =>
        `Postgres at postgres://postgres:***@127.0.0.1:${closedPort}/airlock (DATABASE_URL) is unreachable`,
    },
    {
      dependency: 'Unleash',
      env: () => ({ UNLEASH_URL: `http://127.0.0.1:${closedPort}/api`, UNLEASH_API_TOKEN: 'token' }),
      line: () => `Unleash at http://127.0.0.1:${closedPort}/api (UNLEASH_URL) is unreachable`,
    },
  ];

  for (const { dependency, env, line } of cases) {
    it(`when ${dependency} is down, then dlq list fails in seconds with one line naming it and its variable`, async () => {
      const started = performance.now();
      const run = await runCli(['dlq', 'list'], testEnv(db.url, env()));
      const elapsed = performance.now() - started;
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.split('\n').filter(Boolean);
      expect(lines, run.stderr).toHaveLength(1);
      expect(lines[0]!.startsWith(`error: ${line()} (`), lines[0]).toBe(true);
      expect(elapsed).toBeLessThan(FAIL_WITHIN_MS);
    });
  }

  it('when Redis is down and --json is given, then the one JSON document carries dependency_unavailable', async () => {
    const run = await runCli(
      ['keys', 'create', '--tenant', 't1', '--role', 'agent', '--json'],
      testEnv(db.url, cases[0]!.env()),
    );
    expect(run.code).toBe(1);
    const doc = singleJsonDocument(run) as ErrorDocument;
    expect(doc.error.code).toBe('dependency_unavailable');
    expect(doc.error.message).toContain(cases[0]!.line());
  });
});
