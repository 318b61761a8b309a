import { describe, expect, it } from 'vitest';
import type { PoolClient } from '../../platform/db.ts';
import { insertEffectOnce, type ToolExecutionContext } from './tool-definition.ts';

// Captures the statements a tool's effect write sends, without a database.
function capturingContext(): { ctx: ToolExecutionContext; names: string[] } {
  const names: string[] = [];
  const tx = {
    query: async (q: { name?: string }) => {
      if (q.name) names.push(q.name);
      return { rows: [{ id: 'effect' }] };
    },
  } as unknown as PoolClient;
  const ctx = {
    tx,
    tenantId: 't',
    actionId: 'a',
    signal: new AbortController().signal,
    policy: {} as ToolExecutionContext['policy'],
  };
  return { ctx, names };
}

describe('insertEffectOnce', () => {
  it('when a tool writes a wide effect row, then its prepared statement name fits in 63 bytes and differs from another column set', async () => {
    const { ctx, names } = capturingContext();
    const wide = {
      order_id_with_a_long_name: 'o',
      amount_cents_with_a_long_name: 1,
      currency_with_a_long_name: 'EUR',
    };
    await insertEffectOnce(ctx, {
      table: 'sandbox_refunds_with_a_long_table_name',
      columns: wide,
      returning: 'id',
    });
    await insertEffectOnce(ctx, {
      table: 'sandbox_refunds_with_a_long_table_name',
      columns: { ...wide, note_with_a_long_name: 'n' },
      returning: 'id',
    });
    expect(names).toHaveLength(2);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(names[0]).not.toBe(names[1]);
  });
});
