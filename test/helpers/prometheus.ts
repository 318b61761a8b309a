import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.ts';
import { waitFor } from './test-env.ts';

// A real Prometheus (Debian's `prometheus`) and Alertmanager (`prometheus-alertmanager`)
// for tests, on 127.0.0.1 ports of their own, with throwaway storage. The rule files are the
// shipped ones, loaded unchanged; only the scrape and evaluation intervals are the test's.

const ROOT = path.resolve(import.meta.dirname, '../..');
export const SHIPPED_RULE_FILES = readdirSync(path.join(ROOT, 'observability/prometheus/rules'))
  .filter((f) => f.endsWith('.rules.yml'))
  .map((f) => path.join(ROOT, 'observability/prometheus/rules', f));

export interface ManagedProcess {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

export interface PrometheusServer extends ManagedProcess {
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  alerts(): Promise<PromAlert[]>;
}

// The tests that need these fail with the package to install rather than a spawn error.
function requireBinary(command: string, debianPackage: string): void {
  if (spawnSync(command, ['--version'], { stdio: 'ignore' }).error) {
    throw new Error(`${command} is not on PATH: install the Debian package ${debianPackage} (.ci/run does)`);
  }
}

function startProcess(command: string, args: string[], dir: string, url: string, readyPath: string) {
  let output = '';
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const managed: ManagedProcess = {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const ready = waitFor(async () => (await fetch(`${url}${readyPath}`).catch(() => undefined))?.ok, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: `${command} ready at ${url}`,
  }).catch(async (err: unknown) => {
    await managed.stop();
    throw new Error(`${String(err)}\n${output}`);
  });
  return { managed, ready };
}

export async function startPrometheus(options: {
  // job name -> host:port, scraped at /metrics
  targets: Record<string, string>;
  scrapeIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  externalLabels: Record<string, string>;
  alertmanagerUrl?: string;
  ruleFiles?: readonly string[];
}): Promise<PrometheusServer> {
  requireBinary('prometheus', 'prometheus');
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-prom-'));
  const config = {
    global: {
      scrape_interval: `${options.scrapeIntervalSeconds}s`,
      scrape_timeout: `${options.scrapeIntervalSeconds}s`,
      evaluation_interval: `${options.evaluationIntervalSeconds}s`,
      external_labels: options.externalLabels,
    },
    rule_files: [...(options.ruleFiles ?? SHIPPED_RULE_FILES)],
    ...(options.alertmanagerUrl
      ? {
          alerting: {
            alertmanagers: [{ static_configs: [{ targets: [new URL(options.alertmanagerUrl).host] }] }],
          },
        }
      : {}),
    scrape_configs: Object.entries(options.targets).map(([job, target]) => ({
      job_name: job,
      metrics_path: '/metrics',
      static_configs: [{ targets: [target] }],
    })),
  };
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { managed, ready } = startProcess(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Alerts reach Alertmanager as soon as they fire, not on the 1-minute default.
      '--rules.alert.resend-delay=1s',
    ],
    dir,
    url,
    '/-/ready',
  );
  await ready;
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success')
      throw new Error(`Prometheus ${pathAndQuery}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    ...managed,
    query: async (expr) =>
      (
        await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent(expr)}`,
        )
      ).result,
    alerts: async () => (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts,
  };
}

export async function startAlertmanager(options: { webhookUrl: string }): Promise<ManagedProcess> {
  requireBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-am-'));
  const config = {
    route: {
      receiver: 'test',
      group_by: ['alertname'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '1h',
    },
    receivers: [{ name: 'test', webhook_configs: [{ url: options.webhookUrl, send_resolved: true }] }],
  };
  writeFileSync(path.join(dir, 'alertmanager.yml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { managed, ready } = startProcess(
    'prometheus-alertmanager',
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    dir,
    url,
    '/-/ready',
  );
  await ready;
  return managed;
}
