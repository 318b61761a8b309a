// Runs the red-team corpus through the real gateway: the HTTP app (called in-process
// through inject), its Postgres and Redis, the moderation service on its own port and the
// whole decision pipeline. Nothing is stubbed except DNS, which answers from REDTEAM_DNS so
// the SSRF cases mean the same thing on every machine.
//
// How a case is run:
//   - Every distinct policy gets a tenant of its own, set once with PUT /v1/policy by an
//     admin key; the case is then proposed with POST /v1/actions by that tenant's agent key
//     and a fresh Idempotency-Key. The rate limit is lifted to RUNNER_RATE_LIMIT in every
//     policy (it decides nothing the corpus measures, and ~100 cases share one user id).
//   - The answer is recorded as the score module defines it: a 201 is the decision's
//     outcome and reasons; a 4xx validation answer is 'rejected' (blocked by validation,
//     shown apart from deny); anything else is 'error'.
//   - A cross-tenant case creates its action under a victim tenant, then sends the probe
//     with the attacker tenant's key of probe.role: 404 is 'not_found', any other answer
//     is 'found'.
// No worker runs: allowed actions stay queued, so nothing is executed or fetched.
//
// As a script (`npm run redteam`) it starts its own stack on a throwaway database, prints
// the score and exits 1 when a target is missed.

import { randomBytes, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Container, ContainerOptions } from '../src/container.ts';
import { canonicalJson } from '../src/platform/canonical-json.ts';
import type { TenantPolicy } from '../src/modules/decisions/decision-types.ts';
import { ConfigError, loadConfig } from '../src/platform/config.ts';
import { REDTEAM_CASES, REDTEAM_DNS, policyFor, type RedteamCase } from './cases.ts';
import { startRedteamStack, type RedteamScriptStack } from './redteam-stack.ts';
import {
  formatRedteamScore,
  missedTargets,
  scoreRedteam,
  type RedteamOutcome,
  type RedteamReason,
  type RedteamResult,
} from './score.ts';

type InjectableApp = Pick<Awaited<ReturnType<Container['createApi']>>, 'inject'>;

// What the runner needs of a running gateway; a TestStack from test/helpers fits it.
export interface RedteamStack {
  app: InjectableApp;
  container: Pick<Container, 'auth'>;
}

type Role = 'agent' | 'reviewer' | 'admin';

export const RUNNER_RATE_LIMIT = 100_000;

// The red team measures what the checks decide, not the 100 ms latency budget (the load
// tests own that): on a busy machine a slow verdict would turn into moderation_unavailable,
// a review, and a benign case scored as a false positive.
export const REDTEAM_MODERATION_TIMEOUT_MS = 2_000;

// 4xx answers that refuse a proposal before any decision is taken or anything is stored.
const VALIDATION_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_arguments',
  'unknown_tool',
  'tool_not_permitted',
]);

// DNS from a fixed table: what the corpus says each name resolves to. An unknown name
// fails the way getaddrinfo does, so nothing in a red-team run reaches a real resolver.
export function createRedteamResolver(
  table: Readonly<Record<string, readonly string[]>> = REDTEAM_DNS,
): NonNullable<ContainerOptions['resolveHost']> {
  return async (host) => {
    const answers = table[host.toLowerCase()];
    if (!answers || answers.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: 'ENOTFOUND',
        hostname: host,
      });
    }
    return answers.map((address) => ({ address, family: isIP(address) }));
  };
}

interface Problem {
  code?: string;
  detail?: string;
  title?: string;
}

interface Answer {
  statusCode: number;
  body: unknown;
}

function parseBody(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return payload;
  }
}

function statusLine(answer: Answer): string {
  const problem = answer.body as Problem | null;
  return `${answer.statusCode} ${problem?.code ?? 'no code'}`;
}

function problemReasons(answer: Answer): RedteamReason[] {
  const problem = answer.body as Problem | null;
  if (!problem || typeof problem !== 'object') return [];
  return [{ code: problem.code ?? 'http_error', message: problem.detail ?? problem.title ?? '' }];
}

function headers(key: string, idempotencyKey?: string): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
  };
}

// What the runner does to a case's policy before setting it: only the rate limit moves.
export function runnerPolicy(redteamCase: RedteamCase): TenantPolicy {
  const policy = policyFor(redteamCase);
  return {
    ...policy,
    rate_limit_per_user_per_minute: Math.max(policy.rate_limit_per_user_per_minute, RUNNER_RATE_LIMIT),
  };
}

