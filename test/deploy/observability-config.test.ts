import { readFileSync, readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { itWithTool, readYaml, repoPath, run, toolVersion } from './deploy-tools.ts';

const promtool = toolVersion('promtool');
const amtool = toolVersion('amtool');

function schema(name: string): object {
  return JSON.parse(readFileSync(repoPath('dashboards/provisioning/schemas', name), 'utf8')) as object;
}

describe('Prometheus and Alertmanager configuration', () => {
  itWithTool(
    'promtool',
    Boolean(promtool),
    `when ${promtool ?? 'promtool'} checks prometheus.yml, then the config and every rule file it loads are valid`,
    () => {
      // Not --syntax-only: this also loads and checks the rule files the config names.
      const result = run('promtool', ['check', 'config', 'prometheus.yml'], {
        cwd: repoPath('observability/prometheus'),
      });
      expect(result.status, result.output).toBe(0);
      expect(result.output).toMatch(/SUCCESS: \d+ rule files found/);
    },
  );

  itWithTool(
    'amtool',
    Boolean(amtool),
    `when ${amtool ?? 'amtool'} checks alertmanager.yml, then it is valid`,
    () => {
      const result = run('amtool', ['check-config', 'observability/alertmanager/alertmanager.yml']);
      expect(result.status, result.output).toBe(0);
      expect(result.output).toContain('SUCCESS');
    },
  );

  itWithTool('amtool', Boolean(amtool), 'when amtool is given a broken route, then it fails', () => {
    const result = run('amtool', ['check-config', repoPath('test/deploy/fixtures/alertmanager-broken.yml')]);
    expect(result.status).not.toBe(0);
  });

  itWithTool(
    'amtool',
    Boolean(amtool),
    'when a page and a ticket alert are routed, then both reach the inbox receiver',
    () => {
      for (const severity of ['page', 'ticket']) {
        const result = run('amtool', [
          'config',
          'routes',
          'test',
          '--config.file=observability/alertmanager/alertmanager.yml',
          `severity=${severity}`,
          'alertname=AirlockTargetDown',
        ]);
        expect(result.status, result.output).toBe(0);
        expect(result.stdout.trim()).toBe('inbox');
      }
    },
  );
});

describe('Grafana provisioning', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validateDatasources = ajv.compile(schema('datasources.schema.json'));
  const validateProviders = ajv.compile(schema('dashboards.schema.json'));
  const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
    'dashboards/provisioning/datasources.yml',
  );
  const providers = readYaml<{ providers: { options: { path: string } }[] }>(
    'dashboards/provisioning/dashboards.yml',
  );

  it('when datasources.yml is checked against the provisioning schema, then it conforms', () => {
    expect(validateDatasources(datasources), ajv.errorsText(validateDatasources.errors)).toBe(true);
  });

  it('when dashboards.yml is checked against the provisioning schema, then it conforms', () => {
    expect(validateProviders(providers), ajv.errorsText(validateProviders.errors)).toBe(true);
  });

  it('when the schemas are given a misspelt key or a wrong access mode, then they reject it', () => {
    const typo = structuredClone(datasources) as { datasources: Record<string, unknown>[] };
    typo.datasources[0]!.isDefualt = true;
    expect(validateDatasources(typo)).toBe(false);
    const access = structuredClone(datasources) as { datasources: Record<string, unknown>[] };
    access.datasources[0]!.access = 'server';
    expect(validateDatasources(access)).toBe(false);
    expect(validateProviders({ apiVersion: 1, providers: [{ name: 'x', type: 'file', options: {} }] })).toBe(
      false,
    );
  });

  it('when a dashboard or exemplar link names a datasource uid, then that datasource is provisioned', () => {
    const uids = new Set(datasources.datasources.map((d) => d.uid));
    const used = new Set<string>();
    for (const file of readdirSync(repoPath('dashboards')).filter((f) => f.endsWith('.json'))) {
      JSON.parse(readFileSync(repoPath('dashboards', file), 'utf8'), (key, value: unknown) => {
        const uid = (value as { uid?: unknown } | null)?.uid;
        if (key === 'datasource' && typeof uid === 'string' && !uid.startsWith('-- ')) used.add(uid);
        return value;
      });
    }
    JSON.stringify(datasources, (key, value: unknown) => {
      if (key === 'datasourceUid') used.add(value as string);
      return value;
    });
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((uid) => !uids.has(uid))).toEqual([]);
  });

  it('when Grafana mounts the dashboards, then the provider path is where compose puts them', () => {
    const compose = readYaml<{ services: { grafana: { volumes: string[] } } }>('docker-compose.yml');
    const targets = compose.services.grafana.volumes.map((v) => v.split(':')[1]);
    for (const provider of providers.providers) expect(targets).toContain(provider.options.path);
    expect(targets).toEqual(
      expect.arrayContaining([
        '/etc/grafana/provisioning/datasources/airlock.yml',
        '/etc/grafana/provisioning/dashboards/airlock.yml',
      ]),
    );
  });
});
