// `npm run eval`: the public datasets through the real gateway.
//
// Every row of every dataset in the datasets directory becomes one proposal
// (eval/datasets.ts says how), sent with POST /v1/actions to the real HTTP app on its own
// Postgres database and Redis prefix, with the moderation service on a port of its own
// and every decision stage, exactly as `npm run redteam` does. No worker runs, so nothing
// is executed. The table gives, per dataset (and with --families per family), the share
// of attacks held and of benign rows allowed, held-out and tuning parts apart.
//
//   npm run eval -- [--datasets-dir DIR] [--only a,b] [--sample N] [--part held-out|tuning|all]
//                   [--families] [--json FILE] [--failures N] [--concurrency N] [--in-process]
//
// --failures lists missed rows of the tuning part only. The held-out part (30% of each
// dataset, by a hash of the row's group, see datasets.ts) is reported as figures and
// never listed row by row: it is what the detectors were not tuned on.
//
// Exit code: 0 when every held-out target is met, 1 when one is missed, 2 when the run
// could not happen. With no datasets in the directory it says so in one line and runs the
// generated secrets set alone.

import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { TenantPolicy } from '../src/modules/decisions/decision-types.ts';
import { RUNNER_RATE_LIMIT, withScriptStack, type RedteamStack } from '../redteam/run-redteam.ts';
import {
  ALLOWED_EMAIL_DOMAIN,
  DEFAULT_DATASETS_DIR,
  datasetNames,
  datasetsPresent,
  itemsOf,
  loadDataset,
  sampleItems,
  type EvalItem,
} from './datasets.ts';
import { EVERYDAY_REQUESTS, everydayRequestItems } from './everyday-requests.ts';
import { runInProcess } from './in-process.ts';
import { SYNTHETIC_SECRETS, syntheticSecretItems } from './synthetic-secrets.ts';
import {
  formatEval,
  isHeld,
  missedEvalTargets,
  scoreEval,
  type EvalOutcome,
  type EvalResult,
} from './score.ts';

// The same gateway the red-team runner drives; a TestStack from test/helpers fits it.
export type EvalStack = RedteamStack;

export const EVAL_POLICY: TenantPolicy = Object.freeze({
  email_allowed_domains: [ALLOWED_EMAIL_DOMAIN],
  fetch_allowed_hosts: ['docs.acme.test'],
  refund_review_above_cents: 5000,
  rate_limit_per_user_per_minute: RUNNER_RATE_LIMIT,
  report_threshold: 3,
  report_window_minutes: 1440,
}) as TenantPolicy;

const VALIDATION_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_arguments',
  'unknown_tool',
  'tool_not_permitted',
]);

export interface LoadedItems {
  items: EvalItem[];
  // Datasets named but not found in the directory.
  missing: string[];
}

export function loadItems(dir: string, only?: readonly string[]): LoadedItems {
  const names = only && only.length > 0 ? only : [...datasetNames(), SYNTHETIC_SECRETS, EVERYDAY_REQUESTS];
  const items: EvalItem[] = [];
  const missing: string[] = [];
  for (const name of names) {
    if (name === SYNTHETIC_SECRETS) {
      items.push(...syntheticSecretItems());
      continue;
    }
    if (name === EVERYDAY_REQUESTS) {
      items.push(...everydayRequestItems());
      continue;
    }
    const rows = loadDataset(dir, name);
    if (rows === null) missing.push(name);
    else items.push(...itemsOf(name, rows));
  }
  return { items, missing };
}

