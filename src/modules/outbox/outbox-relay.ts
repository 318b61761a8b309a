import type { Queue } from 'bullmq';
import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import { createInterruptibleSleep } from '../../platform/interruptible-sleep.ts';
import { createPgListener, type PgListener } from '../../platform/pg-listener.ts';
import { jobIdForOutbox, type ExecuteJobPayload } from '../execution/execution.jobs.ts';
import { claimUnpublished, OUTBOX_CHANNEL, type OutboxMessage } from './outbox.repository.ts';

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
  // The ceiling of the backoff after failed publications (OUTBOX_BACKOFF_MAX_MS).
  backoffMaxMs: number;
  batchSize: number;
  logger: Logger;
  onPublished?: (count: number) => void;
  // Records each published row in the trace of the request that wrote it (tracing only).
  onRowPublished?: (row: OutboxMessage) => void;
  listen?: boolean;
  random?: () => number;
}): OutboxRelay {
  let running = false;
  let loop: Promise<void> | undefined;
  let listener: PgListener | undefined;
  let failures = 0;

  async function relayOnce(): Promise<number> {
    return withTransaction(deps.pool, async (tx) => {
      const rows = await claimUnpublished(tx, deps.batchSize);
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
      if (deps.onRowPublished) rows.forEach(deps.onRowPublished);
      return rows.length;
    });
  }

  const { sleep, wake } = createInterruptibleSleep();

  async function run(): Promise<void> {
    while (running) {
      let published = 0;
      try {
        published = await relayOnce();
        if (failures) deps.logger.info({ failures }, 'outbox relay publishes again');
        failures = 0;
        if (published) deps.onPublished?.(published);
      } catch (err) {
        failures += 1;
        // An outage is logged when it starts, not on every attempt.
        deps.logger[failures === 1 ? 'warn' : 'debug'](
          { err: { message: (err as Error).message }, failures },
          'outbox relay cannot publish; backing off',
        );
      }
      if (!running) break;
      // A full batch means more may be waiting: go again at once.
      if (published === deps.batchSize) continue;
      await sleep(failures ? relayBackoffMs(failures, deps) : deps.pollIntervalMs);
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
          // While publishing fails, a notification must not cut the backoff short: under
          // load every commit sends one, and the relay would retry as fast as proposals arrive.
          onNotify: () => {
            if (failures === 0) wake();
          },
          logger: deps.logger,
        });
      }
      loop = run();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      await listener?.close();
    },
  };
}

// Capped exponential backoff with equal jitter: a delay in [ceiling / 2, ceiling], where
// the ceiling doubles from the poll interval up to OUTBOX_BACKOFF_MAX_MS. Half the ceiling
// is kept as a floor so a failing relay never spins, and the cap is low because the relay
// is how work resumes after an outage: every action queued meanwhile waits for its next try.
export function relayBackoffMs(
  failures: number,
  policy: { pollIntervalMs: number; backoffMaxMs: number; random?: () => number },
): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.pollIntervalMs * 2 ** failures);
  return Math.round(ceiling / 2 + ((policy.random ?? Math.random)() * ceiling) / 2);
}
