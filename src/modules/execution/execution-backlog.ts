import type { Queue } from 'bullmq';
import type { Queryable } from '../../platform/db.ts';

// How far execution is behind: the age of the oldest allowed action that has not started,
// wherever it waits, in the outbox (not yet published) or in the queue (published, not yet
// taken by a worker). The API's admission control reads it (src/platform/admission.ts);
// its inputs are the execution side's tables and queue (owned with the relay and worker).
export async function executionBacklogAgeMs(deps: {
  db: Queryable;
  queue: Pick<Queue, 'getJobs'>;
  now?: () => number;
}): Promise<number> {
  const now = deps.now ?? Date.now;
  const [outbox, waiting] = await Promise.all([
    deps.db.query<{ oldest: Date | null }>({
      name: 'execution_backlog_outbox_oldest',
      // The partial index on unpublished rows makes this an index probe, not a scan.
      text: `SELECT created_at AS oldest FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1`,
    }),
    deps.queue.getJobs(['wait'], 0, 0, true),
  ]);
  const oldestOutbox = outbox.rows[0]?.oldest?.getTime();
  const oldestJob = waiting[0]?.timestamp;
  const ages = [oldestOutbox, oldestJob].filter((t): t is number => t !== undefined).map((t) => now() - t);
  return Math.max(0, ...ages);
}

// Samples the backlog on a timer and hands each reading to `report` (undefined when the
// reading failed). Returns a stop function.
export function sampleExecutionBacklog(options: {
  intervalMs: number;
  read: () => Promise<number>;
  report: (ageMs: number | undefined) => void;
}): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    let age: number | undefined;
    try {
      age = await options.read();
    } catch {
      age = undefined;
    }
    if (stopped) return;
    options.report(age);
    timer = setTimeout(() => void tick(), options.intervalMs);
    timer.unref();
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// The age of the oldest allowed action still waiting for its first attempt, from Postgres
// alone: it holds whether the action waits in the outbox, in the queue or was lost between
// them, and any process can read it, including one that is not part of the stalled pipeline.
// Retries (attempts > 0) are left out: their wait is the backoff, not a stall.
export async function oldestUnstartedActionAgeSeconds(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ oldest: number | null }>({
    name: 'execution_backlog_unstarted_oldest',
    text: `SELECT extract(epoch FROM now() - min(queued_at))::float8 AS oldest
             FROM actions WHERE status = 'queued' AND attempts = 0`,
  });
  return Math.max(0, rows[0]?.oldest ?? 0);
}
