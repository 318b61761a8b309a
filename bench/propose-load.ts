// Quick load run against a running Airlock (`npm start`): POST /v1/actions with a fresh
// Idempotency-Key and user per request, plus GET /livez in the same run as the baseline,
// so figures from a noisy machine are read as a ratio.
//
//   node bench/propose-load.ts [--url http://127.0.0.1:8080] [--duration 15] [--connections 20] [--rate N]
//
// Creates its own agent key with the CLI (same DATABASE_URL as the service).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { parseArgs } from '../src/cli/cli-args.ts';

const args = parseArgs(process.argv.slice(2), {
  options: ['url', 'duration', 'connections', 'rate'],
}).options;
const url = args.url ?? 'http://127.0.0.1:8080';
const duration = Number(args.duration ?? 15);
const connections = Number(args.connections ?? 20);
// Optional fixed arrival rate (requests per second, all connections together) for latency
// at a given load rather than at saturation.
const rate = args.rate ? Number(args.rate) : undefined;

const created = JSON.parse(
  execFileSync(
    'npm',
    [
      'run',
      '--silent',
      'cli',
      '--',
      'keys',
      'create',
      '--tenant',
      `bench-${process.pid}`,
      '--role',
      'agent',
      '--json',
    ],
    {
      encoding: 'utf8',
    },
  ),
) as { key: string };

async function run(title: string, path: string, options: Partial<autocannon.Options> = {}) {
  // autocannon ignores a separate `path` when `url` is given: the path goes in the URL.
  const result = await autocannon({ url: new URL(path, url).toString(), connections, duration, ...options });
  const summary = {
    run: title,
    requests_per_second: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    status_codes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count]),
    ),
    errors: result.errors,
    timeouts: result.timeouts,
  };
  console.log(JSON.stringify(summary));
  return summary;
}

const baseline = await run('GET /livez (baseline)', '/livez');
const proposals = await run(`POST /v1/actions notes.create${rate ? ` at ${rate}/s` : ''}`, '/v1/actions', {
  method: 'POST',
  ...(rate ? { overallRate: rate } : {}),
  requests: [
    {
      setupRequest: (request) => ({
        ...request,
        headers: {
          authorization: `Bearer ${created.key}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        // Many users, so the per-user rate limit (60/min) measures throughput, not 429s.
        body: JSON.stringify({
          tool: 'notes.create',
          arguments: { title: 'load', body: 'autocannon' },
          user_id: `user-${Math.floor(Math.random() * 100_000)}`,
        }),
      }),
    },
  ],
});
console.log(
  JSON.stringify({
    ratio_proposals_to_baseline:
      Math.round((proposals.requests_per_second / baseline.requests_per_second) * 1000) / 1000,
  }),
);
