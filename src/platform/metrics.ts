import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// The metric names, label names and bucket boundaries below are a contract with the
// Prometheus rules in observability/prometheus/rules and the Grafana dashboards in
// dashboards/; test/observability checks that every name those files query exists here.
//
// Cardinality rule: a label value must come from a small, closed set (listed next to each
// metric). Never put a tenant, user, action, job or request id, a URL or free text into a
// label; those belong in logs and traces. Callers pass values from outside through
// boundedLabel() so an unexpected string becomes "other" instead of a new series.

// SLO thresholds must be bucket boundaries, or the SLI has to interpolate: 0.02 s (cached
// GET p99) and 0.1 s (POST p99).
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
// Freshness SLO: 99% of allowed actions start within 5 s of being queued.
export const START_DELAY_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
// In-process decision stages run in microseconds; the moderation call runs in hundreds of
// milliseconds and its timeout (MODERATION_TIMEOUT_MS, default 100 ms) should sit inside.
export const STAGE_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
export const DEPENDENCY_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
// Tool executions range from a local insert to an outbound fetch bounded by
// WORKER_TOOL_TIMEOUT_MS (default 10 s).
export const JOB_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export const DEFAULT_COLLECTOR_TIMEOUT_MS = 1_000;

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export type QueueState =
  'waiting' | 'active' | 'delayed' | 'failed' | 'completed' | 'prioritized' | 'waiting-children';
export const QUEUE_STATES: readonly QueueState[] = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized',
  'waiting-children',
];
export type JobResult = 'succeeded' | 'failed' | 'retry';
export type CacheResult = 'hit' | 'miss' | 'error' | 'bypass';
export type PoolState = 'total' | 'idle' | 'waiting';
export type DependencyOutcome = 'success' | 'error' | 'timeout' | 'rejected';
export type BreakerState = 'closed' | 'half-open' | 'open';
// Numeric so that max() across processes reports the worst state and alerts can compare.
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

export interface MetricsCollector {
  (): Promise<void>;
}

export interface CreateMetricsOptions {
  // Pass one in to share it (tests create a fresh one per case); never the prom-client
  // global registry, which would leak series between app instances in one process.
  registry?: Registry;
  // Node and process metrics (prom-client defaults). Default true; tests that build many
  // registries may turn it off.
  collectDefault?: boolean;
  // Upper bound on one collector callback; a slow Postgres or Redis must not hang /metrics.
  collectorTimeoutMs?: number;
  // Called when a collector throws or times out, so the caller can log it; the error is
  // also counted in airlock_metrics_collector_errors_total.
  onCollectorError?: (collector: string, err: unknown) => void;
  buildInfo?: { version: string; role: string };
}

// A synchronous read of in-process state (pool counters). Snapshots run before any
// collector starts, so the collectors' own queries never show in them: a pool read after
// its sibling collectors had asked for clients counted those requests as waiting callers.
export interface MetricsSnapshot {
  (): void;
}

interface CollectorEntry {
  readonly fn: MetricsCollector;
  // A timed-out call still running; while it runs, later scrapes skip this collector
  // rather than stack another query on a dependency that is already stuck.
  pending: Promise<void> | undefined;
}

