import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createAlertSource, type DrillAlertSource } from '../../src/modules/alerts/alert-source.ts';
import type {
  CheckResult,
  DrillContext,
  DrillScenario,
  FiringAlert,
  TimelineEntry,
} from '../../src/modules/drills/drill-types.ts';
import { createIdentity, noteBody } from './api-client.ts';
import { startChildService, type ChildService } from './child-service.ts';
import { startPrivateRedis, type PrivateRedis } from './private-redis.ts';
import { runCli, singleJsonDocument, type CliRun } from './run-cli.ts';
import { freePort, startTestStack, testConfig, testEnv, waitFor, type TestStack } from './test-env.ts';

// One scenario's drill against a real service: the system under drill is `node src/main.ts
// all` as a child process (API, worker, relay, reconciler in one, as `npm start` runs it) on
// a scratch database and its own Redis prefix. The test process plays the drill tool: it
// builds the DrillContext the scenario gets, drives bounded background traffic, evaluates
// the shipped alert rules against the child's /metrics (the local alert source, on a clock
// compressed by ALERT_RULE_TIME_SCALE so a 5-minute `for:` takes seconds; the thresholds
// are untouched) and runs the operator CLI against the same database.

// Every rule range, offset and `for:` is divided by this in the local evaluation.
export const RULE_TIME_SCALE = 30;

export interface TrafficStats {
  proposed: number;
  read: number;
  ok: number;
  serverErrors: number;
  failed: number;
}

export interface DrillHarness {
  readonly stack: TestStack;
  readonly ctx: DrillContext;
  readonly targetUrl: string;
  readonly env: Record<string, string>;
  readonly reviewerKey: string;
  // The drill's own redis-server, when the options asked for one.
  readonly redisServer: PrivateRedis;
  timeline(): TimelineEntry[];
  cli(...args: string[]): Promise<CliRun>;
  cliJson<T = unknown>(...args: string[]): Promise<T>;
  metrics(): Promise<string>;
  alerts(): Promise<FiringAlert[]>;
  waitForAlert(name: string, timeoutMs: number): Promise<FiringAlert>;
  waitForAlertResolved(name: string, timeoutMs: number): Promise<void>;
  restartService(extraEnv?: Record<string, string>): Promise<void>;
  traffic(): TrafficStats;
  verify(scenario: DrillScenario): Promise<CheckResult[]>;
  // What the scenario reports of the operator's mitigation (the runner's mitigation.observed).
  mitigationSeen(scenario: DrillScenario): Promise<string | null>;
}

export interface DrillHarnessOptions {
  scenario: string;
  // The service's environment on top of testEnv's (e.g. production backoff values).
  serviceEnv?: Record<string, string>;
  // Background traffic: requests per second, two proposals for every read of a recent action.
  perSecond?: number;
  // A redis-server of the drill's own for the stack and the service (DRILL_REDIS_CONTROL=shutdown),
  // for faults that stop Redis; otherwise the shared one under a private key prefix.
  privateRedis?: boolean;
}

const MAX_TRAFFIC_REQUESTS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;

