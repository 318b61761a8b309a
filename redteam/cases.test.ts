import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { PolicyBody } from '../src/modules/policy/policy.schemas.ts';
import {
  OUTCOME_RANK,
  type DecisionInput,
  type Outcome,
  type TenantPolicy,
} from '../src/modules/decisions/decision-types.ts';
import { isIP } from 'node:net';
import { classifyAddress } from '../src/modules/safety/ip-policy.ts';
import { hostOf } from '../src/platform/http/safe-fetch.ts';
import { createInjectionStage } from '../src/modules/decisions/stages/injection-stage.ts';
import { createProvenanceStage } from '../src/modules/decisions/stages/provenance-stage.ts';
import { createSecretStage } from '../src/modules/decisions/stages/secret-stage.ts';
import {
  CORPUS_DIR,
  CorpusError,
  REDTEAM_CASES,
  REDTEAM_DNS,
  REDTEAM_FAMILIES,
  loadRedteamCorpus,
  policyFor,
  type RedteamCase,
} from './cases.ts';
import { formatRedteamScore, scoreRedteam } from './score.ts';

// A stand-in for the contract's tool table, enough to check that the corpus means what it
// says. The real runner drives the real pipeline; this only keeps the corpus honest while
// the safety stages are developed on their own.
function contractDefault(redteamCase: RedteamCase, policy: TenantPolicy): Outcome {
  const args = redteamCase.arguments;
  switch (redteamCase.tool) {
    case 'notes.create':
      return 'allow';
    case 'email.send': {
      const domain = String(args.to).split('@').pop()!.toLowerCase();
      return policy.email_allowed_domains.includes(domain) ? 'allow' : 'review';
    }
    case 'payments.refund':
      return Number(args.amount_cents) > policy.refund_review_above_cents ? 'review' : 'allow';
    case 'files.delete':
      return 'review';
    case 'http.fetch':
      return fetchDefault(String(args.url), policy);
    default:
      return 'deny';
  }
}

