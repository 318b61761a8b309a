import { describe, expect, it } from 'vitest';
import { createDependencyThrottle } from './faults.ts';

describe('chaos.retry-storm dependency throttle', () => {
  const action = { id: 'a1', tenantId: 't1' };

  it('when the flag is on, then calls within the window of the first are refused and later ones pass', () => {
    let now = 1_000;
    const throttle = createDependencyThrottle({ active: () => true, windowMs: 500, now: () => now });
    expect(() => throttle(action)).toThrow(/retry after 500 ms/);
    now += 499;
    expect(() => throttle(action)).toThrow(/dependency/);
    now += 1;
    expect(() => throttle(action)).not.toThrow();
  });

  it('when the flag is off for the tenant, then nothing is refused', () => {
    const throttle = createDependencyThrottle({ active: (tenant) => tenant !== 't1' });
    expect(() => throttle(action)).not.toThrow();
    expect(() => throttle({ id: 'a2', tenantId: 't2' })).toThrow();
  });

  it('when more actions are tracked than the bound, then the oldest is forgotten', () => {
    let now = 0;
    const throttle = createDependencyThrottle({
      active: () => true,
      windowMs: 10,
      maxTracked: 2,
      now: () => now,
    });
    for (const id of ['a', 'b', 'c']) expect(() => throttle({ id, tenantId: 't' })).toThrow();
    now = 20;
    // "a" was forgotten: its next call is a first call again, inside a fresh window.
    expect(() => throttle({ id: 'a', tenantId: 't' })).toThrow();
    expect(() => throttle({ id: 'c', tenantId: 't' })).not.toThrow();
  });
});
