import { createHash } from 'node:crypto';
import type { TSchema } from 'typebox';
import type { PoolClient } from '../../platform/db.ts';
import type { StageResult, TenantPolicy } from '../decisions/decision-types.ts';

export type RiskTier = 'low' | 'medium' | 'high';

export interface ToolExecutionContext {
  // For sandbox tools, the executor writes its effect in this transaction, which also
  // records the outcome: effect and status commit together or not at all. Remote tools get
  // null: their effect happens elsewhere, and holding a pooled connection open across a
  // network call would let slow sites starve the database pool.
  tx: PoolClient | null;
  tenantId: string;
  actionId: string;
  signal: AbortSignal;
  policy: TenantPolicy;
}

export interface ToolDefinition<Args = Record<string, unknown>> {
  name: string;
  description: string;
  riskTier: RiskTier;
  // A side-effecting tool changes something a human would care about; untrusted content
  // steering its arguments is treated more harshly.
  sideEffecting: boolean;
  // An outbound tool sends data outside the tenant: the secret check applies to it.
  outbound: boolean;
  // 'sandbox': the effect is rows in our database, written exactly once in the outcome's
  // transaction. 'remote': the effect is a network call, made before that transaction and
  // at least once across retries (so only idempotent remote tools, like a GET, belong here).
  effect: 'sandbox' | 'remote';
  argumentsSchema: TSchema;
  defaultDecision(args: Args, policy: TenantPolicy): StageResult;
  execute(ctx: ToolExecutionContext, args: Args): Promise<Record<string, unknown>>;
}

export function sandboxTx(ctx: ToolExecutionContext): PoolClient {
  if (!ctx.tx) throw new Error('a sandbox tool ran without its transaction');
  return ctx.tx;
}

// Writes a sandbox tool's effect row unless this action already wrote it, and returns the
// row either way: a redelivered job finds the effect its first attempt committed. The
// table's unique action_id is what makes this exactly once.
export async function insertEffectOnce<Row extends object>(
  ctx: ToolExecutionContext,
  effect: { table: string; columns: Record<string, unknown>; returning: string },
): Promise<Row> {
  const tx = sandboxTx(ctx);
  const names = ['tenant_id', 'action_id', ...Object.keys(effect.columns)];
  const values = [ctx.tenantId, ctx.actionId, ...Object.values(effect.columns)];
  const placeholders = values.map((_, i) => `$${i + 1}`).join(', ');
  // Table and column names come from the tool definitions, never from a request, so each
  // tool's statement text is fixed and can be prepared once per connection. The name holds a
  // digest of that text: Postgres truncates statement names to 63 bytes, and truncated names
  // could collide.
  const text = `INSERT INTO ${effect.table} (${names.join(', ')}) VALUES (${placeholders})
           ON CONFLICT (action_id) DO NOTHING RETURNING ${effect.returning}`;
  const inserted = await tx.query({ name: `effect-insert-${statementDigest(text)}`, text, values });
  if (inserted.rows[0]) return inserted.rows[0] as Row;
  const existing = await tx.query(
    `SELECT ${effect.returning} FROM ${effect.table} WHERE action_id = $1 AND tenant_id = $2`,
    [ctx.actionId, ctx.tenantId],
  );
  return existing.rows[0] as Row;
}

function statementDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

// Erases the argument type so definitions of different tools fit in one registry.
export function defineTool<Args>(definition: ToolDefinition<Args>): ToolDefinition {
  return definition as unknown as ToolDefinition;
}
