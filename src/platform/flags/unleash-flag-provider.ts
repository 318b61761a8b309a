import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import path from 'node:path';
import { Unleash, UnleashEvents, type ClientFeaturesResponse, type UnleashConfig } from 'unleash-client';
import { AppError, ServiceUnavailableError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  FLAG_DEFAULTS,
  defaultFor,
  assertValidFlagName,
  isValidFlagName,
  type FlagContext,
  type FlagProvider,
  type FlagState,
} from './flag-provider.ts';

// How Airlock flags are modelled in Unleash (docs/adr/0008-flags-unleash-and-local.md):
//
// - One Unleash feature per flag, in one project and one environment.
// - Strategy "airlock-global": flexibleRollout, stickiness tenantId, groupId = flag name,
//   rollout R% (100 unless someone rolls out gradually), optionally constrained with
//   tenantId NOT_IN <tenants set off>.
// - Strategy "airlock-tenants-on": flexibleRollout 100%, constrained with
//   tenantId IN <tenants set on>; present only while that list is not empty.
// - The environment toggle is the global switch while no tenant is set on: global on/off
//   turns the environment on/off. When some tenant is set on while the global value is off,
//   the environment must stay on for that tenant, so "airlock-global" is disabled instead.
//
// A tenant's value is therefore: its own override if it has one, else the global value,
// which is the local provider's rule too.
export const TENANT_CONTEXT_FIELD = 'tenantId';
export const GLOBAL_STRATEGY_TITLE = 'airlock-global';
export const TENANTS_ON_STRATEGY_TITLE = 'airlock-tenants-on';
// Stickiness needs a value to hash; calls without a tenant use this one. It never equals a
// tenant id (those are UUIDs), so per-tenant constraints never match it.
export const NO_TENANT = '*';

export interface UnleashFlagProviderOptions {
  // The API base every SDK uses, e.g. http://unleash:4242/api
  url: string;
  clientToken: string;
  // Needed for set(), setRollout() and list(); without it the provider is read-only.
  adminToken?: string;
  appName: string;
  instanceId?: string;
  // The Unleash environment the client token belongs to. Default: read from the token
  // ("<project>:<environment>.<secret>"), else "development".
  environment?: string;
  project?: string;
  refreshIntervalMs: number;
  requestTimeoutMs?: number;
  logger: Logger;
  // Values served before Unleash has ever been reached, when there is no backup. Default:
  // FLAG_DEFAULTS.
  bootstrap?: Record<string, boolean>;
  // A directory for the last state fetched from Unleash; read synchronously at start-up so
  // a process started while Unleash is down serves what Unleash said last.
  backupPath?: string;
  disableMetrics?: boolean;
  // Turns tenant ids into slugs for list(); without it list() shows ids only.
  tenantSlugs?: (ids: string[]) => Promise<Map<string, string>>;
}

export interface UnleashFlagStatus {
  // null until the first poll has finished.
  reachable: boolean | null;
  lastSyncAt: Date | null;
  source: 'defaults' | 'backup' | 'unleash';
}

export interface UnleashFlagProvider extends FlagProvider {
  readonly kind: 'unleash';
  // Settles once the bootstrap or backup is loaded or the first poll has finished. It
  // settles before the first I/O callback runs, since the bootstrap is already in memory.
  ready(): Promise<void>;
  // The gradual rollout of the global value, 0..100, hashed on the tenant id.
  setRollout(name: string, percent: number): Promise<void>;
  status(): UnleashFlagStatus;
}

type FeatureDefinition = ClientFeaturesResponse['features'][number];
type StorageProvider = NonNullable<UnleashConfig['storageProvider']>;

