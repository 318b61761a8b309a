import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import { createBackgroundLoop } from '../../platform/background-loop.ts';
import { chainPendingEvents, hasUnchained, takeChainLock } from './audit.repository.ts';

export interface AuditChainer {
  start(): void;
  // Stops the loop after a last pass, so what this process wrote leaves it chained.
  stop(): Promise<void>;
  // One pass over every tenant; returns how many events it linked. Without `wait` it gives
  // way (returns 0) when another process's chainer is in a pass; with it, it waits its turn.
  runOnce(options?: { wait?: boolean }): Promise<number>;
}

// How many events one pass links at most: bounds the pass's transaction, not correctness.
export const AUDIT_CHAIN_BATCH = 1_000;

// Links recorded audit events into their tenants' hash chains shortly after they commit
// (ADR 0010). Every process that writes events runs one. Every pass holds a
// transaction-scoped advisory lock, so passes never overlap: a background tick that finds
// it taken skips (another process is linking), a catch-up or a last pass waits its turn.
// The head-row locks inside the pass keep it exactly-once even if the lock were bypassed.
export function createAuditChainer(deps: {
  pool: Pool;
  logger: Logger;
  intervalMs: number;
  batchSize?: number;
  onChained?: (count: number) => void;
}): AuditChainer {
  const batchSize = deps.batchSize ?? AUDIT_CHAIN_BATCH;

  async function pass(wait: boolean): Promise<number> {
    // One cheap read when there is nothing to do, which is most ticks of an idle service.
    if (!(await hasUnchained(deps.pool))) return 0;
    const linked = await withTransaction(deps.pool, async (tx) => {
      if (wait) await takeChainLock(tx);
      return chainPendingEvents(tx, { limit: batchSize, tryLock: !wait });
    });
    if (linked) deps.onChained?.(linked);
    return linked;
  }

  async function runOnce(options: { wait?: boolean } = {}): Promise<number> {
    let total = 0;
    for (;;) {
      const linked = await pass(options.wait ?? false);
      total += linked;
      if (linked < batchSize) return total;
    }
  }

  const loop = createBackgroundLoop({
    name: 'audit chainer',
    intervalMs: deps.intervalMs,
    maxBackoffMs: 5_000,
    logger: deps.logger,
    tick: async () => void (await runOnce()),
  });

  return {
    runOnce,
    start: loop.start,
    async stop() {
      if (!loop.running()) return;
      await loop.stop();
      await runOnce({ wait: true }).catch((err: Error) =>
        deps.logger.warn(
          { err: { message: err.message } },
          'last audit chain pass failed; the next process will link the events',
        ),
      );
    },
  };
}

// Links one tenant's pending events now, after waiting for a pass in progress. Verification and
// the audit listing call it first, so they cover every event committed before the call.
export async function catchUpTenantChain(pool: Pool, tenantId: string): Promise<number> {
  if (!(await hasUnchained(pool, tenantId))) return 0;
  return withTransaction(pool, async (tx) => {
    await takeChainLock(tx);
    let total = 0;
    for (;;) {
      const linked = await chainPendingEvents(tx, { tenantId, limit: AUDIT_CHAIN_BATCH, tryLock: false });
      total += linked;
      if (linked < AUDIT_CHAIN_BATCH) return total;
    }
  });
}
