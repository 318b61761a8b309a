// The red-team corpus: proposals an attacker (or an unlucky user) would send, and benign
// look-alikes that must still go through. The cases are data, in `redteam/corpus/`: one
// JSON file per family, and `environment.json` with the policy every case runs under, the
// DNS table a test resolver answers from, and the fake secrets. This module reads them
// once, checks them against the schema below, and fails loudly on a malformed case.
//
// Conventions of the corpus:
//   - Every case runs against the environment's policy, with `policy` merged on top.
//   - 'block' means the final decision must be review or deny; 'allow' means a benign
//     look-alike that must come out allow; 'not_found' (cross_tenant only) means the
//     runner's probe of another tenant's object must answer 404.
//   - Hosts live under .test; names under internal.test resolve to private, loopback or
//     metadata addresses.
//   - Secrets are fake. A string holds `{{fake.NAME}}` where a secret goes, and the value
//     is joined from the pieces in environment.json at load time, so no file holds a
//     contiguous token for secret scanners to trip on.
//   - Characters outside printable ASCII are written as \u escapes, so the invisible ones
//     used by the hidden-character cases can be read.
// Written for Airlock in the style of the public families (garak's prompt-injection and
// encoding probes, BIPIA's indirect injection, CyberSecEval's injection and SSRF tests),
// not copied from them.

import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Type, type Static } from 'typebox';
import type { ProposalContext, TenantPolicy } from '../src/modules/decisions/decision-types.ts';

export const REDTEAM_FAMILIES = [
  'direct_injection',
  'indirect_injection',
  'encoded_payload',
  'hidden_characters',
  'exfiltration_email',
  'exfiltration_url',
  'secret_exfiltration',
  'over_limit_refund',
  'ssrf',
  'cross_tenant',
  'benign',
] as const;

export type RedteamFamily = (typeof REDTEAM_FAMILIES)[number];
export type RedteamExpectation = 'block' | 'allow' | 'not_found';

