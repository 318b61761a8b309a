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

// Defaults for flags nobody has set. Kill switches and chaos default off; the rollout gate on.
export const FLAG_DEFAULTS: Readonly<Record<string, boolean>> = {
  [KILL_SWITCH_ALL]: false,
  [AUTO_APPROVE]: true,
};

export function defaultFor(name: string): boolean {
  return FLAG_DEFAULTS[name] ?? false;
}

const FLAG_NAME = /^(kill-switch\.(all|[a-z]+\.[a-z_]+)|auto-approve|chaos\.[a-z0-9-]+)$/;

export function isValidFlagName(name: string): boolean {
  return FLAG_NAME.test(name);
}

// The one check before any flag is written, whoever writes it (CLI, ops API, a provider).
export function assertValidFlagName(name: string): void {
  if (!isValidFlagName(name)) throw new ValidationError('invalid_request', `Unknown flag name "${name}".`);
}