export function useDrillHarness(options: DrillHarnessOptions): DrillHarness {
  let stack: TestStack | undefined;
  let service: ChildService | undefined;
  let serviceEnv: Record<string, string> = {};
  let targetUrl = '';
  let ctx: DrillContext | undefined;
  let reviewerKey = '';
  // The background traffic's key (the drill tool's runner mints its own the same way).
  let agentKey = '';
  const entries: TimelineEntry[] = [];
  const stop = new AbortController();
  let alertSource: DrillAlertSource | undefined;
  let evaluation: Promise<void> | undefined;
  let trafficDone: Promise<void> | undefined;
  let redis: Redis | undefined;
  let redisServer: PrivateRedis | undefined;
  const stats: TrafficStats = { proposed: 0, read: 0, ok: 0, serverErrors: 0, failed: 0 };

  const startService = async (extra: Record<string, string> = {}) => {
    const started = startChildService('all', { ...serviceEnv, ...extra });
    service = started;
    await waitFor(async () => (await fetch(`${targetUrl}/readyz`).catch(() => null))?.status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the service under drill to be ready',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; its output:\n${started.output().slice(-2000)}`);
    });
  };
  const stopService = async () => {
    if (!service) return;
    service.kill('SIGTERM');
    const exited = await Promise.race([
      service.exited,
      new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000)),
    ]);
    if (exited === 'timeout') {
      service.kill('SIGKILL');
      await service.exited;
    }
    service = undefined;
  };

  beforeAll(async () => {
    redisServer = options.privateRedis ? await startPrivateRedis() : undefined;
    const redisEnv: Record<string, string> = redisServer
      ? { REDIS_URL: redisServer.url, DRILL_REDIS_CONTROL: 'shutdown' }
      : {};
    stack = await startTestStack({ env: redisEnv });
    const [port, moderationPort, workerPort] = [await freePort(), await freePort(), await freePort()];
    targetUrl = `http://127.0.0.1:${port}`;
    serviceEnv = testEnv(stack.databaseUrl, {
      REDIS_PREFIX: stack.config.redisPrefix,
      PORT: String(port),
      MODERATION_PORT: String(moderationPort),
      MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
      WORKER_PORT: String(workerPort),
      LOG_LEVEL: 'warn',
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_STRANDED_AFTER_MS: '5000',
      ...redisEnv,
      ...options.serviceEnv,
    });
    await startService();

    const slug = `drill-${options.scenario}`.slice(0, 40);
    const agent = await createIdentity(stack, slug, 'agent');
    agentKey = agent.key;
    reviewerKey = (await createIdentity(stack, slug, 'reviewer')).key;
    redis = new Redis(stack.config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const container = stack.container;
    const config = stack.config;
    // A tenant by slug or id, as drill-core's context takes either.
    const tenantIdOf = (tenant?: string) => (tenant === slug ? agent.tenantId : tenant);
    const record = async (kind: string, message: string, data?: Record<string, unknown>) => {
      entries.push({ at: new Date().toISOString(), kind, message, ...(data ? { data } : {}) });
    };
    ctx = {
      drillId: randomUUID(),
      scenario: options.scenario,
      startedAt: new Date(),
      config,
      pool: container.pool,
      redis,
      databaseUrl: stack.databaseUrl,
      redisUrl: config.redisUrl,
      targetUrl,
      tenant: { slug, id: agent.tenantId },
      async setFlag(name, on, tenant) {
        const tenantId = tenantIdOf(tenant);
        await container.flagsService.set(name, on, 'drill', tenantId);
        await record('fault.flag', `The drill turned ${name} ${on ? 'on' : 'off'}.`, { flag: name, on });
      },
      async isFlagOn(name, tenant) {
        const tenantId = tenantIdOf(tenant);
        await container.flags.refresh();
        return container.flags.isEnabled(name, tenantId ? { tenantId } : undefined);
      },
      record,
      timeline: async () => [...entries],
      log: pino({ level: 'silent' }),
      signal: stop.signal,
    };

    const alertConfig = testConfig(stack.databaseUrl, {
      PORT: String(port),
      ALERT_SCRAPE_TARGETS: `airlock-api=${targetUrl}/metrics`,
      ALERT_SCRAPE_INTERVAL_MS: '2000',
      // Above the service's 1 s collector timeout: a saturated pool makes /metrics that slow.
      ALERT_SCRAPE_TIMEOUT_MS: '2000',
      ALERT_EVAL_INTERVAL_MS: '1000',
      ALERT_RULE_TIME_SCALE: String(RULE_TIME_SCALE),
    });
    alertSource = createAlertSource({
      config: alertConfig,
      pool: container.pool,
      logger: pino({ level: 'silent' }),
    });
    evaluation = alertSource.start({ signal: stop.signal }).catch(() => undefined);
    trafficDone = drive(options.perSecond ?? 5);
  }, 90_000);

  afterAll(async () => {
    stop.abort();
    await trafficDone;
    await evaluation;
    await stopService();
    redis?.disconnect();
    await stack?.close();
    await redisServer?.stop();
  }, 60_000);

  // Open-loop background traffic from the drill tenant, bounded in count and in flight.
  async function drive(perSecond: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let lastId: string | undefined;
    const call = async (path: string, init: RequestInit): Promise<unknown> => {
      try {
        const response = await fetch(`${targetUrl}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${agentKey}`, ...init.headers },
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        const body = (await response.json().catch(() => null)) as unknown;
        if (response.status >= 500) stats.serverErrors++;
        else if (response.ok) stats.ok++;
        return response.ok ? body : null;
      } catch {
        if (!stop.signal.aborted) stats.failed++;
        return null;
      }
    };
    for (let n = 0; n < MAX_TRAFFIC_REQUESTS && !stop.signal.aborted; n++) {
      if (inFlight.size < 32) {
        const request =
          n % 3 === 2 && lastId
            ? (stats.read++, call(`/v1/actions/${lastId}`, {}).then(() => undefined))
            : (stats.proposed++,
              call('/v1/actions', {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
                body: JSON.stringify(
                  noteBody(`drill note ${n}`, `drill-user-${n % 50}`, 'Background traffic.'),
                ),
              }).then((body) => {
                const id = (body as { id?: unknown } | null)?.id;
                if (typeof id === 'string') lastId = id;
              }));
        const tracked = request.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000 / perSecond);
        stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    await Promise.allSettled([...inFlight]);
  }

  const current = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`the drill harness's ${what} is used before its beforeAll has run`);
    return value;
  };

  const alerts = async (): Promise<FiringAlert[]> =>
    current(alertSource, 'alert source')
      .alerts()
      .catch(() => []);

  return {
    get stack() {
      return current(stack, 'stack');
    },
    get ctx() {
      return current(ctx, 'context');
    },
    get targetUrl() {
      return targetUrl;
    },
    get env() {
      return serviceEnv;
    },
    get reviewerKey() {
      return reviewerKey;
    },
    get redisServer() {
      return current(redisServer, 'private Redis');
    },
    timeline: () => [...entries],
    cli: (...args) => runCli(args, serviceEnv),
    async cliJson<T>(...args: string[]) {
      const run = await runCli([...args, '--json'], serviceEnv);
      if (run.code !== 0)
        throw new Error(`cli ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
      return singleJsonDocument(run) as T;
    },
    metrics: async () => (await fetch(`${targetUrl}/metrics`)).text(),
    alerts,
    async waitForAlert(name, timeoutMs) {
      return waitFor(async () => (await alerts()).find((a) => a.name === name && a.state === 'firing'), {
        timeoutMs,
        intervalMs: 500,
        what: `alert ${name} to fire`,
      });
    },
    async waitForAlertResolved(name, timeoutMs) {
      await waitFor(async () => !(await alerts()).some((a) => a.name === name), {
        timeoutMs,
        intervalMs: 500,
        what: `alert ${name} to resolve`,
      });
    },
    async restartService(extraEnv = {}) {
      await stopService();
      await startService(extraEnv);
    },
    traffic: () => ({ ...stats }),
    verify: (scenario) => scenario.verifyMitigated(current(ctx, 'context')),
    mitigationSeen: async (scenario) =>
      (await scenario.mitigationObserved?.(current(ctx, 'context'))) ?? null,
  };
}

export const failing = (results: CheckResult[]): string[] =>
  results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.detail}`);

// What `cli drill check --json` prints (src/modules/drills/drills.service.ts CheckOutcome).
export interface CheckJson {
  passed: boolean;
  checks: Array<{ name: string; passed: boolean; detail: string }>;
  score: Record<string, number | null> | null;
  postmortem: string | null;
}

// The environment for `cli drill` against a service at targetUrl, on a compressed clock:
// the runner's traffic, its polls and the local alert evaluation every second, and the
// rules' ranges divided by 120 ([5m] is 2.5 s, [1h] 30 s, [6h] 3 min), so the fast burns
// fire and resolve within minutes. The thresholds are untouched.
export function drillCliEnv(targetUrl: string, postmortemDir: string): Record<string, string> {
  return {
    DRILL_TARGET_URL: targetUrl,
    DRILL_TRAFFIC_RPS: '4',
    DRILL_POLL_INTERVAL_MS: '500',
    DRILL_POSTMORTEM_DIR: postmortemDir,
    ALERT_SCRAPE_TARGETS: `airlock-api=${targetUrl}/metrics`,
    ALERT_SCRAPE_INTERVAL_MS: '1000',
    ALERT_SCRAPE_TIMEOUT_MS: '1000',
    ALERT_EVAL_INTERVAL_MS: '1000',
    ALERT_RULE_TIME_SCALE: '120',
  };
}
