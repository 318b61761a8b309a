// The decision pipeline's vocabulary. A stage is independent of every other stage: it
// sees the proposal and returns the outcome it wants plus the reasons for it. The
// pipeline keeps the strictest outcome, so a stage can only raise a decision.

export type Outcome = 'allow' | 'review' | 'deny';

export const OUTCOME_RANK: Readonly<Record<Outcome, number>> = { allow: 0, review: 1, deny: 2 };

// A stage's contribution to the risk score when it names none itself.
export const DEFAULT_RISK: Readonly<Record<Outcome, number>> = { allow: 0, review: 30, deny: 70 };

export interface Reason {
  code: string;
  message: string;
  // Where the evidence was found, for example "context.source_documents[0].content[120:164]".
  evidence?: string;
}

export interface SourceDocument {
  source: string;
  content: string;
}

export interface ProposalContext {
  conversation_id?: string;
  user_prompt?: string;
  model_rationale?: string;
  source_documents?: SourceDocument[];
}

export interface TenantPolicy {
  email_allowed_domains: string[];
  fetch_allowed_hosts: string[];
  refund_review_above_cents: number;
  rate_limit_per_user_per_minute: number;
  // Extensions to the contract's policy: user-report escalation per (tenant, tool).
  report_threshold: number;
  report_window_minutes: number;
}

export interface DecisionInput {
  tenantId: string;
  tool: string;
  arguments: Record<string, unknown>;
  userId: string;
  context: ProposalContext;
  policy: TenantPolicy;
}

export interface StageResult {
  outcome: Outcome;
  reasons: Reason[];
  // Contribution to the 0..100 risk score; the pipeline sums and caps it.
  risk?: number;
}

export interface DecisionStage {
  readonly name: string;
  evaluate(input: DecisionInput): StageResult | Promise<StageResult>;
}

export interface Decision {
  outcome: Outcome;
  risk_score: number;
  reasons: Reason[];
}

export const allow = (): StageResult => ({ outcome: 'allow', reasons: [] });
