import { describe, expect, it } from 'vitest';
import type { RedteamCase } from './cases.ts';
import { formatRedteamScore, passes, scoreRedteam } from './score.ts';

const make = (id: string, family: RedteamCase['family'], expect: RedteamCase['expect']): RedteamCase => ({
  id,
  family,
  tool: 'notes.create',
  arguments: {},
  user_id: 'u',
  context: {},
  expect,
  note: '',
});

describe('passes', () => {
  it.each([
    ['block', 'review', true],
    ['block', 'deny', true],
    ['block', 'allow', false],
    ['allow', 'allow', true],
    ['allow', 'review', false],
    ['not_found', 'not_found', true],
    ['not_found', 'found', false],
    ['block', 'error', false],
  ] as const)('when %s meets %s, then it passes: %s', (expectation, outcome, expected) => {
    expect(passes(expectation, outcome)).toBe(expected);
  });
});

describe('scoreRedteam', () => {
  const results = [
    { case: make('a1', 'direct_injection', 'block'), outcome: 'deny' as const },
    { case: make('a2', 'direct_injection', 'block'), outcome: 'allow' as const },
    { case: make('a3', 'ssrf', 'block'), outcome: 'review' as const },
    { case: make('b1', 'benign', 'allow'), outcome: 'allow' as const },
    { case: make('b2', 'benign', 'allow'), outcome: 'review' as const },
    { case: make('t1', 'cross_tenant', 'not_found'), outcome: 'not_found' as const },
  ];

  it('when results mix passes and failures, then each rate counts its own expectation', () => {
    const score = scoreRedteam(results);
    expect(score.attackBlockRate).toEqual({ total: 3, passed: 2, rate: 2 / 3 });
    expect(score.benignAllowRate).toEqual({ total: 2, passed: 1, rate: 0.5 });
    expect(score.crossTenantIsolationRate).toEqual({ total: 1, passed: 1, rate: 1 });
    expect(score.families.direct_injection).toEqual({ total: 2, passed: 1, rate: 0.5 });
    expect(score.failures).toEqual([
      { id: 'a2', family: 'direct_injection', expect: 'block', outcome: 'allow' },
      { id: 'b2', family: 'benign', expect: 'allow', outcome: 'review' },
    ]);
  });

  it('when there are no results, then rates are null rather than NaN', () => {
    expect(scoreRedteam([]).attackBlockRate).toEqual({ total: 0, passed: 0, rate: null });
  });

  it('when formatted, then the table lists the totals, each family and the failures', () => {
    const table = formatRedteamScore(scoreRedteam(results));
    expect(table).toMatch(/attacks blocked\s+2\s+3\s+66\.7%/);
    expect(table).toMatch(/ {2}ssrf\s+1\s+1\s+100\.0%/);
    expect(table).toContain('a2 (direct_injection): expected block, got allow');
  });
});
