import type { Queryable } from '../../platform/db.ts';

// What a new tenant's sandbox drive holds, so that a first files.delete (the README's
// /tmp/report.pdf) has a file to delete and ends `succeeded`. Listed in the README ("The
// sandbox"), and checked against it by test/readme-quickstart.int.test.ts. No tool reads the
// mailbox (email.send only appends sent mail), so it starts empty.
export const SANDBOX_SEED_FILES: ReadonlyArray<{ path: string; content: string }> = [
  { path: '/tmp/report.pdf', content: 'Quarterly report (draft). Superseded by /docs/q3-plan.md.' },
  {
    path: '/docs/q3-plan.md',
    content: '# Q3 plan\n\n- ship the review console\n- halve the p99 of a proposal\n',
  },
  { path: '/docs/meeting-notes.txt', content: 'Monday sync: agreed to move the launch by one week.' },
  { path: '/photos/team-offsite.jpg', content: '(image bytes are not kept in the sandbox)' },
  { path: '/finance/invoice-1042.pdf', content: 'Invoice 1042: 3 seats, EUR 270.00, paid.' },
];

// Called in the transaction that creates the tenant: a tenant never exists without its drive.
export async function seedSandbox(db: Queryable, tenantId: string): Promise<void> {
  await db.query(
    `INSERT INTO sandbox_files (tenant_id, path, content)
     SELECT $1, path, content FROM unnest($2::text[], $3::text[]) AS seed(path, content)
     ON CONFLICT (tenant_id, path) DO NOTHING`,
    [tenantId, SANDBOX_SEED_FILES.map((f) => f.path), SANDBOX_SEED_FILES.map((f) => f.content)],
  );
}
