import type { Pool } from '../../platform/db.ts';
import { takePage, type Page } from '../../platform/pagination.ts';
import {
  GENESIS_HASH,
  hashEvent,
  listAuditEvents,
  readAuditHead,
  type AuditEvent,
} from './audit.repository.ts';
import { catchUpTenantChain } from './audit-chainer.ts';

export interface AuditVerification {
  valid: boolean;
  checked: number;
  first_invalid_seq: number | null;
}

export type AuditPage = Page<AuditEvent>;

const VERIFY_BATCH = 1_000;

export function createAuditService(deps: { pool: Pool }) {
  const { pool } = deps;

  async function list(
    tenantId: string,
    query: { actionId?: string; limit: number; cursor?: number },
  ): Promise<AuditPage> {
    // The first page catches the chain up, so an admin sees every event committed before
    // the call; later pages read on from their cursor.
    if (query.cursor === undefined) await catchUpTenantChain(pool, tenantId);
    const items = await listAuditEvents(pool, tenantId, {
      actionId: query.actionId,
      afterSeq: query.cursor,
      limit: query.limit + 1,
    });
    return takePage(
      items,
      query.limit,
      (event) => event,
      (event) => String(event.seq),
    );
  }

  // First links every event of the tenant committed before the call (ADR 0010: an event
  // not yet chained is not yet verifiable), then walks the whole chain in batches, inside
  // one REPEATABLE READ snapshot so events linked meanwhile cannot look like tampering.
  // Each event must carry the next sequence number, link to the previous hash and hash to
  // its stored hash; the head must point at the last event by number and by hash, so
  // deleting or rewriting the newest events is caught as well.
  async function verify(tenantId: string): Promise<AuditVerification> {
    await catchUpTenantChain(pool, tenantId);
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let prevHash = GENESIS_HASH;
      let expectedSeq = 1;
      let checked = 0;
      for (;;) {
        const batch = await listAuditEvents(client, tenantId, {
          afterSeq: expectedSeq - 1,
          limit: VERIFY_BATCH,
        });
        for (const event of batch) {
          checked += 1;
          const { hash, ...unhashed } = event;
          if (
            event.seq !== expectedSeq ||
            event.prev_hash !== prevHash ||
            hashEvent(tenantId, unhashed) !== hash
          ) {
            return { valid: false, checked, first_invalid_seq: Math.min(event.seq, expectedSeq) };
          }
          prevHash = hash;
          expectedSeq += 1;
        }
        if (batch.length < VERIFY_BATCH) break;
      }
      const head = await readAuditHead(client, tenantId);
      if (head.lastSeq !== expectedSeq - 1) {
        return { valid: false, checked, first_invalid_seq: Math.min(head.lastSeq, expectedSeq - 1) + 1 };
      }
      if (head.lastHash !== prevHash)
        return { valid: false, checked, first_invalid_seq: Math.max(1, expectedSeq - 1) };
      return { valid: true, checked, first_invalid_seq: null };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  return { list, verify };
}

export type AuditService = ReturnType<typeof createAuditService>;
