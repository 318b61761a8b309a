// Creates the contract's flags in an Unleash server, idempotently: a flag that exists is left
// as it is, so re-running the seed never undoes an operator's change.
//
//   UNLEASH_URL=http://127.0.0.1:4242/api UNLEASH_ADMIN_TOKEN=... node scripts/unleash-seed.ts
//
// Optional: UNLEASH_ENVIRONMENT (default development), UNLEASH_PROJECT (default default),
// UNLEASH_SEED_CHAOS (comma-separated drill scenarios; default DEFAULT_CHAOS_SCENARIOS).
import {
  createUnleashAdminClient,
  type UnleashAdminClient,
} from '../src/platform/flags/unleash-flag-provider.ts';
import {
  CHAOS_FLAGS,
  contractFlagNames,
  defaultFor,
  isValidFlagName,
} from '../src/platform/flags/flag-provider.ts';
import { BUILT_IN_TOOL_NAMES } from '../src/modules/tools/built-in-tools.ts';

// Every chaos flag the code reads (CHAOS_FLAGS); the seed only creates them, off.
export const DEFAULT_CHAOS_SCENARIOS: readonly string[] = Object.keys(CHAOS_FLAGS).map((name) =>
  name.slice('chaos.'.length),
);

interface SeedFlag {
  name: string;
  globalOn: boolean;
  rollout: number;
}

export function seedFlags(chaosScenarios: readonly string[] = DEFAULT_CHAOS_SCENARIOS): SeedFlag[] {
  const flags: SeedFlag[] = [
    // Kill switches off; the staged-rollout gate on, rolled out by tenant id, 100% until
    // someone lowers it.
    ...contractFlagNames(BUILT_IN_TOOL_NAMES).map((name) => ({
      name,
      globalOn: defaultFor(name),
      rollout: 100,
    })),
    ...chaosScenarios.map((scenario) => ({ name: `chaos.${scenario}`, globalOn: false, rollout: 100 })),
  ];
  for (const flag of flags) {
    if (!isValidFlagName(flag.name)) throw new Error(`not a valid Airlock flag name: ${flag.name}`);
  }
  return flags;
}

export interface SeedResult {
  created: string[];
  existing: string[];
}

export async function seedUnleash(
  admin: UnleashAdminClient,
  chaosScenarios: readonly string[] = DEFAULT_CHAOS_SCENARIOS,
): Promise<SeedResult> {
  await admin.ensureContextField();
  const result: SeedResult = { created: [], existing: [] };
  for (const flag of seedFlags(chaosScenarios)) {
    if (!(await admin.ensureFeature(flag.name))) {
      result.existing.push(flag.name);
      continue;
    }
    // A new feature gets Airlock's strategy model straight away, so the Unleash UI shows
    // the rollout strategy and its environment toggle is the global switch.
    const model = await admin.loadModel(flag.name);
    await admin.saveModel(flag.name, { ...model, globalOn: flag.globalOn, rollout: flag.rollout });
    result.created.push(flag.name);
  }
  return result;
}

async function main(): Promise<number> {
  const url = process.env.UNLEASH_URL;
  const token = process.env.UNLEASH_ADMIN_TOKEN;
  if (!url || !token) {
    process.stderr.write('unleash-seed: UNLEASH_URL and UNLEASH_ADMIN_TOKEN are required\n');
    return 2;
  }
  const chaos = process.env.UNLEASH_SEED_CHAOS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const admin = createUnleashAdminClient({
    url,
    token,
    project: process.env.UNLEASH_PROJECT || 'default',
    environment: process.env.UNLEASH_ENVIRONMENT || 'development',
  });
  try {
    const result = await seedUnleash(admin, chaos?.length ? chaos : DEFAULT_CHAOS_SCENARIOS);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`unleash-seed: ${(err as Error).message}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main();
