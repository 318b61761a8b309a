import { Pool, type Dispatcher } from 'undici';

// A small HTTP load generator for `npm run bench`, loopback only. Two models:
// - closed: `connections` loops, each sending its next request when the last one answered
//   (saturation: how much can be served);
// - open: requests leave at a fixed arrival rate whatever the answers, and latency is taken
//   from when each request was due, not when it was sent, so a stalled server cannot hide
//   its stall by slowing the generator down (coordinated omission).
// Every request carries a tag; latencies and statuses are kept per tag.

export interface Request {
  tag: string;
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  // Called with the answer, e.g. to read a proposal's decision.
  onAnswer?: (status: number, body: string) => void;
}

export interface TagStats {
  count: number;
  statuses: Record<string, number>;
  errors: number;
  latenciesMs: number[];
  // Per status code: an admitted answer and a fast refusal are different latencies.
  latenciesByStatus: Record<string, number[]>;
}

const newStats = (): TagStats => ({
  count: 0,
  statuses: {},
  errors: 0,
  latenciesMs: [],
  latenciesByStatus: {},
});

export interface LoadResult {
  seconds: number;
  byTag: Record<string, TagStats>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summarise(stats: TagStats, seconds: number) {
  const sorted = [...stats.latenciesMs].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  const byStatus = Object.fromEntries(
    Object.entries(stats.latenciesByStatus).map(([status, latencies]) => {
      const ordered = [...latencies].sort((a, b) => a - b);
      return [
        status,
        {
          count: ordered.length,
          p50_ms: round(percentile(ordered, 50)),
          p99_ms: round(percentile(ordered, 99)),
        },
      ];
    }),
  );
  return {
    requests: stats.count,
    per_second: round(stats.count / seconds),
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.at(-1) ?? 0),
    statuses: stats.statuses,
    latency_by_status: byStatus,
    errors: stats.errors,
  };
}

export function createLoadGenerator(origin: string, connections: number) {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 10_000 });

  async function send(request: Request, byTag: Record<string, TagStats>, dueAt: number): Promise<void> {
    const stats = (byTag[request.tag] ??= newStats());
    try {
      const response = await pool.request({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
      });
      const text = await response.body.text();
      const latency = performance.now() - dueAt;
      stats.latenciesMs.push(latency);
      (stats.latenciesByStatus[response.statusCode] ??= []).push(latency);
      stats.count += 1;
      stats.statuses[response.statusCode] = (stats.statuses[response.statusCode] ?? 0) + 1;
      request.onAnswer?.(response.statusCode, text);
    } catch {
      stats.latenciesMs.push(performance.now() - dueAt);
      stats.count += 1;
      stats.errors += 1;
    }
  }

  return {
    async closed(options: {
      connections: number;
      seconds: number;
      next: () => Request;
    }): Promise<LoadResult> {
      const byTag: Record<string, TagStats> = {};
      const started = performance.now();
      const end = started + options.seconds * 1000;
      await Promise.all(
        Array.from({ length: options.connections }, async () => {
          while (performance.now() < end) await send(options.next(), byTag, performance.now());
        }),
      );
      return { seconds: (performance.now() - started) / 1000, byTag };
    },

    async open(options: {
      rate: number;
      seconds: number;
      next: () => Request;
      // Bound on requests outstanding at once; past it, requests are counted as errors
      // (the server is not keeping up) instead of piling up in memory.
      maxOutstanding?: number;
    }): Promise<LoadResult> {
      const byTag: Record<string, TagStats> = {};
      const maxOutstanding = options.maxOutstanding ?? 1_000;
      const started = performance.now();
      const total = Math.round(options.rate * options.seconds);
      const interval = 1000 / options.rate;
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < total; i++) {
        const dueAt = started + i * interval;
        const wait = dueAt - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        const request = options.next();
        if (inFlight.size >= maxOutstanding) {
          const stats = (byTag[request.tag] ??= newStats());
          stats.count += 1;
          stats.errors += 1;
          continue;
        }
        const sent = send(request, byTag, dueAt).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }
      await Promise.all(inFlight);
      return { seconds: Math.max(options.seconds, (performance.now() - started) / 1000), byTag };
    },

    close: () => pool.close(),
  };
}
