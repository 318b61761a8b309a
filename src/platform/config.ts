import { tmpdir } from 'node:os';
import path from 'node:path';

// The only module that reads process.env. Configuration is parsed once at boot into a
// frozen, typed object; an invalid value stops start-up with one line naming the variable.

export type Role = 'api' | 'worker' | 'moderation' | 'all';
export type ModerationTransport = 'http' | 'in-process';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly role: Role;
  readonly version: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  // Namespaces every Redis key (cache, rate limits, BullMQ) so tests and tenants of one
  // Redis server do not see each other's keys.
  readonly redisPrefix: string;
  readonly host: string;
  readonly port: number;
  readonly moderationPort: number;
  // The worker role serves /livez, /readyz and /metrics here.
  readonly workerPort: number;
  readonly moderationUrl: string;
  // How the gateway reaches the classifier: over HTTP (the moderation service, as in a
  // split deployment) or in the same process (role all). See docs/adr/0017-moderation-budget-where-the-work-happens.md.
  readonly moderationTransport: ModerationTransport;
  // The moderation budget per call, measured where the work happens (the service, or the
  // in-process backend); the HTTP client's own timer is only a backstop for a service
  // that does not answer at all.
  readonly moderationTimeoutMs: number;
  readonly moderationBackstopMs: number;
  readonly moderationBreaker: {
    readonly errorThresholdPercentage: number;
    readonly volumeThreshold: number;
    readonly rollingCountTimeoutMs: number;
    readonly resetTimeoutMs: number;
  };
  // Standard OpenTelemetry variables: tracing is on only when an OTLP endpoint is set.
  readonly telemetry: {
    readonly enabled: boolean;
    readonly otlpEndpoint: string | undefined;
    readonly serviceName: string;
    // OTEL_TRACES_SAMPLER and its argument (the ratio, for the traceidratio samplers).
    readonly sampler: TraceSampler;
    readonly sampleRatio: number;
    // OTEL_RESOURCE_ATTRIBUTES, decoded: extra attributes on every span's resource.
    readonly resourceAttributes: Readonly<Record<string, string>>;
    // OTEL_PROPAGATORS: how trace context is written into and read from carriers.
    readonly propagators: readonly TracePropagator[];
    // Per-request RED metrics. Only the telemetry-overhead benchmark turns them off, to
    // measure what they cost; the alerts depend on them.
    readonly requestMetrics: boolean;
    // The trace UI's page for one trace, with {trace_id} where the id goes (e.g. Jaeger's
    // http://localhost:16686/trace/{trace_id}); the console links action traces to it.
    readonly traceUiUrl: string | undefined;
  };
  readonly unleashUrl: string | undefined;
  readonly unleashApiToken: string | undefined;
  // Needed only to change flags (CLI `flags set`) when Unleash is the provider.
  readonly unleashAdminToken: string | undefined;
  readonly unleashEnvironment: string | undefined;
  // Where the last known flag values are kept, so a restart during an Unleash outage
  // starts from them rather than from the defaults.
  readonly unleashBackupDir: string;
  readonly openAiApiKey: string | undefined;
  // Enables POST /v1/operator/keys (the k6 suites' setup); unset, the route does not exist.
  readonly operatorToken: string | undefined;
  readonly logLevel: LogLevel;
  readonly db: {
    readonly poolMax: number;
    readonly statementTimeoutMs: number;
    readonly connectTimeoutMs: number;
  };
  readonly http: {
    readonly bodyLimitBytes: number;
    readonly requestTimeoutMs: number;
    readonly shutdownDelayMs: number;
    readonly shutdownTimeoutMs: number;
    readonly maxEventLoopDelayMs: number;
    // One deadline per API request, honoured by the handler, the pool wait and each query,
    // and below requestTimeoutMs so a request is always answered before its socket closes.
    readonly requestDeadlineMs: number;
  };
  // Admission control on proposals (src/platform/admission.ts, docs/adr/0018-admission-control.md).
  readonly admission: {
    readonly maxInFlight: number;
    readonly maxQueue: number;
    readonly maxQueueWaitMs: number;
    readonly maxBacklogAgeMs: number;
    readonly backlogSampleMs: number;
  };
  readonly worker: {
    readonly concurrency: number;
    readonly maxAttempts: number;
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    readonly lockDurationMs: number;
    readonly stalledIntervalMs: number;
    readonly toolTimeoutMs: number;
  };
  // Finds queued or running actions whose job Redis lost, and re-publishes them.
  readonly reconcile: {
    readonly intervalMs: number;
    readonly strandedAfterMs: number;
  };
  readonly outbox: {
    readonly pollIntervalMs: number;
    readonly backoffMaxMs: number;
    readonly batchSize: number;
  };
  readonly audit: {
    // How often each process looks for recorded events to link into the hash chains.
    readonly chainIntervalMs: number;
  };
  readonly cache: {
    readonly actionTtlSeconds: number;
    readonly commandTimeoutMs: number;
  };
  readonly flags: {
    readonly refreshIntervalMs: number;
  };
  readonly idempotency: {
    readonly leaseMs: number;
    // How long a key is remembered; after it, the same key is a new request.
    readonly retentionMs: number;
    readonly sweepIntervalMs: number;
  };
  readonly fetch: {
    // Addresses (CIDR) that http.fetch may reach although they are private; for tests only.
    readonly allowPrivateCidrs: readonly string[];
  };
  // Where pages come from (docs/adr/0022-local-alert-evaluation.md): Prometheus' alert API
  // when PROMETHEUS_URL is set, otherwise the drill runner's own evaluation of the shipped
  // rule files over these scrape targets; and the inbox Alertmanager delivers to.
  readonly alerts: {
    readonly prometheusUrl: string | undefined;
    readonly prometheusTimeoutMs: number;
    readonly scrapeTargets: readonly { readonly job: string; readonly url: string }[];
    readonly scrapeIntervalMs: number;
    readonly scrapeTimeoutMs: number;
    readonly evaluationIntervalMs: number;
    // How much history the local evaluation keeps; longer rule windows see only this much.
    readonly retentionMs: number;
    // Tests only: every rule window, offset and for: divided by this, so an alert that needs
    // an hour of history resolves in seconds. 1 in any real use.
    readonly ruleTimeScale: number;
    // {{ $externalLabels.runbook_base }} in the rules' runbook_url (Prometheus has it from
    // global.external_labels), no trailing slash.
    readonly runbookBaseUrl: string;
    // Alertmanager's bearer credential for POST /v1/alerts/webhook; unset, the route does not exist.
    readonly webhookToken: string | undefined;
  };
  // On-call drills (`cli drill`, docs/adr/0021-drills.md).
  readonly drill: {
    // The Airlock API the drill's background traffic drives: loopback only.
    readonly targetUrl: string;
    readonly trafficPerSecond: number;
    // A drill nobody stops ends itself, restoring a clean state, after this long.
    readonly maxDurationMs: number;
    // How often the drill runner beats, polls the alerts and records their transitions.
    readonly pollIntervalMs: number;
    readonly postmortemDir: string;
    // The Redis at REDIS_URL is the drill's own, so redis-outage may stop it (SHUTDOWN NOSAVE).
    // Off by default: a shared Redis is never stopped by a drill.
    readonly redisControl: boolean;
  };
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

