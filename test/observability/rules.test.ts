import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  RULE_TESTS_DIR,
  RUNBOOKS_DIR,
  allRules,
  dashboardFiles,
  extractMetricNames,
  readDashboard,
  recordingRuleNames,
} from './promql-metric-names.ts';

const RUNBOOK_HEADINGS = ['Meaning', 'Impact', 'Diagnosis', 'Mitigation', 'Escalation', 'Follow-up'];

const rules = allRules();
const alerts = rules.filter((r) => r.alert);
const dashboardUids = new Set(dashboardFiles().map((f) => readDashboard(f).uid));

function promtoolOnPath(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

interface PromtoolTestFile {
  tests?: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe('alerting rules', () => {
  it('when the rule files are read, then they define both SLO and symptom alerts', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(16);
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const alert of alerts) {
    const name = alert.alert as string;

    describe(name, () => {
      it('when inspected, then it has a severity, a summary, a description and its runbook_url', () => {
        expect(['page', 'ticket']).toContain(alert.labels?.severity);
        expect(alert.annotations?.summary?.trim()).toBeTruthy();
        expect(alert.annotations?.description?.trim()).toBeTruthy();
        // Absolute once Prometheus expands it, from the one base in prometheus.yml (ADR 0023).
        expect(alert.annotations?.runbook_url).toBe(`{{ $externalLabels.runbook_base }}/runbooks/${name}.md`);
      });

      it('when its runbook is opened, then it exists and has the six sections in order', () => {
        const file = join(REPO_ROOT, `runbooks/${name}.md`);
        expect(existsSync(file), file).toBe(true);
        const text = readFileSync(file, 'utf8');
        expect(text.startsWith(`# ${name}\n`)).toBe(true);
        const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]?.trim());
        expect(headings).toEqual(RUNBOOK_HEADINGS);
        for (const section of text.split(/^## /m).slice(1)) {
          expect(
            section.split('\n').slice(1).join('\n').trim().length,
            section.split('\n')[0],
          ).toBeGreaterThan(40);
        }
      });

      it('when it names a dashboard, then that dashboard exists', () => {
        const dashboard = alert.annotations?.dashboard;
        expect(dashboard).toMatch(/^d\//);
        expect(dashboardUids).toContain(dashboard?.slice(2));
      });
    });
  }

  it('when an alert uses a recording rule, then that rule is defined', () => {
    const recorded = recordingRuleNames();
    const used = alerts.flatMap((a) => extractMetricNames(a.expr).filter((n) => n.includes(':')));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((n) => !recorded.has(n))).toEqual([]);
  });

  it('when prometheus.yml is read, then it sets the runbook base every runbook_url is built from, absolute and without a trailing slash', () => {
    const config = parseYaml(
      readFileSync(join(REPO_ROOT, 'observability/prometheus/prometheus.yml'), 'utf8'),
    ) as {
      global: { external_labels: Record<string, string> };
    };
    const base = config.global.external_labels.runbook_base;
    expect(base).toMatch(/^https?:\/\/[^/]+/);
    expect(base).not.toMatch(/\/$/);
  });

  it('when runbooks are listed, then each belongs to an alert', () => {
    const names = new Set(alerts.map((a) => a.alert));
    const orphans = readdirSync(RUNBOOKS_DIR)
      .filter((f) => f.endsWith('.md') && f !== 'README.md')
      .map((f) => f.replace(/\.md$/, ''))
      .filter((n) => !names.has(n));
    expect(orphans).toEqual([]);
  });

  it('when the promtool tests are read, then every alert is tested both firing and not firing', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of readdirSync(RULE_TESTS_DIR).filter((f) => f.endsWith('.test.yml'))) {
      const parsed = parseYaml(readFileSync(join(RULE_TESTS_DIR, file), 'utf8')) as PromtoolTestFile;
      for (const test of parsed.tests ?? []) {
        for (const check of test.alert_rule_test ?? []) {
          (check.exp_alerts?.length ? firing : quiet).add(check.alertname);
        }
      }
    }
    const names = alerts.map((a) => a.alert as string);
    expect(names.filter((n) => !firing.has(n))).toEqual([]);
    expect(names.filter((n) => !quiet.has(n))).toEqual([]);
  });
});

describe('promtool', () => {
  const available = promtoolOnPath();
  if (!available) {
    console.warn('rules.test.ts: promtool is not on PATH; skipping scripts/check-rules.sh (CI installs it).');
  }

  it.skipIf(!available)(
    'when scripts/check-rules.sh runs, then promtool accepts the rules and every rule unit test passes (skipped without promtool on PATH)',
    () => {
      const result = spawnSync('bash', [join(REPO_ROOT, 'scripts/check-rules.sh')], {
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('check-rules: OK');
    },
    240_000,
  );
});
