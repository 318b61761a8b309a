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

// Erases the argument type so definitions of different tools fit in one registry.
export function defineTool<Args>(definition: ToolDefinition<Args>): ToolDefinition {
  return definition as unknown as ToolDefinition;
}