const ROLES: readonly Role[] = ['api', 'worker', 'moderation', 'all'];
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: readonly string[]): string {
  const raw = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // Never echo the value: URLs carry passwords.
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = str(env, name, fallback);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function list(env: Env, name: string): string[] {
  return str(env, name, '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function loadConfig(env: Env = process.env, overrides: { role?: string } = {}): Config {
  const role = overrides.role ?? str(env, 'AIRLOCK_ROLE', 'all');
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ConfigError('AIRLOCK_ROLE', `must be one of ${ROLES.join(', ')}, got "${role}"`);
  }
  const redisUrl = url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']);
  const redisDb = new URL(redisUrl).pathname.replace(/^\//, '');
  if (redisDb !== '' && !/^\d{1,2}$/.test(redisDb))
    throw new ConfigError('REDIS_URL', 'has a db index that is not a number');

  const config: Config = {
    role: role as Role,
    version: str(env, 'AIRLOCK_VERSION', str(env, 'npm_package_version', '0.0.0')),
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/airlock', [
      'postgres:',
      'postgresql:',
    ]),
    redisUrl,
    redisPrefix: redisPrefix(env),
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 8080, 0, 65535),
    moderationPort: int(env, 'MODERATION_PORT', 8081, 0, 65535),
    workerPort: int(env, 'WORKER_PORT', 8082, 0, 65535),
    moderationUrl: url(env, 'MODERATION_URL', 'http://127.0.0.1:8081', ['http:', 'https:']),
    // Inside the 100 ms p99 budget of POST /v1/actions; a slower answer is "unavailable".
    moderationTransport: moderationTransport(env, role as Role),
    moderationTimeoutMs: int(env, 'MODERATION_TIMEOUT_MS', 100, 10, 10_000),
    moderationBackstopMs: int(env, 'MODERATION_BACKSTOP_MS', 1_000, 10, 60_000),
    moderationBreaker: {
      errorThresholdPercentage: int(env, 'MODERATION_BREAKER_ERROR_PERCENT', 50, 1, 100),
      volumeThreshold: int(env, 'MODERATION_BREAKER_VOLUME', 10, 1, 10_000),
      rollingCountTimeoutMs: int(env, 'MODERATION_BREAKER_WINDOW_MS', 10_000, 1_000, 600_000),
      resetTimeoutMs: int(env, 'MODERATION_BREAKER_RESET_MS', 5_000, 100, 600_000),
    },
    telemetry: telemetryConfig(env),
    unleashUrl: env.UNLEASH_URL ? url(env, 'UNLEASH_URL', '', ['http:', 'https:']) : undefined,
    unleashApiToken: optional(env, 'UNLEASH_API_TOKEN'),
    unleashAdminToken: optional(env, 'UNLEASH_ADMIN_TOKEN'),
    unleashEnvironment: optional(env, 'UNLEASH_ENVIRONMENT'),
    unleashBackupDir: str(env, 'UNLEASH_BACKUP_DIR', path.join(tmpdir(), 'airlock-flags')),
    openAiApiKey: optional(env, 'OPENAI_API_KEY'),
    operatorToken: operatorToken(env),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    db: {
      poolMax: int(env, 'DB_POOL_MAX', 10, 1, 500),
      statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
      connectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 3_000, 100, 60_000),
    },
    http: {
      bodyLimitBytes: 1024 * 1024,
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 10_000, 100, 120_000),
      shutdownDelayMs: int(env, 'SHUTDOWN_DELAY_MS', 0, 0, 60_000),
      shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 1_000, 300_000),
      maxEventLoopDelayMs: int(env, 'MAX_EVENT_LOOP_DELAY_MS', 1_000, 0, 60_000),
      requestDeadlineMs: int(
        env,
        'REQUEST_DEADLINE_MS',
        Math.min(5_000, Math.floor(int(env, 'HTTP_REQUEST_TIMEOUT_MS', 10_000, 100, 120_000) * 0.8)),
        50,
        119_000,
      ),
    },
    // Defaults measured on the 2-core development machine (BENCHMARKS.md): about as many
    // proposals in flight as the pool has connections, and a queue wait that keeps the p99
    // of admitted proposals inside 250 ms.
    admission: {
      maxInFlight: int(env, 'ADMISSION_MAX_IN_FLIGHT', 8, 1, 10_000),
      maxQueue: int(env, 'ADMISSION_MAX_QUEUE', 64, 0, 100_000),
      maxQueueWaitMs: int(env, 'ADMISSION_MAX_QUEUE_WAIT_MS', 100, 0, 60_000),
      maxBacklogAgeMs: int(env, 'ADMISSION_MAX_BACKLOG_AGE_MS', 2_000, 10, 600_000),
      backlogSampleMs: int(env, 'ADMISSION_BACKLOG_SAMPLE_MS', 250, 10, 60_000),
    },
    worker: {
      concurrency: int(env, 'WORKER_CONCURRENCY', 8, 1, 256),
      maxAttempts: int(env, 'WORKER_MAX_ATTEMPTS', 5, 1, 50),
      backoffBaseMs: int(env, 'WORKER_BACKOFF_BASE_MS', 500, 1, 600_000),
      backoffMaxMs: int(env, 'WORKER_BACKOFF_MAX_MS', 30_000, 1, 3_600_000),
      lockDurationMs: int(env, 'WORKER_LOCK_DURATION_MS', 30_000, 1_000, 600_000),
      stalledIntervalMs: int(env, 'WORKER_STALLED_INTERVAL_MS', 30_000, 1_000, 600_000),
      toolTimeoutMs: int(env, 'WORKER_TOOL_TIMEOUT_MS', 10_000, 100, 300_000),
    },
    reconcile: {
      intervalMs: int(env, 'RECONCILE_INTERVAL_MS', 10_000, 100, 3_600_000),
      strandedAfterMs: int(env, 'RECONCILE_STRANDED_AFTER_MS', 30_000, 100, 86_400_000),
    },
    outbox: {
      pollIntervalMs: int(env, 'OUTBOX_POLL_INTERVAL_MS', 1_000, 10, 60_000),
      backoffMaxMs: int(env, 'OUTBOX_BACKOFF_MAX_MS', 2_000, 10, 60_000),
      batchSize: int(env, 'OUTBOX_BATCH_SIZE', 100, 1, 1_000),
    },
    audit: {
      chainIntervalMs: int(env, 'AUDIT_CHAIN_INTERVAL_MS', 100, 10, 60_000),
    },
    cache: {
      actionTtlSeconds: int(env, 'CACHE_ACTION_TTL_SECONDS', 300, 1, 86_400),
      commandTimeoutMs: int(env, 'CACHE_COMMAND_TIMEOUT_MS', 100, 5, 10_000),
    },
    flags: {
      refreshIntervalMs: int(env, 'FLAGS_REFRESH_INTERVAL_MS', 2_000, 100, 60_000),
    },
    idempotency: {
      leaseMs: int(env, 'IDEMPOTENCY_LEASE_MS', 30_000, 1_000, 600_000),
      retentionMs: int(env, 'IDEMPOTENCY_RETENTION_HOURS', 24, 1, 24 * 365) * 3_600_000,
      sweepIntervalMs: int(env, 'IDEMPOTENCY_SWEEP_INTERVAL_MS', 60_000, 1_000, 86_400_000),
    },
    fetch: {
      allowPrivateCidrs: list(env, 'FETCH_ALLOW_PRIVATE_CIDRS'),
    },
    alerts: alertsConfig(env),
    drill: {
      targetUrl: drillTargetUrl(env, int(env, 'PORT', 8080, 0, 65535)),
      trafficPerSecond: int(env, 'DRILL_TRAFFIC_RPS', 5, 1, 50),
      maxDurationMs: int(env, 'DRILL_MAX_DURATION_MS', 30 * 60_000, 10_000, 4 * 3_600_000),
      pollIntervalMs: int(env, 'DRILL_POLL_INTERVAL_MS', 5_000, 100, 60_000),
      postmortemDir: path.resolve(REPO_ROOT, str(env, 'DRILL_POSTMORTEM_DIR', 'docs/drills')),
      redisControl: oneOf(env, 'DRILL_REDIS_CONTROL', 'off', ['off', 'shutdown'] as const) === 'shutdown',
    },
  };
  if (Boolean(config.unleashUrl) !== Boolean(config.unleashApiToken)) {
    throw new ConfigError(
      config.unleashUrl ? 'UNLEASH_API_TOKEN' : 'UNLEASH_URL',
      'must be set together with the other',
    );
  }
  if (config.http.requestDeadlineMs >= config.http.requestTimeoutMs) {
    throw new ConfigError('REQUEST_DEADLINE_MS', 'must be below HTTP_REQUEST_TIMEOUT_MS');
  }
  if (config.worker.backoffMaxMs < config.worker.backoffBaseMs) {
    throw new ConfigError('WORKER_BACKOFF_MAX_MS', 'must not be below WORKER_BACKOFF_BASE_MS');
  }
  return deepFreeze(config);
}