// Proposes every item through the app, `concurrency` at a time, under one tenant.
export async function runEval(
  stack: EvalStack,
  items: readonly EvalItem[],
  options: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<EvalResult[]> {
  const tenant = `eval-${randomUUID().slice(0, 8)}`;
  const admin = (await stack.container.auth.createKey({ tenant, role: 'admin' })).key;
  const agent = (await stack.container.auth.createKey({ tenant, role: 'agent' })).key;
  const put = await stack.app.inject({
    method: 'PUT',
    url: '/v1/policy',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    payload: EVAL_POLICY,
  });
  if (put.statusCode !== 200) throw new Error(`PUT /v1/policy answered ${put.statusCode}: ${put.payload}`);

  const results: EvalResult[] = new Array<EvalResult>(items.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await propose(stack, agent, items[index]!);
      done += 1;
      if (done % 500 === 0) options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return results;
}

async function propose(stack: EvalStack, agent: string, item: EvalItem): Promise<EvalResult> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/actions',
    headers: {
      authorization: `Bearer ${agent}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    },
    payload: item.proposal,
  });
  let body: { decision?: { outcome?: string; reasons?: Array<{ code: string }> }; code?: string } = {};
  try {
    body = JSON.parse(response.payload) as typeof body;
  } catch {
    // A non-JSON answer is an error below.
  }
  if (response.statusCode === 201 || response.statusCode === 200) {
    const outcome = body.decision?.outcome;
    if (outcome === 'allow' || outcome === 'review' || outcome === 'deny') {
      return { item, outcome, reasonCodes: (body.decision?.reasons ?? []).map((r) => r.code) };
    }
  }
  const code = body.code ?? 'no code';
  const outcome: EvalOutcome =
    response.statusCode >= 400 && response.statusCode < 500 && VALIDATION_CODES.has(code)
      ? 'rejected'
      : 'error';
  return { item, outcome, reasonCodes: [code], detail: `${response.statusCode} ${code}` };
}

// Missed rows of the tuning part, for the engineer tuning the detectors. The held-out part
// is never listed.
export function formatTuningFailures(results: readonly EvalResult[], max: number): string {
  const missed = results.filter(
    (r) =>
      !r.item.heldOut &&
      ((r.item.rowClass === 'positive' && !isHeld(r.outcome)) ||
        (r.item.rowClass === 'negative' && (isHeld(r.outcome) || r.outcome === 'error'))),
  );
  const lines = [`tuning-part misses: ${missed.length} (first ${Math.min(max, missed.length)})`];
  for (const r of missed.slice(0, max)) {
    const text = JSON.stringify(r.item.text);
    lines.push(
      `  ${r.item.id} [${r.item.label}/${r.item.family}] ${r.outcome} ${r.reasonCodes.join(',')}: ${text.slice(0, 300)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'datasets-dir': { type: 'string', default: DEFAULT_DATASETS_DIR },
      only: { type: 'string' },
      sample: { type: 'string' },
      part: { type: 'string', default: 'all' },
      families: { type: 'boolean', default: false },
      json: { type: 'string' },
      failures: { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '4' },
      'in-process': { type: 'boolean', default: false },
    },
  });
  const dir = values['datasets-dir'];
  let only = values.only?.split(',').filter(Boolean);
  if (!datasetsPresent(dir)) {
    process.stdout.write(
      `eval: no public datasets in ${dir} (set --datasets-dir); measuring the generated ${SYNTHETIC_SECRETS} set only\n`,
    );
    only = [SYNTHETIC_SECRETS];
  }
  const { items: all, missing } = loadItems(dir, only);
  let items = all;
  if (values.part === 'held-out') items = items.filter((i) => i.heldOut);
  else if (values.part === 'tuning') items = items.filter((i) => !i.heldOut);
  if (values.sample) items = sampleItems(items, Number(values.sample));

  const report = async (run: () => Promise<EvalResult[]>, where: string): Promise<number> => {
    const started = performance.now();
    const results = await run();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const figures = scoreEval(results);
    process.stdout.write(
      `eval: ${results.length} proposals from ${dir} ${where} in ${seconds} s` +
        `${values.sample ? ` (sample of at most ${values.sample} per dataset, class and part)` : ''}\n`,
    );
    if (missing.length > 0) process.stdout.write(`absent, not measured: ${missing.join(', ')}\n`);
    process.stdout.write(`\n${formatEval(figures, { families: values.families })}\n\n`);
    const failures = Number(values.failures);
    if (failures > 0) process.stdout.write(`${formatTuningFailures(results, failures)}\n\n`);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(figures, null, 2)}\n`);
    const missed = missedEvalTargets(figures);
    const measuredHeldOut = results.some((r) => r.item.heldOut);
    process.stdout.write(
      !measuredHeldOut
        ? 'no held-out rows in this run; targets not checked\n'
        : missed.length === 0
          ? 'held-out targets met\n'
          : `held-out targets missed:\n${missed.map((line) => `  ${line}`).join('\n')}\n`,
    );
    return missed.length === 0 ? 0 : 1;
  };
  if (values['in-process']) {
    return report(
      () => runInProcess(items, EVAL_POLICY),
      'through the content stages in process (for tuning; figures of record come from the gateway)',
    );
  }
  return withScriptStack('eval run', (stack) =>
    report(
      () =>
        runEval(stack, items, {
          concurrency: Number(values.concurrency),
          onProgress: (done) => process.stderr.write(`  ${done}/${items.length}\n`),
        }),
      'through the gateway',
    ),
  );
}

if (import.meta.main) process.exitCode = await main();
