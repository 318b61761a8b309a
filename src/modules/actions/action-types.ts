import type { Decision, ProposalContext } from '../decisions/decision-types.ts';

export const ACTION_STATUSES = [
  'pending_review',
  'queued',
  'running',
  'succeeded',
  'failed',
  'denied',
  'rejected',
] as const;

export type ActionStatus = (typeof ACTION_STATUSES)[number];

export const TERMINAL_STATUSES: readonly ActionStatus[] = ['succeeded', 'failed', 'denied', 'rejected'];

export interface ActionError {
  code: string;
  message: string;
}

// The row as services see it. `toActionView` turns it into the contract's Action.
export interface ActionRecord {
  id: string;
  tenantId: string;
  tool: string;
  arguments: Record<string, unknown>;
  userId: string;
  context: ProposalContext;
  status: ActionStatus;
  decision: Decision;
  result: Record<string, unknown> | null;
  error: ActionError | null;
  attempts: number;
  version: number;
  queuedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ActionView {
  id: string;
  object: 'action';
  tool: string;
  arguments: Record<string, unknown>;
  user_id: string;
  status: ActionStatus;
  decision: Decision;
  result: Record<string, unknown> | null;
  error: ActionError | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

export function toActionView(action: ActionRecord): ActionView {
  return {
    id: action.id,
    object: 'action',
    tool: action.tool,
    arguments: action.arguments,
    user_id: action.userId,
    status: action.status,
    decision: action.decision,
    result: action.result,
    error: action.error,
    attempts: action.attempts,
    created_at: action.createdAt.toISOString(),
    updated_at: action.updatedAt.toISOString(),
  };
}
