import { cp, mkdtemp, readdir, rm, writeFile, appendFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, queryOnce } from '../../test/helpers/scratch-database.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from './migrator.ts';

interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
}

const ledger = (url: string) =>
  queryOnce<LedgerRow>(url, 'SELECT version, name, checksum FROM schema_migrations ORDER BY version');
const tableExists = async (url: string, table: string) =>
  (await queryOnce<{ t: string | null }>(url, 'SELECT to_regclass($1)::text AS t', [table]))[0]!.t !== null;

describe('migrate', () => {
  const drops: Array<() => Promise<void>> = [];
  const tempDirs: string[] = [];
  let shipped: Awaited<ReturnType<typeof readMigrations>>;

  beforeAll(async () => {
    shipped = await readMigrations(MIGRATIONS_DIR);
  });
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });
  afterAll(async () => {
    for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  const freshDatabase = async () => {
    const db = await createEmptyDatabase();
    drops.push(db.drop);
    return db.url;
  };
  // A private copy of migrations/ that a test may edit.
  const copyOfMigrations = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'airlock-migrations-'));
    tempDirs.push(dir);
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    return dir;
  };
  const nextFileName = (name: string) => `${String(shipped.length + 1).padStart(4, '0')}_${name}.sql`;

  it('when 5 processes migrate a fresh empty database at once, then all succeed and each migration is applied once', async () => {
    const url = await freshDatabase();
    const results = await Promise.all(Array.from({ length: 5 }, () => migrate(url)));
    const applied = results.map((r) => r.applied.length);
    // Exactly one caller applies everything; the others find nothing pending.
    expect(applied.filter((n) => n === shipped.length)).toHaveLength(1);
    expect(applied.filter((n) => n === 0)).toHaveLength(4);
    const rows = await ledger(url);
    expect(rows.map((r) => r.version)).toEqual(shipped.map((m) => m.version));
    expect(rows.map((r) => r.checksum)).toEqual(shipped.map((m) => m.checksum));
    expect(await tableExists(url, 'audit_events')).toBe(true);
  });

  it('when migrations were applied, then a second run applies nothing and keeps the ledger', async () => {
    const url = await freshDatabase();
    const first = await migrate(url);
    expect(first.applied).toEqual(shipped.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`));
    const before = await queryOnce<{ version: number; applied_at: Date }>(
      url,
      'SELECT version, applied_at FROM schema_migrations ORDER BY version',
    );
    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    expect(
      await queryOnce<{ version: number; applied_at: Date }>(
        url,
        'SELECT version, applied_at FROM schema_migrations ORDER BY version',
      ),
    ).toEqual(before);
  });

  it('when an applied migration file is edited afterwards, then migrate throws naming the file', async () => {
    const url = await freshDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, dir);
    const [first] = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    await appendFile(path.join(dir, first!), '\n-- an innocent-looking edit\n');
    await expect(migrate(url, dir)).rejects.toThrow(first!);
    await expect(migrate(url, dir)).rejects.toThrow(/changed after it was applied/);
  });

  it('when an edited file sits next to a new migration, then nothing new is applied', async () => {
    const url = await freshDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, dir);
    const [first] = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    await appendFile(path.join(dir, first!), '\nSELECT 1;\n');
    await writeFile(path.join(dir, nextFileName('added_later')), 'CREATE TABLE added_later (id int);\n');
    await expect(migrate(url, dir)).rejects.toThrow();
    expect(await tableExists(url, 'added_later')).toBe(false);
    expect((await ledger(url)).map((r) => r.version)).toEqual(shipped.map((m) => m.version));
  });

  it('when the numbering has a gap, then the migrations are rejected before touching the database', async () => {
    const url = await freshDatabase();
    const dir = await copyOfMigrations();
    const gap = `${String(shipped.length + 2).padStart(4, '0')}_after_a_gap.sql`;
    await writeFile(path.join(dir, gap), 'CREATE TABLE after_a_gap (id int);\n');
    await expect(readMigrations(dir)).rejects.toThrow(/without gaps/);
    await expect(migrate(url, dir)).rejects.toThrow(
      `without gaps: expected ${shipped.length + 1}, found ${shipped.length + 2}`,
    );
    expect(await tableExists(url, 'schema_migrations')).toBe(false);
    expect(await tableExists(url, 'after_a_gap')).toBe(false);
  });

  it('when the first migration is not numbered 0001, then it is rejected', async () => {
    const dir = await copyOfMigrations();
    const [first] = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    await rename(path.join(dir, first!), path.join(dir, first!.replace(/^0001/, '0002')));
    await expect(readMigrations(dir)).rejects.toThrow(/expected 1, found 2/);
  });

  it('when a file name does not follow 0001_name.sql, then it is rejected naming the file', async () => {
    const dir = await copyOfMigrations();
    await writeFile(path.join(dir, '2_Bad-Name.sql'), 'SELECT 1;\n');
    await expect(readMigrations(dir)).rejects.toThrow('2_Bad-Name.sql');
  });

  it('when a migration fails halfway, then it rolls back entirely and migrate rejects', async () => {
    const url = await freshDatabase();
    const dir = await copyOfMigrations();
    await migrate(url, dir);
    await writeFile(
      path.join(dir, nextFileName('breaks_halfway')),
      `CREATE TABLE half_done (id int PRIMARY KEY);
       INSERT INTO half_done VALUES (1);
       ALTER TABLE tenants ADD COLUMN half_done_marker text;
       SELECT 1 / 0;
      `,
    );
    await expect(migrate(url, dir)).rejects.toThrow(/division by zero/);
    expect(await tableExists(url, 'half_done')).toBe(false);
    const columns = await queryOnce(
      url,
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'tenants' AND column_name = 'half_done_marker'`,
    );
    expect(columns).toHaveLength(0);
    expect((await ledger(url)).map((r) => r.version)).toEqual(shipped.map((m) => m.version));
  });

  it('when a failing migration is fixed, then the next run applies it', async () => {
    const url = await freshDatabase();
    const dir = await copyOfMigrations();
    const file = path.join(dir, nextFileName('fixed_later'));
    await writeFile(file, 'CREATE TABLE fixed_later (id int); SELECT 1 / 0;\n');
    await expect(migrate(url, dir)).rejects.toThrow();
    // All pending migrations share one transaction: the earlier ones rolled back too.
    expect(await tableExists(url, 'tenants')).toBe(false);
    await writeFile(file, 'CREATE TABLE fixed_later (id int);\n');
    const { applied } = await migrate(url, dir);
    expect(applied).toHaveLength(shipped.length + 1);
    expect(await tableExists(url, 'fixed_later')).toBe(true);
  });
});
