import type { Queryable } from '../../platform/db.ts';

export interface Tenant {
  id: string;
  slug: string;
}

// Reads first and inserts only when missing. An upsert with DO UPDATE would take a row lock
// on an existing tenant, which conflicts with the key-share locks every foreign key to
// tenants takes, and deadlocks against busy writers of the same tenant.
// `created` is true for exactly one caller per tenant, the one whose insert won.
export async function findOrCreateTenant(
  db: Queryable,
  slug: string,
): Promise<Tenant & { created: boolean }> {
  const existing = await findTenantBySlug(db, slug);
  if (existing) return { ...existing, created: false };
  const { rows } = await db.query<Tenant>(
    'INSERT INTO tenants (slug) VALUES ($1) ON CONFLICT (slug) DO NOTHING RETURNING id, slug',
    [slug],
  );
  if (rows[0]) return { ...rows[0], created: true };
  // Lost a race with another creator: theirs is committed now.
  return { ...(await findTenantBySlug(db, slug))!, created: false };
}

export async function findTenantBySlug(db: Queryable, slug: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>('SELECT id, slug FROM tenants WHERE slug = $1', [slug]);
  return rows[0] ?? null;
}

// Slugs by id, for the ids that exist; unknown ids are left out.
export async function findTenantSlugs(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; slug: string }>(
    'SELECT id::text AS id, slug FROM tenants WHERE id::text = ANY($1)',
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.slug]));
}
