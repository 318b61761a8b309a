import type { TSchema } from 'typebox';
import type { PoolClient } from '../../platform/db.ts';
import type { StageResult, TenantPolicy } from '../decisions/decision-types.ts';

export type RiskTier = 'low' | 'medium' | 'high';

export interface ToolExecutionContext {
  // The executor writes its effect in this transaction, which also records the outcome:
  // effect and status commit together or not at all.
  tx: PoolClient;
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
  argumentsSchema: TSchema;
  defaultDecision(args: Args, policy: TenantPolicy): StageResult;
  execute(ctx: ToolExecutionContext, args: Args): Promise<Record<string, unknown>>;
}

// Erases the argument type so definitions of different tools fit in one registry.
export function defineTool<Args>(definition: ToolDefinition<Args>): ToolDefinition {
  return definition as unknown as ToolDefinition;
}
