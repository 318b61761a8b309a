import { describe, expect, it } from 'vitest';
import { CHAOS_FLAGS, defaultFor, isValidFlagName, OPERATOR_FLAGS } from './flag-provider.ts';

describe('flag names', () => {
  it('when a chaos flag is one the code reads, then it is valid; any other chaos name is refused', () => {
    for (const name of Object.keys(CHAOS_FLAGS)) expect(isValidFlagName(name)).toBe(true);
    expect(isValidFlagName('chaos.anything')).toBe(false);
    expect(isValidFlagName('chaos.')).toBe(false);
  });

  it('when an operator knob is named, then it is valid and has its documented default', () => {
    for (const name of OPERATOR_FLAGS) expect(isValidFlagName(name)).toBe(true);
    expect(defaultFor('worker.retry-backoff')).toBe(true);
    expect(defaultFor('cache.action-reads')).toBe(true);
    expect(defaultFor('moderation.fallback-local')).toBe(false);
    expect(isValidFlagName('cache.anything')).toBe(false);
  });

  it('when a contract flag is named, then it stays valid', () => {
    for (const name of ['kill-switch.all', 'kill-switch.notes.create', 'auto-approve']) {
      expect(isValidFlagName(name)).toBe(true);
    }
  });
});
