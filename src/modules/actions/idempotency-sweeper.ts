import type { Pool } from '../../platform/db.ts';
import { createBackgroundLoop, type BackgroundLoop } from '../../platform/background-loop.ts';
import type { Logger } from '../../platform/logger.ts';
import { sweepExpiredIdempotencyKeys } from './idempotency.repository.ts';

export interface IdempotencySweeper extends BackgroundLoop {
  // Sweeps everything past the retention now, batch by batch; returns how many keys went.
  runOnce(): Promise<number>;
}

// Idempotency keys are a promise for a retention, not for ever (ADR 0003): after it, a
// request with the same key is a new request. Keys go in batches of `batchSize`, each its
// own short statement, so the sweep never holds many row locks or a long transaction, and
// it never takes a claim whose request is still running.
export function createIdempotencySweeper(deps: {
  pool: Pool;
  logger: Logger;
  retentionMs: number;
  intervalMs: number;
  batchSize?: number;
  onSwept?: (count: number) => void;
}): IdempotencySweeper {
  const batchSize = deps.batchSize ?? 1_000;

  async function runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const swept = await sweepExpiredIdempotencyKeys(deps.pool, {
        retentionMs: deps.retentionMs,
        limit: batchSize,
      });
      total += swept;
      if (swept < batchSize) break;
    }
    if (total) deps.onSwept?.(total);
    return total;
  }

  const loop = createBackgroundLoop({
    name: 'idempotency sweeper',
    intervalMs: deps.intervalMs,
    maxBackoffMs: 10 * 60_000,
    logger: deps.logger,
    tick: async () => void (await runOnce()),
  });
  return { ...loop, runOnce };
}
