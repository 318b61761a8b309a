import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../helpers/free-port.ts';
import { runCli, singleJsonDocument } from '../helpers/run-cli.ts';
import { authHeaders, testEnv, waitFor } from '../helpers/test-env.ts';
import { useTestStack } from '../helpers/use-test-stack.ts';
import { itWithTool, repoPath, toolVersion } from './deploy-tools.ts';

// The compose Alertmanager config, run by a real Alertmanager (Debian's
// prometheus-alertmanager), delivering to the real alert inbox of a running Airlock: only the
// receiver's host and the token file's path are moved to this machine. A page must arrive
// through POST /v1/alerts/webhook with the token from credentials_file, and then be what
// GET /v1/alerts and `cli alerts` show.
const alertmanager = toolVersion('prometheus-alertmanager');
const TOKEN = 'alertmanager-delivery-token-0123456789';
const RUNBOOKS = 'http://runbooks.test:8080';

interface InboxPage {
  items: {
    name: string;
    state: string;
    severity: string;
    runbook_url: string;
    source: string;
    summary: string;
  }[];
}

describe('Alertmanager delivery to the alert inbox', () => {
  const { stack, ids } = useTestStack(
    { env: { ALERT_WEBHOOK_TOKEN: TOKEN, ALERT_RUNBOOK_BASE_URL: RUNBOOKS } },
    { admin: ['acme', 'admin'] },
  );
  let dir: string;
  let alertmanagerProcess: ChildProcess | undefined;
  let alertmanagerUrl: string;

  beforeAll(async () => {
    if (!alertmanager) return;
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const apiPort = (stack.app.server.address() as AddressInfo).port;
    dir = mkdtempSync(path.join(tmpdir(), 'airlock-am-'));
    const config = parse(readFileSync(repoPath('observability/alertmanager/alertmanager.yml'), 'utf8')) as {
      receivers: {
        webhook_configs: { url: string; http_config: { authorization: { credentials_file: string } } }[];
      }[];
    };
    for (const hook of config.receivers.flatMap((r) => r.webhook_configs)) {
      hook.url = `http://127.0.0.1:${apiPort}${new URL(hook.url).pathname}`;
      const tokenFile = path.join(dir, path.basename(hook.http_config.authorization.credentials_file));
      writeFileSync(tokenFile, TOKEN);
      hook.http_config.authorization.credentials_file = tokenFile;
    }
    writeFileSync(path.join(dir, 'alertmanager.yml'), stringify(config));

    const port = await freePort();
    alertmanagerUrl = `http://127.0.0.1:${port}`;
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
    await waitFor(async () => (await fetch(`${alertmanagerUrl}/-/ready`).catch(() => undefined))?.ok, {
      timeoutMs: 30_000,
      what: 'Alertmanager ready',
    });
  }, 60_000);

  afterAll(() => {
    alertmanagerProcess?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  itWithTool(
    'prometheus-alertmanager',
    Boolean(alertmanager),
    'when a page fires, then Alertmanager delivers it to /v1/alerts/webhook and GET /v1/alerts and `cli alerts` show it',
    async () => {
      const res = await fetch(`${alertmanagerUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: {
              alertname: 'AirlockTargetDown',
              severity: 'page',
              job: 'airlock-worker',
              instance: 'worker:8082',
            },
            annotations: {
              summary: 'airlock-worker target worker:8082 is down',
              runbook_url: `${RUNBOOKS}/runbooks/AirlockTargetDown.md`,
            },
          },
        ]),
      });
      expect(res.status).toBe(200);
      // The page route's group_wait is 10 s.
      const page = await waitFor(
        async () => {
          const list = await stack.app.inject({
            method: 'GET',
            url: '/v1/alerts?state=firing&limit=20',
            headers: authHeaders(ids.admin.key),
          });
          const body = list.json<InboxPage>();
          return body.items.length > 0 && body;
        },
        { timeoutMs: 40_000, intervalMs: 250, what: 'the page in the inbox' },
      );
      expect(page.items).toEqual([
        expect.objectContaining({
          name: 'AirlockTargetDown',
          state: 'firing',
          severity: 'page',
          summary: 'airlock-worker target worker:8082 is down',
          runbook_url: `${RUNBOOKS}/runbooks/AirlockTargetDown.md`,
          source: 'alertmanager:inbox',
        }),
      ]);

      const cli = await runCli(['alerts', '--state', 'firing', '--json'], testEnv(stack.databaseUrl));
      expect(cli.code, cli.stderr).toBe(0);
      expect((singleJsonDocument(cli) as InboxPage).items.map((a) => [a.name, a.runbook_url])).toEqual([
        ['AirlockTargetDown', `${RUNBOOKS}/runbooks/AirlockTargetDown.md`],
      ]);
    },
    90_000,
  );
});