export async function runRedteam(
  stack: RedteamStack,
  cases: readonly RedteamCase[],
  options: { runId?: string } = {},
): Promise<RedteamResult[]> {
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const call = async (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    key: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<Answer> => {
    const response = await stack.app.inject({
      method,
      url,
      headers: headers(key, idempotencyKey),
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { statusCode: response.statusCode, body: parseBody(response.payload) };
  };
  const keyFor = async (tenant: string, role: Role) =>
    (await stack.container.auth.createKey({ tenant, role })).key;

  const propose = (agentKey: string, redteamCase: RedteamCase) =>
    call(
      'POST',
      '/v1/actions',
      agentKey,
      {
        tool: redteamCase.tool,
        arguments: redteamCase.arguments,
        user_id: redteamCase.user_id,
        context: redteamCase.context,
      },
      randomUUID(),
    );

  const results = new Map<RedteamCase, RedteamResult>();

  // Decision cases, one tenant per distinct policy.
  const groups = new Map<string, { policy: TenantPolicy; cases: RedteamCase[] }>();
  for (const redteamCase of cases) {
    if (redteamCase.expect === 'not_found') continue;
    const policy = runnerPolicy(redteamCase);
    const key = canonicalJson(policy);
    const group = groups.get(key) ?? { policy, cases: [] };
    group.cases.push(redteamCase);
    groups.set(key, group);
  }
  let groupIndex = 0;
  for (const group of groups.values()) {
    const tenant = `rt-${runId}-p${groupIndex++}`;
    const admin = await keyFor(tenant, 'admin');
    const agent = await keyFor(tenant, 'agent');
    const put = await call('PUT', '/v1/policy', admin, group.policy);
    if (put.statusCode !== 200) {
      // The case asks for a policy the API will not store; it cannot be run as written.
      for (const redteamCase of group.cases) {
        results.set(redteamCase, {
          case: redteamCase,
          outcome: 'error',
          detail: `PUT /v1/policy answered ${statusLine(put)}`,
          reasons: problemReasons(put),
        });
      }
      continue;
    }
    for (const redteamCase of group.cases) {
      results.set(redteamCase, recordProposal(redteamCase, await propose(agent, redteamCase)));
    }
  }

  // Cross-tenant probes, after every decision case: a probe that wrongly succeeds (a
  // report, an approval) must not be able to change another case's decision.
  const probes = cases.filter((c) => c.expect === 'not_found');
  if (probes.length > 0) {
    const victimTenant = `rt-${runId}-victim`;
    const attackerTenant = `rt-${runId}-attacker`;
    const victimAgent = await keyFor(victimTenant, 'agent');
    const attacker: Record<Role, string> = {
      agent: await keyFor(attackerTenant, 'agent'),
      reviewer: await keyFor(attackerTenant, 'reviewer'),
      admin: await keyFor(attackerTenant, 'admin'),
    };
    for (const redteamCase of probes) {
      results.set(redteamCase, await runProbe(redteamCase, victimAgent, attacker));
    }
  }

  async function runProbe(
    redteamCase: RedteamCase,
    victimAgent: string,
    attacker: Record<Role, string>,
  ): Promise<RedteamResult> {
    const probe = redteamCase.probe;
    if (!probe) return { case: redteamCase, outcome: 'error', detail: 'the case has no probe' };
    const created = await propose(victimAgent, redteamCase);
    const actionId = (created.body as { id?: string } | null)?.id;
    if (created.statusCode !== 201 || !actionId) {
      return {
        case: redteamCase,
        outcome: 'error',
        detail: `creating the victim's action answered ${statusLine(created)}`,
        reasons: problemReasons(created),
      };
    }
    const answer = await call(
      probe.method,
      probe.path.replace('{action_id}', encodeURIComponent(actionId)),
      attacker[probe.role],
      probe.body,
    );
    return answer.statusCode === 404
      ? { case: redteamCase, outcome: 'not_found' }
      : { case: redteamCase, outcome: 'found', detail: statusLine(answer), reasons: problemReasons(answer) };
  }

  // In corpus order, whatever order the cases ran in.
  return cases.map(
    (c) => results.get(c) ?? { case: c, outcome: 'error' as const, detail: 'the case was not run' },
  );
}

function recordProposal(redteamCase: RedteamCase, answer: Answer): RedteamResult {
  if (answer.statusCode === 201 || answer.statusCode === 200) {
    const decision = (answer.body as { decision?: { outcome?: string; reasons?: RedteamReason[] } }).decision;
    const outcome = decision?.outcome;
    if (outcome === 'allow' || outcome === 'review' || outcome === 'deny') {
      return {
        case: redteamCase,
        outcome,
        reasons: (decision?.reasons ?? []).map(({ code, message }) => ({ code, message })),
      };
    }
    return { case: redteamCase, outcome: 'error', detail: `${answer.statusCode} without a decision` };
  }
  const code = (answer.body as Problem | null)?.code;
  const outcome: RedteamOutcome =
    answer.statusCode >= 400 && answer.statusCode < 500 && code !== undefined && VALIDATION_CODES.has(code)
      ? 'rejected'
      : 'error';
  return { case: redteamCase, outcome, detail: statusLine(answer), reasons: problemReasons(answer) };
}

// A script's gateway: a stack of its own for the length of `run`, closed after it. Returns
// what `run` returns, or 2 when the stack could not start or the run threw (the message
// goes to stderr, prefixed with `what`).
export async function withScriptStack(
  what: string,
  run: (stack: RedteamScriptStack) => Promise<number>,
): Promise<number> {
  let stack: RedteamScriptStack;
  try {
    stack = await startRedteamStack({
      server: loadConfig(),
      resolveHost: createRedteamResolver(),
      moderationTimeoutMs: REDTEAM_MODERATION_TIMEOUT_MS,
    });
  } catch (err) {
    const message =
      err instanceof ConfigError ? err.message : `could not start the gateway: ${(err as Error).message}`;
    process.stderr.write(`${message}\n`);
    return 2;
  }
  try {
    return await run(stack);
  } catch (err) {
    process.stderr.write(`${what} failed: ${(err as Error).stack ?? String(err)}\n`);
    return 2;
  } finally {
    await stack.close();
  }
}

// The script: a stack of its own, the whole corpus, the table, and exit 1 on a missed
// target (2 when the run itself could not happen).
function main(): Promise<number> {
  return withScriptStack('red-team run', async (stack) => {
    const started = performance.now();
    const results = await runRedteam(stack, REDTEAM_CASES);
    const score = scoreRedteam(results);
    const missed = missedTargets(score);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`red team: ${results.length} cases through the gateway in ${seconds} s\n\n`);
    process.stdout.write(`${formatRedteamScore(score)}\n\n`);
    process.stdout.write(
      missed.length === 0
        ? 'all targets met\n'
        : `targets missed:\n${missed.map((line) => `  ${line}`).join('\n')}\n`,
    );
    return missed.length === 0 ? 0 : 1;
  });
}

if (import.meta.main) process.exitCode = await main();
