import type { Queryable } from '../../platform/db.ts';

export interface Tenant {
  id: string;
  slug: string;
}

export async function findOrCreateTenant(db: Queryable, slug: string): Promise<Tenant> {
  // The no-op update makes RETURNING yield the row whether it was inserted or already there.
  const { rows } = await db.query<Tenant>(
    `INSERT INTO tenants (slug) VALUES ($1)
     ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
     RETURNING id, slug`,
    [slug],
  );
  return rows[0]!;
}

export async function findTenantBySlug(db: Queryable, slug: string): Promise<Tenant | null> {
  const { rows } = await db.query<Tenant>('SELECT id, slug FROM tenants WHERE slug = $1', [slug]);
  return rows[0] ?? null;
}
