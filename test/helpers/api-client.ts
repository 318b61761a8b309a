import { randomUUID } from 'node:crypto';
import { authHeaders, waitFor, type TestStack } from './test-env.ts';

type Stack = Pick<TestStack, 'app' | 'container'>;
type Payload = Record<string, unknown>;

export type Role = 'agent' | 'reviewer' | 'admin';

export interface Identity {
  key: string;
  keyId: string;
  tenantId: string;
}

// A key plus the ids tests need to look rows up in SQL or compare against audit actors.
export async function createIdentity(
  stack: Stack,
  tenant: string,
  role: Role,
  tools?: string[],
): Promise<Identity> {
  const created = await stack.container.auth.createKey({ tenant, role, tools });
  const principal = await stack.container.auth.authenticate(`Bearer ${created.key}`);
  return { key: created.key, keyId: created.id, tenantId: principal.tenantId };
}

export const noteBody = (title = 'Groceries', userId = 'user-1', body = 'eggs, milk') => ({
  tool: 'notes.create',
  arguments: { title, body },
  user_id: userId,
});

export const emailBody = (to: string, userId = 'user-1') => ({
  tool: 'email.send',
  arguments: { to, subject: 'Hello', body: 'See you soon.' },
  user_id: userId,
});

export const refundBody = (amountCents: number, orderId = 'order-1', userId = 'user-1') => ({
  tool: 'payments.refund',
  arguments: { order_id: orderId, amount_cents: amountCents, currency: 'EUR' },
  user_id: userId,
});

export const deleteBody = (path: string, userId = 'user-1') => ({
  tool: 'files.delete',
  arguments: { path },
  user_id: userId,
});

export type ApiClient = ReturnType<typeof createApiClient>;

// Thin wrappers over app.inject so each test reads as the HTTP calls it makes. The stack is
// read on every call, so a client made before the stack has started works once it has.
export function createApiClient(stack: Stack) {
  const propose = (key: string, body: unknown, idempotencyKey: string | null = randomUUID()) =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/actions',
      headers: authHeaders(key, idempotencyKey ?? undefined),
      payload: body as Payload,
    });

  const get = (key: string | null, url: string) =>
    stack.app.inject({ method: 'GET', url, headers: key ? authHeaders(key) : {} });

  const post = (key: string | null, url: string, payload: unknown) =>
    stack.app.inject({
      method: 'POST',
      url,
      headers: key ? authHeaders(key) : { 'content-type': 'application/json' },
      payload: payload as Payload,
    });

  const put = (key: string | null, url: string, payload: unknown) =>
    stack.app.inject({
      method: 'PUT',
      url,
      headers: key ? authHeaders(key) : { 'content-type': 'application/json' },
      payload: payload as Payload,
    });

  // Proposes and insists on a 201, returning the Action.
  const created = async (key: string, body: unknown, idempotencyKey?: string) => {
    const response = await propose(key, body, idempotencyKey);
    if (response.statusCode !== 201) {
      throw new Error(`expected 201, got ${response.statusCode}: ${response.body}`);
    }
    return response.json() as ActionJson;
  };

  const review = (key: string, actionId: string, body: unknown) => post(key, `/v1/reviews/${actionId}`, body);

  // GET /v1/actions/{id} through the API (and so through the cache).
  const read = async (key: string, id: string) => (await get(key, `/v1/actions/${id}`)).json() as ActionJson;

  // Replaces the tenant's policy: the contract defaults plus the given changes.
  const setPolicy = async (adminKey: string, changes: Record<string, unknown> = {}) => {
    const response = await put(adminKey, '/v1/policy', { ...DEFAULT_POLICY_BODY, ...changes });
    if (response.statusCode !== 200) {
      throw new Error(`expected 200 from PUT /v1/policy, got ${response.statusCode}: ${response.body}`);
    }
    return response.json() as Record<string, unknown>;
  };

  const actionRow = async (id: string) =>
    (
      await stack.container.pool.query<{ status: string; attempts: number; error: { code: string } | null }>(
        'SELECT status, attempts, error FROM actions WHERE id = $1',
        [id],
      )
    ).rows[0];

  // Polls Postgres, not the API, so a cache bug cannot make a lifecycle test pass.
  const waitForStatus = async (id: string, statuses: readonly string[], timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const row = await actionRow(id);
        return row && statuses.includes(row.status) ? row : undefined;
      },
      { timeoutMs, what: `action ${id} to reach ${statuses.join('|')}` },
    );

  const count = async (sql: string, params: unknown[] = []) =>
    (await stack.container.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

  return { propose, get, post, put, created, review, read, setPolicy, actionRow, waitForStatus, count };
}

export interface ActionJson {
  id: string;
  object: 'action';
  tool: string;
  arguments: Record<string, unknown>;
  user_id: string;
  status: string;
  decision: { outcome: string; risk_score: number; reasons: Array<{ code: string; message: string }> };
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

export const reasonCodes = (action: Pick<ActionJson, 'decision'>) =>
  action.decision.reasons.map((r) => r.code).sort();

export const DEFAULT_POLICY_BODY = {
  email_allowed_domains: [] as string[],
  fetch_allowed_hosts: [] as string[],
  refund_review_above_cents: 5000,
  rate_limit_per_user_per_minute: 60,
};
