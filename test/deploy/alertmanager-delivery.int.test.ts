import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../helpers/free-port.ts';
import { waitFor } from '../helpers/test-env.ts';
import { itWithTool, repoPath, toolVersion } from './deploy-tools.ts';

// The compose Alertmanager config, run by a real Alertmanager (Debian's
// prometheus-alertmanager), with only the receiver's host and the key file's path moved to
// this machine: an alert must reach the inbox URL with the key from credentials_file.
const alertmanager = toolVersion('prometheus-alertmanager');

interface Delivery {
  url: string;
  headers: IncomingHttpHeaders;
  body: { version: string; status: string; alerts: { labels: Record<string, string> }[] };
}

let dir: string;
let inbox: Server;
let alertmanagerProcess: ChildProcess | undefined;
let apiUrl: string;
const deliveries: Delivery[] = [];
const KEY = 'alk_test_alertmanager_key_0123456789';

beforeAll(async () => {
  if (!alertmanager) return;
  dir = mkdtempSync(path.join(tmpdir(), 'airlock-am-'));
  inbox = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      deliveries.push({
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(body) as Delivery['body'],
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => inbox.listen(0, '127.0.0.1', resolve));
  const inboxPort = (inbox.address() as AddressInfo).port;

  const config = parse(readFileSync(repoPath('observability/alertmanager/alertmanager.yml'), 'utf8')) as {
    receivers: {
      webhook_configs: { url: string; http_config: { authorization: { credentials_file: string } } }[];
    }[];
  };
  for (const hook of config.receivers.flatMap((r) => r.webhook_configs)) {
    const url = new URL(hook.url);
    hook.url = `http://127.0.0.1:${inboxPort}${url.pathname}`;
    const keyFile = path.join(dir, path.basename(hook.http_config.authorization.credentials_file));
    writeFileSync(keyFile, KEY);
    hook.http_config.authorization.credentials_file = keyFile;
  }
  writeFileSync(path.join(dir, 'alertmanager.yml'), stringify(config));

  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  alertmanagerProcess = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: 'ignore' },
  );
  await waitFor(async () => (await fetch(`${apiUrl}/-/ready`).catch(() => undefined))?.ok, {
    timeoutMs: 30_000,
    what: 'Alertmanager ready',
  });
}, 60_000);

afterAll(async () => {
  alertmanagerProcess?.kill('SIGTERM');
  await new Promise<void>((resolve) => (inbox ? inbox.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Alertmanager delivery to the alert inbox', () => {
  itWithTool(
    'prometheus-alertmanager',
    Boolean(alertmanager),
    'when a page fires, then Alertmanager posts it to /v1/alerts/webhook with the key from credentials_file',
    async () => {
      const res = await fetch(`${apiUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: { alertname: 'AirlockTargetDown', severity: 'page', job: 'airlock-api' },
            annotations: { summary: 'test', runbook_url: 'runbooks/AirlockTargetDown.md' },
          },
        ]),
      });
      expect(res.status).toBe(200);
      // The page route's group_wait is 10 s.
      const delivery = await waitFor(async () => deliveries[0], {
        timeoutMs: 40_000,
        what: 'a webhook delivery',
      });
      expect(delivery.url).toBe('/v1/alerts/webhook');
      expect(delivery.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(delivery.body.version).toBe('4');
      expect(delivery.body.status).toBe('firing');
      expect(delivery.body.alerts[0]?.labels.alertname).toBe('AirlockTargetDown');
    },
    60_000,
  );
});
