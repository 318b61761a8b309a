// Every environment variable that src/platform/config.ts reads, with its default and what it
// means: the one list the README's configuration table is generated from (`npm run
// docs:config`). test/docs/config-table.test.ts fails when config.ts reads a variable that is
// not here, when an entry here is not read, when a default here differs from what config.ts
// does with the variable unset, and when the README's table is not the generated one.
//
// A new variable: read it in config.ts, add it here, run `npm run docs:config`.

export interface ConfigVariable {
  readonly name: string;
  // The value that behaves exactly as leaving the variable unset, as it would be written in
  // the environment; undefined when unset means "off" or "absent".
  readonly default?: string;
  // For a default that is not one fixed value (it depends on another variable or on the
  // machine): how it is worked out. The drift test cannot check it, so say it exactly.
  readonly computedDefault?: string;
  // Markdown, one sentence or two; name the ADR or doc that explains the choice.
  readonly description: string;
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  // Dependencies
  {
    name: 'DATABASE_URL',
    default: 'postgres://postgres@127.0.0.1:5432/airlock',
    description: 'Postgres; created if missing by `npm start` and `npm run migrate`',
  },
  {
    name: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis; a `/N` db index is honoured, BullMQ included',
  },
  {
    name: 'REDIS_PREFIX',
    default: 'airlock',
    description: 'namespace of every Redis key, BullMQ queues included (1–64 of `A-Za-z0-9_.:-`)',
  },
  {
    name: 'UNLEASH_URL',
    description:
      'feature flags from Unleash (set with `UNLEASH_API_TOKEN`); unset means the local Postgres-backed provider',
  },
  { name: 'UNLEASH_API_TOKEN', description: 'Unleash client token; set together with `UNLEASH_URL`' },
  {
    name: 'UNLEASH_ADMIN_TOKEN',
    description: 'Unleash admin token, needed only by `cli flags set` when Unleash is the provider',
  },
  { name: 'UNLEASH_ENVIRONMENT', description: 'the Unleash environment flags are read from and set in' },
  {
    name: 'UNLEASH_BACKUP_DIR',
    computedDefault: '`$TMPDIR/airlock-flags`',
    description:
      'where the last known Unleash flag values are kept, so a restart during an Unleash outage starts from them',
  },
  {
    name: 'OPENAI_API_KEY',
    description:
      "moderation classifier: OpenAI's moderation endpoint when set, the local lexicon classifier otherwise ([docs/moderation.md](docs/moderation.md))",
  },

  // Processes and ports
  {
    name: 'AIRLOCK_ROLE',
    default: 'all',
    description: '`api`, `worker`, `moderation` or `all` (or the first argument of `src/main.ts`)',
  },
  { name: 'HOST', default: '127.0.0.1', description: 'listen address (`0.0.0.0` in containers)' },
  { name: 'PORT', default: '8080', description: 'API port' },
  { name: 'MODERATION_PORT', default: '8081', description: 'moderation service port' },
  { name: 'WORKER_PORT', default: '8082', description: 'health and metrics port of the `worker` role' },
  {
    name: 'AIRLOCK_VERSION',
    computedDefault: '`npm_package_version`, else `0.0.0`',
    description: 'the version reported in `/openapi.json` and in telemetry',
  },
  {
    name: 'AIRLOCK_OPERATOR_TOKEN',
    description:
      'enables `POST /v1/operator/keys` (the k6 suites create their keys with it; at least 24 characters); unset, the route does not exist',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
  },

  // Postgres
  { name: 'DB_POOL_MAX', default: '10', description: 'Postgres pool size per process' },
  { name: 'DB_STATEMENT_TIMEOUT_MS', default: '5000', description: 'per-statement timeout' },
  {
    name: 'DB_CONNECT_TIMEOUT_MS',
    default: '3000',
    description: 'longest wait for a new Postgres connection',
  },

