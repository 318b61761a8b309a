import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/platform/canonical-json.ts';
import { waitFor } from './helpers/test-env.ts';
import { createIdentity, DEFAULT_POLICY_BODY, type ActionJson, type Identity } from './helpers/api-client.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

// Model-based test of the whole lifecycle: random sequences of proposals (with reused
// idempotency keys), reviews, reports, resets, flag flips and reads run against one real
// stack with its worker; a small model predicts every answer, and after each sequence the
// database must agree with the model on what ran, what did not, and what it left behind.

const TOOLS = ['notes.create', 'email.send', 'payments.refund', 'files.delete'] as const;
type Tool = (typeof TOOLS)[number];
const VARIANTS = ['note', 'email-inside', 'email-outside', 'refund-low', 'refund-high', 'delete'] as const;
type Variant = (typeof VARIANTS)[number];
const FILES = ['/f/0.txt', '/f/1.txt', '/f/2.txt', '/f/3.txt'];
const REPORT_THRESHOLD = 2;
const REVIEW_THRESHOLD = 5000;

type KeyChoice = { mode: 'fresh' } | { mode: 'reuse'; pick: number; sameBody: boolean };
type Command =
  | { kind: 'propose'; variant: Variant; pick: number; user: number; key: KeyChoice }
  | { kind: 'race-propose'; variant: Variant; pick: number; user: number; copies: number }
  | { kind: 'review'; pick: number; approve: boolean }
  | { kind: 'race-review'; pick: number; first: boolean; second: boolean }
  | { kind: 'review-decided'; pick: number }
  | { kind: 'report'; pick: number; reason: string }
  | { kind: 'reset'; tool: Tool }
  | { kind: 'kill'; tool: Tool; on: boolean }
  | { kind: 'auto-approve'; on: boolean }
  | { kind: 'read'; pick: number }
  | { kind: 'list' };

const pick = fc.nat({ max: 1_000 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('propose' as const),
      variant: fc.constantFrom(...VARIANTS),
      pick: fc.nat({ max: 3 }),
      user: fc.nat({ max: 2 }),
      key: fc.oneof(
        { weight: 3, arbitrary: fc.constant({ mode: 'fresh' as const }) },
        {
          weight: 1,
          arbitrary: fc.record({ mode: fc.constant('reuse' as const), pick, sameBody: fc.boolean() }),
        },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('race-propose' as const),
      variant: fc.constantFrom(...VARIANTS),
      pick: fc.nat({ max: 3 }),
      user: fc.nat({ max: 2 }),
      copies: fc.integer({ min: 2, max: 6 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('review' as const), pick, approve: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('race-review' as const),
      pick,
      first: fc.boolean(),
      second: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('review-decided' as const), pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      pick,
      reason: fc.constantFrom('harmful', 'incorrect', 'privacy', 'spam', 'other'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('reset' as const), tool: fc.constantFrom(...TOOLS) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('kill' as const),
      tool: fc.constantFrom(...TOOLS),
      on: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('auto-approve' as const), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), pick }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'list' as const }) },
);

