// `npm run bench`: Airlock's capacity in one bounded run on this machine, reported as ratios
// to baselines measured in the same run, so figures from a noisy laptop can be compared.
//
//   npm run bench [-- --seconds 12 --connections 64 --out bench/results]
//
// Phases (loopback only; about 4 minutes with the defaults):
//   1. bare Fastify: the framework alone (bench/bare-fastify.ts), GET, closed loop;
//   2. SQL only: the proposal's own SQL (the claim, then one transaction: action, outbox row
//      and completion in one statement, and the audit event), through the same repository
//      functions, from 8 clients;
//   3. cached GET /v1/actions/{id} against `npm start` (role all);
//   4. POST /v1/actions on the allow path at saturation, one tenant, then 16 tenants; every
//      figure split by outcome, and goodput = proposals allowed AND executed per second;
//   5. the mixed workload (load-tests/workload.js, shared with k6) at a fixed arrival rate of
//      half the saturated proposal rate: p99 per endpoint and the start delay of allowed work.
// CPU per executed proposal comes from /proc: the service process, the Postgres backends
// serving its database, and Redis (on a shared Redis that includes other clients' work).
//
// Uses DATABASE_URL and REDIS_URL like the service (default: local Postgres and Redis). It
// creates and drops its own database and uses its own Redis prefix.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { withDatabase, withTransaction, quoteIdentifier, databaseNameOf } from '../src/platform/db.ts';
import { ensureDatabase, migrate } from '../src/platform/migrator.ts';
import { appendAuditEvent } from '../src/modules/audit/audit.repository.ts';
import { recordProposal } from '../src/modules/actions/actions.repository.ts';
import { claimIdempotencyKey } from '../src/modules/actions/idempotency.repository.ts';
import { EXECUTE_ACTION_TOPIC } from '../src/modules/outbox/outbox.repository.ts';
import { createAuthService } from '../src/modules/auth/auth.service.ts';
import { createLoadGenerator, summarise, type LoadResult, type Request } from './load-generator.ts';
import { cpuMs, pidsNamed, procAvailable, totalCpuMs } from './process-cpu.ts';
import * as workload from '../load-tests/workload.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '12' },
    connections: { type: 'string', default: '64' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results') },
    'keep-database': { type: 'boolean', default: false },
    // Start the service from another checkout (e.g. an older commit), same load and baselines.
    'service-root': { type: 'string', default: ROOT },
    // Linux perf on the service and the Postgres backends during the one-tenant POST phase.
    perf: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const DRAIN_LIMIT_S = 60;
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/airlock';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const database = `airlock_bench_${stamp.toLowerCase()}_${process.pid}`;
const databaseUrl = withDatabase(baseUrl, database);
const prefix = `bench-${stamp}-${process.pid}`;
const random = Math.random;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

function spawnNode(script: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, script, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

// --- 1. bare Fastify -------------------------------------------------------------------

async function bareFastify(): Promise<ReturnType<typeof summarise>> {
  const port = await freePort();
  const child = spawnNode(['bench/bare-fastify.ts', String(port)]);
  try {
    await waitHttp(`http://127.0.0.1:${port}/v1/actions/x`);
    const generator = createLoadGenerator(`http://127.0.0.1:${port}`, CONNECTIONS);
    const path = `/v1/actions/${randomUUID()}`;
    await generator.closed({
      connections: CONNECTIONS,
      seconds: 2,
      next: () => ({ tag: 'warm', method: 'GET', path }),
    });
    const result = await generator.closed({
      connections: CONNECTIONS,
      seconds: SECONDS,
      next: () => ({ tag: 'get', method: 'GET', path }),
    });
    await generator.close();
    return summarise(result.byTag.get!, result.seconds);
  } finally {
    await stop(child);
  }
}

// --- 2. SQL only -------------------------------------------------------------------------

async function sqlOnly(tenantId: string): Promise<{ per_second: number; clients: number }> {
  const clients = 8;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: clients });
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const key = randomUUID();
        const claim = await claimIdempotencyKey(pool, { tenantId, key, requestHash: 'h', leaseMs: 30_000 });
        if (claim.kind !== 'claimed') throw new Error('claim failed');
        const now = new Date();
        const id = randomUUID();
        await withTransaction(pool, async (tx) => {
          await recordProposal(tx, {
            action: {
              id,
              tenantId,
              tool: 'notes.create',
              arguments: { title: 'Weekly note', body: 'water the plants' },
              userId: 'sql-only',
              context: {},
              status: 'queued',
              decision: { outcome: 'allow', risk_score: 0, reasons: [] },
              result: null,
              error: null,
              attempts: 0,
              version: 1,
              queuedAt: now,
              createdAt: now,
              updatedAt: now,
            },
            idempotency: { key, token: claim.token },
            outbox: { topic: EXECUTE_ACTION_TOPIC, traceContext: null },
          });
          await appendAuditEvent(tx, {
            tenantId,
            actionId: id,
            type: 'action.proposed',
            actor: 'bench',
            data: { tool: 'notes.create', status: 'queued' },
          });
        });
        done += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Leave the service nothing to execute from this phase.
  await pool.query(`UPDATE outbox SET published_at = now() WHERE published_at IS NULL`);
  await pool.query(`UPDATE actions SET status = 'succeeded' WHERE user_id = 'sql-only'`);
  await pool.end();
  return { per_second: round(done / seconds, 1), clients };
}