// The prefix becomes part of every key and, in braces, the BullMQ hash tag (queuePrefix in
// queue.ts): a brace, space or glob character in it would split or widen that tag.
function redisPrefix(env: Env): string {
  const value = str(env, 'REDIS_PREFIX', 'airlock');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
    throw new ConfigError('REDIS_PREFIX', 'must be 1-64 letters, digits, "_", ".", ":" or "-"');
  }
  return value;
}

// ALERT_SCRAPE_TARGETS is a comma-separated list of job=url (job defaults to airlock-api);
// the job names must start with airlock- for AirlockTargetDown to watch them, as in
// observability/prometheus/prometheus.yml.
function alertsConfig(env: Env): Config['alerts'] {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const targets = list(env, 'ALERT_SCRAPE_TARGETS');
  const scrapeTargets = (targets.length ? targets : [`airlock-api=http://127.0.0.1:${port}/metrics`]).map(
    (entry) => {
      const eq = entry.indexOf('=');
      const job = eq > 0 ? entry.slice(0, eq) : 'airlock-api';
      const target = eq > 0 ? entry.slice(eq + 1) : entry;
      if (!/^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/.test(job))
        throw new ConfigError('ALERT_SCRAPE_TARGETS', `has an invalid job name "${job}"`);
      url({ ALERT_SCRAPE_TARGETS: target }, 'ALERT_SCRAPE_TARGETS', '', ['http:', 'https:']);
      return { job, url: target };
    },
  );
  const scrapeIntervalMs = int(env, 'ALERT_SCRAPE_INTERVAL_MS', 15_000, 1_000, 300_000);
  const scrapeTimeoutMs = int(env, 'ALERT_SCRAPE_TIMEOUT_MS', 5_000, 100, 60_000);
  if (scrapeTimeoutMs > scrapeIntervalMs) {
    throw new ConfigError('ALERT_SCRAPE_TIMEOUT_MS', 'must not be above ALERT_SCRAPE_INTERVAL_MS');
  }
  const webhookToken = optional(env, 'ALERT_WEBHOOK_TOKEN');
  // Never echo the value: it is a credential.
  if (webhookToken !== undefined && webhookToken.length < 24) {
    throw new ConfigError('ALERT_WEBHOOK_TOKEN', 'must be at least 24 characters');
  }
  return {
    prometheusUrl: env.PROMETHEUS_URL ? url(env, 'PROMETHEUS_URL', '', ['http:', 'https:']) : undefined,
    prometheusTimeoutMs: int(env, 'PROMETHEUS_TIMEOUT_MS', 3_000, 100, 60_000),
    scrapeTargets,
    scrapeIntervalMs,
    scrapeTimeoutMs,
    evaluationIntervalMs: int(env, 'ALERT_EVAL_INTERVAL_MS', 15_000, 1_000, 300_000),
    retentionMs: int(env, 'ALERT_RETENTION_MINUTES', 360, 10, 7 * 24 * 60) * 60_000,
    ruleTimeScale: int(env, 'ALERT_RULE_TIME_SCALE', 1, 1, 3_600),
    runbookBaseUrl: url(env, 'ALERT_RUNBOOK_BASE_URL', `http://127.0.0.1:${port}`, [
      'http:',
      'https:',
    ]).replace(/\/+$/, ''),
    webhookToken,
  };
}

