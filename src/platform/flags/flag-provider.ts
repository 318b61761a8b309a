import { ValidationError } from '../errors.ts';

// Flags decide behaviour on the hot path, so reads are synchronous and served from memory;
// providers refresh that memory in the background. A provider that cannot refresh keeps its
// last known values: it never falls back to "everything off".

export interface FlagContext {
  tenantId?: string;
}

export interface FlagState {
  name: string;
  enabled: boolean;
  // '' for the global value, otherwise the tenant id (local provider) or a strategy note.
  scope: string;
  tenant?: string;
}

export interface FlagProvider {
  readonly kind: 'local' | 'unleash';
  isEnabled(name: string, context?: FlagContext): boolean;
  set(name: string, enabled: boolean, scope?: { tenantId: string }): Promise<void>;
  // Removes a tenant's own value, so the global value applies to it again.
  unset(name: string, scope: { tenantId: string }): Promise<void>;
  list(): Promise<FlagState[]>;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

// The contract's flags. kill-switch.all and kill-switch.<tool> deny new proposals and stop
// queued ones; auto-approve is the staged-rollout gate.
export const KILL_SWITCH_ALL = 'kill-switch.all';
export const AUTO_APPROVE = 'auto-approve';
export const killSwitchOf = (tool: string): string => `kill-switch.${tool}`;

// The switches that stop one tool: the global one first, then the tool's own.
export const killSwitchesFor = (tool: string): readonly [string, string] => [
  KILL_SWITCH_ALL,
  killSwitchOf(tool),
];

export const isKillSwitched = (flags: Pick<FlagProvider, 'isEnabled'>, tool: string, context?: FlagContext) =>
  killSwitchesFor(tool).some((flag) => flags.isEnabled(flag, context));

// Every contract flag for these tools (chaos flags aside): what gauges report and seeds create.
export const contractFlagNames = (tools: readonly string[]): string[] => [
  KILL_SWITCH_ALL,
  AUTO_APPROVE,
  ...tools.map(killSwitchOf),
];

// Operator knobs beyond the contract's flags. Each is a real setting with behaviour on both
// sides, so a bad rollout of one is something an operator rolls back (the drills practise
// exactly that); docs/flags.md says what each does.
//  - worker.retry-backoff: a failed attempt waits (capped exponential backoff with jitter)
//    before the next. Off, retries follow each other at once.
//  - cache.action-reads: GET /v1/actions/{id} is served through the Redis read cache. Off,
//    every read goes to Postgres.
//  - moderation.fallback-local: the gateway moderates with its own in-process copy of the
//    local classifier instead of calling the moderation service
//    (docs/adr/0029-moderation-local-fallback.md).
export const RETRY_BACKOFF = 'worker.retry-backoff';
export const CACHE_ACTION_READS = 'cache.action-reads';
export const MODERATION_FALLBACK_LOCAL = 'moderation.fallback-local';
export const OPERATOR_FLAGS = [RETRY_BACKOFF, CACHE_ACTION_READS, MODERATION_FALLBACK_LOCAL] as const;

// The drills' faults, each read by the service code named here. A chaos flag models the
// outside world or a bad build; it is never the mitigation. Only these names are accepted,
// so `flags set chaos.typo on` fails instead of silently doing nothing.
export const CHAOS_FLAGS: Readonly<Record<string, string>> = {
  // src/wiring/moderation-service.ts
  'chaos.moderation-slow': 'the moderation service answers 1.5 s late',
  'chaos.moderation-errors': 'the moderation service answers every request with 503',
  'chaos.moderation-outage': 'the moderation service stops answering: every call outlives its budget',
  // src/modules/execution/execution-faults.ts
  'chaos.retry-storm':
    "tools' downstream dependency throttles: it refuses an action's calls for 250 ms after its first call",
  // src/modules/actions/actions-faults.ts
  'chaos.pool-exhaustion':
    'a bad build leaks one Postgres client, idle in transaction, per action read (at most two a second)',
};

export const isChaosFlag = (name: string): boolean => Object.hasOwn(CHAOS_FLAGS, name);

// Defaults for flags nobody has set. Kill switches, chaos and the moderation fallback
// default off; the rollout gate, retry backoff and the read cache on.
export const FLAG_DEFAULTS: Readonly<Record<string, boolean>> = {
  [KILL_SWITCH_ALL]: false,
  [AUTO_APPROVE]: true,
  [RETRY_BACKOFF]: true,
  [CACHE_ACTION_READS]: true,
  [MODERATION_FALLBACK_LOCAL]: false,
};

export function defaultFor(name: string): boolean {
  return FLAG_DEFAULTS[name] ?? false;
}

const FLAG_NAME = /^(kill-switch\.(all|[a-z]+\.[a-z_]+)|auto-approve)$/;

export function isValidFlagName(name: string): boolean {
  return FLAG_NAME.test(name) || isChaosFlag(name) || (OPERATOR_FLAGS as readonly string[]).includes(name);
}

// The one check before any flag is written, whoever writes it (CLI, ops API, a provider).
export function assertValidFlagName(name: string): void {
  if (!isValidFlagName(name)) throw new ValidationError('invalid_request', `Unknown flag name "${name}".`);
}
