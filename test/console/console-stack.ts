import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { PageGlobals } from '../helpers/browser.ts';
import { startChildService, type ChildService } from '../helpers/child-service.ts';
import { createTestDatabase, freePort, testEnv, uniqueSuffix, waitFor } from '../helpers/test-env.ts';
import { createAuthService } from '../../src/modules/auth/auth.service.ts';

// The API's listener; the moderation service logs its own with component moderation.
const LISTENING = /^(?!.*"component":"moderation").*Server listening at (http:\/\/127\.0\.0\.1:\d+)/m;
const TOOLS = ['notes.create', 'email.send', 'payments.refund', 'files.delete', 'http.fetch'];

export interface ConsoleStack {
  baseUrl: string;
  pool: pg.Pool;
  env: Record<string, string>;
  tenant(prefix: string): Promise<Tenant>;
  close(): Promise<void>;
}

export interface Tenant {
  slug: string;
  id: string;
  agent: string;
  reviewer: string;
  reviewer2: string;
  admin: string;
}

// The service as `npm start` runs it (role all: API, worker, relay, moderation), in a real
// process on its own database and Redis prefix.
export async function startConsoleStack(): Promise<ConsoleStack> {
  const db = await createTestDatabase();
  const moderationPort = await freePort();
  const collector = await startTraceSink();
  const env = testEnv(db.url, {
    LOG_LEVEL: 'info',
    MODERATION_PORT: String(moderationPort),
    MODERATION_URL: `http://127.0.0.1:${moderationPort}`,
    // A loaded CI machine must not turn allows into moderation_unavailable reviews.
    MODERATION_TIMEOUT_MS: '2000',
    // Nor shed load because a start-up on a busy machine blocked the loop for a second.
    MAX_EVENT_LOOP_DELAY_MS: '10000',
    // Every request traced, to a sink standing in for the collector, so actions carry a
    // trace id for the console to link to the trace UI.
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_TRACES_SAMPLER_ARG: '1',
    TRACE_UI_URL: 'http://127.0.0.1:16686/trace/{trace_id}',
  });
  const child: ChildService = startChildService('all', env);
  let baseUrl: string;
  try {
    baseUrl = LISTENING.exec(await child.waitForLog(LISTENING, 60_000))![1]!;
  } catch (err) {
    child.kill('SIGKILL');
    await db.drop();
    collector.server.close();
    throw err;
  }
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const auth = createAuthService({ pool, knownTools: () => TOOLS });
  const key = async (slug: string, role: 'agent' | 'reviewer' | 'admin') =>
    (await auth.createKey({ tenant: slug, role })).key;

  return {
    baseUrl,
    pool,
    env,
    async tenant(prefix) {
      const slug = `${prefix}-${uniqueSuffix().replace(/_/g, '-')}`.slice(0, 60);
      const agent = await key(slug, 'agent');
      const [reviewer, reviewer2, admin] = [
        await key(slug, 'reviewer'),
        await key(slug, 'reviewer'),
        await key(slug, 'admin'),
      ];
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug]);
      return { slug, id: rows[0]!.id, agent, reviewer, reviewer2, admin };
    },
    async close() {
      await pool.end();
      child.kill('SIGTERM');
      await child.exited;
      await db.drop();
      collector.server.closeAllConnections();
      collector.server.close();
    },
  };
}

// Accepts OTLP exports and drops them: the collector is outside the system under test.
async function startTraceSink(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export interface ActionJson {
  id: string;
  tool: string;
  status: string;
  decision: { outcome: string; reasons: Array<{ code: string; message: string; evidence?: string }> };
}

export function httpClient(baseUrl: string) {
  async function call(
    key: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  }
  return {
    call,
    async propose(key: string, body: unknown): Promise<ActionJson> {
      const response = await call(key, 'POST', '/v1/actions', body, { 'idempotency-key': randomUUID() });
      if (response.status !== 201)
        throw new Error(`propose: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body as ActionJson;
    },
    async action(key: string, id: string): Promise<ActionJson> {
      return (await call(key, 'GET', `/v1/actions/${id}`)).body as ActionJson;
    },
    waitForStatus(key: string, id: string, statuses: string[]) {
      return waitFor(
        async () => {
          const action = (await call(key, 'GET', `/v1/actions/${id}`)).body as ActionJson;
          return statuses.includes(action.status) ? action : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `action ${id} to reach ${statuses.join('|')}` },
      );
    },
  };
}

// Signs in the way a person does: the key typed into the form, never put in a URL.
export async function signIn(page: Page, baseUrl: string, key: string, hash = ''): Promise<void> {
  await page.goto(`${baseUrl}/console${hash}`);
  await page.locator('#api-key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('html[data-rendered]').waitFor({ state: 'attached' });
}

// Waits until the router has finished drawing `hash` (the app sets data-rendered then).
export async function rendered(page: Page, hash: string): Promise<void> {
  // Polled from here: Playwright's waitForFunction compiles its predicate with eval, which
  // the console's CSP forbids.
  await expect
    .poll(
      () =>
        page.evaluate(
          () => (globalThis as unknown as PageGlobals).document.documentElement.dataset.rendered ?? '',
        ),
      { timeout: 30_000, interval: 50 },
    )
    .toSatisfy((value: string) => value.startsWith(`${hash} `));
}