// A drill puts load and faults on its target: it must be this machine, never a shared host.
function drillTargetUrl(env: Env, port: number): string {
  const raw = url(env, 'DRILL_TARGET_URL', `http://127.0.0.1:${port}`, ['http:', 'https:']);
  const host = new URL(raw).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    throw new ConfigError('DRILL_TARGET_URL', `must be a loopback address (127.0.0.1, ::1), got ${host}`);
  }
  return raw.replace(/\/+$/, '');
}

function traceUiUrl(env: Env): string | undefined {
  const raw = optional(env, 'TRACE_UI_URL');
  if (raw === undefined) return undefined;
  url(env, 'TRACE_UI_URL', '', ['http:', 'https:']);
  if (!raw.includes('{trace_id}')) throw new ConfigError('TRACE_UI_URL', 'must contain {trace_id}');
  return raw;
}

function operatorToken(env: Env): string | undefined {
  const token = optional(env, 'AIRLOCK_OPERATOR_TOKEN');
  // Never echo the value: it is a credential.
  if (token !== undefined && token.length < 24) {
    throw new ConfigError('AIRLOCK_OPERATOR_TOKEN', 'must be at least 24 characters');
  }
  return token;
}

// In role all the gateway and the classifier share a process: an HTTP hop between them
// costs CPU and, worse, puts a timer on the same busy loop between the call and its answer.
// Elsewhere moderation is a service of its own.
function moderationTransport(env: Env, role: Role): ModerationTransport {
  const chosen = oneOf(env, 'MODERATION_TRANSPORT', 'auto', ['auto', 'http', 'in-process'] as const);
  if (chosen !== 'auto') return chosen;
  return role === 'all' ? 'in-process' : 'http';
}

