import type { Queue } from 'bullmq';
import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import { createPgListener, type PgListener } from '../../platform/pg-listener.ts';
import { jobIdForOutbox, type ExecuteJobPayload } from '../execution/execution.jobs.ts';
import { lockUnpublished, markPublished, OUTBOX_CHANNEL, type OutboxMessage } from './outbox.repository.ts';

export interface OutboxRelay {
  start(): void;
  stop(): Promise<void>;
  // Publishes one batch; returns how many rows it published. Exposed for tests and drills.
  relayOnce(): Promise<number>;
}

// Moves committed outbox rows into BullMQ. The rows stay locked until BullMQ has accepted
// the jobs; a relay that dies in between leaves them unpublished for the next one, and the
// deterministic job id turns the second publication into a no-op.
export function createOutboxRelay(deps: {
  pool: Pool;
  queue: Pick<Queue<ExecuteJobPayload>, 'addBulk'>;
  connectionString: string;
  pollIntervalMs: number;
  batchSize: number;
  logger: Logger;
  onPublished?: (count: number) => void;
  // Records each published row in the trace of the request that wrote it (tracing only).
  onRowPublished?: (row: OutboxMessage) => void;
  listen?: boolean;
}): OutboxRelay {
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let listener: PgListener | undefined;
  let failures = 0;

  async function relayOnce(): Promise<number> {
    return withTransaction(deps.pool, async (tx) => {
      const rows = await lockUnpublished(tx, deps.batchSize);
      if (!rows.length) return 0;
      await deps.queue.addBulk(
        rows.map((row) => ({
          name: row.topic,
          data: {
            tenant_id: row.tenantId,
            action_id: row.actionId,
            outbox_id: row.id,
            ...(row.traceContext ? { trace_context: row.traceContext } : {}),
          },
          opts: { jobId: jobIdForOutbox(row.id) },
        })),
      );
      await markPublished(
        tx,
        rows.map((r) => r.id),
      );
      if (deps.onRowPublished) rows.forEach(deps.onRowPublished);
      return rows.length;
    });
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function run(): Promise<void> {
    while (running) {
      let published = 0;
      try {
        published = await relayOnce();
        failures = 0;
        if (published) deps.onPublished?.(published);
      } catch (err) {
        failures += 1;
        deps.logger.warn(
          { err: { message: (err as Error).message }, failures },
          'outbox relay failed; will retry',
        );
      }
      if (!running) break;
      // A full batch means more may be waiting: go again at once. Failures back off.
      if (published === deps.batchSize) continue;
      // Capped low: the relay is how work resumes after an outage, and a long sleep here
      // would add that much to every action's start delay once Redis is back.
      const backoff = failures ? Math.min(deps.pollIntervalMs * 2 ** failures, 2_000) : deps.pollIntervalMs;
      await sleep(backoff);
    }
  }

  return {
    relayOnce,
    start() {
      if (running) return;
      running = true;
      if (deps.listen !== false) {
        listener = createPgListener({
          connectionString: deps.connectionString,
          channels: [OUTBOX_CHANNEL],
          onNotify: () => wake?.(),
          logger: deps.logger,
        });
      }
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await listener?.close();
    },
  };
}
