// What one executed proposal costs the database, and how much of the pool waits on locks,
// measured for two versions of the code in one run so the figures read as ratios.
//
//   node bench/execution-cost.ts [--repos before=/tmp/airlock-before,after=.] [--proposals 300]
//                                [--concurrency 16] [--duration 10] [--rounds 2]
//
// Each (repo, round) runs in a child process against a database of its own, on the Postgres
// and Redis of DATABASE_URL / REDIS_URL (127.0.0.1 defaults). Two phases:
// - statements: N proposals one at a time, then the relay, then the worker (and the audit
//   chainer where the version has one), each phase counting the round trips it makes;
// - contention: `concurrency` callers propose for `duration` seconds with the relay and
//   worker running, sampling the pool's waiting clients and the backends waiting on a lock.
// A repo other than this one needs its node_modules (a symlink to this one's will do).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type PgModule from 'pg';

const { values: args } = parseArgs({
  options: {
    repos: { type: 'string', default: `after=${process.cwd()}` },
    repo: { type: 'string' },
    label: { type: 'string' },
    child: { type: 'boolean', default: false },
    proposals: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
  },
});

interface ChildResult {
  label: string;
  statements: Record<string, number>;
  named_share: number;
  contention: {
    proposals_per_second: number;
    executed_per_second: number;
    p99_ms: number;
    pool_waiting_mean: number;
    lock_waiting_mean: number;
    lock_waiting_max: number;
  };
}

if (args.child) await child(path.resolve(args.repo!), args.label!);
else await parent();

