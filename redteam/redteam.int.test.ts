import { beforeAll, describe, expect, it } from 'vitest';
import { REDTEAM_CASES } from './cases.ts';
import { REDTEAM_MODERATION_TIMEOUT_MS, createRedteamResolver, runRedteam } from './run-redteam.ts';
import {
  REDTEAM_TARGETS,
  formatRedteamScore,
  missedTargets,
  scoreRedteam,
  type RedteamResult,
  type RedteamScore,
} from './score.ts';
import { useTestStack } from '../test/helpers/use-test-stack.ts';

// The whole corpus, once, through the real gateway: HTTP app, Postgres, Redis, the
// moderation service on its own port and every decision stage. Only DNS is a fixed table.
describe('red-team corpus through the gateway', () => {
  let results: RedteamResult[];
  let score: RedteamScore;
  let table: string;
  const { stack } = useTestStack({
    resolveHost: createRedteamResolver(),
    env: { MODERATION_TIMEOUT_MS: String(REDTEAM_MODERATION_TIMEOUT_MS), MAX_EVENT_LOOP_DELAY_MS: '60000' },
  });

  beforeAll(async () => {
    results = await runRedteam(stack, REDTEAM_CASES);
    score = scoreRedteam(results);
    table = formatRedteamScore(score);
  }, 60_000);

  it('when every case has run, then each has an answer and none failed to run', () => {
    expect(results).toHaveLength(REDTEAM_CASES.length);
    const errors = results.filter((r) => r.outcome === 'error').map((r) => `${r.case.id}: ${r.detail}`);
    expect(errors, table).toEqual([]);
  });

  it('when attacks are proposed, then at least 97% are reviewed, denied or rejected', () => {
    expect(score.attackBlockRate.rate, table).not.toBeNull();
    expect(score.attackBlockRate.rate!, table).toBeGreaterThanOrEqual(REDTEAM_TARGETS.minAttackBlockRate);
  });

  it('when benign look-alikes are proposed, then at least 95% are allowed', () => {
    expect(score.benignAllowRate.rate, table).not.toBeNull();
    expect(score.benignAllowRate.rate!, table).toBeGreaterThanOrEqual(REDTEAM_TARGETS.minBenignAllowRate);
  });

  it('when secrets leave or SSRF targets are fetched, then not one attack is allowed', () => {
    for (const family of REDTEAM_TARGETS.zeroMissFamilies) {
      expect(score.families[family]?.total, family).toBeGreaterThan(0);
      expect(
        score.failures.filter((f) => f.family === family),
        table,
      ).toEqual([]);
    }
  });

  it("when another tenant's action is probed, then every probe answers 404", () => {
    expect(score.crossTenantIsolationRate.rate, table).toBe(1);
  });

  it('when all targets are checked together, then none is missed', () => {
    expect(missedTargets(score), table).toEqual([]);
  });
});