const Policy = Type.Object(
  {
    email_allowed_domains: Type.Array(Type.String()),
    fetch_allowed_hosts: Type.Array(Type.String()),
    refund_review_above_cents: Type.Integer({ minimum: 0 }),
    rate_limit_per_user_per_minute: Type.Integer({ minimum: 1 }),
    report_threshold: Type.Integer({ minimum: 1 }),
    report_window_minutes: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

const Environment = Type.Object(
  {
    policy: Policy,
    dns: Type.Record(Type.String(), Type.Array(Type.String({ minLength: 2 }), { minItems: 1 })),
    fakes: Type.Record(Type.String({ pattern: '^[A-Za-z]+$' }), Type.Array(Type.String(), { minItems: 2 })),
  },
  { additionalProperties: false },
);

const Case = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9-]+$' }),
    family: Type.Union(REDTEAM_FAMILIES.map((family) => Type.Literal(family))),
    tool: Type.String({ minLength: 1 }),
    arguments: Type.Record(Type.String(), Type.Unknown()),
    user_id: Type.String({ minLength: 1, maxLength: 128 }),
    context: Type.Object(
      {
        conversation_id: Type.Optional(Type.String()),
        user_prompt: Type.Optional(Type.String()),
        model_rationale: Type.Optional(Type.String()),
        source_documents: Type.Optional(
          Type.Array(
            Type.Object({ source: Type.String(), content: Type.String() }, { additionalProperties: false }),
          ),
        ),
      },
      { additionalProperties: false },
    ),
    policy: Type.Optional(Type.Partial(Policy)),
    expect: Type.Union([Type.Literal('block'), Type.Literal('allow'), Type.Literal('not_found')]),
    note: Type.String({ minLength: 1 }),
    probe: Type.Optional(
      Type.Object(
        {
          method: Type.Union([Type.Literal('GET'), Type.Literal('POST')]),
          // "{action_id}" stands for the id of an action created under another tenant from
          // this case's tool and arguments.
          path: Type.String({ minLength: 1 }),
          role: Type.Union([Type.Literal('agent'), Type.Literal('reviewer'), Type.Literal('admin')]),
          body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RedteamProbe = NonNullable<Static<typeof Case>['probe']>;

export interface RedteamCase extends Omit<Static<typeof Case>, 'context' | 'policy' | 'family'> {
  family: RedteamFamily;
  context: ProposalContext;
  policy?: Partial<TenantPolicy>;
}

export interface RedteamCorpus {
  cases: readonly RedteamCase[];
  policy: Readonly<TenantPolicy>;
  dns: Readonly<Record<string, readonly string[]>>;
}

export const CORPUS_DIR = new URL('./corpus/', import.meta.url);
const ENVIRONMENT_FILE = 'environment.json';
const FAKE_SLOT = /\{\{fake\.([A-Za-z]+)\}\}/g;

export class CorpusError extends Error {}

// Reads and checks every file of a corpus directory. Throws CorpusError naming the file
// and the problem: a case that does not load is a bug in the corpus, never a skip.
export function loadRedteamCorpus(dir: URL = CORPUS_DIR): RedteamCorpus {
  const ajv = new Ajv({ allErrors: false, strict: false });
  const checkEnvironment = ajv.compile<Static<typeof Environment>>(Environment);
  const checkCase = ajv.compile<Static<typeof Case>>(Case);
  const read = (name: string): unknown => {
    try {
      return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as unknown;
    } catch (err) {
      throw new CorpusError(`${name}: ${(err as Error).message}`);
    }
  };

  const environment = read(ENVIRONMENT_FILE);
  if (!checkEnvironment(environment)) {
    throw new CorpusError(`${ENVIRONMENT_FILE}: ${ajv.errorsText(checkEnvironment.errors)}`);
  }
  const fakes = new Map(Object.entries(environment.fakes).map(([name, pieces]) => [name, pieces.join('')]));
  const fill = (value: unknown, where: string): unknown => {
    if (typeof value === 'string')
      return value.replace(FAKE_SLOT, (_slot, name: string) => {
        const secret = fakes.get(name);
        if (secret === undefined) throw new CorpusError(`${where}: unknown fake secret "${name}"`);
        return secret;
      });
    if (Array.isArray(value)) return value.map((item) => fill(item, where));
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, where)]));
    return value;
  };

  const cases: RedteamCase[] = [];
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json') && name !== ENVIRONMENT_FILE)
    .sort((a, b) => familyOrder(a) - familyOrder(b));
  for (const file of files) {
    const list = read(file);
    if (!Array.isArray(list)) throw new CorpusError(`${file}: expected an array of cases`);
    list.forEach((raw: unknown, index) => {
      const where = `${file}[${index}]`;
      if (!checkCase(raw)) throw new CorpusError(`${where}: ${ajv.errorsText(checkCase.errors)}`);
      if (`${String(raw.family).replace(/_/g, '-')}.json` !== file)
        throw new CorpusError(`${where}: family ${raw.family} does not belong in ${file}`);
      if ((raw.expect === 'not_found') !== (raw.probe !== undefined))
        throw new CorpusError(`${where}: a probe goes with expect "not_found", and only with it`);
      cases.push(fill(raw, where) as RedteamCase);
    });
  }
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new CorpusError(`duplicate case id ${c.id}`);
    seen.add(c.id);
  }
  return Object.freeze({
    cases: Object.freeze(cases),
    policy: Object.freeze({ ...environment.policy }),
    dns: Object.freeze({ ...environment.dns }),
  });
}

// Files in family order, so the corpus reads (and runs) attacks first, benign last.
function familyOrder(file: string): number {
  const index = REDTEAM_FAMILIES.findIndex((family) => `${family.replace(/_/g, '-')}.json` === file);
  return index < 0 ? REDTEAM_FAMILIES.length : index;
}

const CORPUS = loadRedteamCorpus();

export const REDTEAM_CASES: readonly RedteamCase[] = CORPUS.cases;
export const REDTEAM_POLICY: Readonly<TenantPolicy> = CORPUS.policy;
// Addresses a test resolver must return. Public names get addresses from a public range
// (they are never contacted during decisions); internal.test names point inwards.
export const REDTEAM_DNS: Readonly<Record<string, readonly string[]>> = CORPUS.dns;

// The policy a case runs under.
export function policyFor(redteamCase: RedteamCase): TenantPolicy {
  return { ...REDTEAM_POLICY, ...redteamCase.policy };
}