function fetchDefault(url: string, policy: TenantPolicy): Outcome {
  const parsed = new URL(url);
  const rawHost = /^[a-z]+:\/\/([^/:?#]+|\[[^\]]+\])/i.exec(url)?.[1] ?? parsed.hostname;
  if (
    !policy.fetch_allowed_hosts.includes(rawHost) &&
    !policy.fetch_allowed_hosts.includes(parsed.hostname)
  ) {
    return 'deny';
  }
  // URL parsing has already folded any IP literal spelling into the canonical address.
  const host = hostOf(parsed);
  const addresses = isIP(host) ? [host] : (REDTEAM_DNS[parsed.hostname] ?? []);
  if (addresses.length === 0) return 'deny';
  return addresses.every((address) => classifyAddress(address) === 'public') ? 'allow' : 'deny';
}

const stages = [createInjectionStage(), createProvenanceStage(), createSecretStage()];

async function decide(redteamCase: RedteamCase): Promise<Outcome> {
  const policy = policyFor(redteamCase);
  const input: DecisionInput = {
    tenantId: 't-redteam',
    tool: redteamCase.tool,
    arguments: redteamCase.arguments,
    userId: redteamCase.user_id,
    context: redteamCase.context,
    policy,
  };
  let outcome = contractDefault(redteamCase, policy);
  for (const stage of stages) {
    const result = await stage.evaluate(input);
    if (OUTCOME_RANK[result.outcome] > OUTCOME_RANK[outcome]) outcome = result.outcome;
  }
  return outcome;
}

describe('red-team corpus', () => {
  it('when counted, then it holds at least 160 cases, 50 of them benign, with unique ids', () => {
    const ids = new Set(REDTEAM_CASES.map((c) => c.id));
    expect(ids.size).toBe(REDTEAM_CASES.length);
    expect(REDTEAM_CASES.length).toBeGreaterThanOrEqual(160);
    expect(REDTEAM_CASES.filter((c) => c.expect === 'allow').length).toBeGreaterThanOrEqual(50);
  });

  it('when grouped, then every family has cases', () => {
    const families = new Set(REDTEAM_CASES.map((c) => c.family));
    for (const family of REDTEAM_FAMILIES) {
      expect(families, family).toContain(family);
    }
  });

  it('when cross-tenant cases are listed, then each expects not_found and carries a probe', () => {
    const crossTenant = REDTEAM_CASES.filter((c) => c.family === 'cross_tenant');
    expect(crossTenant.length).toBeGreaterThan(0);
    for (const c of crossTenant) {
      expect(c.expect).toBe('not_found');
      expect(c.probe?.path).toContain('{action_id}');
    }
  });

  it("when a case's policy is checked against the PUT /v1/policy schema, then the API would store it", () => {
    const validate = new Ajv({ strict: false }).compile(PolicyBody);
    for (const c of REDTEAM_CASES)
      expect(validate(policyFor(c)), `${c.id}: ${JSON.stringify(validate.errors)}`).toBe(true);
  });

  it('when a benign case is written, then it targets a tool whose default can allow', () => {
    const allowable = new Set(['notes.create', 'email.send', 'payments.refund', 'http.fetch']);
    for (const c of REDTEAM_CASES.filter((rc) => rc.expect === 'allow'))
      expect(allowable, c.id).toContain(c.tool);
  });

  it('when run through the safety stages and the contract defaults, then every case gets its expected outcome', async () => {
    const results = [];
    for (const redteamCase of REDTEAM_CASES.filter((c) => c.expect !== 'not_found')) {
      results.push({ case: redteamCase, outcome: await decide(redteamCase) });
    }
    const score = scoreRedteam(results);
    expect(score.failures, formatRedteamScore(score)).toEqual([]);
  });
});

describe('red-team corpus files', () => {
  // A copy of the corpus with one file changed, loaded as the runner would load it; the
  // error it fails with, or null.
  function loadWith(file: string, change: (value: unknown) => unknown): Error | null {
    const dir = mkdtempSync(path.join(tmpdir(), 'corpus-'));
    try {
      cpSync(CORPUS_DIR, dir, { recursive: true });
      const target = path.join(dir, file);
      writeFileSync(target, JSON.stringify(change(JSON.parse(readFileSync(target, 'utf8')))));
      loadRedteamCorpus(pathToFileURL(`${dir}/`));
      return null;
    } catch (err) {
      return err as Error;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('when a case carries a field the schema does not know, then loading fails naming the file', () => {
    const error = loadWith('benign.json', (cases) => {
      const list = cases as Array<Record<string, unknown>>;
      list[0] = { ...list[0], expected: 'allow' };
      return list;
    });
    expect(error).toBeInstanceOf(CorpusError);
    expect(error?.message).toMatch(/benign\.json\[0\]/);
  });

  it('when a case names a fake secret that the environment lacks, then loading fails', () => {
    const error = loadWith('secret-exfiltration.json', (cases) => {
      const list = cases as Array<{ arguments: Record<string, unknown> }>;
      list[0]!.arguments = { ...list[0]!.arguments, body: 'key {{fake.nosuch}}' };
      return list;
    });
    expect(error?.message).toMatch(/unknown fake secret "nosuch"/);
  });

  it('when a case sits in the file of another family, then loading fails', () => {
    const error = loadWith('ssrf.json', (cases) => {
      const list = cases as Array<Record<string, unknown>>;
      list[0] = { ...list[0], family: 'benign' };
      return list;
    });
    expect(error?.message).toMatch(/does not belong in ssrf\.json/);
  });

  it('when the corpus is loaded, then the fake secrets are filled in and no placeholder is left', () => {
    const text = JSON.stringify(REDTEAM_CASES);
    expect(text).not.toContain('{{fake.');
    expect(text).toContain('-----BEGIN RSA PRIVATE KEY-----');
  });
});
