import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { CONFIG_VARIABLES } from '../../src/platform/config-variables.ts';
import { README_PATH, regenerateReadme } from '../../scripts/docs-config.ts';

// The configuration table has one source, src/platform/config-variables.ts; these tests keep
// it, config.ts and the README's table in step.

const CONFIG_SOURCE = path.resolve(import.meta.dirname, '../../src/platform/config.ts');

// Every environment variable config.ts names: `env.NAME`, `env['NAME']` and the
// `helper(env, 'NAME', …)` calls. Lower-case names are npm's own (npm_package_version).
function variablesNamedIn(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/\benv(?:\.([A-Za-z_]\w*)|\[\s*'([^']+)'\s*\]|\s*,\s*'([^']+)')/g)) {
    const name = match[1] ?? match[2] ?? match[3]!;
    if (/^[A-Z][A-Z0-9_]*$/.test(name)) names.add(name);
  }
  return names;
}

// Records every key loadConfig reads.
function variablesReadAtRuntime(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, key) {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return new Set([...read].filter((name) => /^[A-Z][A-Z0-9_]*$/.test(name)));
}

describe('configuration variables', () => {
  const documented = new Set(CONFIG_VARIABLES.map((v) => v.name));

  it('lists each variable once', () => {
    expect(documented.size).toBe(CONFIG_VARIABLES.length);
  });

  it('documents every variable config.ts reads, and nothing it does not', async () => {
    const named = variablesNamedIn(await readFile(CONFIG_SOURCE, 'utf8'));
    const read = variablesReadAtRuntime();
    // The scanner and the runtime must agree on a few known names, or the scanner is broken.
    expect(named).toContain('DATABASE_URL');
    expect(read).toContain('DATABASE_URL');
    const inCode = new Set([...named, ...read]);
    expect(
      [...inCode].filter((name) => !documented.has(name)),
      'read but not in config-variables.ts',
    ).toEqual([]);
    expect(
      [...documented].filter((name) => !inCode.has(name)),
      'in config-variables.ts but never read',
    ).toEqual([]);
  });

  // Setting a variable to its documented default must change nothing: the table's default is
  // the code's default.
  it.each(CONFIG_VARIABLES.filter((v) => v.default !== undefined).map((v) => [v.name, v.default!]))(
    '%s defaults to %s',
    (name, value) => {
      expect(loadConfig({ [name]: value })).toEqual(loadConfig({}));
    },
  );

  it('a default that differs from the code is caught', () => {
    expect(loadConfig({ PORT: '8081' })).not.toEqual(loadConfig({}));
  });

  // An entry without a default must still be read: setting it to a representative value
  // changes the configuration.
  it('each variable without a default changes the configuration when set', () => {
    const samples: Record<string, string> = {
      UNLEASH_URL: 'http://127.0.0.1:4242/api',
      UNLEASH_API_TOKEN: 'client-token',
      AIRLOCK_OPERATOR_TOKEN: 'x'.repeat(24),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      TRACE_UI_URL: 'http://127.0.0.1:16686/trace/{trace_id}',
      FETCH_ALLOW_PRIVATE_CIDRS: '10.0.0.0/8',
      PROMETHEUS_URL: 'http://127.0.0.1:9090',
      ALERT_WEBHOOK_TOKEN: 'x'.repeat(24),
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging',
    };
    const pairs: Record<string, string> = {
      UNLEASH_URL: 'UNLEASH_API_TOKEN',
      UNLEASH_API_TOKEN: 'UNLEASH_URL',
    };
    for (const variable of CONFIG_VARIABLES.filter((v) => v.default === undefined && !v.computedDefault)) {
      const value = samples[variable.name] ?? 'sample-value';
      const partner = pairs[variable.name];
      const env = { [variable.name]: value, ...(partner ? { [partner]: samples[partner]! } : {}) };
      expect(loadConfig(env), variable.name).not.toEqual(loadConfig({}));
    }
  });
});

describe('README configuration table', () => {
  it('is the one `npm run docs:config` generates', async () => {
    const readme = await readFile(README_PATH, 'utf8');
    const expected = await regenerateReadme(readme);
    // On failure: run `npm run docs:config` and commit README.md.
    expect(readme === expected, 'README.md is out of date: run `npm run docs:config`').toBe(true);
  });
});