export function createUnleashFlagProvider(options: UnleashFlagProviderOptions): UnleashFlagProvider {
  const { logger } = options;
  const environment = options.environment ?? environmentOfToken(options.clientToken) ?? 'development';
  const secrets = [options.clientToken, options.adminToken].filter((s): s is string => Boolean(s));
  const redact = (text: string) =>
    secrets.reduce((out, secret) => out.split(secret).join('[REDACTED]'), text);
  const fallbacks = { ...FLAG_DEFAULTS, ...(options.bootstrap ?? {}) };
  const fallbackFor = (name: string) => fallbacks[name] ?? defaultFor(name);

  const backupFile = options.backupPath
    ? path.join(
        options.backupPath,
        `airlock-flags-${fileSafe(options.appName)}-${fileSafe(environment)}.json`,
      )
    : undefined;
  const backup = backupFile ? readBackup(backupFile, logger, redact) : undefined;
  const initial: ClientFeaturesResponse = backup ?? {
    version: 2,
    features: Object.entries(fallbacks).map(([name, enabled]) => ({ name, enabled, strategies: [] })),
  };

  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  // unleash-client retries a failed GET twice, backing off 1 s then 2 s (capped at the
  // request timeout), so one failed poll can take three timeouts and three seconds.
  const pollBudgetMs = options.refreshIntervalMs * 2 + requestTimeoutMs * 3 + 3_000;
  const status: UnleashFlagStatus = {
    reachable: null,
    lastSyncAt: null,
    source: backup ? 'backup' : 'defaults',
  };
  let bootstrapPending = false;
  let closed = false;
  let readyResolve!: () => void;
  const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));
  const pollWaiters = new Set<() => void>();
  const settlePolls = () => {
    readyResolve();
    for (const resolve of pollWaiters) resolve();
    pollWaiters.clear();
  };

  const unleash = new Unleash({
    url: options.url,
    appName: options.appName,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    environment,
    refreshInterval: options.refreshIntervalMs,
    timeout: requestTimeoutMs,
    customHeaders: { Authorization: options.clientToken },
    disableMetrics: options.disableMetrics ?? false,
    skipInstanceCountWarning: true,
    // The bootstrap is the backup when there is one, else the defaults; the client applies
    // it only until the first successful fetch, and never over data fetched from Unleash.
    bootstrap: {
      bootstrapProvider: {
        readBootstrap: async () => {
          bootstrapPending = initial.features.length > 0;
          return initial;
        },
      },
    },
    bootstrapOverride: true,
    storageProvider: backupFile ? createFileStorage(backupFile) : createMemoryStorage(),
  });

  unleash.on(UnleashEvents.Ready, () => readyResolve());
  unleash.on(UnleashEvents.Changed, () => {
    // The client announces the bootstrap as a change too; only later ones come from Unleash.
    if (bootstrapPending) {
      bootstrapPending = false;
      return;
    }
    pollSucceeded();
  });
  unleash.on(UnleashEvents.Unchanged, () => pollSucceeded());
  unleash.on(UnleashEvents.Error, (err: Error) => {
    const message = redact(err?.message ?? String(err));
    if (message.startsWith('Unleash Metrics error')) {
      logger.debug({ err: { message } }, 'unleash metrics could not be sent');
      return;
    }
    if (/not allowed to connect/.test(message)) {
      // unleash-client stops polling after a 401/403: nothing will change until a restart.
      logger.error(
        { err: { message } },
        'unleash refused the client token; flag refresh stopped, last known values stay in force',
      );
      pollFailed(message, true);
      return;
    }
    pollFailed(message, false);
  });
  unleash.on(UnleashEvents.Warn, (warning: unknown) => {
    const message = redact(warning instanceof Error ? warning.message : String(warning));
    if (message.startsWith('Unleash has not been initialized yet')) return;
    if (/responded \d{3}/.test(message)) {
      pollFailed(message, false);
      return;
    }
    logger.debug({ warning: message }, 'unleash client warning');
  });

  function pollSucceeded() {
    if (status.reachable === false) logger.info('unleash reachable again; flags follow Unleash');
    status.reachable = true;
    status.lastSyncAt = new Date();
    status.source = 'unleash';
    settlePolls();
  }

  function pollFailed(message: string, alreadyLogged: boolean) {
    if (!alreadyLogged) {
      if (status.reachable !== false) {
        logger.warn(
          { err: { message }, source: status.source },
          'unleash unreachable; serving last known flag values',
        );
      } else {
        logger.debug({ err: { message } }, 'unleash still unreachable');
      }
    }
    status.reachable = false;
    settlePolls();
  }

  const admin = options.adminToken
    ? createUnleashAdminClient({
        url: options.url,
        token: options.adminToken,
        project: options.project ?? 'default',
        environment,
        timeoutMs: requestTimeoutMs,
      })
    : undefined;

  // Admin writes are read-modify-write on a flag's strategies; serialising them keeps two
  // calls from one process from losing each other's tenant.
  let writes: Promise<unknown> = Promise.resolve();
  function serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = writes.then(work, work);
    writes = next.catch(() => undefined);
    return next;
  }

  function requireAdmin(): UnleashAdminClient {
    if (!admin) {
      throw new AppError(
        'flags_read_only',
        503,
        'The Unleash flag provider has no admin token (UNLEASH_ADMIN_TOKEN); it can read flags but not change them.',
      );
    }
    return admin;
  }

  async function tenantSlugs(ids: string[]): Promise<Map<string, string>> {
    if (!options.tenantSlugs || ids.length === 0) return new Map();
    try {
      return await options.tenantSlugs(ids);
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message } }, 'could not resolve tenant slugs for flags');
      return new Map();
    }
  }

  function listFromClient(): FlagState[] {
    const definitions: FeatureDefinition[] = unleash.getFeatureToggleDefinitions() ?? [];
    return definitions
      .filter((f) => isValidFlagName(f.name))
      .map((f) => ({ name: f.name, enabled: provider.isEnabled(f.name), scope: '' }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  const provider: UnleashFlagProvider = {
    kind: 'unleash',
    isEnabled(name: string, context: FlagContext = {}): boolean {
      return unleash.isEnabled(
        name,
        { properties: { [TENANT_CONTEXT_FIELD]: context.tenantId ?? NO_TENANT } },
        fallbackFor(name),
      );
    },
    async set(name, enabled, scope) {
      assertValidFlagName(name);
      const client = requireAdmin();
      return serialised(async () => {
        const model = await client.loadModel(name);
        if (scope?.tenantId) {
          const tenant = scope.tenantId;
          model.tenantsOn = model.tenantsOn.filter((t) => t !== tenant);
          model.tenantsOff = model.tenantsOff.filter((t) => t !== tenant);
          (enabled ? model.tenantsOn : model.tenantsOff).push(tenant);
        } else {
          model.globalOn = enabled;
        }
        await client.saveModel(name, model, logger);
      });
    },
    async unset(name, scope) {
      assertValidFlagName(name);
      const client = requireAdmin();
      return serialised(async () => {
        const model = await client.loadModel(name);
        model.tenantsOn = model.tenantsOn.filter((t) => t !== scope.tenantId);
        model.tenantsOff = model.tenantsOff.filter((t) => t !== scope.tenantId);
        await client.saveModel(name, model, logger);
      });
    },
    async setRollout(name, percent) {
      assertValidFlagName(name);
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
        throw new ValidationError('invalid_rollout', 'the rollout must be an integer from 0 to 100');
      }
      const client = requireAdmin();
      return serialised(async () => {
        const model = await client.loadModel(name);
        model.rollout = percent;
        await client.saveModel(name, model, logger);
      });
    },
    async list(): Promise<FlagState[]> {
      if (!admin) return listFromClient();
      const names = (await admin.listFeatureNames()).filter(isValidFlagName).sort();
      const models = await Promise.all(
        names.map(async (name) => [name, await admin.readModel(name)] as const),
      );
      const ids = [...new Set(models.flatMap(([, m]) => (m ? [...m.tenantsOn, ...m.tenantsOff] : [])))];
      const slugs = await tenantSlugs(ids);
      const states: FlagState[] = [];
      for (const [name, model] of models) {
        if (!model) continue;
        states.push({ name, enabled: model.envEnabled && model.globalOn, scope: '' });
        if (model.rollout < 100) {
          states.push({
            name,
            enabled: model.envEnabled && model.globalOn,
            scope: `rollout:${model.rollout}%`,
          });
        }
        const tenants = [
          ...model.tenantsOn.map((id) => ({ id, enabled: model.envEnabled })),
          ...model.tenantsOff.map((id) => ({ id, enabled: false })),
        ].sort((a, b) => a.id.localeCompare(b.id));
        for (const { id, enabled } of tenants) {
          const slug = slugs.get(id);
          states.push({ name, enabled, scope: id, ...(slug ? { tenant: slug } : {}) });
        }
        for (const strategy of model.foreign) {
          states.push({
            name,
            enabled: model.envEnabled,
            scope: `strategy:${strategy.title || strategy.name}`,
          });
        }
      }
      return states;
    },
    // unleash-client has no public "fetch now": this waits for the next poll to finish
    // (bounded by pollBudgetMs) and never throws, because a flag read must not fail while
    // Unleash is down; status() tells what happened.
    refresh(): Promise<void> {
      if (closed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pollWaiters.delete(done);
          resolve();
        }, pollBudgetMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        pollWaiters.add(done);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      unleash.destroy();
      // destroy() strips the repository's listeners, but a poll already in flight still
      // reports its failure there; with no 'error' listener that would be an unhandled
      // rejection. unleash-client exposes no other handle on it.
      (unleash as unknown as { repository?: EventEmitter }).repository?.on?.(
        UnleashEvents.Error,
        () => undefined,
      );
      settlePolls();
      await writes;
    },
    ready: () => readyPromise,
    status: () => ({ ...status }),
  };
  return provider;
}

// --- Admin API ---------------------------------------------------------------------------

interface AdminConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  inverted?: boolean;
  caseInsensitive?: boolean;
}

