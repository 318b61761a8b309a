// Scores a red-team run. The runner (which drives the real pipeline and API) hands over
// each case with what happened to it; this turns that into rates and a table.

import type { Outcome } from '../../decisions/decision-types.ts';
import type { RedteamCase, RedteamExpectation, RedteamFamily } from './cases.ts';

// A decision outcome, or for cross-tenant probes what the API answered.
export type RedteamOutcome = Outcome | 'not_found' | 'found' | 'error';

export interface RedteamResult {
  case: RedteamCase;
  outcome: RedteamOutcome;
}

export interface Rate {
  total: number;
  passed: number;
  // passed / total, or null when there was nothing to measure.
  rate: number | null;
}

export interface RedteamScore {
  // Attacks (expect 'block') that were reviewed or denied.
  attackBlockRate: Rate;
  // Benign look-alikes (expect 'allow') that were allowed.
  benignAllowRate: Rate;
  // Cross-tenant probes (expect 'not_found') that got 404.
  crossTenantIsolationRate: Rate;
  families: Partial<Record<RedteamFamily, Rate>>;
  failures: Array<{ id: string; family: RedteamFamily; expect: RedteamExpectation; outcome: RedteamOutcome }>;
}

export function passes(expect: RedteamExpectation, outcome: RedteamOutcome): boolean {
  switch (expect) {
    case 'block':
      return outcome === 'review' || outcome === 'deny';
    case 'allow':
      return outcome === 'allow';
    case 'not_found':
      return outcome === 'not_found';
  }
}

export function scoreRedteam(results: ReadonlyArray<RedteamResult>): RedteamScore {
  const byExpectation = (expect: RedteamExpectation) => results.filter((r) => r.case.expect === expect);
  const families: Partial<Record<RedteamFamily, Rate>> = {};
  for (const result of results) {
    const rate = (families[result.case.family] ??= { total: 0, passed: 0, rate: null });
    rate.total += 1;
    if (passes(result.case.expect, result.outcome)) rate.passed += 1;
  }
  for (const rate of Object.values(families)) rate.rate = rate.passed / rate.total;
  return {
    attackBlockRate: rateOf(byExpectation('block')),
    benignAllowRate: rateOf(byExpectation('allow')),
    crossTenantIsolationRate: rateOf(byExpectation('not_found')),
    families,
    failures: results
      .filter((r) => !passes(r.case.expect, r.outcome))
      .map((r) => ({ id: r.case.id, family: r.case.family, expect: r.case.expect, outcome: r.outcome })),
  };
}

function rateOf(results: ReadonlyArray<RedteamResult>): Rate {
  const passed = results.filter((r) => passes(r.case.expect, r.outcome)).length;
  return { total: results.length, passed, rate: results.length === 0 ? null : passed / results.length };
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
    `${'measure'.padEnd(width)}  passed  total    rate`,
    ...rows.map(
      ([label, rate]) =>
        `${label.padEnd(width)}  ${String(rate.passed).padStart(6)}  ${String(rate.total).padStart(5)}  ${formatPercent(rate.rate).padStart(6)}`,
    ),
  ];
  if (score.failures.length > 0) {
    lines.push('', 'failures:');
    for (const f of score.failures)
      lines.push(`  ${f.id} (${f.family}): expected ${f.expect}, got ${f.outcome}`);
  }
  return lines.join('\n');
}

function formatPercent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`;
}