// --- the service ------------------------------------------------------------------------

interface Service {
  child: ChildProcess;
  origin: string;
  env: Record<string, string>;
}

async function startService(): Promise<Service> {
  const [port, moderationPort, workerPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    PORT: String(port),
    MODERATION_PORT: String(moderationPort),
    MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
    WORKER_PORT: String(workerPort),
    // npm start's own defaults (LOG_LEVEL info: an access line per request), as a user runs it.
  };
  const child = spawn(process.execPath, [...(args.perf ? ['--perf-basic-prof'] : []), 'src/main.ts', 'all'], {
    cwd: args['service-root'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitHttp(`http://127.0.0.1:${port}/readyz`);
  return { child, origin: `http://127.0.0.1:${port}`, env };
}

// Keys through the service's own code (what `cli keys create` runs), without a process each.
async function createKey(tenant: string, role: 'agent' | 'reviewer' | 'admin') {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const auth = createAuthService({ pool, knownTools: () => [] });
    const created = await auth.createKey({ tenant, role });
    const { rows } = await pool.query<{ id: string }>('SELECT id::text AS id FROM tenants WHERE slug = $1', [
      tenant,
    ]);
    return { key: created.key, tenantId: rows[0]!.id };
  } finally {
    await pool.end();
  }
}

const headers = (key: string, idempotencyKey?: string): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
  ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
});