export interface AdminStrategy {
  id: string;
  name: string;
  title?: string | null;
  disabled?: boolean | null;
  constraints?: AdminConstraint[];
  parameters?: Record<string, string>;
  segments?: number[];
}

interface AdminEnvironment {
  enabled: boolean;
  strategies: AdminStrategy[];
}

// A flag as Airlock reads it from its Unleash feature; see the model at the top of the file.
export interface AirlockFlagModel {
  envEnabled: boolean;
  globalOn: boolean;
  rollout: number;
  tenantsOn: string[];
  tenantsOff: string[];
  global?: AdminStrategy;
  tenantsStrategy?: AdminStrategy;
  // Strategies someone added outside Airlock (the UI, or Unleash's own default strategy).
  foreign: AdminStrategy[];
}

export interface UnleashAdminClient {
  readonly environment: string;
  ensureContextField(): Promise<void>;
  // Creates the feature if it is missing (reviving it if it was archived); true if created.
  ensureFeature(name: string): Promise<boolean>;
  listFeatureNames(): Promise<string[]>;
  // undefined when the feature does not exist.
  readModel(name: string): Promise<AirlockFlagModel | undefined>;
  // Ensures the feature exists, then reads it.
  loadModel(name: string): Promise<AirlockFlagModel>;
  saveModel(name: string, model: AirlockFlagModel, logger?: Logger): Promise<void>;
}

