import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { startUnleashServer, type UnleashTestServer } from '../../../test/helpers/unleash-server.ts';
import { waitFor } from '../../../test/helpers/test-env.ts';
import { DEFAULT_CHAOS_SCENARIOS, seedUnleash } from '../../../scripts/unleash-seed.ts';
import { BUILT_IN_TOOL_NAMES } from '../../modules/tools/built-in-tools.ts';
import {
  GLOBAL_STRATEGY_TITLE,
  createUnleashAdminClient,
  createUnleashFlagProvider,
  type UnleashAdminClient,
  type UnleashFlagProvider,
  type UnleashFlagProviderOptions,
} from './unleash-flag-provider.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const REFRESH_MS = 200;
// The contract: a change takes effect in running processes within 5 s.
const PROPAGATION_MS = 5_000;

let server: UnleashTestServer;
let admin: UnleashAdminClient;
let backupDir: string;
let logs = '';
const logger = createLogger({
  level: 'debug',
  destination: { write: (line: string) => void (logs += line) },
});
const open = new Set<UnleashFlagProvider>();

function provider(extra: Partial<UnleashFlagProviderOptions> = {}): UnleashFlagProvider {
  const created = createUnleashFlagProvider({
    url: server.url,
    clientToken: server.clientToken,
    adminToken: server.adminToken,
    appName: 'airlock-test',
    refreshIntervalMs: REFRESH_MS,
    requestTimeoutMs: 1_000,
    disableMetrics: true,
    logger,
    ...extra,
  });
  open.add(created);
  return created;
}

// A reader that has only the client token, as a separate process would.
const reader = (extra: Partial<UnleashFlagProviderOptions> = {}) =>
  provider({ adminToken: undefined, ...extra });

async function eventually(probe: () => boolean, what: string): Promise<number> {
  const started = Date.now();
  await waitFor(async () => probe(), { timeoutMs: PROPAGATION_MS, intervalMs: 25, what });
  return Date.now() - started;
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  server = await startUnleashServer({ serverDatabaseUrl: inject('databaseUrl') });
  admin = createUnleashAdminClient({
    url: server.url,
    token: server.adminToken,
    environment: server.environment,
  });
  backupDir = await mkdtemp(path.join(os.tmpdir(), 'airlock-unleash-backup-'));
}, 90_000);

afterEach(async () => {
  for (const p of open) await p.close();
  open.clear();
});

afterAll(async () => {
  for (const p of open) await p.close();
  await server?.destroy();
  if (backupDir) await rm(backupDir, { recursive: true, force: true });
});

