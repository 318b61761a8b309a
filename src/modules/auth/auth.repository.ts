import type { Queryable } from '../../platform/db.ts';
import type { Role } from './api-key.ts';

export interface Principal {
  keyId: string;
  tenantId: string;
  tenantSlug: string;
  role: Role;
  // null: the key may use every tool.
  tools: string[] | null;
}

export async function findPrincipalByKeyHash(db: Queryable, keyHash: Buffer): Promise<Principal | null> {
  const { rows } = await db.query<Principal>({
    name: 'find_principal_by_key_hash',
    text: `SELECT k.id AS "keyId", k.tenant_id AS "tenantId", t.slug AS "tenantSlug", k.role, k.tools
       FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
      WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    values: [keyHash],
  });
  return rows[0] ?? null;
}

export async function insertApiKey(
  db: Queryable,
  key: { tenantId: string; role: Role; tools: string[] | null; keyHash: Buffer },
): Promise<{ id: string }> {
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO api_keys (tenant_id, role, tools, key_hash) VALUES ($1, $2, $3, $4) RETURNING id',
    [key.tenantId, key.role, key.tools, key.keyHash],
  );
  return rows[0]!;
}