// One hand-written sequence that visits every path, run before the random ones: the
// coverage checks at the end do not depend on luck.
const fresh: KeyChoice = { mode: 'fresh' };
const COVERAGE_EXAMPLE: Command[] = [
  { kind: 'propose', variant: 'note', pick: 0, user: 0, key: fresh },
  { kind: 'propose', variant: 'delete', pick: 1, user: 1, key: fresh },
  { kind: 'propose', variant: 'delete', pick: 1, user: 2, key: fresh },
  { kind: 'review', pick: 0, approve: true },
  { kind: 'review', pick: 0, approve: true },
  { kind: 'propose', variant: 'email-outside', pick: 2, user: 0, key: fresh },
  { kind: 'review', pick: 0, approve: false },
  { kind: 'review-decided', pick: 1 },
  { kind: 'kill', tool: 'notes.create', on: true },
  { kind: 'propose', variant: 'note', pick: 1, user: 0, key: fresh },
  { kind: 'kill', tool: 'notes.create', on: false },
  { kind: 'report', pick: 0, reason: 'harmful' },
  { kind: 'report', pick: 0, reason: 'spam' },
  { kind: 'propose', variant: 'note', pick: 2, user: 1, key: fresh },
  { kind: 'reset', tool: 'notes.create' },
  { kind: 'propose', variant: 'note', pick: 3, user: 1, key: fresh },
  { kind: 'propose', variant: 'note', pick: 0, user: 0, key: { mode: 'reuse', pick: 0, sameBody: true } },
  {
    kind: 'propose',
    variant: 'refund-low',
    pick: 0,
    user: 0,
    key: { mode: 'reuse', pick: 0, sameBody: false },
  },
  { kind: 'auto-approve', on: false },
  { kind: 'propose', variant: 'refund-low', pick: 1, user: 2, key: fresh },
  { kind: 'auto-approve', on: true },
  { kind: 'propose', variant: 'refund-high', pick: 0, user: 2, key: fresh },
  { kind: 'propose', variant: 'email-inside', pick: 0, user: 2, key: fresh },
  { kind: 'race-propose', variant: 'delete', pick: 2, user: 0, copies: 5 },
  { kind: 'race-review', pick: 0, first: true, second: false },
  { kind: 'read', pick: 3 },
  { kind: 'list' },
];

function bodyOf(variant: Variant, n: number, user: number): ProposalBody {
  const user_id = `user-${user}`;
  switch (variant) {
    case 'note':
      return { tool: 'notes.create', arguments: { title: `note ${n}`, body: 'b' }, user_id };
    case 'email-inside':
    case 'email-outside': {
      const domain = variant === 'email-inside' ? 'inside.test' : 'outside.example';
      return { tool: 'email.send', arguments: { to: `u${n}@${domain}`, subject: 's', body: 'b' }, user_id };
    }
    case 'refund-low':
    case 'refund-high': {
      const amount = variant === 'refund-low' ? REVIEW_THRESHOLD - n : REVIEW_THRESHOLD + 1 + n;
      return {
        tool: 'payments.refund',
        arguments: { order_id: `o-${n}`, amount_cents: amount, currency: 'EUR' },
        user_id,
      };
    }
    case 'delete':
      return { tool: 'files.delete', arguments: { path: FILES[n % FILES.length] }, user_id };
  }
}

type ProposalBody = { tool: string; arguments: Record<string, unknown>; user_id: string };
type Fate = 'allowed' | 'pending' | 'denied' | 'approved' | 'rejected';
interface ModelAction {
  id: string;
  createdAt: string;
  tool: Tool;
  path?: string;
  fate: Fate;
}

interface Model {
  actions: ModelAction[];
  keys: Array<{ key: string; body: unknown; actionId: string }>;
  reports: Record<Tool, number>;
  killed: Record<Tool, boolean>;
  autoApprove: boolean;
}

function expectedDecision(model: Model, body: { tool: string; arguments: Record<string, unknown> }) {
  const tool = body.tool as Tool;
  const codes: string[] = [];
  const args = body.arguments;
  if (tool === 'email.send' && !String(args.to).endsWith('@inside.test')) codes.push('external_recipient');
  if (tool === 'payments.refund' && Number(args.amount_cents) > REVIEW_THRESHOLD) codes.push('high_amount');
  if (tool === 'files.delete') codes.push('destructive_tool');
  if (model.killed[tool]) codes.push('kill_switch');
  if (!model.autoApprove) codes.push('rollout_gate');
  if (model.reports[tool] >= REPORT_THRESHOLD) codes.push('user_reports');
  const outcome = model.killed[tool] ? 'deny' : codes.length ? 'review' : 'allow';
  return { outcome, codes: codes.sort() };
}

const FATE_BY_OUTCOME: Record<string, Fate> = { allow: 'allowed', review: 'pending', deny: 'denied' };
const EXECUTED: readonly Fate[] = ['allowed', 'approved'];

