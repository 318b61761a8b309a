import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterDelay, type RetryPolicy } from './queue.ts';

// The largest value Math.random can return in V8 (52 random mantissa bits).
const ALMOST_ONE = 1 - 2 ** -52;

const policyArb = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 50 }),
    backoffBaseMs: fc.integer({ min: 1, max: 600_000 }),
    extra: fc.integer({ min: 0, max: 3_600_000 }),
  })
  .map(({ maxAttempts, backoffBaseMs, extra }): RetryPolicy => ({
    maxAttempts,
    backoffBaseMs,
    backoffMaxMs: Math.min(3_600_000, backoffBaseMs + extra),
  }));
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const ceilingOf = (attempt: number, policy: RetryPolicy) =>
  Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));

describe('fullJitterDelay', () => {
  it('when any attempt, policy and random value are drawn, then the delay is an integer in [0, min(cap, base * 2^(n-1)))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), policyArb, randomArb, (attempt, policy, r) => {
        const delay = fullJitterDelay(attempt, policy, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceilingOf(attempt, policy));
      }),
      { numRuns: 2_000 },
    );
  });

  it('when the real Math.random is used, then many draws stay inside the bound', () => {
    const policy = { maxAttempts: 5, backoffBaseMs: 500, backoffMaxMs: 30_000 };
    for (let attempt = 1; attempt <= 12; attempt++) {
      for (let i = 0; i < 500; i++) {
        const delay = fullJitterDelay(attempt, policy);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceilingOf(attempt, policy));
      }
    }
  });

  it('when random() returns 0, then the delay is 0 for every attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), policyArb, (attempt, policy) => {
        expect(fullJitterDelay(attempt, policy, () => 0)).toBe(0);
      }),
    );
  });

  it('when random() is near 1, then the ceiling doubles per attempt until it reaches the cap', () => {
    const policy = { maxAttempts: 10, backoffBaseMs: 100, backoffMaxMs: 1_000 };
    const delays = [1, 2, 3, 4, 5, 6, 20].map((n) => fullJitterDelay(n, policy, () => ALMOST_ONE));
    expect(delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
  });

  it('when the attempt number is huge, then the delay stays finite and just below the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 100_000 }), policyArb, (attempt, policy) => {
        const delay = fullJitterDelay(attempt, policy, () => ALMOST_ONE);
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBe(policy.backoffMaxMs - 1);
      }),
    );
  });

  it('when random() is 0.5, then the delay is half of the ceiling', () => {
    const policy = { maxAttempts: 5, backoffBaseMs: 100, backoffMaxMs: 100_000 };
    expect([1, 2, 3].map((n) => fullJitterDelay(n, policy, () => 0.5))).toEqual([50, 100, 200]);
  });

  it('when attemptsMade is 0, then the ceiling is the base, as for the first retry', () => {
    const policy = { maxAttempts: 5, backoffBaseMs: 400, backoffMaxMs: 10_000 };
    expect(fullJitterDelay(0, policy, () => ALMOST_ONE)).toBe(399);
    expect(fullJitterDelay(0, policy, () => ALMOST_ONE)).toBe(fullJitterDelay(1, policy, () => ALMOST_ONE));
  });
});
