import { randomUUID } from 'node:crypto';
import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { canonicalJson, sha256Hex } from '../../platform/canonical-json.ts';
import { decodeKeysetCursor, encodeKeysetCursor, takePage, type Page } from '../../platform/pagination.ts';
import { isUuid } from '../../platform/uuid.ts';
import {
  ConflictError,
  NotFoundError,
  ForbiddenError,
  UnprocessableError,
  ValidationError,
} from '../../platform/errors.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Principal } from '../auth/auth.repository.ts';
import type { DecisionPipeline } from '../decisions/decision-pipeline.ts';
import type { Decision, ProposalContext, TenantPolicy } from '../decisions/decision-types.ts';
import { EXECUTE_ACTION_TOPIC } from '../outbox/outbox.repository.ts';
import type { ToolRegistry } from '../tools/tool-registry.ts';
import type { ActionCache } from './action-cache.ts';
import { toActionView, type ActionRecord, type ActionStatus, type ActionView } from './action-types.ts';
import { findAction, listActions, recordProposal, type ActionFilter } from './actions.repository.ts';
import { claimIdempotencyKey, releaseIdempotencyKey } from './idempotency.repository.ts';

export interface ProposalInput {
  tool: string;
  arguments: Record<string, unknown>;
  user_id: string;
  context?: ProposalContext;
}

export interface ProposalResult {
  action: ActionView;
  replayed: boolean;
}

export type ActionChangeListener = (action: ActionRecord) => Promise<void>;

// A gate run after the idempotency claim and before the decision: rate limits and load
// shedding plug in here. It throws to refuse the request.
export type AdmissionCheck = (
  principal: Principal,
  input: ProposalInput,
  policy: TenantPolicy,
) => Promise<void>;

export interface ProposalObserver {
  (tool: string, decision: Decision): void;
}

const STATUS_BY_OUTCOME: Record<Decision['outcome'], ActionStatus> = {
  allow: 'queued',
  review: 'pending_review',
  deny: 'denied',
};