describe('action lifecycle (model-based property)', () => {
  const { stack, api } = useTestStack({ worker: true });
  let run = 0;
  const findings: string[] = [];

  async function newTenant() {
    const slug = `prop-${(run += 1)}-${randomUUID().slice(0, 8)}`;
    const agent = await createIdentity(stack, slug, 'agent');
    const reviewer = await createIdentity(stack, slug, 'reviewer');
    const admin = await createIdentity(stack, slug, 'admin');
    const policy = await api.put(admin.key, '/v1/policy', {
      ...DEFAULT_POLICY_BODY,
      email_allowed_domains: ['inside.test'],
      refund_review_above_cents: REVIEW_THRESHOLD,
      report_threshold: REPORT_THRESHOLD,
    });
    expect(policy.statusCode, policy.body).toBe(200);
    for (const path of FILES) {
      await stack.container.pool.query('INSERT INTO sandbox_files (tenant_id, path) VALUES ($1, $2)', [
        agent.tenantId,
        path,
      ]);
    }
    return { agent, reviewer, admin };
  }

  function recordNew(model: Model, label: string, key: string, body: ProposalBody, action: ActionJson) {
    const expected = expectedDecision(model, body);
    expect(action.decision.outcome, label).toBe(expected.outcome);
    expect(action.decision.reasons.map((r) => r.code).sort(), label).toEqual(expected.codes);
    const fate = FATE_BY_OUTCOME[expected.outcome]!;
    expect(action.status, label).toBe(
      { allowed: 'queued', pending: 'pending_review', denied: 'denied' }[fate as string],
    );
    model.actions.push({
      id: action.id,
      createdAt: action.created_at,
      tool: body.tool as Tool,
      path: body.tool === 'files.delete' ? String(body.arguments.path) : undefined,
      fate,
    });
    model.keys.push({ key, body, actionId: action.id });
  }

  async function step(
    command: Command,
    model: Model,
    who: { agent: Identity; reviewer: Identity; admin: Identity },
  ): Promise<void> {
    const label = JSON.stringify(command);
    switch (command.kind) {
      case 'propose': {
        let body: ProposalBody = bodyOf(command.variant, command.pick, command.user);
        let key: string = randomUUID();
        let prior: Model['keys'][number] | undefined;
        if (command.key.mode === 'reuse' && model.keys.length) {
          prior = model.keys[command.key.pick % model.keys.length]!;
          key = prior.key;
          if (command.key.sameBody) body = prior.body as typeof body;
        }
        const response = await api.propose(who.agent.key, body, key);
        if (prior) {
          if (canonicalJson(prior.body) === canonicalJson(body)) {
            expect(response.statusCode, label).toBe(200);
            expect(response.headers['idempotent-replayed'], label).toBe('true');
            expect(response.json().id, label).toBe(prior.actionId);
          } else {
            expect(response.statusCode, label).toBe(422);
            expect(response.json().code, label).toBe('idempotency_key_mismatch');
          }
          return;
        }
        expect(response.statusCode, `${label}: ${response.body.slice(0, 300)}`).toBe(201);
        recordNew(model, label, key, body, response.json() as ActionJson);
        return;
      }
      case 'race-propose': {
        // One key, the same body, sent concurrently: one 201, the rest replays or in-flight.
        const body = bodyOf(command.variant, command.pick, command.user);
        const key = randomUUID();
        const responses = await Promise.all(
          Array.from({ length: command.copies }, () => api.propose(who.agent.key, body, key)),
        );
        const codes = responses.map((r) => r.statusCode);
        expect(
          codes.filter((c) => c === 201),
          `${label}: ${codes}`,
        ).toHaveLength(1);
        expect(
          codes.every((c) => c === 201 || c === 200 || c === 409),
          `${label}: ${codes}`,
        ).toBe(true);
        for (const r of responses.filter((r) => r.statusCode === 409))
          expect(r.json().code, label).toBe('idempotency_key_in_flight');
        const winner = responses.find((r) => r.statusCode === 201)!.json() as ActionJson;
        for (const r of responses.filter((r) => r.statusCode === 200))
          expect(r.json().id, label).toBe(winner.id);
        recordNew(model, label, key, body, winner);
        return;
      }
      case 'race-review': {
        const pending = model.actions.filter((a) => a.fate === 'pending');
        if (!pending.length) return;
        const target = pending[command.pick % pending.length]!;
        const decisions = [command.first, command.second].map((approve) => (approve ? 'approve' : 'reject'));
        const responses = await Promise.all([
          api.review(who.reviewer.key, target.id, { decision: decisions[0] }),
          api.review(who.admin.key, target.id, { decision: decisions[1] }),
        ]);
        expect(responses.map((r) => r.statusCode).sort(), label).toEqual([200, 409]);
        const winner = responses.find((r) => r.statusCode === 200)!.json() as ActionJson;
        expect(['queued', 'rejected'], label).toContain(winner.status);
        target.fate = winner.status === 'queued' ? 'approved' : 'rejected';
        return;
      }
      case 'review': {
        const pending = model.actions.filter((a) => a.fate === 'pending');
        if (!pending.length) {
          const response = await api.review(who.reviewer.key, randomUUID(), { decision: 'approve' });
          expect(response.statusCode, label).toBe(404);
          return;
        }
        const target = pending[command.pick % pending.length]!;
        const response = await api.review(who.reviewer.key, target.id, {
          decision: command.approve ? 'approve' : 'reject',
        });
        expect(response.statusCode, label).toBe(200);
        expect(response.json().status, label).toBe(command.approve ? 'queued' : 'rejected');
        target.fate = command.approve ? 'approved' : 'rejected';
        return;
      }
      case 'review-decided': {
        const decided = model.actions.filter((a) => a.fate !== 'pending');
        if (!decided.length) return;
        const target = decided[command.pick % decided.length]!;
        const response = await api.review(who.reviewer.key, target.id, { decision: 'approve' });
        expect(response.statusCode, label).toBe(409);
        expect(response.json().code, label).toBe('not_pending');
        return;
      }
      case 'report': {
        if (!model.actions.length) return;
        const target = model.actions[command.pick % model.actions.length]!;
        const response = await api.post(who.agent.key, `/v1/actions/${target.id}/reports`, {
          reason: command.reason,
        });
        expect(response.statusCode, label).toBe(201);
        model.reports[target.tool] += 1;
        return;
      }
      case 'reset': {
        const response = await api.post(who.admin.key, '/v1/reports/reset', { tool: command.tool });
        expect(response.statusCode, label).toBe(200);
        model.reports[command.tool] = 0;
        return;
      }
      case 'kill':
        await stack.container.flags.set(`kill-switch.${command.tool}`, command.on, {
          tenantId: who.agent.tenantId,
        });
        model.killed[command.tool] = command.on;
        return;
      case 'auto-approve':
        await stack.container.flags.set('auto-approve', command.on, { tenantId: who.agent.tenantId });
        model.autoApprove = command.on;
        return;
      case 'read': {
        if (!model.actions.length) return;
        const target = model.actions[command.pick % model.actions.length]!;
        const response = await api.get(who.agent.key, `/v1/actions/${target.id}`);
        expect(response.statusCode, label).toBe(200);
        const action = response.json() as ActionJson;
        expect(action.tool, label).toBe(target.tool);
        const stable: Partial<Record<Fate, string>> = {
          pending: 'pending_review',
          denied: 'denied',
          rejected: 'rejected',
        };
        if (stable[target.fate]) expect(action.status, label).toBe(stable[target.fate]);
        else expect(['queued', 'running', 'succeeded', 'failed'], label).toContain(action.status);
        return;
      }
      case 'list': {
        // Keyset order: oldest first for reviews, newest first for actions; ties break on id.
        const byKeyset = (a: ModelAction, b: ModelAction) =>
          a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1;
        const oldestFirst = [...model.actions].sort(byKeyset);
        const reviews = await api.get(who.reviewer.key, '/v1/reviews?limit=100');
        expect(reviews.statusCode, label).toBe(200);
        expect(
          (reviews.json().items as ActionJson[]).map((a) => a.id),
          label,
        ).toEqual(oldestFirst.filter((a) => a.fate === 'pending').map((a) => a.id));
        const actions = await api.get(who.agent.key, '/v1/actions?limit=100');
        expect(
          (actions.json().items as ActionJson[]).map((a) => a.id),
          label,
        ).toEqual(oldestFirst.map((a) => a.id).reverse());
        return;
      }
    }
  }

  async function checkInvariants(model: Model, tenantId: string): Promise<void> {
    const pool = stack.container.pool;
    await waitFor(
      async () =>
        (await api.count(
          `SELECT (SELECT count(*) FROM actions WHERE tenant_id = $1 AND status IN ('queued', 'running'))
                + (SELECT count(*) FROM outbox WHERE tenant_id = $1 AND published_at IS NULL) AS n`,
          [tenantId],
        )) === 0,
      { timeoutMs: 20_000, what: 'quiescence (no queued or running actions, outbox drained)' },
    );

    const { rows } = await pool.query<{
      id: string;
      tool: string;
      status: string;
      attempts: number;
      error: { code: string } | null;
      outbox: number;
      proposed: number;
      reviewed: number;
      effects: number;
    }>(
      `SELECT a.id, a.tool, a.status, a.attempts, a.error,
              (SELECT count(*)::int FROM outbox o WHERE o.action_id = a.id) AS outbox,
              (SELECT count(*)::int FROM audit_events e WHERE e.action_id = a.id AND e.type = 'action.proposed') AS proposed,
              (SELECT count(*)::int FROM audit_events e WHERE e.action_id = a.id AND e.type = 'action.reviewed') AS reviewed,
              (SELECT count(*)::int FROM sandbox_notes s WHERE s.action_id = a.id)
            + (SELECT count(*)::int FROM sandbox_mailbox s WHERE s.action_id = a.id)
            + (SELECT count(*)::int FROM sandbox_refunds s WHERE s.action_id = a.id)
            + (SELECT count(*)::int FROM sandbox_files s WHERE s.deleted_by_action = a.id AND s.deleted_at IS NOT NULL) AS effects
         FROM actions a WHERE a.tenant_id = $1`,
      [tenantId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));

    // Every 2xx proposal has exactly one action row, and no row exists that no proposal made.
    expect([...byId.keys()].sort()).toEqual(model.actions.map((a) => a.id).sort());
    const keyRows = await pool.query<{ key: string; action_id: string | null }>(
      'SELECT key, action_id FROM idempotency_keys WHERE tenant_id = $1',
      [tenantId],
    );
    expect(Object.fromEntries(keyRows.rows.map((r) => [r.key, r.action_id]))).toEqual(
      Object.fromEntries(model.keys.map((k) => [k.key, k.actionId])),
    );

    for (const expected of model.actions) {
      const row = byId.get(expected.id)!;
      const where = `${expected.id} (${expected.tool}, ${expected.fate})`;
      expect(row.proposed, where).toBe(1);
      expect(row.reviewed, where).toBe(expected.fate === 'approved' || expected.fate === 'rejected' ? 1 : 0);
      if (EXECUTED.includes(expected.fate)) {
        expect(row.outbox, where).toBe(1);
        expect(['succeeded', 'failed'], where).toContain(row.status);
        expect(row.attempts, where).toBe(1);
        expect(row.effects, where).toBe(row.status === 'succeeded' ? 1 : 0);
        // The failures this model can cause: a second approved delete of one file, and a
        // kill switch flipped on for the tool while the action waited to run (the worker
        // checks it again before executing).
        if (row.status === 'failed') {
          expect(['file_not_found', 'kill_switch'], where).toContain(row.error?.code);
          if (row.error?.code === 'file_not_found') expect(row.tool, where).toBe('files.delete');
        }
      } else {
        expect(row.outbox, where).toBe(0);
        expect(row.attempts, where).toBe(0);
        expect(row.effects, where).toBe(0);
        expect(row.status, where).toBe(
          { pending: 'pending_review', denied: 'denied', rejected: 'rejected' }[
            expected.fate as 'pending' | 'denied' | 'rejected'
          ],
        );
      }
    }

    // Each file that any executed delete targeted is deleted exactly once, unless every
    // such delete was stopped by a kill switch.
    for (const path of FILES) {
      const deletes = model.actions.filter((a) => a.path === path && EXECUTED.includes(a.fate));
      const succeeded = deletes.filter((a) => byId.get(a.id)!.status === 'succeeded');
      const killed = deletes.filter((a) => byId.get(a.id)!.error?.code === 'kill_switch');
      expect(succeeded.length, path).toBe(deletes.length > killed.length ? 1 : 0);
    }

    // Sandbox totals equal the succeeded actions of each tool: nothing ran outside an action.
    const effects = await pool.query<{ notes: number; mail: number; refunds: number; deleted: number }>(
      `SELECT (SELECT count(*)::int FROM sandbox_notes WHERE tenant_id = $1) AS notes,
              (SELECT count(*)::int FROM sandbox_mailbox WHERE tenant_id = $1) AS mail,
              (SELECT count(*)::int FROM sandbox_refunds WHERE tenant_id = $1) AS refunds,
              (SELECT count(*)::int FROM sandbox_files WHERE tenant_id = $1 AND deleted_at IS NOT NULL) AS deleted`,
      [tenantId],
    );
    const succeededOf = (tool: Tool) =>
      rows.filter((r) => r.tool === tool && r.status === 'succeeded').length;
    expect(effects.rows[0]).toEqual({
      notes: succeededOf('notes.create'),
      mail: succeededOf('email.send'),
      refunds: succeededOf('payments.refund'),
      deleted: succeededOf('files.delete'),
    });

    const audit = await stack.container.audit.verify(tenantId);
    expect(audit).toMatchObject({ valid: true, first_invalid_seq: null });
  }

  it('when random sequences of proposals, reviews, reports and flag flips run, then every answer matches the model and the end state keeps the invariants', async () => {
    const started = Date.now();
    let commandsRun = 0;
    const fates: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.array(commandArb, { minLength: 5, maxLength: 25, size: 'max' }),
        async (commands) => {
          const who = await newTenant();
          const model: Model = {
            actions: [],
            keys: [],
            reports: { 'notes.create': 0, 'email.send': 0, 'payments.refund': 0, 'files.delete': 0 },
            killed: {
              'notes.create': false,
              'email.send': false,
              'payments.refund': false,
              'files.delete': false,
            },
            autoApprove: true,
          };
          for (const command of commands) await step(command, model, who);
          await checkInvariants(model, who.agent.tenantId);
          commandsRun += commands.length;
          for (const a of model.actions) fates[a.fate] = (fates[a.fate] ?? 0) + 1;
        },
      ),
      {
        numRuns: 15,
        // Replays a failure reported by CI: FC_SEED=<seed> npx vitest run <this file>.
        ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
        examples: [[COVERAGE_EXAMPLE]],
        interruptAfterTimeLimit: 100_000,
        markInterruptAsFailure: true,
      },
    );
    findings.push(`${commandsRun} commands in ${Date.now() - started} ms; fates ${JSON.stringify(fates)}`);
    // Guard against a generator that never reaches the interesting paths.
    expect(fates.approved ?? 0).toBeGreaterThan(0);
    expect(fates.rejected ?? 0).toBeGreaterThan(0);
    expect(fates.denied ?? 0).toBeGreaterThan(0);
    expect(fates.allowed ?? 0).toBeGreaterThan(0);
    console.info(`lifecycle property: ${findings.join('; ')}`);
  }, 120_000);
});
