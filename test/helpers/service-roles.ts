import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startChildService, type ChildService } from './child-service.ts';
import { freePort } from './free-port.ts';
import { startPrivateRedis, type PrivateRedis } from './private-redis.ts';
import {
  startAlertmanager,
  startPrometheus,
  type ManagedProcess,
  type PromAlert,
  type PrometheusServer,
} from './prometheus.ts';
import { runCli, singleJsonDocument } from './run-cli.ts';
import { createTestDatabase, testEnv, waitFor } from './test-env.ts';

// The service as `npm start` runs it in production, one process per role (api, worker), on
// a scratch database and a private Redis, watched by a real Prometheus (the shipped rules,
// 1 s scrape and evaluation) that sends to a real Alertmanager, whose webhook deliveries
// the test reads. For the end-to-end alerting tests (*.e2e.int.test.ts).

export interface Delivery {
  status: 'firing' | 'resolved';
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

export interface ObservedService {
  apiUrl: string;
  databaseUrl: string;
  env: Record<string, string>;
  agentKey: string;
  prometheus: PrometheusServer;
  deliveries: readonly Delivery[];
  worker(): ChildService | undefined;
  startWorker(): Promise<ChildService>;
  killWorker(): Promise<void>;
  propose(): Promise<Response>;
  actionStatus(id: string): Promise<string>;
  firing(alertname: string): Promise<PromAlert | undefined>;
  active(alertname: string): Promise<boolean>;
  delivered(alertname: string, status: Delivery['status']): Delivery | undefined;
  stop(): Promise<void>;
}

const ready = (what: string, url: string) =>
  waitFor(async () => (await fetch(url).catch(() => undefined))?.ok, {
    timeoutMs: 60_000,
    intervalMs: 200,
    what,
  });

export async function startObservedService(extraEnv: Record<string, string> = {}): Promise<ObservedService> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(redis.stop);
    const apiPort = await freePort();
    const workerPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = testEnv(db.url, {
      REDIS_URL: redis.url,
      PORT: String(apiPort),
      WORKER_PORT: String(workerPort),
      MODERATION_TRANSPORT: 'in-process',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    });
    const killHard = async (child: ChildService | undefined) => {
      if (child && child.process.exitCode === null && child.process.signalCode === null) {
        child.kill('SIGKILL');
        await child.exited;
      }
    };
    const api = startChildService('api', env);
    cleanups.push(() => killHard(api));
    let worker: ChildService | undefined;
    cleanups.push(() => killHard(worker));
    const startWorker = async () => {
      worker = startChildService('worker', env);
      await ready('the worker role ready', `http://127.0.0.1:${workerPort}/readyz`);
      return worker;
    };
    await ready('the api role ready', `${apiUrl}/readyz`);
    await startWorker();
    const created = await runCli(['keys', 'create', '--tenant', 'acme', '--role', 'agent', '--json'], env);
    const agentKey = (singleJsonDocument(created) as { key: string }).key;

    const deliveries: Delivery[] = [];
    const webhook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        deliveries.push(JSON.parse(body) as Delivery);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => webhook.close(() => resolve())));
    const alertmanager: ManagedProcess = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
    });
    cleanups.push(alertmanager.stop);
    const prometheus = await startPrometheus({
      targets: { 'airlock-api': `127.0.0.1:${apiPort}`, 'airlock-worker': `127.0.0.1:${workerPort}` },
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
      externalLabels: { runbook_base: apiUrl },
      alertmanagerUrl: alertmanager.url,
    });
    cleanups.push(prometheus.stop);
    await waitFor(async () => (await prometheus.query('up{job=~"airlock-.+"} == 1')).length === 2, {
      timeoutMs: 30_000,
      what: 'Prometheus scraping both roles',
    });

    const alerts = () => prometheus.alerts();
    return {
      apiUrl,
      databaseUrl: db.url,
      env,
      agentKey,
      prometheus,
      deliveries,
      worker: () => worker,
      startWorker,
      killWorker: () => killHard(worker),
      propose: () =>
        fetch(`${apiUrl}/v1/actions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${agentKey}`,
            'content-type': 'application/json',
            'idempotency-key': randomUUID(),
          },
          body: JSON.stringify({
            tool: 'notes.create',
            arguments: { title: 'e2e', body: 'an allowed note' },
            user_id: 'user-1',
          }),
          signal: AbortSignal.timeout(15_000),
        }),
      actionStatus: async (id) => {
        const response = await fetch(`${apiUrl}/v1/actions/${id}`, {
          headers: { authorization: `Bearer ${agentKey}` },
          signal: AbortSignal.timeout(10_000),
        });
        return ((await response.json()) as { status: string }).status;
      },
      firing: async (name) =>
        (await alerts()).find((a) => a.labels.alertname === name && a.state === 'firing'),
      active: async (name) => (await alerts()).some((a) => a.labels.alertname === name),
      delivered: (name, status) =>
        deliveries.find((d) => d.status === status && d.alerts.some((a) => a.labels.alertname === name)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
