import type { Pool } from '../../platform/db.ts';
import { withTransaction } from '../../platform/db.ts';
import { createTtlCache } from '../../platform/ttl-cache.ts';
import { ForbiddenError, UnauthorizedError, ValidationError } from '../../platform/errors.ts';
import { findOrCreateTenant } from '../tenants/tenants.repository.ts';
import { seedSandbox } from '../tools/sandbox-seed.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { generateApiKey, hashApiKey, looksLikeApiKey, ROLES, type Role } from './api-key.ts';
import { findPrincipalByKeyHash, insertApiKey, type Principal } from './auth.repository.ts';

export type { Principal };

export interface CreatedKey {
  id: string;
  key: string;
  tenant: string;
  role: Role;
  tools: string[] | null;
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

// Keys are looked up on every request; a short cache saves a query each time. Its TTL is
// how long a revoked key may still work in another process.
const PRINCIPAL_TTL_MS = 5_000;

export function createAuthService(deps: { pool: Pool; knownTools: () => readonly string[] }) {
  const { pool } = deps;
  // Unknown keys are cached too (as null), so a flood of bad keys costs no queries.
  const principals = createTtlCache<string, Principal | null>({
    ttlMs: PRINCIPAL_TTL_MS,
    maxEntries: 10_000,
    load: (keyHashHex) => findPrincipalByKeyHash(pool, Buffer.from(keyHashHex, 'hex')),
  });

  async function authenticate(authorization: string | undefined): Promise<Principal> {
    const match = authorization ? /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(authorization) : null;
    if (!match || !looksLikeApiKey(match[1]!)) throw new UnauthorizedError();
    const principal = await principals.get(hashApiKey(match[1]!).toString('hex'));
    if (!principal) throw new UnauthorizedError();
    return principal;
  }

  function requireRole(principal: Principal, roles: readonly Role[]): void {
    if (!roles.includes(principal.role)) {
      throw new ForbiddenError('forbidden', `This operation needs one of the roles: ${roles.join(', ')}.`);
    }
  }

  async function createKey(input: { tenant: string; role: string; tools?: string[] }): Promise<CreatedKey> {
    if (!SLUG.test(input.tenant)) {
      throw new ValidationError(
        'invalid_request',
        'tenant must be 1-63 lowercase letters, digits or dashes.',
      );
    }
    if (!(ROLES as readonly string[]).includes(input.role)) {
      throw new ValidationError('invalid_request', `role must be one of ${ROLES.join(', ')}.`);
    }
    const role = input.role as Role;
    let tools: string[] | null = null;
    if (input.tools !== undefined) {
      const known = deps.knownTools();
      const unknown = input.tools.filter((t) => !known.includes(t));
      if (unknown.length) throw new ValidationError('unknown_tool', `Unknown tools: ${unknown.join(', ')}.`);
      tools = [...new Set(input.tools)];
    }
    const key = generateApiKey();
    return withTransaction(pool, async (tx) => {
      const tenant = await findOrCreateTenant(tx, input.tenant);
      if (tenant.created) await seedSandbox(tx, tenant.id);
      const { id } = await insertApiKey(tx, { tenantId: tenant.id, role, tools, keyHash: hashApiKey(key) });
      await appendAuditEvent(tx, {
        tenantId: tenant.id,
        actionId: null,
        type: 'api_key.created',
        actor: 'cli',
        data: { key_id: id, role, tools },
      });
      return { id, key, tenant: tenant.slug, role, tools };
    });
  }

  return { authenticate, requireRole, createKey };
}

export type AuthService = ReturnType<typeof createAuthService>;
