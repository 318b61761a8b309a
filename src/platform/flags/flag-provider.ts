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

// Defaults for flags nobody has set. Kill switches and chaos default off; the rollout gate on.
export const FLAG_DEFAULTS: Readonly<Record<string, boolean>> = {
  'kill-switch.all': false,
  'auto-approve': true,
};

export function defaultFor(name: string): boolean {
  return FLAG_DEFAULTS[name] ?? false;
}

const FLAG_NAME = /^(kill-switch\.(all|[a-z]+\.[a-z_]+)|auto-approve|chaos\.[a-z0-9-]+)$/;

export function isValidFlagName(name: string): boolean {
  return FLAG_NAME.test(name);
}