  // HTTP
  {
    name: 'HTTP_REQUEST_TIMEOUT_MS',
    default: '10000',
    description: 'socket timeout of one request',
  },
  {
    name: 'REQUEST_DEADLINE_MS',
    computedDefault: '`5000` (at most 80% of `HTTP_REQUEST_TIMEOUT_MS`)',
    description:
      'one deadline per request, honoured by the handler, the pool wait and each query; then 503, always before the socket closes',
  },
  {
    name: 'SHUTDOWN_DELAY_MS',
    default: '0',
    description: 'drain delay after readiness turns 503, for load balancers to notice',
  },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    default: '25000',
    description: 'hard deadline of the drain on SIGTERM',
  },
  {
    name: 'MAX_EVENT_LOOP_DELAY_MS',
    default: '1000',
    description: 'event-loop delay above which requests are shed with 503 `overloaded`',
  },

  // Admission control (ADR 0018)
  {
    name: 'ADMISSION_MAX_IN_FLIGHT',
    default: '8',
    description: 'proposals decided at once per process ([ADR 0018](docs/adr/0018-admission-control.md))',
  },
  { name: 'ADMISSION_MAX_QUEUE', default: '64', description: 'proposals that may wait for a slot' },
  {
    name: 'ADMISSION_MAX_QUEUE_WAIT_MS',
    default: '100',
    description: 'longest wait for a slot before 503 `overloaded`',
  },
  {
    name: 'ADMISSION_MAX_BACKLOG_AGE_MS',
    default: '2000',
    description: 'oldest unstarted allowed action above which proposals get 503 `overloaded`',
  },
  {
    name: 'ADMISSION_BACKLOG_SAMPLE_MS',
    default: '250',
    description: 'how often the execution backlog is sampled',
  },

  // Moderation (ADR 0007, 0017)
  {
    name: 'MODERATION_URL',
    default: 'http://127.0.0.1:8081',
    description: 'where the gateway calls moderation over HTTP',
  },
  {
    name: 'MODERATION_TRANSPORT',
    default: 'auto',
    description:
      '`auto`: `in-process` in role `all`, `http` otherwise ([ADR 0017](docs/adr/0017-moderation-budget-where-the-work-happens.md))',
  },
  {
    name: 'MODERATION_TIMEOUT_MS',
    default: '100',
    description: 'moderation budget, enforced by the moderation service itself',
  },
  {
    name: 'MODERATION_BACKSTOP_MS',
    default: '1000',
    description: "the HTTP client's own timer, for a moderation service that never answers",
  },
  {
    name: 'MODERATION_BREAKER_ERROR_PERCENT',
    default: '50',
    description: 'failed share of moderation calls, in percent, that opens the circuit breaker',
  },
  {
    name: 'MODERATION_BREAKER_VOLUME',
    default: '10',
    description: 'calls in the window before the breaker may open',
  },
  {
    name: 'MODERATION_BREAKER_WINDOW_MS',
    default: '10000',
    description: "the breaker's rolling window",
  },
  {
    name: 'MODERATION_BREAKER_RESET_MS',
    default: '5000',
    description: 'how long the breaker stays open before it lets one call through',
  },

  // Execution
  { name: 'WORKER_CONCURRENCY', default: '8', description: 'jobs run at once per worker process' },
  { name: 'WORKER_MAX_ATTEMPTS', default: '5', description: 'tool attempts before a job is dead-lettered' },
  {
    name: 'WORKER_BACKOFF_BASE_MS',
    default: '500',
    description: 'base of the capped exponential retry backoff with full jitter',
  },
  { name: 'WORKER_BACKOFF_MAX_MS', default: '30000', description: 'cap of that backoff' },
  { name: 'WORKER_TOOL_TIMEOUT_MS', default: '10000', description: 'timeout of one tool execution' },
  {
    name: 'WORKER_LOCK_DURATION_MS',
    default: '30000',
    description: "BullMQ job lock: how long a crashed worker's job stays locked",
  },
  {
    name: 'WORKER_STALLED_INTERVAL_MS',
    default: '30000',
    description: 'how often stalled jobs are looked for and redelivered',
  },
  {
    name: 'OUTBOX_POLL_INTERVAL_MS',
    default: '1000',
    description: 'outbox relay polling (LISTEN/NOTIFY wakes it sooner)',
  },
  { name: 'OUTBOX_BATCH_SIZE', default: '100', description: 'outbox rows published per batch' },
  {
    name: 'OUTBOX_BACKOFF_MAX_MS',
    default: '2000',
    description: "ceiling of the relay's jittered backoff while publishing fails",
  },
  {
    name: 'RECONCILE_INTERVAL_MS',
    default: '10000',
    description: 'how often the reconciler looks for queued or running actions whose job Redis lost',
  },
  {
    name: 'RECONCILE_STRANDED_AFTER_MS',
    default: '30000',
    description: 'how long such an action must be untouched before it is re-published',
  },
  {
    name: 'AUDIT_CHAIN_INTERVAL_MS',
    default: '100',
    description: 'how often each process links recorded audit events into their hash chains',
  },

  // Caches, flags, idempotency
  {
    name: 'CACHE_ACTION_TTL_SECONDS',
    default: '300',
    description: 'read-cache TTL of `GET /v1/actions/{id}`',
  },
  {
    name: 'CACHE_COMMAND_TIMEOUT_MS',
    default: '100',
    description: 'timeout of one cache or rate-limit command to Redis',
  },
  {
    name: 'FLAGS_REFRESH_INTERVAL_MS',
    default: '2000',
    description: 'flag refresh (with the local provider, NOTIFY makes it immediate)',
  },
  {
    name: 'IDEMPOTENCY_LEASE_MS',
    default: '30000',
    description: 'how long an in-flight Idempotency-Key is held',
  },
  {
    name: 'IDEMPOTENCY_RETENTION_HOURS',
    default: '24',
    description: 'how long an Idempotency-Key is remembered; after it, the same key is a new request',
  },
  {
    name: 'IDEMPOTENCY_SWEEP_INTERVAL_MS',
    default: '60000',
    description: 'how often expired Idempotency-Keys are swept',
  },
  {
    name: 'FETCH_ALLOW_PRIVATE_CIDRS',
    description: 'comma-separated private ranges `http.fetch` may reach (tests only)',
  },

  // On-call drills (`cli drill`)
  {
    name: 'DRILL_TARGET_URL',
    computedDefault: '`http://127.0.0.1:$PORT`',
    description:
      "the Airlock API a drill's background traffic drives; loopback only ([ADR 0021](docs/adr/0021-drills.md))",
  },
  {
    name: 'DRILL_TRAFFIC_RPS',
    default: '5',
    description: "requests per second of a drill's background traffic (1–50)",
  },
  {
    name: 'DRILL_MAX_DURATION_MS',
    default: '1800000',
    description: 'a drill nobody stops ends itself after this long, restoring a clean state',
  },
  {
    name: 'DRILL_POLL_INTERVAL_MS',
    default: '5000',
    description: 'how often the drill runner beats, polls the alerts and records their transitions',
  },
  {
    name: 'DRILL_POSTMORTEM_DIR',
    default: 'docs/drills',
    description:
      'where `drill check` and `drill stop` write the postmortem draft (relative to the repository)',
  },
  {
    name: 'DRILL_REDIS_CONTROL',
    default: 'off',
    description:
      "`shutdown`: the Redis at `REDIS_URL` is the drill's own and the `redis-outage` drill may stop it (`SHUTDOWN NOSAVE`); `off` refuses that drill",
  },

  // Telemetry
  {
    name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    description:
      'OTLP/HTTP traces endpoint; tracing is on only when this or `OTEL_EXPORTER_OTLP_ENDPOINT` is set',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    description: 'OTLP/HTTP endpoint used when the traces one is unset; a bare origin gets `/v1/traces`',
  },
  { name: 'OTEL_SDK_DISABLED', default: 'false', description: '`true` turns tracing off' },
  { name: 'OTEL_TRACES_EXPORTER', default: 'otlp', description: '`none` turns tracing off' },
  {
    name: 'OTEL_TRACES_SAMPLER_ARG',
    default: '0.1',
    description: 'share of traces sampled, 0 to 1 (the measured cost is in [BENCHMARKS.md](BENCHMARKS.md))',
  },
  {
    name: 'OTEL_TRACES_SAMPLER',
    default: 'parentbased_traceidratio',
    description:
      '`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio` (the ratio is `OTEL_TRACES_SAMPLER_ARG`)',
  },
  { name: 'OTEL_SERVICE_NAME', default: 'airlock', description: 'service name on spans' },
  {
    name: 'OTEL_RESOURCE_ATTRIBUTES',
    description:
      'extra resource attributes on every span, `key=value` pairs separated by commas (values percent-encoded)',
  },
  {
    name: 'OTEL_PROPAGATORS',
    default: 'tracecontext,baggage',
    description:
      'trace context formats written into outbox rows and jobs and read back: `tracecontext`, `baggage` or `none`',
  },
  {
    name: 'AIRLOCK_REQUEST_METRICS',
    default: 'on',
    description:
      'per-request RED metrics; `off` only for the telemetry-overhead benchmark (alerts need them)',
  },
  {
    name: 'TRACE_UI_URL',
    description:
      'a trace UI page with `{trace_id}`, e.g. `http://localhost:16686/trace/{trace_id}`; the console links action traces to it',
  },
  // Alerts (docs/adr/0022-local-alert-evaluation.md)
  {
    name: 'PROMETHEUS_URL',
    description:
      '`drill status` and the drill runner read alerts from this Prometheus (`/api/v1/alerts`); unset, the drill runner evaluates the shipped rule files itself',
  },
  { name: 'PROMETHEUS_TIMEOUT_MS', default: '3000', description: 'timeout of one Prometheus alert query' },
  {
    name: 'ALERT_SCRAPE_TARGETS',
    computedDefault: '`airlock-api=http://127.0.0.1:$PORT/metrics`',
    description:
      'what the local evaluation scrapes: comma-separated `job=url` (the job defaults to `airlock-api`; `airlock-*` jobs are watched by AirlockTargetDown)',
  },
  {
    name: 'ALERT_SCRAPE_INTERVAL_MS',
    default: '15000',
    description: 'local evaluation: scrape interval (Prometheus: `scrape_interval`)',
  },
  {
    name: 'ALERT_SCRAPE_TIMEOUT_MS',
    default: '5000',
    description: 'local evaluation: a scrape slower than this counts as failed (`up` 0)',
  },
  {
    name: 'ALERT_EVAL_INTERVAL_MS',
    default: '15000',
    description: 'local evaluation: rule evaluation interval (Prometheus: `evaluation_interval`)',
  },
  {
    name: 'ALERT_RETENTION_MINUTES',
    default: '360',
    description: 'local evaluation: history kept in memory; longer rule windows see only this much',
  },
  {
    name: 'ALERT_RULE_TIME_SCALE',
    default: '1',
    description:
      'local evaluation, tests only: divides every rule window, offset and `for:` by this factor so a drill test resolves in seconds',
  },
  {
    name: 'ALERT_RUNBOOK_BASE_URL',
    computedDefault: '`http://127.0.0.1:$PORT`',
    description:
      'where runbooks are served; the local evaluation expands `{{ $externalLabels.runbook_base }}` in `runbook_url` with it',
  },
  {
    name: 'ALERT_WEBHOOK_TOKEN',
    description:
      "Alertmanager's bearer token for `POST /v1/alerts/webhook` (at least 24 characters); unset, the route does not exist",
  },
];