export interface CollectorSet {
  register(name: string, fn: MetricsCollector): () => void;
  registerSnapshot(name: string, fn: MetricsSnapshot): () => void;
  names(): string[];
  // Runs every registered collector once; concurrent callers share one run, so the many
  // gauges read during a single scrape trigger the collectors only once.
  refresh(): Promise<void>;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: CreateMetricsOptions = {}) {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const timeoutMs = options.collectorTimeoutMs ?? DEFAULT_COLLECTOR_TIMEOUT_MS;
  const collectors = new Map<string, CollectorEntry>();
  const snapshots = new Map<string, MetricsSnapshot>();
  let currentRun: Promise<void> | undefined;

  const collectorErrors = new Counter<'collector'>({
    name: 'airlock_metrics_collector_errors_total',
    help: 'Scrape-time collector callbacks that threw, timed out or were skipped because an earlier call still hung.',
    // collector: the name given to registerCollector (a fixed string per call site).
    labelNames: ['collector'],
    registers,
    collect: () => refresh(),
  });

  function recordCollectorError(name: string, err: unknown): void {
    collectorErrors.inc({ collector: name });
    options.onCollectorError?.(name, err);
  }

  async function runOne(name: string, entry: CollectorEntry): Promise<void> {
    if (entry.pending) {
      recordCollectorError(name, new Error(`collector ${name} is still running from an earlier scrape`));
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const call = Promise.resolve()
      .then(() => entry.fn())
      .then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    const first = await Promise.race([call, timeout]);
    clearTimeout(timer);
    if (first === 'timeout') {
      recordCollectorError(name, new Error(`collector ${name} timed out after ${timeoutMs} ms`));
      entry.pending = call.then(() => {
        entry.pending = undefined;
      });
      return;
    }
    if (!first.ok) recordCollectorError(name, first.err);
  }

  function takeSnapshots(): void {
    for (const [name, fn] of snapshots) {
      try {
        fn();
      } catch (err) {
        recordCollectorError(name, err);
      }
    }
  }

  function refresh(): Promise<void> {
    if (currentRun) return currentRun;
    takeSnapshots();
    currentRun = Promise.all([...collectors].map(([name, entry]) => runOne(name, entry))).then(() => {
      currentRun = undefined;
    });
    return currentRun;
  }

  const assertFree = (name: string) => {
    if (collectors.has(name) || snapshots.has(name))
      throw new Error(`metrics collector "${name}" is already registered`);
  };
  const collectorSet: CollectorSet = {
    register(name, fn) {
      assertFree(name);
      collectors.set(name, { fn, pending: undefined });
      return () => {
        collectors.delete(name);
      };
    },
    registerSnapshot(name, fn) {
      assertFree(name);
      snapshots.set(name, fn);
      return () => {
        snapshots.delete(name);
      };
    },
    names: () => [...snapshots.keys(), ...collectors.keys()],
    refresh,
  };

  // Gauges whose value lives in Postgres, Redis or BullMQ are filled by collectors just
  // before the registry reads them.
  const collected = { registers, collect: () => refresh() };

  let lastElu = performance.eventLoopUtilization();

  const metrics = {
    registry,
    collectors: collectorSet,
    collectorErrors,

    // route: the Fastify route pattern (request.routeOptions.url), e.g. "/v1/actions/:id",
    //   or "unmatched" for 404s outside any route; never the raw URL.
    // method: the HTTP method. status_class: statusClassOf(statusCode).
    httpRequestDuration: new Histogram<'route' | 'method' | 'status_class'>({
      name: 'http_server_request_duration_seconds',
      help: 'HTTP request duration from the first byte received to the response sent.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [...HTTP_DURATION_BUCKETS],
      registers,
    }),

    // tool: a catalogue tool name (boundedLabel against the catalogue); outcome: allow|review|deny.
    decisions: new Counter<'tool' | 'outcome'>({
      name: 'airlock_decisions_total',
      help: 'Proposals decided, by tool and final outcome.',
      labelNames: ['tool', 'outcome'],
      registers,
    }),
    // reason: a decision reason code from the contract (kill_switch, rollout_gate,
    //   moderation_flagged, ...) or stage_error; one increment per reason on the decision.
    decisionReasons: new Counter<'tool' | 'reason'>({
      name: 'airlock_decision_reasons_total',
      help: 'Reasons attached to decisions, by tool and reason code.',
      labelNames: ['tool', 'reason'],
      registers,
    }),
    // stage: a decision stage name (DecisionStage.name), a fixed list wired at start-up.
    decisionStageDuration: new Histogram<'stage'>({
      name: 'airlock_decision_stage_duration_seconds',
      help: 'Time one decision stage took, including a failed stage.',
      labelNames: ['stage'],
      buckets: [...STAGE_DURATION_BUCKETS],
      registers,
    }),

    // queue: a BullMQ queue name from the *.jobs.ts files; state: QUEUE_STATES.
    queueJobs: new Gauge<'queue' | 'state'>({
      name: 'airlock_queue_jobs',
      help: 'Jobs in a BullMQ queue by state, read at scrape time.',
      labelNames: ['queue', 'state'],
      ...collected,
    }),
    queueOldestWaitingAge: new Gauge<'queue'>({
      name: 'airlock_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest job waiting to be picked up (waiting or prioritized, not delayed); 0 when none.',
      labelNames: ['queue'],
      ...collected,
    }),

    outboxPending: new Gauge({
      name: 'airlock_outbox_pending',
      help: 'Outbox rows not yet published to the queue (published_at IS NULL).',
      ...collected,
    }),
    outboxOldestAge: new Gauge({
      name: 'airlock_outbox_oldest_age_seconds',
      help: 'Age of the oldest unpublished outbox row; 0 when the outbox is empty.',
      ...collected,
    }),
    outboxPublished: new Counter({
      name: 'airlock_outbox_published_total',
      help: 'Outbox rows published to the queue by the relay.',
      registers,
    }),

    auditUnchained: new Gauge({
      name: 'airlock_audit_unchained_events',
      help: 'Audit events recorded but not yet linked into their tenant hash chain (not yet verifiable).',
      ...collected,
    }),
    auditChainLag: new Gauge({
      name: 'airlock_audit_chain_lag_seconds',
      help: 'Age of the oldest audit event not yet linked into its chain; 0 when every event is linked.',
      ...collected,
    }),
    auditChained: new Counter({
      name: 'airlock_audit_events_chained_total',
      help: 'Audit events linked into their tenant hash chain by this process.',
      registers,
    }),

    // result: succeeded | failed (final, no more attempts) | retry (failed, will be retried).
    jobDuration: new Histogram<'tool' | 'result'>({
      name: 'airlock_job_duration_seconds',
      help: 'Duration of one job attempt, by tool and result.',
      labelNames: ['tool', 'result'],
      buckets: [...JOB_DURATION_BUCKETS],
      registers,
    }),
    jobAttempts: new Counter<'tool' | 'result'>({
      name: 'airlock_job_attempts_total',
      help: 'Job attempts, by tool and result.',
      labelNames: ['tool', 'result'],
      registers,
    }),
    actionStartDelay: new Histogram({
      name: 'airlock_action_start_delay_seconds',
      help: 'Time from an action becoming queued (status set in Postgres) to its first execution attempt starting.',
      buckets: [...START_DELAY_BUCKETS],
      registers,
    }),

    deadLetters: new Gauge<'queue'>({
      name: 'airlock_dead_letters',
      help: 'Jobs parked in the dead-letter store awaiting an operator, by source queue.',
      labelNames: ['queue'],
      ...collected,
    }),
    // Read from Postgres by every process, so a stalled pipeline is seen by the processes
    // that are not stalled (the relay and the workers can die together).
    actionOldestQueuedAge: new Gauge({
      name: 'airlock_action_oldest_queued_age_seconds',
      help: 'Age of the oldest allowed action waiting for its first execution attempt (in the outbox, the queue, or lost between them); 0 when none.',
      ...collected,
    }),
    idempotencyKeysSwept: new Counter({
      name: 'airlock_idempotency_keys_swept_total',
      help: 'Idempotency keys deleted after their retention (IDEMPOTENCY_RETENTION_HOURS).',
      registers,
    }),
    actionsRepublished: new Counter({
      name: 'airlock_actions_republished_total',
      help: 'Queued or running actions whose job the queue had lost (Redis forgot it), re-published through the outbox by the reconciler.',
      registers,
    }),
    deadLetterReplays: new Counter({
      name: 'airlock_dead_letter_replays_total',
      help: 'Dead letters replayed by an operator.',
      registers,
    }),

    // cache: a cache name fixed in code (e.g. "action"); result: hit | miss | error.
    cacheRequests: new Counter<'cache' | 'result'>({
      name: 'airlock_cache_requests_total',
      help: 'Cache lookups by cache and result.',
      labelNames: ['cache', 'result'],
      registers,
    }),

    // pool: a pool name fixed in code (e.g. "main"); state: total | idle | waiting.
    dbPoolClients: new Gauge<'pool' | 'state'>({
      name: 'airlock_db_pool_clients',
      help: 'Postgres pool clients: total open, idle, and callers waiting for a client.',
      labelNames: ['pool', 'state'],
      ...collected,
    }),
    dbPoolMax: new Gauge<'pool'>({
      name: 'airlock_db_pool_max',
      help: 'Configured maximum clients of the Postgres pool (DB_POOL_MAX).',
      labelNames: ['pool'],
      ...collected,
    }),

    // client: a Redis connection fixed in code (cache | producer | worker | rate_limiter);
    // role: the process role (api | worker | moderation | all), so one process's failing
    // connection is told apart from another's without relying on the scrape job's name.
    redisErrors: new Counter<'client' | 'role'>({
      name: 'airlock_redis_errors_total',
      help: 'Redis errors by client and process role: connection errors, failed commands, and health pings that failed or timed out at scrape time.',
      labelNames: ['client', 'role'],
      // Read after the scrape's collectors ran, so this scrape's failed pings are in it.
      ...collected,
    }),

    // dependency: a fixed name per outbound dependency (e.g. "moderation");
    // outcome: success | error | timeout | rejected (breaker open, call not attempted).
    dependencyRequestDuration: new Histogram<'dependency' | 'outcome'>({
      name: 'airlock_dependency_request_duration_seconds',
      help: 'Calls to an outbound dependency, by outcome.',
      labelNames: ['dependency', 'outcome'],
      buckets: [...DEPENDENCY_DURATION_BUCKETS],
      registers,
    }),
    circuitBreakerState: new Gauge<'dependency'>({
      name: 'airlock_circuit_breaker_state',
      help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.',
      labelNames: ['dependency'],
      registers,
    }),

    reviewsPending: new Gauge({
      name: 'airlock_reviews_pending',
      help: 'Actions in pending_review, across tenants.',
      ...collected,
    }),
    reviewOldestPendingAge: new Gauge({
      name: 'airlock_review_oldest_pending_age_seconds',
      help: 'Age of the oldest action in pending_review; 0 when none.',
      ...collected,
    }),

    // reason: the report reason enum (harmful, incorrect, privacy, spam, other).
    reports: new Counter<'tool' | 'reason'>({
      name: 'airlock_reports_total',
      help: 'User reports filed against actions, by tool and reason.',
      labelNames: ['tool', 'reason'],
      registers,
    }),

    // flag: a contract flag name (kill-switch.all, kill-switch.<tool>, auto-approve,
    //   chaos.<scenario>); global value only, never one series per tenant.
    flagEnabled: new Gauge<'flag'>({
      name: 'airlock_flag_enabled',
      help: 'Global value of a flag as this process sees it: 1 on, 0 off.',
      labelNames: ['flag'],
      ...collected,
    }),

    rateLimited: new Counter({
      name: 'airlock_rate_limited_total',
      help: 'Proposals refused with 429 rate_limited.',
      registers,
    }),
    // reason: event_loop (the event-loop delay guard) | queue_full | queue_timeout (too
    // much proposal work in flight) | backlog (execution behind); see src/platform/admission.ts.
    loadShed: new Counter<'reason'>({
      name: 'airlock_load_shed_total',
      help: 'Requests refused with 503 overloaded because the process was shedding load, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    admissionInFlight: new Gauge({
      name: 'airlock_admission_in_flight',
      help: 'Proposals admitted and still being decided or recorded in this process.',
      registers,
    }),
    executionBacklogAge: new Gauge({
      name: 'airlock_execution_backlog_age_seconds',
      help: 'Age of the oldest allowed action not yet started (outbox or queue), as last sampled by admission control.',
      registers,
    }),

    // version: the release (AIRLOCK_VERSION); role: api | worker | moderation | all.
    buildInfo: new Gauge<'version' | 'role'>({
      name: 'airlock_build_info',
      help: 'Always 1; labels carry the running version and role.',
      labelNames: ['version', 'role'],
      registers,
    }),

    eventLoopUtilization: new Gauge({
      name: 'nodejs_eventloop_utilization_ratio',
      help: 'Share of time the event loop was busy since the previous scrape (0..1).',
      registers,
      collect() {
        const now = performance.eventLoopUtilization();
        this.set(performance.eventLoopUtilization(now, lastElu).utilization);
        lastElu = now;
      },
    }),
  };

  if (options.buildInfo) metrics.buildInfo.set(options.buildInfo, 1);
  if (options.collectDefault ?? true) collectDefaultMetrics({ register: registry });

  return metrics;
}

// Registers a scrape-time callback that sets gauges from a dependency (queue counts, pool
// state, outbox and review backlogs). It runs at most once per scrape, is bounded by the
// collector timeout, and its failures are counted rather than failing the scrape: stale
// gauges plus a rising airlock_metrics_collector_errors_total are better than a blank
// /metrics when Postgres is the thing that is down. Returns a function that unregisters it.
export function registerCollector(
  metrics: Pick<Metrics, 'collectors'>,
  name: string,
  fn: MetricsCollector,
): () => void {
  return metrics.collectors.register(name, fn);
}

// Registers a synchronous read of in-process state, taken at the start of every scrape before
// any collector runs (see MetricsSnapshot). Returns a function that unregisters it.
export function registerSnapshot(
  metrics: Pick<Metrics, 'collectors'>,
  name: string,
  fn: MetricsSnapshot,
): () => void {
  return metrics.collectors.registerSnapshot(name, fn);
}

export function statusClassOf(statusCode: number): StatusClass {
  if (statusCode >= 500) return '5xx';
  if (statusCode >= 400) return '4xx';
  if (statusCode >= 300) return '3xx';
  if (statusCode >= 200) return '2xx';
  return '1xx';
}

// Maps a value from outside (a tool name from a request body, a reason code) onto a
// closed set, so a client cannot mint new series by sending new strings.
export function boundedLabel(value: string, allowed: ReadonlySet<string>, fallback = 'other'): string {
  return allowed.has(value) ? value : fallback;
}