async function parent(): Promise<void> {
  const repos = args
    .repos!.split(',')
    .map((pair) => pair.split('='))
    .map(([label, dir]) => ({ label: label!, dir: path.resolve(dir!) }));
  const results: ChildResult[] = [];
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const repo of repos) {
      const out = await new Promise<string>((resolve, reject) => {
        const proc = spawn(
          process.execPath,
          [
            import.meta.filename,
            '--child',
            '--repo',
            repo.dir,
            '--label',
            repo.label,
            '--proposals',
            args.proposals!,
            '--concurrency',
            args.concurrency!,
            '--duration',
            args.duration!,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let text = '';
        proc.stdout.on('data', (chunk) => (text += chunk));
        proc.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}`))));
      });
      const result = JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
      console.log(JSON.stringify({ round, ...result }));
      results.push(result);
    }
  }
  const byLabel = new Map<string, ChildResult[]>();
  for (const r of results) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const mean = (rs: ChildResult[], pick: (r: ChildResult) => number) =>
    rs.reduce((sum, r) => sum + pick(r), 0) / rs.length;
  const rows = [...byLabel].map(([label, rs]) => ({
    label,
    statements_per_executed: mean(rs, (r) => r.statements.total_per_proposal!),
    api: mean(rs, (r) => r.statements.api_per_proposal!),
    relay: mean(rs, (r) => r.statements.relay_per_proposal!),
    worker: mean(rs, (r) => r.statements.worker_per_proposal!),
    chainer: mean(rs, (r) => r.statements.chainer_per_proposal!),
    other: mean(rs, (r) => r.statements.other_per_proposal!),
    named_share: mean(rs, (r) => r.named_share),
    proposals_per_second: mean(rs, (r) => r.contention.proposals_per_second),
    executed_per_second: mean(rs, (r) => r.contention.executed_per_second),
    p99_ms: mean(rs, (r) => r.contention.p99_ms),
    pool_waiting_mean: mean(rs, (r) => r.contention.pool_waiting_mean),
    lock_waiting_mean: mean(rs, (r) => r.contention.lock_waiting_mean),
  }));
  console.log(
    '\n| version | statements / executed proposal (api + relay + worker + chainer) | other | named | proposals/s | executed/s | p99 ms | pool waiting (mean) | backends waiting on a lock (mean) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.label} | ${r.statements_per_executed.toFixed(1)} (${r.api.toFixed(1)} + ${r.relay.toFixed(2)} + ${r.worker.toFixed(1)} + ${r.chainer.toFixed(2)}) | ${r.other.toFixed(2)} | ${(r.named_share * 100).toFixed(0)}% | ${r.proposals_per_second.toFixed(0)} | ${r.executed_per_second.toFixed(0)} | ${r.p99_ms.toFixed(0)} | ${r.pool_waiting_mean.toFixed(2)} | ${r.lock_waiting_mean.toFixed(2)} |`,
    );
  }
  if (rows.length === 2) {
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const ratio = (x: number, y: number) => (y === 0 ? 'n/a' : (x / y).toFixed(2));
    console.log(
      `\n${b.label}/${a.label}: statements ${ratio(b.statements_per_executed, a.statements_per_executed)}, proposals/s ${ratio(b.proposals_per_second, a.proposals_per_second)}, executed/s ${ratio(b.executed_per_second, a.executed_per_second)}, p99 ${ratio(b.p99_ms, a.p99_ms)}, pool waiting ${ratio(b.pool_waiting_mean, a.pool_waiting_mean)}, lock waiting ${ratio(b.lock_waiting_mean, a.lock_waiting_mean)}`,
    );
  }
}

async function child(repo: string, label: string): Promise<void> {
  const load = (file: string) => import(pathToFileURL(path.join(repo, file)).href);
  const require = createRequire(path.join(repo, 'package.json'));
  const pg = require('pg') as typeof PgModule;

  Error.stackTraceLimit = 60;
  // Every round trip a client makes, by component; the bench's own probe clients are left out.
  let attribute = false;
  const counts: Record<string, number> = {};
  const componentOf = (stack: string): string => {
    if (/outbox-relay/.test(stack)) return 'relay';
    if (/audit-chainer/.test(stack)) return 'chainer';
    if (/modules\/execution\//.test(stack)) return 'worker';
    if (/modules\/(actions|auth|policy|decisions|reviews)\/|outbox-notifier|request-deadline/.test(stack))
      return 'api';
    return 'other';
  };
  let named = 0;
  let total = 0;
  const ignored = new WeakSet<object>();
  const originalQuery = pg.Client.prototype.query;
  const count = (first: unknown) => {
    const component = componentOf(new Error().stack ?? '');
    counts[component] = (counts[component] ?? 0) + 1;
    total += 1;
    if (typeof first === 'object' && (first as { name?: string } | null)?.name) named += 1;
  };
  pg.Client.prototype.query = function (this: object, ...rest: unknown[]) {
    // pool.query() reaches here from a pool callback, where the caller's stack is lost: it
    // was counted when the pool was called.
    if (attribute && !ignored.has(this) && !/pg-pool[\\/]index\.js/.test(new Error().stack ?? ''))
      count(rest[0]);
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, rest);
  } as typeof originalQuery;
  const originalPoolQuery = pg.Pool.prototype.query;
  pg.Pool.prototype.query = function (this: object, ...rest: unknown[]) {
    if (attribute) count(rest[0]);
    return (originalPoolQuery as (...a: unknown[]) => unknown).apply(this, rest);
  } as typeof originalPoolQuery;

  const { loadConfig } = await load('src/platform/config.ts');
  const { ensureDatabase, migrate } = await load('src/platform/migrator.ts');
  const { buildContainer } = await load('src/container.ts');
  const { createLogger } = await load('src/platform/logger.ts');

  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `airlock_execution_bench_${label}_${randomBytes(3).toString('hex')}`;
  const dbUrl = new URL(base);
  dbUrl.pathname = `/${dbName}`;
  const moderationPort = await freePortInBlock(35100, 35199);
  const config = loadConfig(
    {
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `execution-bench-${label}-${process.pid}`,
      LOG_LEVEL: 'silent',
      MODERATION_PORT: String(moderationPort),
      MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
      FLAGS_REFRESH_INTERVAL_MS: '60000',
      // A local classifier on a busy laptop misses 100 ms now and then; the bench is about
      // the database, so moderation gets room.
      MODERATION_TIMEOUT_MS: '2000',
    },
    { role: 'all' },
  );
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const logger = createLogger({ level: 'silent' });
  const container = buildContainer(config, { logger });
  const probe = new pg.Client({ connectionString: config.databaseUrl });
  ignored.add(probe);
  await probe.connect();
  const moderation = container.createModerationApi();
  await moderation.listen({ host: '127.0.0.1', port: moderationPort });
  const app = await container.createApi();
  await app.ready();
  const chainerOf = (): { runOnce(): Promise<number> } | undefined =>
    typeof container.createAuditChainer === 'function' ? container.createAuditChainer() : undefined;

  const tenantKey = async (slug: string) =>
    (await container.auth.createKey({ tenant: slug, role: 'agent' })).key as string;
  const propose = (key: string, title: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      payload: { tool: 'notes.create', arguments: { title, body: 'bench' }, user_id: `u-${title}` },
    });
  const succeeded = async (tenantSlug: string) =>
    (
      await probe.query(
        `SELECT count(*)::int AS n FROM actions a JOIN tenants t ON t.id = a.tenant_id
          WHERE t.slug = $1 AND a.status = 'succeeded'`,
        [tenantSlug],
      )
    ).rows[0].n as number;

  // Phase 1: statements per executed proposal, end to end, one proposal at a time (relay
  // woken by NOTIFY, worker and chainer live). Each round trip is attributed to a component
  // by the code on its stack.
  const n = Number(args.proposals);
  const statementsKey = await tenantKey('statements');
  const warmKey = await tenantKey('warm-up');
  const relay = container.createRelay();
  const worker = container.createExecutionWorker();
  const chainer = chainerOf() as { start?(): void; stop?(): Promise<void> } | undefined;
  relay.start();
  worker.start();
  chainer?.start?.();
  const waitStatus = async (id: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await probe.query('SELECT status FROM actions WHERE id = $1', [id]);
      if (rows[0]?.status === 'succeeded') return;
      if (Date.now() > deadline) throw new Error(`action ${id} is ${rows[0]?.status}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const oneByOne = async (key: string, count: number, prefix: string) => {
    for (let i = 0; i < count; i++) {
      const response = await propose(key, `${prefix} ${i}`);
      if (response.statusCode !== 201 || response.json().status !== 'queued')
        throw new Error(`proposal ${i}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      await waitStatus(response.json().id);
    }
  };
  // Warm-up: caches, prepared statements and BullMQ's scripts, so the counts are steady state.
  await oneByOne(warmKey, 20, 'warm');
  attribute = true;
  await oneByOne(statementsKey, n, 'note');
  // Let the chainer (if any) link the last events, as it would in a running service.
  await new Promise((r) => setTimeout(r, 1_500));
  attribute = false;
  await relay.stop();
  await worker.close(10_000);
  await chainer?.stop?.();
  const executed = await succeeded('statements');
  const per = (k: string) => (counts[k] ?? 0) / executed;
  const statements = {
    executed,
    api_per_proposal: per('api'),
    relay_per_proposal: per('relay'),
    worker_per_proposal: per('worker'),
    chainer_per_proposal: per('chainer'),
    other_per_proposal: per('other'),
    total_per_proposal: per('api') + per('relay') + per('worker') + per('chainer'),
  };
  const namedShare = named / Math.max(1, total);

  // Phase 2: contention. One tenant, `concurrency` callers, relay + worker (+ chainer) live.
  const loadKey = await tenantKey('load');
  const liveRelay = container.createRelay();
  const liveWorker = container.createExecutionWorker();
  const liveChainer = chainerOf() as { start?(): void; stop?(): Promise<void> } | undefined;
  liveRelay.start();
  liveWorker.start();
  liveChainer?.start?.();
  const durationMs = Number(args.duration) * 1000;
  const latencies: number[] = [];
  let poolSamples = 0;
  let poolWaiting = 0;
  let lockSamples = 0;
  let lockWaiting = 0;
  let lockMax = 0;
  const started = Date.now();
  const stopAt = started + durationMs;
  const poolSampler = setInterval(() => {
    poolSamples += 1;
    poolWaiting += container.pool.waitingCount;
  }, 5);
  const lockSampler = (async () => {
    while (Date.now() < stopAt) {
      const waiting = (
        await probe.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      ).rows[0].n as number;
      lockSamples += 1;
      lockWaiting += waiting;
      lockMax = Math.max(lockMax, waiting);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const executedBefore = await succeeded('load');
  let accepted = 0;
  await Promise.all(
    Array.from({ length: Number(args.concurrency) }, async (_, c) => {
      for (let i = 0; Date.now() < stopAt; i++) {
        const t0 = performance.now();
        const response = await propose(loadKey, `load ${c} ${i}`);
        latencies.push(performance.now() - t0);
        if (response.statusCode === 201) accepted += 1;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const executedDuring = (await succeeded('load')) - executedBefore;
  clearInterval(poolSampler);
  await lockSampler;
  await liveRelay.stop();
  await liveWorker.close(10_000);
  await liveChainer?.stop?.();
  latencies.sort((a, b) => a - b);

  const result: ChildResult = {
    label,
    statements,
    named_share: namedShare,
    contention: {
      proposals_per_second: accepted / elapsed,
      executed_per_second: executedDuring / elapsed,
      p99_ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      pool_waiting_mean: poolWaiting / Math.max(1, poolSamples),
      lock_waiting_mean: lockWaiting / Math.max(1, lockSamples),
      lock_waiting_max: lockMax,
    },
  };
  await app.close();
  await moderation.close();
  await container.close();
  await probe.end();
  const admin = new pg.Client({ connectionString: base });
  ignored.add(admin);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
  console.log(JSON.stringify(result));
  process.exit(0);
}

async function freePortInBlock(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}
