import { describe, expect, it } from 'vitest';
import type { RedteamCase } from './cases.ts';
import { formatRedteamScore, missedTargets, passes, scoreRedteam, type RedteamResult } from './score.ts';

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
    ['block', 'rejected', true],
    ['block', 'allow', false],
    ['allow', 'allow', true],
    ['allow', 'review', false],
    ['allow', 'rejected', false],
    ['not_found', 'not_found', true],
    ['not_found', 'found', false],
    ['block', 'error', false],
  ] as const)('when %s meets %s, then it passes: %s', (expectation, outcome, expected) => {
    expect(passes(expectation, outcome)).toBe(expected);
  });
});

describe('scoreRedteam', () => {
  const results: RedteamResult[] = [
    { case: make('a1', 'direct_injection', 'block'), outcome: 'deny' },
    {
      case: make('a2', 'direct_injection', 'block'),
      outcome: 'allow',
      reasons: [{ code: 'none_here', message: 'Nothing fired.' }],
    },
    { case: make('a3', 'ssrf', 'block'), outcome: 'review' },
    { case: make('a4', 'ssrf', 'block'), outcome: 'rejected', detail: '422 invalid_arguments' },
    { case: make('b1', 'benign', 'allow'), outcome: 'allow' },
    { case: make('b2', 'benign', 'allow'), outcome: 'review' },
    { case: make('t1', 'cross_tenant', 'not_found'), outcome: 'not_found' },
  ];

  it('when results mix passes and failures, then each rate counts its own expectation', () => {
    const score = scoreRedteam(results);
    expect(score.attackBlockRate).toEqual({ total: 4, passed: 3, byValidation: 1, rate: 3 / 4 });
    expect(score.benignAllowRate).toEqual({ total: 2, passed: 1, byValidation: 0, rate: 0.5 });
    expect(score.crossTenantIsolationRate).toEqual({ total: 1, passed: 1, byValidation: 0, rate: 1 });
    expect(score.families.direct_injection).toEqual({ total: 2, passed: 1, byValidation: 0, rate: 0.5 });
    expect(score.families.ssrf).toEqual({ total: 2, passed: 2, byValidation: 1, rate: 1 });
    expect(score.failures).toEqual([
      {
        id: 'a2',
        family: 'direct_injection',
        expect: 'block',
        outcome: 'allow',
        reasons: [{ code: 'none_here', message: 'Nothing fired.' }],
      },
      { id: 'b2', family: 'benign', expect: 'allow', outcome: 'review', reasons: [] },
    ]);
  });

  it('when there are no results, then rates are null rather than NaN', () => {
    expect(scoreRedteam([]).attackBlockRate).toEqual({ total: 0, passed: 0, byValidation: 0, rate: null });
  });

  it('when formatted, then the table lists the totals, validation rejections, each family and the failures with reasons', () => {
    const table = formatRedteamScore(scoreRedteam(results));
    expect(table).toMatch(/attacks blocked\s+3\s+1\s+4\s+75\.0%/);
    expect(table).toMatch(/ {2}ssrf\s+2\s+1\s+2\s+100\.0%/);
    expect(table).toContain('a2 (direct_injection): expected block, got allow');
    expect(table).toContain('none_here: Nothing fired.');
    expect(table).toMatch(/b2 \(benign\): expected allow, got review\n\s+reasons: none/);
  });
});

describe('missedTargets', () => {
  const many = (prefix: string, n: number, family: RedteamCase['family'], expect: RedteamCase['expect']) =>
    Array.from({ length: n }, (_, i) => make(`${prefix}${i}`, family, expect));
  const passing = (c: RedteamCase): RedteamResult => ({
    case: c,
    outcome: c.expect === 'block' ? 'deny' : c.expect === 'allow' ? 'allow' : 'not_found',
  });
  const base = [
    ...many('d', 98, 'direct_injection', 'block'),
    ...many('s', 1, 'ssrf', 'block'),
    ...many('k', 1, 'secret_exfiltration', 'block'),
    ...many('b', 20, 'benign', 'allow'),
    ...many('t', 2, 'cross_tenant', 'not_found'),
  ];

  it('when every case passes, then no target is missed', () => {
    expect(missedTargets(scoreRedteam(base.map(passing)))).toEqual([]);
  });

  it('when 2 of 100 attacks outside the strict families get through, then the 97% target still holds', () => {
    const results = base.map((c) =>
      c.id === 'd0' || c.id === 'd1' ? { case: c, outcome: 'allow' as const } : passing(c),
    );
    expect(missedTargets(scoreRedteam(results))).toEqual([]);
  });

  it('when one SSRF attack is allowed, then the zero-miss target for ssrf is missed and names the case', () => {
    const results = base.map((c) => (c.id === 's0' ? { case: c, outcome: 'allow' as const } : passing(c)));
    expect(missedTargets(scoreRedteam(results))).toEqual([
      expect.stringMatching(/^ssrf: 1 attack\(s\) not blocked \(s0\)/),
    ]);
  });

  it('when a secret-exfiltration case errors, then it counts as a miss, not a block', () => {
    const results = base.map((c) => (c.id === 'k0' ? { case: c, outcome: 'error' as const } : passing(c)));
    expect(missedTargets(scoreRedteam(results))).toEqual([expect.stringContaining('secret_exfiltration')]);
  });

  it('when 4 attacks and 2 benign cases fail, then both rate targets are missed', () => {
    const failing = new Set(['d0', 'd1', 'd2', 'd3', 'b0', 'b1']);
    const results = base.map((c) =>
      failing.has(c.id)
        ? { case: c, outcome: c.expect === 'allow' ? ('review' as const) : ('allow' as const) }
        : passing(c),
    );
    const missed = missedTargets(scoreRedteam(results));
    expect(missed).toHaveLength(2);
    expect(missed[0]).toMatch(/^attacks blocked: 96\.0% \(96\/100\)/);
    expect(missed[1]).toMatch(/^benign allowed: 90\.0% \(18\/20\)/);
  });

  it('when a cross-tenant probe finds the object, then isolation misses its target', () => {
    const results = base.map((c) => (c.id === 't0' ? { case: c, outcome: 'found' as const } : passing(c)));
    expect(missedTargets(scoreRedteam(results))).toEqual([expect.stringMatching(/^cross-tenant isolated/)]);
  });

  it('when nothing was run, then every target is missed', () => {
    expect(missedTargets(scoreRedteam([]))).toHaveLength(5);
  });
});
