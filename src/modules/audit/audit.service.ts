import type { Pool } from '../../platform/db.ts';
import {
  GENESIS_HASH,
  hashEvent,
  listAuditEvents,
  readAuditHead,
  type AuditEvent,
} from './audit.repository.ts';

export interface AuditVerification {
  valid: boolean;
  checked: number;
  first_invalid_seq: number | null;
}

export interface AuditPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

const VERIFY_BATCH = 1_000;

export function createAuditService(deps: { pool: Pool }) {
  const { pool } = deps;

  async function list(
    tenantId: string,
    query: { actionId?: string; limit: number; cursor?: number },
  ): Promise<AuditPage> {
    const items = await listAuditEvents(pool, tenantId, {
      actionId: query.actionId,
      afterSeq: query.cursor,
      limit: query.limit + 1,
    });
    const more = items.length > query.limit;
    const page = more ? items.slice(0, query.limit) : items;
    return { items: page, next_cursor: more ? String(page.at(-1)!.seq) : null };
  }

  // Walks the whole chain in batches. Each event must link to the previous hash, carry the
  // next sequence number and hash to its stored hash; the head must point at the last one,
  // so deleting the newest events is caught as well.
  async function verify(tenantId: string): Promise<AuditVerification> {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let checked = 0;
    for (;;) {
      const batch = await listAuditEvents(pool, tenantId, { afterSeq: expectedSeq - 1, limit: VERIFY_BATCH });
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
    const headSeq = await readAuditHead(pool, tenantId);
    if (headSeq !== expectedSeq - 1) return { valid: false, checked, first_invalid_seq: expectedSeq };
    return { valid: true, checked, first_invalid_seq: null };
  }

  return { list, verify };
}

export type AuditService = ReturnType<typeof createAuditService>;
