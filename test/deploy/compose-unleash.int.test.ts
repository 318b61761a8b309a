import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/platform/config.ts';
import { quoteIdentifier, withDatabase } from '../../src/platform/db.ts';
import { createTestDatabase, freePort, testEnv, waitFor } from '../helpers/test-env.ts';
import { withAdmin } from '../helpers/unleash-server.ts';
import { itWithTool, repoPath, run, toolVersion } from './deploy-tools.ts';

// The compose stack's Unleash wiring, run for real: the `unleash` service's environment as
// docker-compose resolves it from .env.example, given to the same unleash-server package
// the Unleash image runs (only DATABASE_URL and the port point at this machine); then the
// `seed` service's seeding with its admin token, and a read with the roles' backend token.
const dockerCompose = toolVersion('docker-compose', ['version', '--short']);
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/airlock';

interface Resolved {
  services: Record<string, { environment: Record<string, string> }>;
}

let resolved: Resolved;
let database: string;
let unleash: ChildProcess | undefined;
let unleashUrl: string;
let output = '';

const admin = <T>(work: (client: pg.Client) => Promise<T>) => withAdmin(SERVER_URL, work);

beforeAll(async () => {
  if (!dockerCompose) return;
  const rendered = run('docker-compose', ['--env-file', repoPath('.env.example'), 'config']);
  if (rendered.status !== 0) throw new Error(rendered.output);
  resolved = parse(rendered.stdout) as Resolved;

  // The name carries its creation time, so a run that crashed before afterAll leaves a
  // database the next run can recognise as stale and drop.
  const now = Math.floor(Date.now() / 1000);
  database = `unleash_compose_${now}_${randomBytes(4).toString('hex')}`;
  await admin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname ~ '^unleash_compose_[0-9]+_'`,
    );
    for (const { datname } of rows) {
      if (Number(datname.split('_')[2]) < now - 2 * 3600) {
        await c.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(datname)} WITH (FORCE)`);
      }
    }
    await c.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
  });
  const port = await freePort();
  unleashUrl = `http://127.0.0.1:${port}`;
  unleash = spawn(
    process.execPath,
    ['--input-type=module', '-e', "(await import('unleash-server')).start()"],
    {
      cwd: repoPath(),
      env: {
        PATH: process.env.PATH ?? '',
        ...resolved.services.unleash!.environment,
        DATABASE_URL: withDatabase(SERVER_URL, database),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  unleash.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  unleash.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(async () => (await fetch(`${unleashUrl}/health`).catch(() => undefined))?.ok, {
    timeoutMs: 90_000,
    intervalMs: 250,
    what: 'unleash-server /health',
  });
}, 120_000);

afterAll(async () => {
  if (unleash && unleash.exitCode === null) {
    const exited = new Promise((resolve) => unleash!.once('exit', resolve));
    unleash.kill('SIGKILL');
    await exited;
  }
  if (database)
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`));
});

describe('the compose Unleash, seed and roles, wired as compose resolves them', () => {
  itWithTool(
    'docker-compose',
    Boolean(dockerCompose),
    "when the seed step runs with the compose admin token, then it creates the contract's flags and the roles' backend token reads them",
    async () => {
      const seedEnv = resolved.services.seed!.environment;
      const seeded = spawnSync(process.execPath, ['scripts/unleash-seed.ts'], {
        cwd: repoPath(),
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          UNLEASH_URL: seedEnv.UNLEASH_URL!.replace('http://unleash:4242', unleashUrl),
          UNLEASH_ADMIN_TOKEN: seedEnv.UNLEASH_ADMIN_TOKEN,
          UNLEASH_ENVIRONMENT: seedEnv.UNLEASH_ENVIRONMENT,
        },
      });
      expect(seeded.status, `${seeded.stdout}\n${seeded.stderr}\n${output.slice(-2000)}`).toBe(0);
      const result = JSON.parse(seeded.stdout) as { created: string[]; existing: string[] };
      expect(result.created).toEqual(expect.arrayContaining(['kill-switch.all', 'auto-approve']));

      const apiEnv = resolved.services.api!.environment;
      const features = await fetch(`${unleashUrl}/api/client/features`, {
        headers: { authorization: apiEnv.UNLEASH_API_TOKEN! },
      });
      expect(features.status).toBe(200);
      const names = ((await features.json()) as { features: { name: string }[] }).features.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['kill-switch.all', 'auto-approve']));
      // The backend token must not be able to change anything.
      const write = await fetch(`${unleashUrl}/api/admin/projects/default/features`, {
        method: 'POST',
        headers: { authorization: apiEnv.UNLEASH_API_TOKEN!, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'not-allowed' }),
      });
      expect([401, 403]).toContain(write.status);
    },
    120_000,
  );

  itWithTool(
    'docker-compose',
    Boolean(dockerCompose),
    "when deploy/compose/seed.sh runs with the seed service's environment, then it writes Alertmanager's webhook token, keeps it, and rewrites it when it changes",
    async () => {
      const db = await createTestDatabase();
      const dir = mkdtempSync(path.join(tmpdir(), 'airlock-seed-'));
      try {
        const seedEnv = resolved.services.seed!.environment;
        const tokenFile = path.join(dir, path.basename(seedEnv.ALERT_TOKEN_FILE!));
        const env = {
          ...testEnv(db.url),
          PATH: process.env.PATH ?? '',
          UNLEASH_URL: seedEnv.UNLEASH_URL!.replace('http://unleash:4242', unleashUrl),
          UNLEASH_API_TOKEN: seedEnv.UNLEASH_API_TOKEN!,
          UNLEASH_ADMIN_TOKEN: seedEnv.UNLEASH_ADMIN_TOKEN!,
          UNLEASH_ENVIRONMENT: seedEnv.UNLEASH_ENVIRONMENT!,
          ALERT_WEBHOOK_TOKEN: seedEnv.ALERT_WEBHOOK_TOKEN!,
          ALERT_TOKEN_FILE: tokenFile,
        };
        const runSeed = (extra: Record<string, string> = {}) =>
          spawnSync('sh', ['deploy/compose/seed.sh'], {
            cwd: repoPath(),
            env: { ...env, ...extra },
            encoding: 'utf8',
            timeout: 90_000,
          });
        const first = runSeed();
        expect(first.status, `${first.stdout}\n${first.stderr}`).toBe(0);
        // The api's token, as compose gives it to the api service.
        expect(readFileSync(tokenFile, 'utf8')).toBe(resolved.services.api!.environment.ALERT_WEBHOOK_TOKEN);
        expect(statSync(tokenFile).mode & 0o777).toBe(0o644);

        const second = runSeed();
        expect(second.status, `${second.stdout}\n${second.stderr}`).toBe(0);
        expect(second.stdout).toContain('keeping the Alertmanager token');

        const rotated = runSeed({ ALERT_WEBHOOK_TOKEN: 'rotated-token-0123456789abcdef' });
        expect(rotated.status, `${rotated.stdout}\n${rotated.stderr}`).toBe(0);
        expect(readFileSync(tokenFile, 'utf8')).toBe('rotated-token-0123456789abcdef');

        // No tenant key is involved any more.
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          const { rows } = await client.query('SELECT 1 FROM api_keys');
          expect(rows).toHaveLength(0);
        } finally {
          await client.end();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await db.drop();
      }
    },
    180_000,
  );

  itWithTool(
    'docker-compose',
    Boolean(dockerCompose),
    "when Airlock's config loads each role's resolved environment, then it accepts it",
    () => {
      for (const role of ['api', 'worker', 'moderation', 'seed', 'cli', 'migrate']) {
        expect(() => loadConfig(resolved.services[role]!.environment), role).not.toThrow();
      }
    },
  );
});