export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];
export const TRACE_PROPAGATORS = ['tracecontext', 'baggage', 'none'] as const;
export type TracePropagator = (typeof TRACE_PROPAGATORS)[number];

// key1=value1,key2=value2 with percent-encoded values, as the OpenTelemetry spec writes it.
function resourceAttributes(env: Env): Record<string, string> {
  const raw = optional(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (!raw) return {};
  const attributes: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (!pair.trim()) continue;
    const equals = pair.indexOf('=');
    const key = pair.slice(0, equals).trim();
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(equals + 1).trim());
    } catch {
      value = '';
    }
    if (equals < 1 || !key || !value) {
      throw new ConfigError(
        'OTEL_RESOURCE_ATTRIBUTES',
        `must be key=value pairs separated by commas, got "${pair}"`,
      );
    }
    attributes[key] = value;
  }
  return attributes;
}

function propagators(env: Env): TracePropagator[] {
  const names = str(env, 'OTEL_PROPAGATORS', 'tracecontext,baggage')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(TRACE_PROPAGATORS as readonly string[]).includes(name)) {
      throw new ConfigError('OTEL_PROPAGATORS', `must list ${TRACE_PROPAGATORS.join(', ')}; got "${name}"`);
    }
  }
  return [...new Set(names)] as TracePropagator[];
}