export function createActionsService(deps: {
  pool: Pool;
  tools: ToolRegistry;
  pipeline: DecisionPipeline;
  policies: { get(tenantId: string): Promise<TenantPolicy> };
  cache: ActionCache;
  idempotencyLeaseMs: number;
  // Runs clean-up that must happen even after the request's deadline passed.
  outsideDeadline?: <T>(work: () => T) => T;
  // Admission control (src/platform/admission.ts): taken before the idempotency claim, so
  // a refused proposal has written nothing and its key stays free for the retry.
  capacity?: { acquire(): Promise<() => void> };
  admission?: AdmissionCheck;
  observeDecision?: ProposalObserver;
  traceContext?: () => Record<string, string> | null;
  // Wakes the relay after a commit that wrote to the outbox.
  notifyOutbox?: () => void;
  // Masks what an agent key may not read back in arguments (see `present`).
  redactArguments?: (args: Record<string, unknown>, policy: TenantPolicy) => Record<string, unknown>;
}) {
  const { pool } = deps;

  // Who reads an action decides how much of its arguments they see. An agent key is any
  // assistant of the tenant, not only the proposer, so it gets the arguments redacted as
  // results are (secrets, card numbers, phone numbers, addresses outside the tenant's own
  // domains). Reviewers and admins see them as proposed: they judge them (the recipient of
  // an e-mail under review is the decision itself) and audit them. The stored row and the
  // read cache keep them whole; redaction is applied on the way out.
  async function present<T extends { arguments: Record<string, unknown> }>(
    principal: Principal,
    views: T[],
  ): Promise<T[]> {
    const redact = deps.redactArguments;
    if (!redact || principal.role !== 'agent' || views.length === 0) return views;
    const policy = await deps.policies.get(principal.tenantId);
    return views.map((view) => ({ ...view, arguments: redact(view.arguments, policy) }));
  }
  const presentOne = async <T extends { arguments: Record<string, unknown> }>(
    principal: Principal,
    view: T,
  ) => (await present(principal, [view]))[0]!;

  // After every committed change: refresh the read cache (a no-op if a newer version is
  // already there). Cache failures are swallowed inside the cache.
  const onChange: ActionChangeListener = async (action) => {
    await deps.cache.put(action.tenantId, toActionView(action), action.version);
  };

  async function propose(
    principal: Principal,
    input: ProposalInput,
    idempotencyKey: string | undefined,
  ): Promise<ProposalResult> {
    if (idempotencyKey === undefined || idempotencyKey === '') {
      throw new ValidationError('idempotency_key_required', 'The Idempotency-Key header is required.');
    }
    if (idempotencyKey.length > 255) {
      throw new ValidationError('invalid_request', 'The Idempotency-Key header must be 1-255 characters.');
    }
    const tool = deps.tools.validate(input.tool, input.arguments);
    if (principal.tools && !principal.tools.includes(tool.name)) {
      throw new ForbiddenError('tool_not_permitted', `This key may not use the tool ${tool.name}.`);
    }

    const release = await deps.capacity?.acquire();
    try {
      return await decideAndRecord(principal, input, idempotencyKey, tool.name);
    } finally {
      release?.();
    }
  }

  async function decideAndRecord(
    principal: Principal,
    input: ProposalInput,
    idempotencyKey: string,
    toolName: string,
  ): Promise<ProposalResult> {
    const tenantId = principal.tenantId;
    const requestHash = sha256Hex(canonicalJson(input));
    const claim = await claimIdempotencyKey(pool, {
      tenantId,
      key: idempotencyKey,
      requestHash,
      leaseMs: deps.idempotencyLeaseMs,
    });
    switch (claim.kind) {
      case 'mismatch':
        throw new UnprocessableError(
          'idempotency_key_mismatch',
          'This Idempotency-Key was used with a different request body.',
        );
      case 'in_flight':
        throw new ConflictError(
          'idempotency_key_in_flight',
          'A request with this Idempotency-Key is still in progress.',
        );
      case 'replay': {
        const existing = await findAction(pool, tenantId, claim.actionId);
        if (!existing) throw new NotFoundError('action');
        return { action: await presentOne(principal, toActionView(existing)), replayed: true };
      }
      case 'claimed':
        break;
    }
    const token = claim.token;

    try {
      const policy = await deps.policies.get(tenantId);
      await deps.admission?.(principal, input, policy);
      const context = input.context ?? {};
      const decision = await deps.pipeline.decide({
        tenantId,
        tool: toolName,
        arguments: input.arguments,
        userId: input.user_id,
        context,
        policy,
      });
      const now = new Date();
      const status = STATUS_BY_OUTCOME[decision.outcome];
      const action: ActionRecord = {
        id: randomUUID(),
        tenantId,
        tool: toolName,
        arguments: input.arguments,
        userId: input.user_id,
        context,
        status,
        decision,
        result: null,
        error: null,
        attempts: 0,
        version: 1,
        queuedAt: status === 'queued' ? now : null,
        createdAt: now,
        updatedAt: now,
      };
      await withTransaction(pool, async (tx) => {
        const completed = await recordProposal(tx, {
          action,
          idempotency: { key: idempotencyKey, token },
          outbox:
            status === 'queued'
              ? { topic: EXECUTE_ACTION_TOPIC, traceContext: deps.traceContext?.() ?? null }
              : null,
        });
        if (!completed) {
          throw new ConflictError(
            'idempotency_key_in_flight',
            'This request outlived its Idempotency-Key lease and another request took the key over.',
          );
        }
        await appendAuditEvent(tx, {
          tenantId,
          actionId: action.id,
          type: 'action.proposed',
          actor: `key:${principal.keyId}`,
          data: { tool: toolName, user_id: input.user_id, status, decision },
        });
      });
      if (status === 'queued') deps.notifyOutbox?.();
      deps.observeDecision?.(toolName, decision);
      await onChange(action);
      return { action: await presentOne(principal, toActionView(action)), replayed: false };
    } catch (err) {
      const release = () => releaseIdempotencyKey(pool, { tenantId, key: idempotencyKey, token });
      await (deps.outsideDeadline ? deps.outsideDeadline(release) : release()).catch(() => undefined);
      throw err;
    }
  }

  async function get(principal: Principal, id: string): Promise<ActionView> {
    if (!isUuid(id)) throw new NotFoundError('action');
    const cached = await deps.cache.get(principal.tenantId, id);
    if (cached) return presentOne(principal, cached);
    const action = await findAction(pool, principal.tenantId, id);
    if (!action) throw new NotFoundError('action');
    await onChange(action);
    return presentOne(principal, toActionView(action));
  }

  async function list(
    principal: Principal,
    query: ActionFilter & { limit: number; cursor?: string },
  ): Promise<Page<ActionView>> {
    const after = query.cursor ? decodeKeysetCursor(query.cursor) : undefined;
    const rows = await listActions(pool, principal.tenantId, query, { after, limit: query.limit + 1 });
    const page = takePage(rows, query.limit, toActionView, (row) =>
      encodeKeysetCursor({ micros: row.cursorMicros, id: row.id }),
    );
    return { ...page, items: await present(principal, page.items) };
  }

  return { propose, get, list, onChange };
}

export type ActionsService = ReturnType<typeof createActionsService>;
