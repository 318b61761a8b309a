import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { createServiceLogger } from '../../src/wiring/observability.ts';
import { noteBody } from '../helpers/api-client.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.ts';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.ts';
import { createLogCapture, testEnv, waitFor } from '../helpers/test-env.ts';
import { useTestStack } from '../helpers/use-test-stack.ts';
import {
  BUILTIN_SERIES,
  EXPORTER_SERIES,
  baseMetricName,
  extractMetricNames,
  recordingRuleNames,
} from '../observability/promql-metric-names.ts';
import {
  localCommand,
  markingProblem,
  promqlQueries,
  readBlocks,
  runbookFiles,
  RUNBOOKS_DIR,
  runnableSteps,
  substitutePlaceholders,
  type RunnableStep,
} from './runbook-steps.ts';

// Every step a runbook marks runnable is executed here against a running stack: the real
// service (API, relay, worker) on a scratch database and a private Redis, a real Prometheus
// scraping it with the shipped rules, and the operator CLI as a child process. Compose
// commands run in their local form and placeholders get real values (runbooks/README.md).
// A step that fails here would fail the on-call engineer who pastes it.

const ROOT = path.resolve(import.meta.dirname, '../..');
const files = runbookFiles();
const blocks = files.flatMap((f) => readBlocks(f));
const steps = runnableSteps(blocks);

describe('runbook steps are marked', () => {
  it('when the runbooks are read, then every sh, sql and promql block is runnable or says why it is manual', () => {
    const problems = blocks.flatMap((b) => {
      const problem = markingProblem(b);
      return problem ? [`${b.file}:${b.line}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('when an alert runbook is read, then it has at least one runnable step', () => {
    const withSteps = new Set(steps.map((s) => s.file));
    expect(files.filter((f) => f !== 'README.md' && !withSteps.has(f))).toEqual([]);
  });

  it('when runbooks grep the logs, then they look for the level the service writes', () => {
    const capture = createLogCapture();
    const logger = createServiceLogger(
      loadConfig({ DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' }),
      {
        destination: capture.destination,
      },
    );
    logger.error('boom');
    expect(capture.lines[0]).toContain('"level":"error"');
    const text = files.map((f) => readFileSync(path.join(RUNBOOKS_DIR, f), 'utf8')).join('\n');
    expect(text).not.toMatch(/"level":\s*50/);
    expect(text).not.toMatch(/docker compose exec api/);
  });
});

let redis: PrivateRedis;
let prometheus: PrometheusServer;
let apiUrl: string;
let rogue: pg.Client;
const values: Record<string, string> = { tool: 'notes.create', slug: 'acme' };

beforeAll(async () => {
  redis = await startPrivateRedis();
});

const { stack, api, ids } = useTestStack(
  () => ({ worker: true, env: { REDIS_URL: redis.url, REDIS_PREFIX: 'airlock' } }),
  { agent: ['acme', 'agent'] },
);

beforeAll(async () => {
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  prometheus = await startPrometheus({
    targets: { 'airlock-api': new URL(apiUrl).host },
    scrapeIntervalSeconds: 1,
    evaluationIntervalSeconds: 1,
    externalLabels: { runbook_base: apiUrl },
  });
  // Traffic, so the request and job series exist, then a dead letter to list, replay and
  // discard, and a session holding a row lock for the steps that find and end blockers.
  const actions = [];
  for (let i = 0; i < 5; i += 1) actions.push(await api.created(ids.agent.key, noteBody(`n${i}`)));
  await api.waitForStatus(actions[0]!.id, ['succeeded']);
  // Two dead letters: one to discard by its job id, one for the bulk replay.
  const jobIds: string[] = [];
  for (const failed of actions.slice(1, 3)) {
    await api.waitForStatus(failed.id, ['succeeded']);
    await stack.container.pool.query(`UPDATE actions SET status = 'failed' WHERE id = $1`, [failed.id]);
    const jobId = `outbox-runbook-${failed.id}`;
    await stack.container.pool.query(
      `INSERT INTO dead_letters (job_id, tenant_id, action_id, tool, attempts, error)
       VALUES ($1, $2, $3, 'notes.create', 5, '{"code": "dependency_throttled"}')`,
      [jobId, ids.agent.tenantId, failed.id],
    );
    jobIds.push(jobId);
  }
  Object.assign(values, { 'job-id': jobIds[0]!, code: 'dependency_throttled' });
  rogue = new pg.Client({ connectionString: stack.databaseUrl, application_name: 'rogue-session' });
  rogue.on('error', () => undefined); // a runbook step terminates it
  await rogue.connect();
  await rogue.query('BEGIN');
  await rogue.query('SELECT id FROM tenants WHERE slug = $1 FOR UPDATE', ['acme']);
  values.pid = String((await rogue.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  await waitFor(async () => (await prometheus.query('up{job="airlock-api"} == 1')).length === 1, {
    timeoutMs: 30_000,
    what: 'Prometheus scraping the service',
  });
}, 120_000);

afterAll(async () => {
  await rogue?.end().catch(() => undefined);
  await prometheus?.stop();
  await stack.close();
  await redis?.stop();
});

function runShell(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', command], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function exportedNames(): Promise<Set<string>> {
  const text = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
  return new Set(
    text
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]!),
  );
}

async function run(step: RunnableStep): Promise<void> {
  const body = substitutePlaceholders(step.body, values);
  if (step.language === 'sql') {
    const client = new pg.Client({ connectionString: stack.databaseUrl, application_name: 'runbook-step' });
    await client.connect();
    try {
      await client.query(body);
    } finally {
      await client.end();
    }
    return;
  }
  if (step.language === 'promql') {
    const produced = new Set([...BUILTIN_SERIES, ...EXPORTER_SERIES, ...recordingRuleNames()]);
    const exported = await exportedNames();
    for (const query of promqlQueries(body)) {
      await prometheus.query(query);
      const unknown = extractMetricNames(query).filter(
        (n) => !produced.has(n) && !exported.has(baseMetricName(n)) && !exported.has(n),
      );
      expect(unknown, query).toEqual([]);
    }
    return;
  }
  const command = localCommand(body, { redisPort: redis.port, prometheusUrl: prometheus.url, apiUrl });
  const env = {
    ...testEnv(stack.databaseUrl, { REDIS_URL: redis.url, REDIS_PREFIX: 'airlock', LOG_LEVEL: 'warn' }),
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
  };
  const result = await runShell(command, env);
  expect(result.code, `${command}\n${result.output}`).toBe(0);
}

describe('runbook steps run against a running stack', () => {
  for (const step of steps) {
    it(`${step.file}:${step.line} (${step.language})`, () => run(step), 90_000);
  }
});