function telemetryConfig(env: Env): Config['telemetry'] {
  const endpoint =
    optional(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? optional(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint)
    url(
      env,
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
        : 'OTEL_EXPORTER_OTLP_ENDPOINT',
      '',
      ['http:', 'https:'],
    );
  const disabled =
    str(env, 'OTEL_SDK_DISABLED', 'false') === 'true' || str(env, 'OTEL_TRACES_EXPORTER', 'otlp') === 'none';
  // One trace in ten by default: every request is still in the metrics, and the measured
  // cost of tracing all of them (BENCHMARKS.md) is above our 15% budget.
  const ratioRaw = str(env, 'OTEL_TRACES_SAMPLER_ARG', '0.1');
  const sampleRatio = Number(ratioRaw);
  if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1) {
    throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number between 0 and 1, got "${ratioRaw}"`);
  }
  return {
    enabled: Boolean(endpoint) && !disabled,
    otlpEndpoint: endpoint,
    serviceName: str(env, 'OTEL_SERVICE_NAME', 'airlock'),
    // The spec's default is parentbased_always_on; ours keeps a ratio (see sampleRatio).
    sampler: oneOf(env, 'OTEL_TRACES_SAMPLER', 'parentbased_traceidratio', TRACE_SAMPLERS),
    sampleRatio,
    resourceAttributes: resourceAttributes(env),
    propagators: propagators(env),
    requestMetrics: oneOf(env, 'AIRLOCK_REQUEST_METRICS', 'on', ['on', 'off'] as const) === 'on',
    traceUiUrl: traceUiUrl(env),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