async function api(origin: string, method: string, url: string, key: string, body?: unknown) {
  const response = await fetch(origin + url, {
    method,
    headers: headers(key, method === 'POST' && url === '/v1/actions' ? randomUUID() : undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

// --- CPU accounting ----------------------------------------------------------------------

async function backendPids(admin: pg.Client): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  return rows.map((r) => r.pid);
}

async function cpuSnapshot(admin: pg.Client, service: Service) {
  const pgPids = await backendPids(admin);
  return {
    node: cpuMs(service.child.pid!) ?? 0,
    postgres: new Map(pgPids.map((pid) => [pid, cpuMs(pid) ?? 0])),
    redis: totalCpuMs(pidsNamed('redis-server')),
  };
}

function cpuDelta(
  before: Awaited<ReturnType<typeof cpuSnapshot>>,
  after: Awaited<ReturnType<typeof cpuSnapshot>>,
) {
  let postgres = 0;
  for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0);
  return { node: after.node - before.node, postgres, redis: after.redis - before.redis };
}

// --- perf -----------------------------------------------------------------------------------

function startPerf(service: Service, postgresPids: number[]) {
  mkdirSync(args.out!, { recursive: true });
  const data = path.join(args.out!, `perf-${stamp}.data`);
  const pids = [service.child.pid!, ...postgresPids].join(',');
  const perf = spawn('perf', ['record', '-F', '499', '-g', '-p', pids, '-o', data], { stdio: 'ignore' });
  return {
    async stop() {
      const exited = new Promise((resolve) => perf.once('exit', resolve));
      perf.kill('SIGINT');
      await exited;
      log(`perf data in ${data}: perf report -i ${data} --no-children --sort comm,sym`);
    },
  };
}

// --- outcomes -----------------------------------------------------------------------------

async function outcomes(admin: pg.Client, tenantIds: string[], since: Date) {
  const { rows } = await admin.query<{ outcome: string; reason: string | null; status: string; n: number }>(
    `SELECT decision->>'outcome' AS outcome,
            (SELECT string_agg(r->>'code', '+' ORDER BY r->>'code') FROM jsonb_array_elements(decision->'reasons') r) AS reason,
            status, count(*)::int AS n
       FROM actions WHERE tenant_id = ANY($1::uuid[]) AND created_at >= $2 AND user_id <> 'sql-only'
      GROUP BY 1, 2, 3`,
    [tenantIds, since],
  );
  const byOutcome: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const row of rows) {
    const label = row.outcome === 'allow' ? 'allow' : `${row.outcome}:${row.reason ?? 'none'}`;
    byOutcome[label] = (byOutcome[label] ?? 0) + row.n;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + row.n;
  }
  return { byOutcome, byStatus };
}

async function drain(admin: pg.Client, tenantIds: string[], since: Date): Promise<number> {
  const started = performance.now();
  while ((performance.now() - started) / 1000 < DRAIN_LIMIT_S) {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM actions
        WHERE tenant_id = ANY($1::uuid[]) AND created_at >= $2 AND status IN ('queued', 'running')`,
      [tenantIds, since],
    );
    if (rows[0]!.n === 0) break;
    await sleep(100);
  }
  return (performance.now() - started) / 1000;
}

// --- 4. POST on the allow path at saturation -----------------------------------------

async function postSaturation(
  admin: pg.Client,
  service: Service,
  tenants: Array<{ id: string; key: string }>,
  label: string,
  // A fixed arrival rate instead of closed-loop connections: CPU per executed proposal is
  // taken here, where no CPU goes to refusing requests.
  rate?: number,
) {
  const generator = createLoadGenerator(service.origin, CONNECTIONS);
  const tenantIds = tenants.map((t) => t.id);
  let i = 0;
  const next = (): Request => {
    const tenant = tenants[i++ % tenants.length]!;
    return {
      tag: 'post',
      method: 'POST',
      path: '/v1/actions',
      headers: headers(tenant.key, randomUUID()),
      body: JSON.stringify(workload.allowPathProposal(random)),
    };
  };
  // Warm-up, not counted: JIT, pools, prepared statements.
  if (rate) await generator.open({ rate, seconds: 2, next });
  else await generator.closed({ connections: CONNECTIONS, seconds: 2, next });
  await drain(admin, tenantIds, new Date(0));
  const since = new Date();
  const cpuBefore = await cpuSnapshot(admin, service);
  const profiling = args.perf && rate ? startPerf(service, [...cpuBefore.postgres.keys()]) : undefined;
  const result = rate
    ? await generator.open({ rate, seconds: SECONDS, next })
    : await generator.closed({ connections: CONNECTIONS, seconds: SECONDS, next });
  await profiling?.stop();
  const drainSeconds = await drain(admin, tenantIds, since);
  const cpuAfter = await cpuSnapshot(admin, service);
  await generator.close();
  const split = await outcomes(admin, tenantIds, since);
  const post = summarise(result.byTag.post!, result.seconds);
  const executed = split.byStatus.succeeded ?? 0;
  const admitted = Object.values(split.byOutcome).reduce((a, b) => a + b, 0);
  const allowed = split.byOutcome.allow ?? 0;
  const cpu = cpuDelta(cpuBefore, cpuAfter);
  const perExecuted = (ms: number) => (executed ? round(ms / executed, 2) : null);
  log(
    `${label}: ${post.per_second} req/s, ${allowed} allowed, ${executed} executed, drain ${round(drainSeconds, 1)} s`,
  );
  return {
    label,
    tenants: tenants.length,
    connections: rate ? null : CONNECTIONS,
    rate_per_second: rate ?? null,
    seconds: round(result.seconds, 1),
    http: post,
    shed_503: post.statuses['503'] ?? 0,
    admitted,
    outcomes: split.byOutcome,
    statuses: split.byStatus,
    allowed_per_second: round(allowed / result.seconds, 1),
    drain_seconds: round(drainSeconds, 1),
    // Allowed AND executed, over the window plus the time execution took to catch up.
    goodput_per_second: round(executed / (result.seconds + drainSeconds), 1),
    changed_decision_share: admitted ? round((admitted - allowed) / admitted, 4) : 0,
    cpu_ms: { node: round(cpu.node), postgres: round(cpu.postgres), redis_server_total: round(cpu.redis) },
    cpu_ms_per_executed: {
      node: perExecuted(cpu.node),
      postgres: perExecuted(cpu.postgres),
      redis_server_total: perExecuted(cpu.redis),
      total: perExecuted(cpu.node + cpu.postgres + cpu.redis),
    },
  };
}

// --- 3. cached GET --------------------------------------------------------------------------

async function cachedGet(service: Service, key: string, actionId: string) {
  const generator = createLoadGenerator(service.origin, CONNECTIONS);
  const path = `/v1/actions/${actionId}`;
  const next = (): Request => ({ tag: 'get', method: 'GET', path, headers: headers(key) });
  await generator.closed({ connections: CONNECTIONS, seconds: 2, next });
  const result = await generator.closed({ connections: CONNECTIONS, seconds: SECONDS, next });
  await generator.close();
  return summarise(result.byTag.get!, result.seconds);
}

// --- 5. mixed workload at a fixed rate ------------------------------------------------------

async function metricsText(service: Service): Promise<string> {
  return (await fetch(`${service.origin}/metrics`)).text();
}

function startDelayWithin(text: string, seconds: number): { within: number; count: number } {
  const bucket = new RegExp(`^airlock_action_start_delay_seconds_bucket\\{le="${seconds}"\\} (\\S+)$`, 'm');
  const count = /^airlock_action_start_delay_seconds_count (\S+)$/m;
  return { within: Number(bucket.exec(text)?.[1] ?? 0), count: Number(count.exec(text)?.[1] ?? 0) };
}

async function mixed(
  admin: pg.Client,
  service: Service,
  tenant: { id: string; agent: string; reviewer: string },
  proposalsPerSecond: number,
  readIds: string[],
  reportedId: string,
) {
  const rate = Math.max(5, proposalsPerSecond / workload.MIX.propose);
  const generator = createLoadGenerator(service.origin, CONNECTIONS);
  const attacks = { sent: 0, held: 0 };
  let degraded = 0;
  let benign = 0;
  const next = (): Request => {
    switch (workload.pickOperation(random)) {
      case 'read':
        return {
          tag: 'get',
          method: 'GET',
          path: `/v1/actions/${readIds[Math.floor(random() * readIds.length)]}`,
          headers: headers(tenant.agent),
        };
      case 'propose': {
        const { attack, body } = workload.proposal(random);
        return {
          tag: 'post',
          method: 'POST',
          path: '/v1/actions',
          headers: headers(tenant.agent, randomUUID()),
          body: JSON.stringify(body),
          onAnswer: (status, text) => {
            if (status !== 201) return;
            const action = JSON.parse(text) as { decision: { outcome: string } };
            if (attack) {
              attacks.sent += 1;
              if (action.decision.outcome !== 'allow') attacks.held += 1;
            } else {
              benign += 1;
              if (workload.isDegraded(attack, action)) degraded += 1;
            }
          },
        };
      }
      case 'review':
        return {
          tag: 'review',
          method: 'GET',
          path: '/v1/reviews?limit=5',
          headers: headers(tenant.reviewer),
        };
      default:
        return {
          tag: 'report',
          method: 'POST',
          path: `/v1/actions/${reportedId}/reports`,
          headers: headers(tenant.agent),
          body: JSON.stringify(workload.REPORT),
        };
    }
  };
  const before = startDelayWithin(await metricsText(service), workload.SLO.startWithinSeconds);
  const since = new Date();
  const result: LoadResult = await generator.open({ rate, seconds: SECONDS * 2, next });
  await drain(admin, [tenant.id], since);
  const after = startDelayWithin(await metricsText(service), workload.SLO.startWithinSeconds);
  await generator.close();
  const started = after.count - before.count;
  const split = await outcomes(admin, [tenant.id], since);
  return {
    rate_per_second: round(rate, 1),
    seconds: round(result.seconds, 1),
    endpoints: Object.fromEntries(
      Object.entries(result.byTag).map(([tag, stats]) => [tag, summarise(stats, result.seconds)]),
    ),
    outcomes: split.byOutcome,
    benign_proposals: benign,
    benign_degraded_share: benign ? round(degraded / benign, 4) : 0,
    attacks_held: `${attacks.held}/${attacks.sent}`,
    started_within_5s_share: started ? round((after.within - before.within) / started, 4) : null,
  };
}

// --- the run ---------------------------------------------------------------------------------

async function main() {
  const wallStarted = performance.now();
  if (!procAvailable()) log('no /proc here: CPU per executed proposal is not measured');
  log(`database ${database}, redis prefix ${prefix}, ${SECONDS} s per phase, ${CONNECTIONS} connections`);
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  let service: Service | undefined;
  try {
    log('1/5 bare Fastify baseline');
    const bare = await bareFastify();

    log('2/5 SQL-only baseline');
    const { rows } = await admin.query<{ id: string }>(
      `INSERT INTO tenants (slug) VALUES ('bench-sql') RETURNING id::text AS id`,
    );
    const sql = await sqlOnly(rows[0]!.id);

    log('starting npm start (role all)');
    service = await startService();
    const agent = await createKey('bench', 'agent');
    const reviewer = await createKey('bench', 'reviewer');
    const adminKey = await createKey('bench', 'admin');
    const tenantId = agent.tenantId;
    await api(service.origin, 'PUT', '/v1/policy', adminKey.key, workload.POLICY);
    const readIds: string[] = [];
    for (let n = 0; n < 20; n++) {
      readIds.push(
        (await api(service.origin, 'POST', '/v1/actions', agent.key, workload.allowPathProposal(random)))
          .id as string,
      );
    }
    const reported = await api(service.origin, 'POST', '/v1/actions', agent.key, workload.reportedProposal());

    log('3/5 cached GET');
    const get = await cachedGet(service, agent.key, readIds[0]!);

    log('4/5 POST allow path at saturation, 1 tenant then 16, then at a fixed rate');
    const one = await postSaturation(admin, service, [{ id: tenantId, key: agent.key }], 'one tenant');
    const many: Array<{ id: string; key: string }> = [];
    for (let n = 0; n < 16; n++) {
      const created = await createKey(`bench-t${n}`, 'agent');
      many.push({ id: created.tenantId, key: created.key });
    }
    const sixteen = await postSaturation(admin, service, many, '16 tenants');
    const fixedRate = Math.max(5, Math.round(one.allowed_per_second / 2));
    log(`POST allow path at a fixed ${fixedRate}/s (half the saturated allowed rate), one tenant`);
    const fixed = await postSaturation(
      admin,
      service,
      [{ id: tenantId, key: agent.key }],
      `one tenant, fixed ${fixedRate}/s`,
      fixedRate,
    );

    log('5/5 mixed workload at half the saturated proposal rate');
    const mix = await mixed(
      admin,
      service,
      { id: tenantId, agent: agent.key, reviewer: reviewer.key },
      one.allowed_per_second / 2,
      readIds,
      reported.id as string,
    );

    const report = {
      taken_at: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      note: 'Same-run ratios are the figures to compare; absolute figures move with the machine and its load.',
      baselines: { bare_fastify_get: bare, sql_only_proposals: sql },
      cached_get: get,
      post_allow_path: [one, sixteen, fixed],
      mixed: mix,
      ratios: {
        goodput_one_tenant_to_sql_only: round(one.goodput_per_second / sql.per_second),
        goodput_16_tenants_to_sql_only: round(sixteen.goodput_per_second / sql.per_second),
        cached_get_to_bare_fastify: round(get.per_second / bare.per_second),
      },
      targets: [] as Array<{
        target: string;
        goal: string;
        measured: string | number | null;
        met: boolean | null;
      }>,
      wall_seconds: 0,
    };
    const target = (name: string, goal: string, measured: number | string | null, met: boolean | null) =>
      report.targets.push({ target: name, goal, measured, met });
    target(
      'goodput / SQL-only, one tenant',
      '>= 0.15 (aim 0.25)',
      report.ratios.goodput_one_tenant_to_sql_only,
      report.ratios.goodput_one_tenant_to_sql_only >= 0.15,
    );
    target(
      'goodput / SQL-only, 16 tenants',
      'reported beside',
      report.ratios.goodput_16_tenants_to_sql_only,
      null,
    );
    target(
      `admitted proposals that changed decision, ${CONNECTIONS} connections`,
      '<= 1%',
      one.changed_decision_share,
      one.changed_decision_share <= 0.01,
    );
    const refusals = Object.entries(one.http.statuses).filter(([code]) => code !== '201');
    target(
      'every refusal is 503 overloaded',
      'only 201 and 503',
      refusals.map(([c, n]) => `${c}:${n}`).join(' ') || 'none',
      refusals.every(([code]) => code === '503') && one.http.errors === 0,
    );
    const admittedP99 = one.http.latency_by_status['201']?.p99_ms ?? null;
    target(
      `p99 of admitted proposals, ${CONNECTIONS} connections`,
      '< 250 ms',
      admittedP99,
      admittedP99 !== null && admittedP99 < 250,
    );
    target(
      'execution backlog bounded (drain after the run)',
      '< 5 s',
      one.drain_seconds,
      one.drain_seconds < 5,
    );
    const mixPost = mix.endpoints.post
      ? { p99_ms: mix.endpoints.post.latency_by_status['201']?.p99_ms ?? mix.endpoints.post.p99_ms }
      : undefined;
    const mixGet = mix.endpoints.get;
    target(
      'p99 POST at half saturation',
      '< 100 ms',
      mixPost?.p99_ms ?? null,
      mixPost ? mixPost.p99_ms < 100 : null,
    );
    target(
      'p99 cached GET at half saturation',
      '< 20 ms',
      mixGet?.p99_ms ?? null,
      mixGet ? mixGet.p99_ms < 20 : null,
    );
    target(
      'allowed actions started within 5 s at half saturation',
      '>= 99%',
      mix.started_within_5s_share,
      mix.started_within_5s_share === null ? null : mix.started_within_5s_share >= 0.99,
    );
    const cpuPer = fixed.cpu_ms_per_executed.total;
    target(
      `CPU per executed proposal, all processes, at ${fixedRate}/s`,
      '< 5 ms',
      cpuPer,
      cpuPer === null ? null : cpuPer < 5,
    );
    target(
      'cached GET / bare Fastify',
      '>= 0.40',
      report.ratios.cached_get_to_bare_fastify,
      report.ratios.cached_get_to_bare_fastify >= 0.4,
    );
    report.wall_seconds = round((performance.now() - wallStarted) / 1000, 1);

    mkdirSync(args.out!, { recursive: true });
    const file = path.join(args.out!, `bench-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(path.join(args.out!, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(table(report));
    log(`wrote ${file} (${report.wall_seconds} s)`);
  } finally {
    await stop(service?.child);
    await admin.end();
    if (!args['keep-database']) await dropDatabase();
  }
}

function table(report: {
  baselines: {
    bare_fastify_get: { per_second: number; p99_ms: number };
    sql_only_proposals: { per_second: number };
  };
  cached_get: { per_second: number; p99_ms: number };
  post_allow_path: Array<{
    label: string;
    http: { per_second: number; p99_ms: number; latency_by_status: Record<string, { p99_ms: number }> };
    shed_503: number;
    allowed_per_second: number;
    goodput_per_second: number;
    outcomes: Record<string, number>;
    cpu_ms_per_executed: Record<string, number | null>;
  }>;
  mixed: {
    rate_per_second: number;
    endpoints: Record<string, { p99_ms: number; per_second: number }>;
    benign_degraded_share: number;
    attacks_held: string;
    started_within_5s_share: number | null;
  };
  targets: Array<{ target: string; goal: string; measured: string | number | null; met: boolean | null }>;
}): string {
  const lines: string[] = [];
  const b = report.baselines;
  lines.push('', '| run | per second | p99 ms | notes |', '| --- | ---: | ---: | --- |');
  lines.push(
    `| bare Fastify GET (baseline) | ${b.bare_fastify_get.per_second} | ${b.bare_fastify_get.p99_ms} | |`,
  );
  lines.push(
    `| SQL only, the proposal's own SQL (baseline) | ${b.sql_only_proposals.per_second} | | 8 clients |`,
  );
  lines.push(
    `| cached GET /v1/actions/{id} | ${report.cached_get.per_second} | ${report.cached_get.p99_ms} | |`,
  );
  for (const run of report.post_allow_path) {
    const outcomes = Object.entries(run.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `| POST allow path, ${run.label} | ${run.http.per_second} | ${run.http.latency_by_status['201']?.p99_ms ?? '-'} (201s), ${run.http.latency_by_status['503']?.p99_ms ?? '-'} (503s) | allowed ${run.allowed_per_second}/s, **goodput ${run.goodput_per_second}/s**, 503 ${run.shed_503}; ${outcomes}; CPU/executed ${run.cpu_ms_per_executed.total} ms (node ${run.cpu_ms_per_executed.node}, pg ${run.cpu_ms_per_executed.postgres}, redis ${run.cpu_ms_per_executed.redis_server_total}) |`,
    );
  }
  const m = report.mixed;
  for (const [tag, s] of Object.entries(m.endpoints)) {
    lines.push(`| mixed at ${m.rate_per_second}/s: ${tag} | ${s.per_second} | ${s.p99_ms} | |`);
  }
  lines.push(
    `| mixed: benign proposals degraded | ${m.benign_degraded_share} | | attacks held ${m.attacks_held}; started within 5 s ${m.started_within_5s_share} |`,
  );
  lines.push('', '| target | goal | measured | met |', '| --- | --- | ---: | --- |');
  for (const t of report.targets)
    lines.push(
      `| ${t.target} | ${t.goal} | ${t.measured} | ${t.met === null ? '-' : t.met ? 'yes' : '**no**'} |`,
    );
  return `${lines.join('\n')}\n`;
}

async function dropDatabase() {
  const client = new pg.Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  await client.connect();
  await client
    .query(`DROP DATABASE IF EXISTS ${quoteIdentifier(databaseNameOf(databaseUrl))} WITH (FORCE)`)
    .catch(() => undefined);
  await client.end();
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  await dropDatabase().catch(() => undefined);
  process.exit(1);
});