export function createUnleashAdminClient(options: {
  url: string;
  token: string;
  project?: string;
  environment: string;
  timeoutMs?: number;
}): UnleashAdminClient {
  const base = options.url.replace(/\/+$/, '');
  const project = encodeURIComponent(options.project ?? 'default');
  const env = encodeURIComponent(options.environment);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const featurePath = (name: string) => `/admin/projects/${project}/features/${encodeURIComponent(name)}`;
  const envPath = (name: string) => `${featurePath(name)}/environments/${env}`;
  let contextFieldReady = false;

  async function request<T>(
    method: string,
    apiPath: string,
    body?: unknown,
    accept: readonly number[] = [],
  ): Promise<{ status: number; data: T | undefined }> {
    let res: Response;
    try {
      res = await fetch(`${base}${apiPath}`, {
        method,
        headers: {
          authorization: options.token,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new ServiceUnavailableError(
        'flag_provider_unavailable',
        `The Unleash Admin API is unreachable (${method} ${apiPath}): ${cause}`,
      );
    }
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (res.ok || accept.includes(res.status)) return { status: res.status, data: data as T };
    const detail = String((data as { message?: unknown } | undefined)?.message ?? text).slice(0, 300);
    if (res.status === 401 || res.status === 403) {
      throw new AppError(
        'flag_provider_forbidden',
        502,
        `Unleash refused the admin token (HTTP ${res.status}) for ${method} ${apiPath}`,
      );
    }
    if (res.status >= 500) {
      throw new ServiceUnavailableError(
        'flag_provider_unavailable',
        `The Unleash Admin API failed (HTTP ${res.status}) for ${method} ${apiPath}: ${detail}`,
      );
    }
    throw new AppError(
      'flag_provider_error',
      502,
      `The Unleash Admin API answered ${res.status} to ${method} ${apiPath}: ${detail}`,
    );
  }

  async function ensureContextField(): Promise<void> {
    if (contextFieldReady) return;
    await request(
      'POST',
      '/admin/context',
      {
        name: TENANT_CONTEXT_FIELD,
        description: 'Airlock tenant id; flags are evaluated and rolled out per tenant.',
        stickiness: true,
      },
      [409],
    );
    contextFieldReady = true;
  }

  async function ensureFeature(name: string): Promise<boolean> {
    const { status } = await request('GET', featurePath(name), undefined, [404]);
    if (status !== 404) return false;
    const created = await request(
      'POST',
      `/admin/projects/${project}/features`,
      { name, type: featureTypeOf(name), description: descriptionOf(name) },
      [409],
    );
    if (created.status !== 409) return true;
    // The name is taken by an archived feature: bring it back rather than fail.
    await request('POST', `/admin/archive/revive/${encodeURIComponent(name)}`);
    return true;
  }

  async function readModel(name: string): Promise<AirlockFlagModel | undefined> {
    const { status, data } = await request<AdminEnvironment>('GET', envPath(name), undefined, [404]);
    if (status === 404 || !data) return undefined;
    return modelOf(data);
  }

  async function saveModel(name: string, model: AirlockFlagModel, logger?: Logger): Promise<void> {
    await ensureContextField();
    const tenantsOn = [...new Set(model.tenantsOn)].sort();
    const tenantsOff = [...new Set(model.tenantsOff)].filter((t) => !tenantsOn.includes(t)).sort();
    const envOn = model.globalOn || tenantsOn.length > 0;
    const strategiesPath = `${envPath(name)}/strategies`;

    const global = {
      name: 'flexibleRollout',
      title: GLOBAL_STRATEGY_TITLE,
      disabled: !model.globalOn && tenantsOn.length > 0,
      constraints: tenantsOff.length
        ? [{ contextName: TENANT_CONTEXT_FIELD, operator: 'NOT_IN', values: tenantsOff }]
        : [],
      parameters: { rollout: String(model.rollout), stickiness: TENANT_CONTEXT_FIELD, groupId: name },
      segments: [],
    };
    const tenantsStrategy = {
      name: 'flexibleRollout',
      title: TENANTS_ON_STRATEGY_TITLE,
      disabled: false,
      constraints: [{ contextName: TENANT_CONTEXT_FIELD, operator: 'IN', values: tenantsOn }],
      parameters: { rollout: '100', stickiness: TENANT_CONTEXT_FIELD, groupId: name },
      segments: [],
    };

    // Order matters: Unleash turns an environment off when its last enabled strategy goes,
    // and adds a default strategy when one is turned on with none enabled. So: environment
    // off first, enabled strategies before disabled ones, environment on last.
    if (!envOn && model.envEnabled) await request('POST', `${envPath(name)}/off`);
    const upsert = async (existing: AdminStrategy | undefined, wanted: typeof global) => {
      if (existing && sameStrategy(existing, wanted)) return;
      if (existing) await request('PUT', `${strategiesPath}/${encodeURIComponent(existing.id)}`, wanted);
      else await request('POST', strategiesPath, wanted);
    };
    if (tenantsOn.length) await upsert(model.tenantsStrategy, tenantsStrategy);
    await upsert(model.global, global);
    if (!tenantsOn.length && model.tenantsStrategy) {
      await request('DELETE', `${strategiesPath}/${encodeURIComponent(model.tenantsStrategy.id)}`);
    }
    for (const strategy of model.foreign) {
      logger?.warn(
        { flag: name, strategy: strategy.title || strategy.name, id: strategy.id },
        'removing an Unleash strategy that Airlock does not manage; its effect is now expressed by airlock-global',
      );
      await request('DELETE', `${strategiesPath}/${encodeURIComponent(strategy.id)}`);
    }
    if (envOn && !model.envEnabled) await request('POST', `${envPath(name)}/on`);
  }

  return {
    environment: options.environment,
    ensureContextField,
    ensureFeature,
    async listFeatureNames() {
      const { data } = await request<{ features?: Array<{ name: string; archived?: boolean }> }>(
        'GET',
        `/admin/projects/${project}/features`,
      );
      return (data?.features ?? []).filter((f) => !f.archived).map((f) => f.name);
    },
    readModel,
    async loadModel(name) {
      await ensureFeature(name);
      const model = await readModel(name);
      if (!model)
        throw new AppError(
          'flag_provider_error',
          502,
          `Unleash has no environment "${options.environment}" for ${name}`,
        );
      return model;
    },
    saveModel,
  };
}

function modelOf(env: AdminEnvironment): AirlockFlagModel {
  const strategies = env.strategies ?? [];
  const global = strategies.find((s) => s.title === GLOBAL_STRATEGY_TITLE);
  const tenantsStrategy = strategies.find((s) => s.title === TENANTS_ON_STRATEGY_TITLE);
  const foreign = strategies.filter((s) => s !== global && s !== tenantsStrategy);
  const tenantValues = (s: AdminStrategy | undefined, operator: string) =>
    (s?.constraints ?? [])
      .filter((c) => c.contextName === TENANT_CONTEXT_FIELD && c.operator === operator && !c.inverted)
      .flatMap((c) => c.values ?? []);
  // A feature nobody set through Airlock yet: adopt what an unconstrained strategy says.
  const adopted = foreign.find((s) => !s.disabled && !(s.constraints ?? []).length);
  const rolloutOf = (s: AdminStrategy | undefined) => {
    const raw = s?.name === 'flexibleRollout' ? s.parameters?.rollout : undefined;
    const value = raw === undefined ? 100 : Number(raw);
    return Number.isFinite(value) ? Math.min(100, Math.max(0, Math.round(value))) : 100;
  };
  const tenantsOn = tenantsStrategy && !tenantsStrategy.disabled ? tenantValues(tenantsStrategy, 'IN') : [];
  return {
    envEnabled: env.enabled,
    globalOn: global ? env.enabled && !global.disabled : env.enabled && Boolean(adopted),
    rollout: rolloutOf(global ?? adopted),
    tenantsOn,
    tenantsOff: tenantValues(global, 'NOT_IN').filter((t) => !tenantsOn.includes(t)),
    global,
    tenantsStrategy,
    foreign,
  };
}

function sameStrategy(
  existing: AdminStrategy,
  wanted: { disabled: boolean; constraints: AdminConstraint[]; parameters: Record<string, string> },
): boolean {
  const norm = (constraints: AdminConstraint[] | undefined) =>
    JSON.stringify(
      (constraints ?? []).map((c) => [
        c.contextName,
        c.operator,
        Boolean(c.inverted),
        [...(c.values ?? [])].sort(),
      ]),
    );
  const params = existing.parameters ?? {};
  return (
    Boolean(existing.disabled) === wanted.disabled &&
    existing.name === 'flexibleRollout' &&
    norm(existing.constraints) === norm(wanted.constraints) &&
    Object.entries(wanted.parameters).every(([k, v]) => String(params[k]) === v) &&
    !(existing.segments ?? []).length
  );
}

export function featureTypeOf(name: string): string {
  if (name.startsWith('kill-switch.')) return 'kill-switch';
  if (name === 'auto-approve') return 'release';
  return 'operational';
}

function descriptionOf(name: string): string {
  if (name === 'kill-switch.all') return 'Airlock: on denies every new proposal (reason kill_switch).';
  if (name.startsWith('kill-switch.'))
    return `Airlock: on denies every new ${name.slice('kill-switch.'.length)} proposal (reason kill_switch).`;
  if (name === 'auto-approve')
    return 'Airlock staged-rollout gate: where off for a tenant, every allow becomes review (reason rollout_gate).';
  if (name.startsWith('chaos.')) return `Airlock drill fault injection: ${name.slice('chaos.'.length)}.`;
  return 'Airlock flag.';
}

// --- Bootstrap and backup ------------------------------------------------------------------

function environmentOfToken(token: string): string | undefined {
  const match = /^[^:]+:([^.]+)\./.exec(token);
  return match && match[1] !== '*' ? match[1] : undefined;
}

function fileSafe(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function readBackup(
  file: string,
  logger: Logger,
  redact: (text: string) => string,
): ClientFeaturesResponse | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn(
        { err: { message: redact((err as Error).message) } },
        'cannot read the flag backup; using defaults',
      );
    }
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as ClientFeaturesResponse;
    if (!Array.isArray(parsed?.features) || parsed.features.length === 0) return undefined;
    return parsed;
  } catch (err) {
    logger.warn(
      { err: { message: (err as Error).message }, file },
      'the flag backup is corrupt; using defaults',
    );
    return undefined;
  }
}

// Written through a temporary file and a rename, so a crash mid-write leaves the previous
// backup rather than half a file.
function createFileStorage(file: string): StorageProvider {
  return {
    async set(_key, data) {
      mkdirSync(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(data), { mode: 0o600 });
      renameSync(temporary, file);
    },
    async get() {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as ClientFeaturesResponse;
      } catch {
        return undefined;
      }
    },
  };
}

function createMemoryStorage(): StorageProvider {
  let stored: ClientFeaturesResponse | undefined;
  return {
    async set(_key, data) {
      stored = data;
    },
    async get() {
      return stored;
    },
  };
}