describe('unleash flag provider (real Unleash server)', () => {
  it('when the seed runs twice, then it creates the contract flags once and keeps operator changes', async () => {
    const first = await seedUnleash(admin);
    const expected = [
      'kill-switch.all',
      ...BUILT_IN_TOOL_NAMES.map((tool) => `kill-switch.${tool}`),
      'auto-approve',
      ...DEFAULT_CHAOS_SCENARIOS.map((s) => `chaos.${s}`),
    ];
    expect(first.created.sort()).toEqual([...expected].sort());
    expect(first.existing).toEqual([]);

    const gate = await admin.readModel('auto-approve');
    expect(gate).toMatchObject({ envEnabled: true, globalOn: true, rollout: 100, foreign: [] });
    expect(gate!.global).toMatchObject({
      name: 'flexibleRollout',
      title: GLOBAL_STRATEGY_TITLE,
      parameters: expect.objectContaining({ stickiness: 'tenantId', rollout: '100' }),
    });
    const kill = await admin.readModel('kill-switch.email.send');
    expect(kill).toMatchObject({ envEnabled: false, globalOn: false });

    // An operator flips a kill switch; the second seed, run as the script, must not undo it.
    const writer = provider();
    await writer.set('kill-switch.notes.create', true);
    const second = await runSeedScript();
    expect(second.created).toEqual([]);
    expect(second.existing.sort()).toEqual([...expected].sort());
    expect(await admin.readModel('kill-switch.notes.create')).toMatchObject({ globalOn: true });

    await writer.set('kill-switch.notes.create', false);
  });

  it('when a flag is set through one provider, then a separately created provider sees it within 5 s', async () => {
    const writer = provider();
    const other = reader();
    await other.ready();
    const tenantId = randomUUID();
    expect(other.isEnabled('kill-switch.all', { tenantId })).toBe(false);

    await writer.set('kill-switch.all', true);
    const onAfter = await eventually(
      () => other.isEnabled('kill-switch.all', { tenantId }),
      'kill-switch.all on',
    );
    expect(other.isEnabled('kill-switch.all')).toBe(true);
    expect((await admin.readModel('kill-switch.all'))?.envEnabled).toBe(true);

    await writer.set('kill-switch.all', false);
    const offAfter = await eventually(
      () => !other.isEnabled('kill-switch.all', { tenantId }),
      'kill-switch.all off',
    );
    // Global off with no tenant override is the environment toggle itself.
    expect(await admin.readModel('kill-switch.all')).toMatchObject({ envEnabled: false, globalOn: false });
    expect(Math.max(onAfter, offAfter)).toBeLessThan(PROPAGATION_MS);
  });

  it('when a tool kill switch is on, then only that tool is stopped', async () => {
    const writer = provider();
    const other = reader();
    const tenantId = randomUUID();
    await writer.set('kill-switch.email.send', true);
    await eventually(() => other.isEnabled('kill-switch.email.send', { tenantId }), 'email.send kill switch');
    expect(other.isEnabled('kill-switch.notes.create', { tenantId })).toBe(false);
    expect(other.isEnabled('kill-switch.all', { tenantId })).toBe(false);

    await writer.set('kill-switch.email.send', false);
    await eventually(() => !other.isEnabled('kill-switch.email.send', { tenantId }), 'email.send back on');
  });

  it('when the provider has only the client token, then it reads and lists but refuses to write', async () => {
    const readOnly = reader();
    await readOnly.refresh();
    await expect(readOnly.set('kill-switch.all', true)).rejects.toMatchObject({ code: 'flags_read_only' });
    await expect(provider().set('kill-switch.nope', true)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(provider().setRollout('auto-approve', 101)).rejects.toMatchObject({
      code: 'invalid_rollout',
    });
    const states = await readOnly.list();
    expect(states).toContainEqual({ name: 'auto-approve', enabled: true, scope: '' });
    expect(states).toContainEqual({ name: 'kill-switch.all', enabled: false, scope: '' });
  });

  it('when a flag is set for one tenant, then that tenant alone differs from the global value', async () => {
    const writer = provider();
    const other = reader();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const flag = 'kill-switch.payments.refund';

    // Global off, on for tenant a: the environment must stay on for a alone.
    await writer.set(flag, true, { tenantId: a });
    await eventually(() => other.isEnabled(flag, { tenantId: a }), 'tenant a on');
    expect(other.isEnabled(flag, { tenantId: b })).toBe(false);
    expect(other.isEnabled(flag)).toBe(false);
    const model = await admin.readModel(flag);
    expect(model).toMatchObject({ envEnabled: true, globalOn: false, tenantsOn: [a] });
    expect(model!.global?.disabled).toBe(true);

    // Global on, off for tenant c: everyone but c.
    await writer.set(flag, true);
    await writer.set(flag, false, { tenantId: c });
    await eventually(
      () => other.isEnabled(flag, { tenantId: b }) && !other.isEnabled(flag, { tenantId: c }),
      'c off',
    );
    expect(other.isEnabled(flag, { tenantId: a })).toBe(true);

    const slugs = new Map<string, string>([
      [a, 'acme'],
      [c, 'contoso'],
    ]);
    const listing = provider({
      tenantSlugs: async (ids) =>
        new Map(ids.filter((id) => slugs.has(id)).map((id) => [id, slugs.get(id)!])),
    });
    const states = (await listing.list()).filter((s) => s.name === flag);
    expect(states).toEqual(
      expect.arrayContaining([
        { name: flag, enabled: true, scope: '' },
        { name: flag, enabled: true, scope: a, tenant: 'acme' },
        { name: flag, enabled: false, scope: c, tenant: 'contoso' },
      ]),
    );
    expect(states).toHaveLength(3);

    // Unset: tenant c has no value of its own any more and follows the global value again.
    await writer.unset(flag, { tenantId: c });
    await eventually(() => other.isEnabled(flag, { tenantId: c }), 'c follows the global value');
    expect((await admin.readModel(flag))?.tenantsOff).toEqual([]);

    // Back to the seed state: global off, and the overrides stay as recorded.
    await writer.set(flag, false);
    await writer.set(flag, false, { tenantId: a });
    await eventually(() => !other.isEnabled(flag, { tenantId: a }), 'tenant a off again');
    expect(await admin.readModel(flag)).toMatchObject({ envEnabled: false, tenantsOn: [] });
  });

  it('when auto-approve is rolled out gradually, then it follows the percentage by tenant, stickily', async () => {
    const writer = provider();
    const first = reader();
    const second = reader();
    const tenants = Array.from({ length: 60 }, () => randomUUID());
    const onCount = (p: UnleashFlagProvider) =>
      tenants.filter((t) => p.isEnabled('auto-approve', { tenantId: t })).length;

    await writer.setRollout('auto-approve', 0);
    await eventually(() => onCount(first) === 0 && onCount(second) === 0, 'rollout 0% off for every tenant');

    await writer.setRollout('auto-approve', 50);
    await eventually(() => onCount(first) > 0 && onCount(second) > 0, 'rollout 50%');
    const half = onCount(first);
    expect(half).toBeGreaterThan(10);
    expect(half).toBeLessThan(50);
    // Sticky: the same tenant gets the same answer from every process, every time.
    for (const t of tenants) {
      expect(second.isEnabled('auto-approve', { tenantId: t })).toBe(
        first.isEnabled('auto-approve', { tenantId: t }),
      );
    }
    expect((await writer.list()).filter((s) => s.name === 'auto-approve').map((s) => s.scope)).toContain(
      'rollout:50%',
    );

    // A tenant override wins over the rollout.
    const pinned = tenants.find((t) => !first.isEnabled('auto-approve', { tenantId: t }))!;
    await writer.set('auto-approve', true, { tenantId: pinned });
    await eventually(() => first.isEnabled('auto-approve', { tenantId: pinned }), 'pinned tenant on');
    expect(onCount(first)).toBe(half + 1);

    await writer.setRollout('auto-approve', 100);
    await eventually(() => onCount(first) === tenants.length, 'rollout 100% on for every tenant');
    const model = await admin.readModel('auto-approve');
    expect(model).toMatchObject({ rollout: 100, globalOn: true, tenantsOn: [pinned] });
  });

  it('when Unleash was never reached, then defaults answer at once and unknown flags follow FLAG_DEFAULTS', async () => {
    const port = await closedPort();
    const offline = reader({ url: `http://127.0.0.1:${port}/api` });
    // Synchronously, in the same tick as construction.
    expect(offline.isEnabled('auto-approve', { tenantId: randomUUID() })).toBe(true);
    expect(offline.isEnabled('kill-switch.all')).toBe(false);
    expect(offline.isEnabled('chaos.anything')).toBe(false);
    await offline.refresh();
    expect(offline.status()).toMatchObject({ reachable: false, source: 'defaults' });
    expect(offline.isEnabled('auto-approve', { tenantId: randomUUID() })).toBe(true);
    expect(offline.isEnabled('kill-switch.files.delete', { tenantId: randomUUID() })).toBe(false);

    // A provider that reached Unleash serves FLAG_DEFAULTS for flags Unleash does not have.
    const online = reader();
    await online.refresh();
    expect(online.status().reachable).toBe(true);
    expect(online.isEnabled('chaos.not-seeded')).toBe(false);
  });

  it('when Unleash goes down, then last known values stay in force and a new process starts from its backup', async () => {
    const writer = provider();
    const running = reader({ backupPath: backupDir });
    const tenantId = randomUUID();
    await writer.set('kill-switch.files.delete', true);
    await eventually(() => running.isEnabled('kill-switch.files.delete', { tenantId }), 'files.delete on');
    const backupFile = path.join(backupDir, `airlock-flags-airlock-test-${server.environment}.json`);
    await waitFor(
      async () => (await readFile(backupFile, 'utf8').catch(() => '')).includes('kill-switch.files.delete'),
      {
        what: 'the backup file',
      },
    );

    await server.stop('SIGKILL');
    await waitFor(async () => running.status().reachable === false, { what: 'the outage to be noticed' });
    expect(running.isEnabled('kill-switch.files.delete', { tenantId })).toBe(true);
    expect(running.isEnabled('auto-approve', { tenantId })).toBe(true);
    await running.refresh();
    expect(running.isEnabled('kill-switch.files.delete', { tenantId })).toBe(true);

    // A process started during the outage: the backup, not "all off", and not just defaults.
    const restarted = reader({ backupPath: backupDir });
    const first = await Promise.race([
      restarted.ready().then(() => 'ready'),
      new Promise((resolve) => setImmediate(() => resolve('io'))),
    ]);
    expect(first).toBe('ready');
    expect(restarted.status().source).toBe('backup');
    expect(restarted.isEnabled('kill-switch.files.delete', { tenantId })).toBe(true);
    expect(restarted.isEnabled('auto-approve', { tenantId })).toBe(true);
    // Without a backup the contract defaults answer: auto-approve on.
    const fresh = reader();
    await fresh.refresh();
    expect(fresh.status().reachable).toBe(false);
    expect(fresh.isEnabled('auto-approve', { tenantId })).toBe(true);
    expect(fresh.isEnabled('kill-switch.files.delete', { tenantId })).toBe(false);

    await expect(writer.set('kill-switch.all', true)).rejects.toMatchObject({
      code: 'flag_provider_unavailable',
    });

    // Unleash comes back: the running process follows it again.
    await server.start();
    await writer.set('kill-switch.files.delete', false);
    await eventually(() => !running.isEnabled('kill-switch.files.delete', { tenantId }), 'recovery');
    expect(running.status().reachable).toBe(true);
  }, 60_000);

  it('when the provider logs, then no token ever appears in the lines', () => {
    expect(logs).toContain('unleash unreachable; serving last known flag values');
    expect(logs).toContain('unleash reachable again');
    for (const token of [server.adminToken, server.clientToken]) {
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(token.split('.')[1]);
    }
  });
});

async function runSeedScript(): Promise<{ created: string[]; existing: string[] }> {
  const child = spawn(process.execPath, ['scripts/unleash-seed.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      UNLEASH_URL: server.url,
      UNLEASH_ADMIN_TOKEN: server.adminToken,
      UNLEASH_ENVIRONMENT: server.environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`seed script exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as { created: string[]; existing: string[] };
}
