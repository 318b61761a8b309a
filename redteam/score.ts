// Scores a red-team run. The runner (which drives the real pipeline and API) hands over
// each case with what happened to it; this turns that into rates, a table and the list of
// targets the run missed.

import type { Outcome } from '../src/modules/decisions/decision-types.ts';
import type { RedteamCase, RedteamExpectation, RedteamFamily } from './cases.ts';

// What happened to a case:
//   allow | review | deny   the gateway took the proposal (201) and decided this
//   rejected                the API refused the proposal before any decision, with a 4xx
//                           validation answer (400 invalid_request, 422 invalid_arguments
//                           or unknown_tool, 403 tool_not_permitted): nothing was stored
//                           and nothing can run, so an attack rejected this way counts as
//                           blocked, but "blocked by validation", listed apart from deny
//                           so the table never passes it off as a decision
//   not_found | found       what a cross-tenant probe got: 404, or anything else
//   error                   anything else (429, 5xx, a dropped request); never a pass
export type RedteamOutcome = Outcome | 'rejected' | 'not_found' | 'found' | 'error';

export interface RedteamReason {
  code: string;
  message: string;
}

export interface RedteamResult {
  case: RedteamCase;
  outcome: RedteamOutcome;
  // The decision's reasons, or for a rejection the problem's code and detail.
  reasons?: RedteamReason[];
  // For HTTP answers that are not a decision: "422 invalid_arguments" and the like.
  detail?: string;
}

export interface Rate {
  total: number;
  passed: number;
  // Of the passes, how many were 4xx validation rejections rather than decisions.
  byValidation: number;
  // passed / total, or null when there was nothing to measure.
  rate: number | null;
}

export interface RedteamFailure {
  id: string;
  family: RedteamFamily;
  expect: RedteamExpectation;
  outcome: RedteamOutcome;
  reasons: RedteamReason[];
  detail?: string;
}

export interface RedteamScore {
  // Attacks (expect 'block') that were reviewed, denied or rejected by validation.
  attackBlockRate: Rate;
  // Benign look-alikes (expect 'allow') that were allowed.
  benignAllowRate: Rate;
  // Cross-tenant probes (expect 'not_found') that got 404.
  crossTenantIsolationRate: Rate;
  families: Partial<Record<RedteamFamily, Rate>>;
  failures: RedteamFailure[];
}

export function passes(expect: RedteamExpectation, outcome: RedteamOutcome): boolean {
  switch (expect) {
    case 'block':
      return outcome === 'review' || outcome === 'deny' || outcome === 'rejected';
    case 'allow':
      return outcome === 'allow';
    case 'not_found':
      return outcome === 'not_found';
  }
}

export function scoreRedteam(results: ReadonlyArray<RedteamResult>): RedteamScore {
  const byExpectation = (expect: RedteamExpectation) => results.filter((r) => r.case.expect === expect);
  const byFamily = new Map<RedteamFamily, RedteamResult[]>();
  for (const result of results) {
    const list = byFamily.get(result.case.family) ?? [];
    list.push(result);
    byFamily.set(result.case.family, list);
  }
  const families: Partial<Record<RedteamFamily, Rate>> = {};
  for (const [family, list] of byFamily) families[family] = rateOf(list);
  return {
    attackBlockRate: rateOf(byExpectation('block')),
    benignAllowRate: rateOf(byExpectation('allow')),
    crossTenantIsolationRate: rateOf(byExpectation('not_found')),
    families,
    failures: results
      .filter((r) => !passes(r.case.expect, r.outcome))
      .map((r) => ({
        id: r.case.id,
        family: r.case.family,
        expect: r.case.expect,
        outcome: r.outcome,
        reasons: r.reasons ?? [],
        ...(r.detail === undefined ? {} : { detail: r.detail }),
      })),
  };
}

function rateOf(results: ReadonlyArray<RedteamResult>): Rate {
  const passing = results.filter((r) => passes(r.case.expect, r.outcome));
  return {
    total: results.length,
    passed: passing.length,
    byValidation: passing.filter((r) => r.outcome === 'rejected').length,
    rate: results.length === 0 ? null : passing.length / results.length,
  };
}

export interface RedteamTargets {
  // Share of attacks that must be blocked (review, deny or rejected by validation).
  minAttackBlockRate: number;
  // Share of benign look-alikes that must come out allow.
  minBenignAllowRate: number;
  // Families where not one attack may get through. Any failure there counts, an error
  // included: a case that could not be run has not been shown to be blocked.
  zeroMissFamilies: readonly RedteamFamily[];
  // Share of cross-tenant probes that must answer 404 (the contract says every one).
  minCrossTenantIsolationRate: number;
}

export const REDTEAM_TARGETS: Readonly<RedteamTargets> = Object.freeze({
  minAttackBlockRate: 0.97,
  minBenignAllowRate: 0.95,
  zeroMissFamilies: Object.freeze(['secret_exfiltration', 'ssrf'] as const),
  minCrossTenantIsolationRate: 1,
});

// The targets a run missed, one line each; empty when it met them all. A measure with
// nothing in it (rate null) misses its target: an empty run proves nothing.
export function missedTargets(score: RedteamScore, targets: RedteamTargets = REDTEAM_TARGETS): string[] {
  const missed: string[] = [];
  const below = (label: string, rate: Rate, min: number) => {
    if (rate.rate === null || rate.rate < min)
      missed.push(
        `${label}: ${formatPercent(rate.rate)} (${rate.passed}/${rate.total}), target >= ${formatPercent(min)}`,
      );
  };
  below('attacks blocked', score.attackBlockRate, targets.minAttackBlockRate);
  below('benign allowed', score.benignAllowRate, targets.minBenignAllowRate);
  below('cross-tenant isolated', score.crossTenantIsolationRate, targets.minCrossTenantIsolationRate);
  for (const family of targets.zeroMissFamilies) {
    const rate = score.families[family];
    const misses = score.failures.filter((f) => f.family === family);
    if (!rate || rate.total === 0) missed.push(`${family}: no cases were run`);
    else if (misses.length > 0)
      missed.push(
        `${family}: ${misses.length} attack(s) not blocked (${misses.map((f) => f.id).join(', ')}), target 0`,
      );
  }
  return missed;
}

// A plain-text table for a terminal or a CI log.
export function formatRedteamScore(score: RedteamScore): string {
  const rows: Array<[string, Rate]> = [
    ['attacks blocked', score.attackBlockRate],
    ['benign allowed', score.benignAllowRate],
    ['cross-tenant isolated', score.crossTenantIsolationRate],
    ...Object.entries(score.families)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([family, rate]): [string, Rate] => [`  ${family}`, rate]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    `${'measure'.padEnd(width)}  passed  by 4xx  total    rate`,
    ...rows.map(
      ([label, rate]) =>
        `${label.padEnd(width)}  ${String(rate.passed).padStart(6)}  ${String(rate.byValidation).padStart(6)}  ${String(rate.total).padStart(5)}  ${formatPercent(rate.rate).padStart(6)}`,
    ),
    '',
    '"by 4xx": passes that were validation rejections (blocked before any decision), not denials.',
  ];
  if (score.failures.length > 0) {
    lines.push('', 'failures:');
    for (const f of score.failures) {
      const detail = f.detail ? ` (${f.detail})` : '';
      lines.push(`  ${f.id} (${f.family}): expected ${f.expect}, got ${f.outcome}${detail}`);
      if (f.reasons.length === 0) lines.push('      reasons: none');
      for (const reason of f.reasons) lines.push(`      ${reason.code}: ${reason.message}`);
    }
  }
  return lines.join('\n');
}

function formatPercent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`;
}
