// Telemetry overhead on the hot path, measured in one run so the machine's noise is shared:
// the same service is started in turn with telemetry off (no request metrics, no tracing),
// with request metrics and tracing at the default sampler (one new trace in ten) and with
// every trace sampled, all to a local OTLP/HTTP sink, and POST /v1/actions is loaded for the
// same time in each. Rounds alternate the order to spread drift; the figures to read are the
// ratios to off. With --baseline <dir>, a checkout of another commit (its node_modules in
// place) is measured in the same rounds, e.g. the tracing setup before a change.
//
//   node bench/telemetry-overhead.ts [--duration 10] [--connections 20] [--rounds 2] [--baseline <dir>]
//
// Uses DATABASE_URL / REDIS_URL like the service (a database airlock_bench by default),
// ports 28180-28182 and a sink on 28183. Load goes to 127.0.0.1 only, bounded in time.
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { parseArgs } from '../src/cli/cli-args.ts';

const args = parseArgs(process.argv.slice(2), {
  options: ['duration', 'connections', 'rounds', 'baseline'],
}).options;
const duration = Number(args.duration ?? 10);
const connections = Number(args.connections ?? 20);
const rounds = Number(args.rounds ?? 2);
const baseline = args.baseline;
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/airlock_bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/5';
const PORT = 28180;
const SINK_PORT = 28183;

let spansBytes = 0;
const sink = http.createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (spansBytes += chunk.length));
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => sink.listen(SINK_PORT, '127.0.0.1', resolve));

const baseEnv = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  PORT: String(PORT),
  MODERATION_PORT: String(PORT + 1),
  MODERATION_URL: `http://127.0.0.1:${PORT + 1}`,
  WORKER_PORT: String(PORT + 2),
  LOG_LEVEL: 'warn',
};
const tracing = {
  AIRLOCK_REQUEST_METRICS: 'on',
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${SINK_PORT}`,
};
const modes = {
  off: { env: { AIRLOCK_REQUEST_METRICS: 'off' }, root: '.' },
  // The production setting: every request measured, one new trace in ten kept.
  default: { env: tracing, root: '.' },
  every: { env: { ...tracing, OTEL_TRACES_SAMPLER_ARG: '1' }, root: '.' },
  ...(baseline
    ? {
        baseline_default: { env: tracing, root: baseline },
        baseline_every: { env: { ...tracing, OTEL_TRACES_SAMPLER_ARG: '1' }, root: baseline },
      }
    : {}),
} as Record<string, { env: Record<string, string>; root: string }>;
type Mode = string;

const key = (
  JSON.parse(
    execFileSync(
      'node',
      ['src/cli/cli.ts', 'keys', 'create', '--tenant', `bench-${process.pid}`, '--role', 'agent', '--json'],
      {
        env: baseEnv,
        encoding: 'utf8',
      },
    ),
  ) as { key: string }
).key;

async function measure(mode: Mode) {
  const service = spawn(process.execPath, ['src/main.ts', 'all'], {
    cwd: modes[mode]!.root,
    env: { ...baseEnv, ...modes[mode]!.env },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 100; i++) {
      const ready = await fetch(`http://127.0.0.1:${PORT}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const result = await autocannon({
      url: `http://127.0.0.1:${PORT}/v1/actions`,
      method: 'POST',
      connections,
      duration,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              'idempotency-key': randomUUID(),
            },
            body: JSON.stringify({
              tool: 'notes.create',
              arguments: { title: 'bench', body: 'telemetry overhead' },
              user_id: `user-${Math.floor(Math.random() * 100_000)}`,
            }),
          }),
        },
      ],
    });
    return {
      mode,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
    };
  } finally {
    service.kill('SIGTERM');
    await new Promise((resolve) => service.once('exit', resolve));
  }
}

const results: Array<Awaited<ReturnType<typeof measure>>> = [];
for (let round = 0; round < rounds; round++) {
  const order = Object.keys(modes);
  for (const mode of round % 2 === 0 ? order : [...order].reverse()) {
    const r = await measure(mode);
    results.push(r);
    console.log(JSON.stringify({ round, ...r }));
  }
}
const mean = (mode: string, field: 'rps' | 'p99') => {
  const rows = results.filter((r) => r.mode === mode);
  return rows.reduce((sum, r) => sum + r[field], 0) / rows.length;
};
const ratio = (mode: Mode) => Math.round((mean(mode, 'rps') / mean('off', 'rps')) * 1000) / 1000;
console.log(
  JSON.stringify({
    throughput_ratio_to_off: Object.fromEntries(Object.keys(modes).map((m) => [m, ratio(m)])),
    rps: Object.fromEntries(Object.keys(modes).map((m) => [m, Math.round(mean(m, 'rps'))])),
    p99_ms: Object.fromEntries(Object.keys(modes).map((m) => [m, mean(m, 'p99')])),
    otlp_bytes_received: spansBytes,
  }),
);
sink.close();
