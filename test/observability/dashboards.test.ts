import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/platform/metrics.ts';
import {
  allPanels,
  baseMetricName,
  dashboardFiles,
  dashboardQueries,
  exportedMetricsReferenced,
  extractMetricNames,
  readDashboard,
  ruleQueries,
} from './promql-metric-names.ts';

const EXPECTED_DASHBOARDS = [
  'airlock-dependencies',
  'airlock-node-runtime',
  'airlock-overview',
  'airlock-queue-worker',
  'airlock-safety',
];

// Every series name createMetrics() exports, with histogram and summary suffixes, and the
// prom-client default metrics, read from a registry rather than listed by hand.
async function exportedSeriesNames(): Promise<Set<string>> {
  const metrics = createMetrics({ collectDefault: true });
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    const type = String(metric.type);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
    if (type === 'summary') {
      for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

describe('dashboards', () => {
  const files = dashboardFiles();

  it('when listed, then the five Airlock dashboards exist', () => {
    expect(files.map((f) => basename(f, '.json'))).toEqual(EXPECTED_DASHBOARDS);
  });

  for (const file of files) {
    const name = basename(file);

    describe(name, () => {
      it('when parsed, then it is valid JSON with a uid matching the file name and schemaVersion 39+', () => {
        expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow();
        const dashboard = readDashboard(file);
        expect(dashboard.uid).toBe(basename(file, '.json'));
        expect(dashboard.title).toMatch(/^Airlock \//);
        expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
      });

      it('when panels are listed, then every panel id is unique', () => {
        const ids = allPanels(readDashboard(file).panels).map((p) => p.id);
        expect(ids.every((id) => typeof id === 'number')).toBe(true);
        expect(new Set(ids).size).toBe(ids.length);
      });

      it('when panels are laid out, then none overlaps another or leaves the 24-column grid', () => {
        type Placed = { id: number; gridPos: { x: number; y: number; w: number; h: number } };
        const placed = allPanels(readDashboard(file).panels) as unknown as Placed[];
        for (const p of placed) {
          expect(p.gridPos.x + p.gridPos.w, `panel ${p.id}`).toBeLessThanOrEqual(24);
        }
        for (const [i, a] of placed.entries()) {
          for (const b of placed.slice(i + 1)) {
            const overlap =
              a.gridPos.x < b.gridPos.x + b.gridPos.w &&
              b.gridPos.x < a.gridPos.x + a.gridPos.w &&
              a.gridPos.y < b.gridPos.y + b.gridPos.h &&
              b.gridPos.y < a.gridPos.y + a.gridPos.h;
            expect(overlap, `panels ${a.id} and ${b.id}`).toBe(false);
          }
        }
      });

      it('when a panel queries data, then every target has an expr and the prometheus datasource uid', () => {
        type Panel = {
          id: number;
          type: string;
          datasource?: { uid?: string };
          targets?: { expr?: string; refId?: string; datasource?: { uid?: string } }[];
        };
        const panels = allPanels(readDashboard(file).panels) as unknown as Panel[];
        const dataPanels = panels.filter((p) => p.type !== 'row');
        expect(dataPanels.length).toBeGreaterThan(0);
        for (const panel of dataPanels) {
          expect(panel.datasource?.uid, `panel ${panel.id}`).toBe('prometheus');
          expect(panel.targets?.length, `panel ${panel.id} targets`).toBeGreaterThan(0);
          for (const target of panel.targets ?? []) {
            expect(target.expr?.trim(), `panel ${panel.id} ${target.refId}`).toBeTruthy();
            expect(target.datasource?.uid, `panel ${panel.id} ${target.refId}`).toBe('prometheus');
          }
        }
      });
    });
  }

  it('when every dashboard query is parsed as PromQL, then none has a syntax error', () => {
    const failures: string[] = [];
    for (const query of dashboardQueries()) {
      try {
        extractMetricNames(query.expr);
      } catch (err) {
        failures.push(`${basename(query.file)} ${query.where}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('metric names used by dashboards and rules', () => {
  it('when every PromQL expression is read, then each metric it selects is exported by createMetrics or Node defaults', async () => {
    const exported = await exportedSeriesNames();
    const referenced = exportedMetricsReferenced([...dashboardQueries(), ...ruleQueries()]);
    expect(referenced.size).toBeGreaterThan(20);

    const missing = [...referenced].filter(
      ([name]) => !exported.has(name) && !exported.has(baseMetricName(name)),
    );
    expect(missing.map(([name, uses]) => `${name} (used by ${uses[0]})`)).toEqual([]);
  });

  it('when the dashboards are read, then every Airlock metric is shown on at least one of them', async () => {
    const exported = await exportedSeriesNames();
    const shown = new Set([...exportedMetricsReferenced(dashboardQueries()).keys()].map(baseMetricName));
    const airlockMetrics = [...exported].filter((n) => n.startsWith('airlock_') && n === baseMetricName(n));
    const unshown = airlockMetrics.filter((n) => !shown.has(n) && !shown.has(baseMetricName(n)));
    expect(unshown).toEqual([]);
  });
});
