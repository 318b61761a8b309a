import { afterAll, beforeAll } from 'vitest';
import { createApiClient, createIdentity, type ApiClient, type Identity, type Role } from './api-client.ts';
import { startTestStack, type TestStack, type TestStackOptions } from './test-env.ts';

// [tenant slug, role, tool scope]; keys without a scope may use every tool.
export type IdentitySpec = readonly [tenant: string, role: Role, tools?: readonly string[]];

// Keys most API tests need: every role in one tenant, and a second tenant to prove isolation.
export const STANDARD_IDENTITIES = {
  agent: ['acme', 'agent'],
  reviewer: ['acme', 'reviewer'],
  admin: ['acme', 'admin'],
  otherAgent: ['globex', 'agent'],
  otherReviewer: ['globex', 'reviewer'],
  otherAdmin: ['globex', 'admin'],
} as const satisfies Record<string, IdentitySpec>;

// The one fixture for a describe block that needs the running service: it starts the stack
// in beforeAll, creates the named keys, and closes everything in afterAll. What it returns
// is usable straight away in test bodies and later hooks (it is filled in by beforeAll), so
// a file reads
//
//   const { stack, api, ids } = useTestStack({ worker: true }, { agent: ['acme', 'agent'] });
//   it('…', async () => { await api.created(ids.agent.key, noteBody()); });
export function useTestStack<const Ids extends Record<string, IdentitySpec> = Record<never, IdentitySpec>>(
  // A function when the options depend on something started first, e.g. a proxy's port.
  options: TestStackOptions | (() => TestStackOptions | Promise<TestStackOptions>) = {},
  identities?: Ids,
): { stack: TestStack; api: ApiClient; ids: { readonly [K in keyof Ids]: Identity } } {
  let started: TestStack | undefined;
  let closing: Promise<void> | undefined;
  const current = (): TestStack => {
    if (!started) throw new Error('the test stack is used before its beforeAll has run');
    return started;
  };
  const stack: TestStack = {
    get container() {
      return current().container;
    },
    get app() {
      return current().app;
    },
    get config() {
      return current().config;
    },
    get databaseUrl() {
      return current().databaseUrl;
    },
    // Idempotent, so a file that must close the stack before its own resources (a proxy in
    // front of Redis) can do so in its afterAll.
    close: () => (closing ??= started ? started.close() : Promise.resolve()),
  };
  const ids = Object.fromEntries(
    Object.keys(identities ?? {}).map((name) => [name, { key: '', keyId: '', tenantId: '' }]),
  ) as Record<keyof Ids, Identity>;

  beforeAll(async () => {
    started = await startTestStack(typeof options === 'function' ? await options() : options);
    for (const [name, [tenant, role, tools]] of Object.entries(identities ?? {})) {
      Object.assign(ids[name as keyof Ids], await createIdentity(stack, tenant, role, tools && [...tools]));
    }
  });
  afterAll(() => stack.close());

  return { stack, api: createApiClient(stack), ids };
}
